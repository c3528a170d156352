"""Hostile HTTP at the front door (bot/slack/guard.py), over real HTTP against the app served on
127.0.0.1 exactly as `smx serve` serves it.

- Forged, unsigned and stale requests are 401 and nothing runs: Bolt is never called, the fake
  Web API hears nothing, the store gets no note.
- Signed bodies that do not read as Slack's are 400, and Bolt is never called.
- Signed bodies of an odd shape are answered 200 (or 400), never 500, and nothing fails.
- Silent, slow and idle connections are closed, and many of them do not keep a request out.

The fuzz tests run a fixed number of derandomized examples in CI; SMX_FUZZ_EXAMPLES=N runs N
random examples per fuzz test by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot import telemetry
from bot.config import Settings
from bot.slack import inflight
from bot.slack.server import BOLT, DIRECT
from bot.store import Viewer
from tests.support.blockkit import shown
from tests.support.slack_harness import BOT_TOKEN, SECRET, RunningBot, sign

FUZZ_EXAMPLES = os.environ.get("SMX_FUZZ_EXAMPLES")
ACK_LIMIT = 3.0
NOWHERE = "http://127.0.0.1:9/respond"  # a response_url no request may ever reach


def fuzz(ci_examples: int):
    """Hypothesis settings: a fixed seed and `ci_examples` in CI, N random ones by hand."""
    return settings(
        max_examples=int(FUZZ_EXAMPLES) if FUZZ_EXAMPLES else ci_examples,
        derandomize=not FUZZ_EXAMPLES,
        database=None,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,  # one served app for every example, on purpose
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


# -- what Slack sends -----------------------------------------------------------------------------


def command_body(text: str = "note hostile should-not-land", response_url: str = "") -> bytes:
    return urlencode(
        {
            "token": "legacy",
            "team_id": "T1",
            "team_domain": "acme",
            "channel_id": "C1",
            "channel_name": "general",
            "user_id": "U1",
            "user_name": "pat",
            "command": "/smx",
            "text": text,
            "api_app_id": "A1",
            "response_url": response_url or NOWHERE,
            "trigger_id": "1337.42.abcd",
        }
    ).encode()


def mention_envelope(text: str = "note hostile should-not-land", event_id: str = "EvH1") -> dict:
    return {
        "token": "legacy",
        "team_id": "T1",
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1700000000,
        "event": {
            "type": "app_mention",
            "user": "U1",
            "text": f"<@UBOT> {text}",
            "ts": "1700000000.000100",
            "channel": "C1",
        },
        "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
    }


def share_payload(value: str = "note hostile should-not-land") -> dict:
    return {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "acme"},
        "user": {"id": "U1", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "1337.42.abcd",
        "channel": {"id": "C1", "name": "general"},
        "response_url": NOWHERE,
        "actions": [{"action_id": "smx_share", "block_id": "b", "type": "button", "value": value}],
    }


def genuine_bodies() -> st.SearchStrategy[tuple[bytes, str]]:
    """Bodies as Slack sends them (a command, an event, a button), with their content type."""
    words = st.sampled_from(["note hostile should-not-land", "help", "notes", "explain cpm"])
    return st.one_of(
        words.map(lambda t: (command_body(t), "application/x-www-form-urlencoded")),
        words.map(lambda t: (json.dumps(mention_envelope(t)).encode(), "application/json")),
        words.map(
            lambda t: (
                urlencode({"payload": json.dumps(share_payload(t))}).encode(),
                "application/x-www-form-urlencoded",
            )
        ),
    )


# -- the served app, and proof that nothing ran ---------------------------------------------------


class Door:
    """The running app with a count of dispatches (Bolt's, and the gate's direct answers), and a raw sender for any request."""

    def __init__(self, bot: RunningBot, session: aiohttp.ClientSession) -> None:
        self.bot = bot
        self.session = session
        self.dispatched = 0
        bolt = bot.web_app[BOLT]
        real = bolt.async_dispatch

        async def counting(request):
            self.dispatched += 1
            return await real(request)

        bolt.async_dispatch = counting  # the gate calls it on this instance
        # Commands answered in the ack go past Bolt (bot/slack/direct.py): count those too.
        direct = bot.web_app[DIRECT]
        answer = direct.respond

        async def answering(body):
            found = await answer(body)
            if found is not None:
                self.dispatched += 1
            return found

        direct.respond = answering

    async def send(
        self, body: bytes, headers: Iterable[tuple[str, str]], content_type: str | None
    ) -> tuple[int, bytes, float]:
        all_headers = list(headers)
        if content_type is not None:
            all_headers.append(("Content-Type", content_type))
        started = time.monotonic()
        async with self.session.post(
            f"{self.bot.url}/slack/events",
            data=body,
            headers=all_headers,
            skip_auto_headers=["Content-Type"],
        ) as resp:
            return resp.status, await resp.read(), time.monotonic() - started


@pytest.fixture
async def door(bot):
    async with aiohttp.ClientSession() as session:
        yield Door(bot, session)


def headers_for(body: bytes, timestamp: str | None = None, secret: str = SECRET) -> list:
    signed = sign(body, None if timestamp is None else timestamp, secret)  # type: ignore[arg-type]
    return list(signed.items())


def unexpected_errors() -> float:
    return sum(
        sample.value
        for family in telemetry.UNEXPECTED_ERRORS.collect()
        for sample in family.samples
        if sample.name.endswith("_total")
    )


async def assert_nothing_ran(door: Door, slack) -> None:
    assert door.dispatched == 0, "a refused request reached Bolt"
    assert slack.calls == [], [c.method for c in slack.calls]
    notes = await door.bot.services.store.export_notes(Viewer("T1", "C1"))
    assert not notes, [n.text for n in notes]


# -- defect 4: each case the outside test reported, by name ---------------------------------------


@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "12.5", "0x10", " 1", "-1", "１２３"])
async def test_a_timestamp_that_is_not_a_whole_number_is_401(door, slack, timestamp):
    body = command_body()
    status, text, seconds = await door.send(
        body, headers_for(body, timestamp), "application/x-www-form-urlencoded"
    )
    assert status == 401 and b"signed by Slack" in text and seconds < ACK_LIMIT
    await assert_nothing_ran(door, slack)


async def test_a_missing_timestamp_or_signature_is_401(door, slack):
    body = command_body()
    [ts, sig] = headers_for(body)
    for headers in ([ts], [sig], []):
        status, _, _ = await door.send(body, headers, "application/x-www-form-urlencoded")
        assert status == 401
    await assert_nothing_ran(door, slack)


async def test_forged_stale_and_duplicated_signatures_are_401(door, slack):
    body = command_body()
    now = int(time.time())
    good = headers_for(body)
    cases = [
        headers_for(body, secret="not-the-secret"),
        headers_for(body, str(now - 301)),
        headers_for(body, str(now + 301)),
        [good[0], ("X-Slack-Signature", good[1][1].upper().replace("V0=", "v0="))],
        [good[0], ("X-Slack-Signature", "v1=" + good[1][1][3:])],
        [*good, good[1]],  # the signature header twice
        [*good, good[0]],  # the timestamp header twice
    ]
    for headers in cases:
        status, _, _ = await door.send(body, headers, "application/x-www-form-urlencoded")
        assert status == 401, headers
    status, _, _ = await door.send(body + b"x", good, "application/x-www-form-urlencoded")
    assert status == 401  # signed, then changed
    await assert_nothing_ran(door, slack)


MALFORMED = {
    "bad JSON": (b'{"type": "event_callback", ', "application/json"),
    "a JSON list": (b"[1, 2]", "application/json"),
    "JSON null": (b"null", "application/json"),
    "deep nesting": (b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}", "application/json"),
    "nesting past the limit": (b'{"a": ' + b"[" * 64 + b"]" * 64 + b"}", "application/json"),
    "an integer past Python's limit": (b'{"a": ' + b"7" * 5000 + b"}", "application/json"),
    "payload= that is not JSON": (b"payload=not-json", "application/x-www-form-urlencoded"),
    "payload= that is a list": (b"payload=%5B1%5D", "application/x-www-form-urlencoded"),
    "invalid UTF-8": (b"command=/smx&text=\xff\xfe", "application/x-www-form-urlencoded"),
    "a form sent as JSON": (command_body(), "application/json"),
    "a form sent as JSON with a charset": (command_body(), "Application/JSON; charset=utf-8"),
    "latin-1 declared and sent": (
        "command=/smx&text=caf\xe9".encode("latin-1"),
        "application/x-www-form-urlencoded; charset=latin-1",
    ),
    "an empty body": (b"", "application/x-www-form-urlencoded"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_a_signed_body_bolt_cannot_read_is_400_in_plain_words(door, slack, case):
    body, content_type = MALFORMED[case]
    status, text, seconds = await door.send(body, headers_for(body), content_type)
    assert status == 400, (case, status, text)
    assert text.startswith(b"Bad request: ") and b"Traceback" not in text and len(text) < 120
    assert seconds < ACK_LIMIT
    await assert_nothing_ran(door, slack)


def envelope(**changes: Any) -> bytes:
    body = mention_envelope()
    body.update(changes)
    return json.dumps(body).encode()


def payload(**changes: Any) -> bytes:
    body = share_payload()
    body.update(changes)
    return urlencode({"payload": json.dumps(body)}).encode()


ODD = {
    "actions: []": (payload(actions=[]), "application/x-www-form-urlencoded"),
    "actions: a string": (payload(actions="smx_share"), "application/x-www-form-urlencoded"),
    "actions: [a string]": (payload(actions=["smx_share"]), "application/x-www-form-urlencoded"),
    "an action without action_id": (
        payload(actions=[{"value": "notes"}]),
        "application/x-www-form-urlencoded",
    ),
    "event: a list": (envelope(event=[1, 2]), "application/json"),
    "event: a string": (envelope(event="app_mention"), "application/json"),
    "event: null": (envelope(event=None), "application/json"),
    "type missing": (json.dumps({"team_id": "T1", "event_id": "Ev9"}).encode(), "application/json"),
    "a command without command": (
        urlencode({"text": "help", "team_id": "T1", "user_id": "U1"}).encode(),
        "application/x-www-form-urlencoded",
    ),
    "authorizations: a string": (envelope(authorizations="T1"), "application/json"),
    "team: a number": (envelope(team=5), "application/json"),
    "enterprise: a number": (envelope(enterprise=5), "application/json"),
    "a mention whose text is a number": (
        envelope(event={"type": "app_mention", "user": "U1", "text": 5, "channel": "C1"}),
        "application/json",
    ),
    "a mention without a channel": (
        envelope(event={"type": "app_mention", "user": "U1", "text": "<@UBOT> help"}),
        "application/json",
    ),
    "view: a string": (
        urlencode({"payload": json.dumps({"type": "view_submission", "view": "x"})}).encode(),
        "application/x-www-form-urlencoded",
    ),
    "a view without a type": (
        urlencode(
            {"payload": json.dumps({"type": "view_submission", "view": {"callback_id": "x"}})}
        ).encode(),
        "application/x-www-form-urlencoded",
    ),
    "the form's command without a trigger_id": (
        command_body("estimate").replace(b"&trigger_id=1337.42.abcd", b""),
        "application/x-www-form-urlencoded",
    ),
    "an unknown command": (
        command_body().replace(b"%2Fsmx", b"%2Fother"),
        "application/x-www-form-urlencoded",
    ),
}


@pytest.mark.parametrize("case", list(ODD))
async def test_a_signed_but_odd_payload_is_200_and_nothing_is_done(door, slack, case):
    body, content_type = ODD[case]
    before = unexpected_errors()
    status, text, seconds = await door.send(body, headers_for(body), content_type)
    await inflight.drain(10)
    assert status == 200 and text == b"", (case, status, text)
    assert seconds < ACK_LIMIT
    assert unexpected_errors() == before, "something failed on the way"
    assert not [c for c in slack.calls if c.method != "auth.test"]
    assert not await door.bot.services.store.export_notes(Viewer("T1", "C1"))


async def test_forged_requests_never_reach_a_handler_though_bolt_no_longer_checks(door, slack):
    """Bolt's own check is off (the gate does it): a forged note must still not land."""
    bolt = door.bot.web_app[BOLT]
    assert not any(
        type(m).__name__ == "AsyncRequestVerification" for m in bolt._async_middleware_list
    )
    body = command_body("note forged should-not-land")
    for headers in (headers_for(body, secret="guess"), [], headers_for(body, "1e9")):
        status, _, _ = await door.send(body, headers, "application/x-www-form-urlencoded")
        assert status == 401
    await assert_nothing_ran(door, slack)
    # ... while the same request, signed, is answered.
    status, _, _ = await door.send(body, headers_for(body), "application/x-www-form-urlencoded")
    assert status == 200 and door.dispatched == 1


async def test_slacks_unsigned_certificate_probe_is_answered_and_nothing_else_rides_on_it(
    door, slack
):
    status, _, _ = await door.send(
        b"ssl_check=1&token=legacy", [], "application/x-www-form-urlencoded"
    )
    assert status == 200
    smuggled = b"ssl_check=1&command=%2Fsmx&text=note+x+should-not-land&team_id=T1"
    status, _, _ = await door.send(smuggled, [], "application/x-www-form-urlencoded")
    assert status == 401
    await assert_nothing_ran(door, slack)


async def test_a_command_that_says_payload_is_answered(bot, slack):
    """Bolt reads any form containing "payload" as an interactive payload, found empty."""
    answer = await bot.command("explain payload")
    assert answer.status == 200 and answer.body and "text" in answer.body
    answer = await bot.command("help", channel_name="payload-team")
    assert answer.status == 200 and "smx" in shown(answer.body)


async def test_url_verification_still_answers_its_challenge(door):
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"}).encode()
    status, text, _ = await door.send(body, headers_for(body), "application/json")
    assert status == 200 and json.loads(text) == {"challenge": "c-123"}


async def test_refusals_are_counted_apart_from_acks(bot, door):
    from tests.test_operations import sample

    before = (await bot.get("/metrics")).body
    body = command_body()
    await door.send(body, headers_for(body, "abc"), "application/x-www-form-urlencoded")
    await door.send(b"[]", headers_for(b"[]"), "application/json")
    after = (await bot.get("/metrics")).body
    assert (
        sample(after, "smx_ack_seconds_count", kind="refused")
        - sample(before, "smx_ack_seconds_count", kind="refused")
        == 2
    )
    assert sample(after, "smx_ack_seconds_count", kind="command") == sample(
        before, "smx_ack_seconds_count", kind="command"
    )


# -- fuzz: forged and unsigned ---------------------------------------------------------------------

HEX = "0123456789abcdef"
header_text = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=40
).filter(lambda s: s == s.strip())


def not_a_fresh_timestamp(value: str) -> bool:
    if not (value.isascii() and value.isdigit()):
        return True
    return abs(int(value) - time.time()) > 302


@st.composite
def forged_requests(draw) -> tuple[bytes, list[tuple[str, str]], str | None]:
    body, content_type = draw(genuine_bodies())
    [(ts_name, ts), (sig_name, sig)] = headers_for(body)
    how = draw(
        st.sampled_from(
            [
                "body changed after signing",
                "signature made up",
                "signature altered",
                "wrong secret",
                "odd timestamp, signed over it",
                "stale timestamp, signed over it",
                "timestamp swapped after signing",
                "header missing",
                "header twice",
            ]
        )
    )
    headers = [(ts_name, ts), (sig_name, sig)]
    if how == "body changed after signing":
        at = draw(st.integers(0, len(body)))
        change = draw(st.sampled_from(["insert", "delete", "flip", "truncate"]))
        if change == "insert":
            changed = body[:at] + draw(st.binary(min_size=1, max_size=8)) + body[at:]
        elif change == "delete":
            changed = body[:at] + body[at + draw(st.integers(1, 8)) :]
        elif change == "flip" and at < len(body):
            changed = body[:at] + bytes([body[at] ^ draw(st.integers(1, 255))]) + body[at + 1 :]
        else:
            changed = body[:at]
        assume(changed != body)
        body = changed
    elif how == "signature made up":
        headers[1] = (
            sig_name,
            draw(
                st.one_of(
                    st.text(HEX, min_size=64, max_size=64).map("v0=".__add__),
                    header_text,
                    st.just(""),
                    st.just("v0="),
                )
            ),
        )
    elif how == "signature altered":
        digest = sig[3:]
        at = draw(st.integers(0, 63))
        other = draw(st.sampled_from([c for c in HEX + "ABCDEF " if c != digest[at]]))
        variant = draw(
            st.sampled_from(
                [
                    "v0=" + digest[:at] + other + digest[at + 1 :],
                    "v0=" + digest[:at],
                    "v0=" + digest + "0",
                    "v1=" + digest,
                    "V0=" + digest,
                    digest,
                    "v0=" + digest.upper(),
                    f"v0={digest},v0={digest}",
                ]
            )
        )
        assume(variant != sig)
        headers[1] = (sig_name, variant)
    elif how == "wrong secret":
        secret = draw(st.text(min_size=0, max_size=40).filter(lambda s: s != SECRET))
        headers = headers_for(body, ts, secret)
    elif how == "odd timestamp, signed over it":
        odd = draw(
            st.one_of(
                header_text,
                st.sampled_from(["abc", "", "1e9", "12.5", "0x10", "-1", "+1", "1_000", "１２３"]),
                st.floats(allow_nan=True).map(str),
            ).filter(not_a_fresh_timestamp)
        )
        headers = headers_for(body, odd)
    elif how == "stale timestamp, signed over it":
        offset = draw(st.one_of(st.integers(302, 10**9), st.integers(-(10**9), -302)))
        headers = headers_for(body, str(int(time.time()) + offset))
    elif how == "timestamp swapped after signing":
        other_ts = str(int(ts) + draw(st.integers(1, 200)) * draw(st.sampled_from([1, -1])))
        headers[0] = (ts_name, other_ts)
    elif how == "header missing":
        headers = draw(st.sampled_from([headers[:1], headers[1:], []]))
    else:
        twice = draw(st.sampled_from([0, 1]))
        headers.append(headers[twice])
    sent_type = draw(st.sampled_from([content_type, content_type, None, "text/plain"]))
    return body, headers, sent_type


@fuzz(ci_examples=700)
@given(request=forged_requests())
async def test_fuzz_forged_requests_are_401_and_nothing_runs(door, slack, request):
    body, headers, content_type = request
    status, text, seconds = await door.send(body, headers, content_type)
    assert status == 401, (status, text, headers)
    assert seconds < ACK_LIMIT
    assert door.dispatched == 0 and slack.calls == []


async def test_fuzz_forged_requests_left_no_note(door, slack):
    """The fuzz above checks Bolt and the Web API per request; the store is checked here, after a
    burst of forged notes (checking it per example would dominate the run)."""
    for n in range(50):
        body = command_body(f"note hostile forged-{n}")
        await door.send(body, headers_for(body, secret=f"guess-{n}"), None)
    await assert_nothing_ran(door, slack)


# -- fuzz: signed but unreadable --------------------------------------------------------------------

JSON_TYPES = st.sampled_from(
    ["application/json", "Application/JSON", "application/json; charset=utf-8", "application/json "]
)
FORM_TYPES = st.sampled_from(
    ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8", None]
)
ANY_TYPES = st.one_of(JSON_TYPES, FORM_TYPES, st.sampled_from(["text/plain", "multipart/x; b=1"]))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
BROKEN_UTF8 = [
    b"\xff",
    b"\xfe",
    b"\xc0\xaf",
    b"\x80",
    b"\xed\xa0\x80",
    b"\xe2\x82",
    b"\xf8\x88\x80",
]


def reads_as_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except (ValueError, RecursionError):
        return False


@st.composite
def unreadable_bodies(draw) -> tuple[bytes, str | None]:
    body, content_type = draw(genuine_bodies())
    how = draw(
        st.sampled_from(
            [
                "broken UTF-8",
                "JSON cut short",
                "JSON not an object",
                "form sent as JSON",
                "payload not a JSON object",
                "nested too deep",
                "integer too long",
                "byte order mark",
                "empty",
            ]
        )
    )
    if how == "broken UTF-8":
        at = draw(st.integers(0, len(body)))
        return body[:at] + draw(st.sampled_from(BROKEN_UTF8)) + body[at:], draw(ANY_TYPES)
    if how == "JSON cut short":
        text = json.dumps(mention_envelope())
        return text[: draw(st.integers(1, len(text) - 1))].encode(), draw(ANY_TYPES)
    if how == "JSON not an object":
        value = draw(json_values.filter(lambda v: not isinstance(v, dict)))
        return json.dumps(value).encode(), draw(JSON_TYPES)
    if how == "form sent as JSON":
        return command_body(), draw(JSON_TYPES)
    if how == "payload not a JSON object":
        inner = draw(
            st.one_of(st.text(max_size=40), json_values.map(json.dumps)).filter(
                lambda t: not reads_as_json_object(t)
            )
        )
        extra = draw(st.sampled_from(["", "&token=legacy", "token=legacy&"]))
        field = "payload=" + quote(inner)
        text = f"{extra}{field}" if extra.endswith("&") else f"{field}{extra}"
        return text.encode(), draw(FORM_TYPES)
    if how == "nested too deep":
        depth = draw(st.integers(64, 3000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        inner = opener * depth + ("0" if opener != "[" else "") + closer * depth
        text = '{"type": "event_callback", "x": ' + inner + "}"
        if draw(st.booleans()):
            return ("payload=" + quote(text)).encode(), draw(FORM_TYPES)
        return text.encode(), draw(JSON_TYPES)
    if how == "integer too long":
        return ('{"event_time": ' + "9" * draw(st.integers(4301, 6000)) + "}").encode(), draw(
            JSON_TYPES
        )
    if how == "byte order mark":
        return "\ufeff".encode() + json.dumps(mention_envelope()).encode(), draw(JSON_TYPES)
    return b"", draw(ANY_TYPES)


@fuzz(ci_examples=500)
@given(request=unreadable_bodies())
async def test_fuzz_signed_bodies_bolt_cannot_read_are_400_and_bolt_never_runs(
    door, slack, request
):
    body, content_type = request
    status, text, _ = await door.send(body, headers_for(body), content_type)
    assert status == 400, (status, text, body[:80], content_type)
    assert text.startswith(b"Bad request: ")
    assert door.dispatched == 0 and slack.calls == []


# -- fuzz: signed, readable, odd --------------------------------------------------------------------


COMMAND_TEXTS = st.sampled_from(["help", "estimate", "notes", "explain cpm", "digest status"])


def template_payloads() -> list[tuple[str, dict]]:
    home = {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}
    dm = {"type": "message", "channel_type": "im", "user": "U1", "text": "help", "channel": "D1"}
    estimate = {
        "type": "view_submission",
        "team": {"id": "T1"},
        "user": {"id": "U1", "team_id": "T1"},
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "smx_estimate",
            "private_metadata": '{"channel": "C1"}',
            "state": {
                "values": {
                    "budget": {"value": {"type": "plain_text_input", "value": "$500"}},
                    "cpm": {"value": {"value": "8"}},
                }
            },
            "team_id": "T1",
        },
    }
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": ["U1"], "bot": ["UBOT"]}}
    return [
        ("event", mention_envelope("help")),
        ("event", {**mention_envelope(), "event": dm}),
        ("event", {**mention_envelope(), "event": home}),
        ("event", {**mention_envelope(), "event": revoked}),
        ("event", {**mention_envelope(), "event": {"type": "app_uninstalled"}}),
        ("event", {"type": "url_verification", "challenge": "c", "token": "t"}),
        ("interactive", share_payload("compare cost")),
        ("interactive", {**share_payload(), "actions": [{"action_id": "smx_open_estimate"}]}),
        ("interactive", {**share_payload(), "actions": [{"action_id": "smx_open_compare"}]}),
        ("interactive", estimate),
        ("json command", {k: v[0] for k, v in _form(command_body("help")).items()}),
    ]


def _form(body: bytes) -> dict[str, list[str]]:
    from urllib.parse import parse_qs

    return parse_qs(body.decode())


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*prefix, i))
    return found


@st.composite
def odd_requests(draw) -> tuple[bytes, str | None]:
    """Real payloads with a few fields deleted, retyped or added; random JSON; random bytes."""
    kind = draw(
        st.sampled_from(["mutated", "mutated", "mutated", "form", "random JSON", "random bytes"])
    )
    if kind == "form":  # a slash command with fields dropped or changed (forms carry only text)
        fields = {k: v[0] for k, v in _form(command_body(draw(COMMAND_TEXTS))).items()}
        for name in draw(st.lists(st.sampled_from(sorted(fields)), min_size=1, max_size=3)):
            if draw(st.booleans()):
                fields.pop(name, None)
            else:
                fields[name] = draw(st.sampled_from(["", "/smx", "C1", "payload", "x"]))
        return urlencode(fields).encode(), draw(FORM_TYPES)
    if kind == "random bytes":
        return draw(st.binary(min_size=1, max_size=300)), draw(ANY_TYPES)
    if kind == "random JSON":
        keys = st.sampled_from(
            [
                "type",
                "event",
                "command",
                "actions",
                "view",
                "team",
                "user",
                "channel",
                "authorizations",
                "text",
                "challenge",
                "enterprise",
            ]
        )
        value = draw(st.dictionaries(keys | st.text(max_size=6), json_values, max_size=6))
        return json.dumps(value).encode(), draw(JSON_TYPES)
    shape, value = draw(st.sampled_from(template_payloads()))
    value = json.loads(json.dumps(value))
    value["event_id"] = f"Ev{draw(st.integers(0, 10**9))}"  # a fresh delivery each time
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(value)
        path = draw(st.sampled_from(paths))
        parent = value
        for step in path[:-1]:
            parent = parent[step]
        change = draw(st.sampled_from(["delete", "retype", "add"]))
        if change == "delete":
            del parent[path[-1]]
        elif change == "retype":
            parent[path[-1]] = draw(json_values)
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=6))] = draw(json_values)
    if shape == "interactive":
        return urlencode({"payload": json.dumps(value)}).encode(), draw(FORM_TYPES)
    return json.dumps(value).encode(), draw(JSON_TYPES)


@fuzz(ci_examples=300)
@given(request=odd_requests())
async def test_fuzz_signed_odd_payloads_are_never_a_500_and_nothing_fails(door, slack, request):
    body, content_type = request
    fake = slack.response_url("odd")  # answers after the ack go to the fake Slack
    body = body.replace(NOWHERE.encode(), fake.encode())
    body = body.replace(quote(NOWHERE, safe="").encode(), quote(fake, safe="").encode())
    before = unexpected_errors()
    status, text, seconds = await door.send(body, headers_for(body), content_type)
    await inflight.drain(10)  # work after the ack has finished, or failed, by now
    assert status in (200, 400), (status, text, body[:200])
    assert seconds < ACK_LIMIT
    assert unexpected_errors() == before, body[:300]


# -- the gate hands Bolt what it read -------------------------------------------------------------

form_texts = st.lists(
    st.tuples(
        st.sampled_from(["payload", "text", "command", "xpayload", "%70ayload", "a+b", "%zz", ""])
        | st.text(max_size=8),
        st.sampled_from(["payload", "%payload", "%7payload", "pay%6Coad", "+", "%", "{"])
        | st.text(max_size=12),
    ),
    max_size=5,
).map(lambda pairs: "&".join(f"{k}={v}" if v else k for k, v in pairs))


@fuzz(ci_examples=400)
@given(
    text=st.one_of(form_texts, json_values.map(json.dumps), st.text(max_size=60)),
    content_type=ANY_TYPES,
)
def test_bolt_parses_what_the_gate_hands_it_exactly_as_the_gate_read_it(text, content_type):
    """Whatever the gate accepts, Bolt's own parser reads back the same fields (so Bolt and
    the shape checks never disagree), and a form that mentions "payload" stays a form."""
    from slack_bolt.request.internals import parse_body

    from bot.slack.guard import Malformed, read_body

    try:
        body = read_body(text.encode("utf-8", "surrogatepass"), content_type or "")
    except Malformed:
        return
    assert parse_body(body.text, body.content_type) == body.data
    if body.kind == "command":
        assert "payload" not in body.text


# -- defect 9: slow, silent and idle connections ---------------------------------------------------


def quick_settings(slack, tmp_path, **limits: Any) -> Settings:
    return Settings(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.api_url,
        SMX_DB=str(tmp_path / "smx.db"),
        **limits,
    )


@pytest.fixture
async def quick_bot(slack, tmp_path):
    """The app with short connection timeouts, so the tests can wait for them."""
    running = await RunningBot(
        slack,
        quick_settings(slack, tmp_path, SMX_REQUEST_TIMEOUT="1", SMX_KEEPALIVE_TIMEOUT="1"),
    ).start()
    yield running
    await running.stop()


async def raw_connection(bot: RunningBot):
    host, port = bot.url.removeprefix("http://").split(":")
    return await asyncio.open_connection(host, int(port))


async def closed_by_server(reader: asyncio.StreamReader, within: float = 15.0) -> bytes:
    """Everything the server sent until it closed the connection (fails if it never does)."""
    received = b""
    async with asyncio.timeout(within):
        try:
            while chunk := await reader.read(65536):
                received += chunk
        except ConnectionResetError:
            pass
    return received


async def test_a_connection_that_sends_nothing_is_closed(quick_bot):
    reader, writer = await raw_connection(quick_bot)
    assert await closed_by_server(reader) == b""
    writer.close()
    assert quick_bot.site.connections.closed["slow"] >= 1


async def test_a_client_that_never_finishes_its_headers_is_closed(quick_bot):
    reader, writer = await raw_connection(quick_bot)
    writer.write(b"POST /slack/events HTTP/1.1\r\nHost: smx\r\nX-Slack-Sig")
    await writer.drain()
    assert await closed_by_server(reader) == b""
    writer.close()


async def test_a_body_that_never_arrives_gets_408_and_the_connection_is_closed(quick_bot, slack):
    body = command_body()
    signed = sign(body)
    reader, writer = await raw_connection(quick_bot)
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: smx\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Slack-Request-Timestamp: {signed['X-Slack-Request-Timestamp']}\r\n"
        f"X-Slack-Signature: {signed['X-Slack-Signature']}\r\n\r\n"
    )
    writer.write(head.encode() + body[:10])  # then nothing more
    await writer.drain()
    received = await closed_by_server(reader)
    writer.close()
    assert received.startswith(b"HTTP/1.1 408")
    assert slack.calls == []


async def test_an_idle_keep_alive_connection_is_closed(quick_bot):
    reader, writer = await raw_connection(quick_bot)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: smx\r\n\r\n")
    await writer.drain()
    received = await closed_by_server(reader)  # answered, then closed once idle
    writer.close()
    assert received.startswith(b"HTTP/1.1 200") and b'"ok": true' in received
    assert quick_bot.site.connections.closed["idle"] >= 1


async def test_many_silent_connections_do_not_keep_a_signed_request_out(slack, tmp_path):
    """The outside test's 1,100 silent connections, scaled to a cap of 50: each newcomer past
    the cap closes the oldest silent one, and a real request is still answered in time."""
    bot = await RunningBot(
        slack,
        quick_settings(slack, tmp_path, SMX_MAX_CONNECTIONS="50", SMX_REQUEST_TIMEOUT="30"),
    ).start()
    silent = [await raw_connection(bot) for _ in range(300)]
    try:
        closures = {asyncio.ensure_future(closed_by_server(reader, 30)) for reader, _ in silent}
        closed = 0
        async with asyncio.timeout(20):
            while closed < 250:  # all but the newest 50, well before their 30 s timeout
                done, closures = await asyncio.wait(closures, return_when="FIRST_COMPLETED")
                closed += len(done)
        answer = await bot.command("help")
        assert answer.status == 200 and answer.seconds < ACK_LIMIT
        assert "smx" in shown(answer.body)
        assert bot.site.connections.open <= 50
    finally:
        for task in closures:
            task.cancel()
        for _, writer in silent:
            writer.close()
        await bot.stop()


async def test_a_signed_body_over_a_mebibyte_is_413_and_nothing_runs(door, slack):
    body = b"text=" + b"x" * (1024 * 1024)
    status, text, _ = await door.send(body, headers_for(body), "application/x-www-form-urlencoded")
    assert status == 413 and b"Traceback" not in text
    await assert_nothing_ran(door, slack)


@contextlib.asynccontextmanager
async def holding_app(tmp_path, max_connections: int):
    """A served app whose GET /hold answers only when told: requests stay in flight."""
    from aiohttp import web

    from bot.slack.server import serve_http

    release = asyncio.Event()
    entered = asyncio.Condition()
    held = 0

    async def hold(_request):
        nonlocal held
        async with entered:
            held += 1
            entered.notify_all()
        await release.wait()
        return web.Response(text="released")

    async def quick(_request):
        return web.Response(text="quick")

    app = web.Application()
    app.router.add_get("/hold", hold)
    app.router.add_get("/quick", quick)
    settings = Settings(SMX_DB=str(tmp_path / "x.db"), SMX_MAX_CONNECTIONS=str(max_connections))
    runner, site = await serve_http(app, settings, "127.0.0.1", 0)

    async def wait_held(count: int) -> None:
        async with entered:
            await asyncio.wait_for(entered.wait_for(lambda: held >= count), 10)

    try:
        yield site, wait_held, release
    finally:
        release.set()
        await runner.cleanup()


async def open_to(site):
    return await asyncio.open_connection("127.0.0.1", site.port)


async def test_at_the_cap_with_every_connection_answering_a_newcomer_is_refused(tmp_path):
    async with holding_app(tmp_path, max_connections=3) as (site, wait_held, release):
        busy = [await open_to(site) for _ in range(3)]
        for _, writer in busy:
            writer.write(b"GET /hold HTTP/1.1\r\nHost: smx\r\n\r\n")
        await wait_held(3)
        reader, writer = await open_to(site)
        assert await closed_by_server(reader) == b""  # refused, not queued behind the others
        writer.close()
        assert site.connections.closed["refused"] == 1
        release.set()
        for reader, writer in busy:  # the ones being answered were never touched
            assert (await asyncio.wait_for(reader.readuntil(b"released"), 10)).startswith(
                b"HTTP/1.1 200"
            )
            writer.close()


async def test_at_the_cap_an_idle_connection_makes_room_before_a_silent_one(tmp_path):
    async with holding_app(tmp_path, max_connections=2) as (site, _, _release):
        idle_reader, idle_writer = await open_to(site)
        idle_writer.write(b"GET /quick HTTP/1.1\r\nHost: smx\r\n\r\n")
        await asyncio.wait_for(idle_reader.readuntil(b"quick"), 10)  # answered, now idle
        silent_reader, silent_writer = await open_to(site)
        await site.connections.wait_until(lambda: site.connections.open == 2, within=10)
        new_reader, new_writer = await open_to(site)
        assert await closed_by_server(idle_reader) == b""
        new_writer.write(b"GET /quick HTTP/1.1\r\nHost: smx\r\n\r\n")
        silent_writer.write(b"GET /quick HTTP/1.1\r\nHost: smx\r\n\r\n")
        for reader in (new_reader, silent_reader):
            assert b"quick" in await asyncio.wait_for(reader.readuntil(b"quick"), 10)
        for writer in (idle_writer, silent_writer, new_writer):
            writer.close()


async def test_connection_settings_are_checked_at_start():
    from bot.config import load_settings
    from bot.errors import ConfigError

    for name, bad in (
        ("SMX_REQUEST_TIMEOUT", "0"),
        ("SMX_REQUEST_TIMEOUT", "soon"),
        ("SMX_KEEPALIVE_TIMEOUT", "-5"),
        ("SMX_MAX_CONNECTIONS", "0"),
        ("SMX_MAX_CONNECTIONS", "many"),
    ):
        with pytest.raises(ConfigError) as err:
            load_settings(**{name: bad})
        assert name in err.value.args[0]
