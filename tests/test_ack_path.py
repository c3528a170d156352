"""What a `/smx` request costs on its way through Bolt: an answer complete in the ack starts no
lazy listener (Bolt deep-copies the whole request for each one), while a command that needs the
Web API still acks first and finishes after the ack."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_bolt.listener import asyncio_runner

from tests.support.blockkit import shown
from tests.test_slack_e2e import assert_quick_ok

IN_THE_ACK = (
    "help",
    "compare",
    "compare timeline",
    "explain cpm",
    "estimate budget=$500 cpm=8",
    "note spring-launch Reel got 3x saves",
    "notes spring-launch",
    "comapre",
)


@pytest.fixture
def lazy_starts(monkeypatch) -> list[str]:
    """The lazy listeners Bolt starts and the requests it copies for them, as they happen."""
    seen: list[str] = []
    start = asyncio_runner.AsyncioListenerRunner._start_lazy_function
    copy = asyncio_runner.create_copy

    def counted_start(self, lazy_func, request):
        seen.append(f"lazy {lazy_func.__name__}")
        return start(self, lazy_func, request)

    def counted_copy(value):
        seen.append("copy")
        return copy(value)

    monkeypatch.setattr(asyncio_runner.AsyncioListenerRunner, "_start_lazy_function", counted_start)
    monkeypatch.setattr(asyncio_runner, "create_copy", counted_copy)
    return seen


@pytest.mark.parametrize("text", IN_THE_ACK)
async def test_an_answer_complete_in_the_ack_starts_no_lazy_listener(bot, lazy_starts, text):
    answer = await bot.command(text)
    assert_quick_ok(answer)
    assert answer.body["blocks"], answer.body
    await bot.idle()
    assert lazy_starts == []


async def test_a_command_that_needs_the_web_api_still_finishes_after_the_ack(
    bot, slack, lazy_starts
):
    logged = await bot.command("note spring-launch Reel got 3x saves")
    assert_quick_ok(logged)
    deleted = await bot.command("note delete 1")  # asks users.info whether they are an admin
    assert_quick_ok(deleted)
    assert deleted.body is None  # the bare ack: the answer follows through response_url
    responses = await slack.wait_for("response_url")
    assert "deleted" in shown(responses[-1].args).lower()
    form = await bot.command("estimate")  # opens a modal with the request's trigger_id
    assert_quick_ok(form)
    await slack.wait_for("views.open")
    await bot.idle()
    assert lazy_starts == ["lazy finish_smx", "copy"] * 2


# -- one parse of the body: the gate hands Bolt what Bolt's own parser would have built --------

BODIES = (
    ("command=%2Fsmx&text=help&team_id=T1&user_id=U1&channel_id=C1", "application/x-www-form-urlencoded"),
    ("command=%2Fsmx&text=&channel_name=&team_id=T1&text=second", "application/x-www-form-urlencoded"),
    ("command=%2Fsmx&text=note+payload+size+is+2MB&team_id=T1", "application/x-www-form-urlencoded"),
    ("command=%2Fsmx&text=pay%6Coad&pay%6Coad=x", "application/x-www-form-urlencoded"),
    ("payload=" + quote(json.dumps({"type": "block_actions", "team": {"id": "T1"},
     "user": {"id": "U1", "team_id": "T1"}, "actions": [{"action_id": "smx_share"}],
     "enterprise": {"id": "E1"}, "is_enterprise_install": "true"})),
     "application/x-www-form-urlencoded"),
    (json.dumps({"type": "event_callback", "team_id": "T1", "event": {"type": "app_mention"},
     "authorizations": [{"team_id": "T1", "user_id": "UB", "is_enterprise_install": False}]}),
     "application/json"),
    ('{"type": "url_verification", "challenge": "c"}', "text/plain"),
)  # fmt: skip


@pytest.mark.parametrize(("text", "content_type"), BODIES)
def test_bolt_is_handed_the_request_its_own_parser_would_build(text, content_type):
    from slack_bolt.request.async_request import AsyncBoltRequest

    from bot.slack.guard import SlackGate, read_body

    headers = {
        "content-type": [content_type],
        "x-slack-retry-num": ["1"],
        "x-slack-retry-reason": ["http_timeout"],
    }
    body = read_body(text.encode(), content_type)
    headers["content-type"] = [body.content_type]
    gate = SlackGate("secret", bolt=None)  # type: ignore[arg-type]
    handed = gate.bolt_request(body, "a=1", headers)
    parsed = AsyncBoltRequest(body=body.text, query="a=1", headers=headers)
    for name in ("raw_body", "body", "query", "headers", "content_type", "mode", "lazy_only"):
        assert getattr(handed, name) == getattr(parsed, name), name
    assert dict(handed.context) == dict(parsed.context)
    assert handed.to_copyable().body == parsed.body  # a lazy listener's copy reads the same


async def test_the_body_is_parsed_once(bot, monkeypatch):
    from slack_bolt.request import async_request

    parses: list[str] = []
    parse = async_request.parse_body

    def counted(body, content_type):
        if body:
            parses.append(body)
        return parse(body, content_type)

    monkeypatch.setattr(async_request, "parse_body", counted)
    answer = await bot.command("compare")
    assert_quick_ok(answer)
    assert parses == []


# -- static answers built once ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "builder"),
    [("compare", "_overview"), ("compare cost", "_in_depth"), ("explain cpm", "_term_reply")],
)
async def test_a_static_answer_is_built_once(monkeypatch, text, builder):
    from bot import guide
    from bot.context import Context
    from bot.reply import render_text
    from bot.router import dispatch

    monkeypatch.setattr(guide, "_BUILT", {}, raising=False)
    built: list[str] = []
    build = getattr(guide, builder)

    def counted(*args, **kwargs):
        built.append(text)
        return build(*args, **kwargs)

    monkeypatch.setattr(guide, builder, counted)
    first = await dispatch(Context(surface="command"), text)
    again = await dispatch(Context(surface="command"), text)
    assert built == [text]
    assert render_text(again) == render_text(first)
    # Another surface types commands differently: its own answer.
    console = await dispatch(Context(surface="console"), text)
    assert built == [text, text]
    assert "/smx" in render_text(first) and "/smx" not in render_text(console)


async def test_sharing_a_static_answer_does_not_share_the_next_one(monkeypatch):
    from bot import guide
    from bot.context import Context
    from bot.router import dispatch

    monkeypatch.setattr(guide, "_BUILT", {}, raising=False)
    for text in ("compare", "compare cost", "explain cpm"):
        assert (await dispatch(Context(surface="command"), text + " share")).share
        assert not (await dispatch(Context(surface="command"), text)).share


_FORM_PIECES = [*"ab=&+%2F0 é;\x00", "%20", "%C3%A9", "%ZZ", "%", "%E2%82", "%2B", "%26", "%3D"]
_FORM_PIECES += ["%2f", "%3a", "%7E", "%7f", "%00", "%80", "%4", "%g1", "%25", "%%41"]


@given(st.lists(st.sampled_from(_FORM_PIECES), max_size=30).map("".join))
@settings(max_examples=2000, deadline=None)
def test_the_gate_reads_a_form_exactly_as_parse_qsl_does(text):
    """The gate's own form reader decodes only the fields that need it; what it reads must be
    what urllib's parse_qsl (Bolt's parser) reads, repeated names, bad escapes and all."""
    from urllib.parse import parse_qsl

    from bot.slack.guard import parse_form

    assert parse_form(text) == dict(parse_qsl(text, keep_blank_values=True))
