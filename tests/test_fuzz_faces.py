"""Hostile text through every face: `/smx`, a mention, a DM, `smx ask` and the console.

Whatever is typed after any command word (or as a plain question), smx answers with a result or a
sentence: no unexpected error (no error id, nothing logged at ERROR), and everything it sends to
Slack - the ack, response_url replies, chat.postMessage, views - keeps within Block Kit's limits and
makes no mention it did not mean to make.

The Slack faces run through the real Bolt app in process (signed requests, `async_dispatch`, lazy
listeners and all) against the fake Web API; the terminal faces through `smx ask --json` and
`smx console` as the CLI runs them. Sized by tests/support/hostile.py (`SMX_FUZZ_EXAMPLES`).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.router import COMMANDS
from tests.support.blockkit import assert_message_ok, assert_view_ok
from tests.support.hostile import (
    fuzz_settings,
    hostile_text,
    long_texts,
    metric_tokens,
    odd_numbers,
)

ERROR_ID = "something went wrong on my side"
WAIT = 30.0  # generous deadline for the work after an ack; never a measure of speed

# Every command's words, plus plain-question openings, so the hostile rest reaches every parser.
OPENINGS = sorted(
    {" ".join(c.words) + " " for c in COMMANDS}
    | {
        "",
        "note launch ",
        "notes launch since=",
        "notes page=",
        "digest on ",
        "digest now ",
        "digest status ",
        "how many impressions does ",
        "what is ",
        "what's the difference between smo and smm ",
        "note for launch: ",
    }
)
REST = st.one_of(
    hostile_text(),
    st.lists(st.one_of(metric_tokens(), odd_numbers(), hostile_text(3)), max_size=6).map(" ".join),
)
QUERIES = st.one_of(
    st.builds(lambda opening, rest: opening + rest, st.sampled_from(OPENINGS), REST),
    st.builds(lambda opening, rest: opening + rest[:2000], st.sampled_from(OPENINGS), long_texts()),
)


class Errors(logging.Handler):
    """Collects what smx (and Bolt, under smx.bolt) logs at ERROR: an unexpected failure."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def errors():
    handler = Errors()
    logger = logging.getLogger("smx")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


class SlackWorld:
    """The real Bolt app, in process, on its own event loop, against the fake Web API."""

    def __init__(self, db: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.db = db

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    async def start(self) -> SlackWorld:
        from bot.context import Services
        from bot.slack.app import build_app
        from tests.support.fake_slack import FakeSlack
        from tests.support.slack_harness import single_workspace_settings

        self.slack = await FakeSlack().start()
        self.slack.channels["G1"] = {"is_private": True}
        settings = single_workspace_settings(self.slack, self.db)
        self.services = Services(settings)
        self.services.store.migrate()
        self.bolt = build_app(settings, self.services)
        return self

    async def stop(self) -> None:
        await self.services.store.close()
        await self.slack.stop()

    async def dispatch(self, body: str, content_type: str) -> tuple[int, Any]:
        from slack_bolt.request.async_request import AsyncBoltRequest

        from tests.support.slack_harness import sign

        headers = {"content-type": [content_type]}
        headers.update({k.lower(): [v] for k, v in sign(body.encode()).items()})
        response = await self.bolt.async_dispatch(AsyncBoltRequest(body=body, headers=headers))
        try:
            parsed = json.loads(response.body) if response.body else None
        except ValueError:
            parsed = response.body
        return response.status, parsed

    async def finished(self) -> None:
        from tests.support.slack_harness import after_acks

        await after_acks(WAIT)

    async def command(self, text: str, channel: str) -> tuple[int, Any]:
        form = {
            "team_id": "T1",
            "channel_id": channel,
            "channel_name": "general" if channel.startswith("C") else "privategroup",
            "user_id": "U1",
            "command": "/smx",
            "text": text,
            "api_app_id": "A1",
            "response_url": self.slack.response_url("fuzz"),
            "trigger_id": "1337.42.abcd",
        }
        # A form body is bytes; a lone surrogate reaches it as the bytes UTF-8 would give it.
        body = urlencode(form, errors="surrogatepass")
        return await self.dispatch(body, "application/x-www-form-urlencoded")

    async def event(self, event: dict[str, Any], event_id: str) -> tuple[int, Any]:
        envelope = {
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
        }
        return await self.dispatch(json.dumps(envelope), "application/json")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world = SlackWorld(str(tmp_path_factory.mktemp("fuzz") / "smx.db"))
    world.run(world.start())
    yield world
    world.run(world.stop())
    world.loop.close()


def sent_since(world: SlackWorld, mark: int) -> list[tuple[str, dict[str, Any]]]:
    return [(c.method, c.args) for c in world.slack.calls[mark:]]


def check_everything_sent(status: int, body: Any, sent, errors: Errors, mark: int) -> None:
    assert status == 200, body
    shown = [json.dumps(body, ensure_ascii=False)]
    if isinstance(body, dict) and "blocks" in body:
        assert_message_ok(body["blocks"], body.get("text"))
    for method, args in sent:
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update", "response_url"):
            assert_message_ok(args.get("blocks") or [], args.get("text"))
            shown.append(json.dumps(args, ensure_ascii=False))
        elif method in ("views.open", "views.publish", "views.update"):
            assert_view_ok(args["view"])
    assert not [s for s in shown if ERROR_ID in s], shown
    failures = errors.records[mark:]
    assert not failures, [r.getMessage() for r in failures]


@fuzz_settings(ci_examples=500)
@given(text=QUERIES, channel=st.sampled_from(["C1", "G1", "D1"]))
def test_slash_commands_never_fail_and_stay_within_slack(world, errors, text, channel):
    mark, logged = len(world.slack.calls), len(errors.records)
    status, body = world.run(world.command(text, channel))
    world.run(world.finished())
    check_everything_sent(status, body, sent_since(world, mark), errors, logged)


_event_ids = iter(range(10**9))


@fuzz_settings(ci_examples=300)
@given(text=QUERIES, surface=st.sampled_from(["mention", "dm"]))
def test_mentions_and_dms_never_fail_and_stay_within_slack(world, errors, text, surface):
    mark, logged = len(world.slack.calls), len(errors.records)
    if surface == "mention":
        event = {"type": "app_mention", "user": "U1", "channel": "C1", "ts": "1.1"}
        event["text"] = f"<@UBOT> {text}"
    else:
        event = {"type": "message", "channel_type": "im", "user": "U1", "channel": "D1"}
        event.update(ts="1.2", text=text)
    status, body = world.run(world.event(event, f"EvFuzz{next(_event_ids)}"))
    world.run(world.finished())
    sent = sent_since(world, mark)
    check_everything_sent(status, body, sent, errors, logged)
    replies = [args for method, args in sent if method == "chat.postMessage"]
    if text.strip() and not replies:
        # The only other answer is a file (an export) already in the conversation.
        assert [m for m, _ in sent if m.startswith("files.")], sent


@pytest.fixture
def terminal_db(tmp_path, monkeypatch):
    monkeypatch.setenv("SMX_DB", str(tmp_path / "smx.db"))
    monkeypatch.chdir(tmp_path)  # exports and any .env are looked for here, not in the repo


@fuzz_settings(ci_examples=150)
@given(text=QUERIES)
def test_smx_ask_answers_or_explains(terminal_db, errors, text):
    from bot.cli import main

    logged = len(errors.records)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["ask", "--json", text])
        except SystemExit as stop:  # argparse: a query that looks like an option
            code = stop.code
    assert code in (0, 2), (code, err.getvalue())
    if out.getvalue():
        printed = json.loads(out.getvalue())
        assert ERROR_ID not in printed["text"]
        assert_message_ok(printed["blocks"])
    else:
        assert "usage:" in err.getvalue()
    assert "Traceback" not in err.getvalue()
    assert not errors.records[logged:], [r.getMessage() for r in errors.records[logged:]]


@fuzz_settings(ci_examples=150)
@given(text=QUERIES)
def test_the_console_answers_or_explains(terminal_db, errors, text):
    from bot.config import load_settings
    from bot.console import run_console

    logged = len(errors.records)
    out = io.StringIO()
    code = run_console(load_settings(), stdin=io.StringIO(text + "\nquit\n"), stdout=out)
    assert code == 0
    assert ERROR_ID not in out.getvalue()
    assert "Traceback" not in out.getvalue()
    assert not errors.records[logged:], [r.getMessage() for r in errors.records[logged:]]
