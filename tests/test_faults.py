"""Faults from the Slack Web API while smx works: rate limits, server errors, time-outs and dropped
connections on every call a command, a mention, App Home or a digest makes.

Whatever Slack does, the HTTP answer is a 200 within 3 s, nothing already stored is lost or logged
twice, no reply is an error id (a Slack outage is not smx's bug), the person is told in a sentence
when their answer cannot be completed, and the next request is answered as usual.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from tests.support.blockkit import shown
from tests.support.fake_slack import FakeSlack
from tests.support.slack_harness import after_acks

ACK_LIMIT = 3.0
ERROR_ID = "something went wrong on my side"
WAIT = 30.0  # generous: retries back off for a few seconds; a slow machine must not fail this


class ListingSlack(FakeSlack):
    """The fake Slack, with one channel `conversations.list` finds by name."""

    def _answer(self, method, args):
        if method == "conversations.list":
            return {"ok": True, "channels": [{"id": "CMKT", "name": "marketing"}]}
        return super()._answer(method, args)


@pytest.fixture
async def slack():
    fake = await ListingSlack().start()
    yield fake
    await fake.stop()


@pytest.fixture(autouse=True)
def _no_backoff(no_backoff):
    """The whole matrix of faults runs in seconds rather than minutes: retries without the waits
    between them (tests/conftest.py)."""


@dataclass(frozen=True)
class Fault:
    name: str
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    delay: float = 0.0
    drop: bool = False
    times: int = 1


FAULTS = (
    Fault("rate limited, then fine", status=429, error="ratelimited", retry_after=0),
    Fault("server error, then fine", status=500, error="internal_error"),
    Fault("unavailable, every retry", status=503, error="service_unavailable", times=10),
    Fault("dropped connection, then fine", drop=True),
    Fault("dropped connection, every retry", drop=True, times=10),
    Fault("a Slack error", error="invalid_arguments", times=10),
)
# conversations.info is waited on for at most 1 s inside the ack (bot/slack/channels.py); any other
# slow call only makes the answer later, which the retries above already cover.
SLOW = Fault("slower than smx waits for conversations.info", delay=1.2)


def faults_for(method: str) -> tuple[Fault, ...]:
    return (*FAULTS, SLOW) if method == "conversations.info" else FAULTS


def inject(slack, method: str, fault: Fault) -> None:
    slack.fail(
        method,
        status=fault.status,
        error=fault.error,
        retry_after=fault.retry_after,
        delay=fault.delay,
        drop=fault.drop,
        times=fault.times,
    )


def said(slack) -> list[str]:
    """Every text smx sent anywhere (messages, ephemeral replies, response_url, views)."""
    out: list[str] = []
    for call in slack.calls:
        if call.method in ("chat.postMessage", "chat.postEphemeral", "response_url"):
            out.append(str(call.args.get("text") or "") + json.dumps(call.args.get("blocks")))
        elif call.method.startswith("views."):
            out.append(json.dumps(call.args.get("view")))
    return out


async def finished() -> None:
    """Wait for the work smx does after its acks (lazy listeners) to end, retries and all."""
    await after_acks(WAIT)


def assert_quick(answer) -> None:
    assert answer.status == 200, answer.body
    assert answer.seconds < ACK_LIMIT


def assert_no_error_id(answer, slack) -> None:
    texts = [json.dumps(answer.body)] + said(slack)
    assert not [t for t in texts if ERROR_ID in t], texts


async def assert_still_serving(bot) -> None:
    after = await bot.command("explain cpm")
    assert_quick(after)
    assert "CPM" in shown(after.body)


def persists(fault: Fault) -> bool:
    """Whether the call still fails after smx's own retries (1 retry for 429, 2 for 5xx)."""
    return fault.times > 1 or (fault.status == 200 and fault.error is not None)


async def heard(slack, answer, text: str) -> str:
    """What the person finally read: the ack itself, or the response_url reply that followed."""
    if answer.body:
        return json.dumps(answer.body).lower()
    calls = await slack.wait_for("response_url", within=WAIT)
    return (str(calls[-1].args.get("text")) + json.dumps(calls[-1].args.get("blocks"))).lower()


# (command text, the Web API call it depends on, what the person reads when that call keeps
# failing, and what they read when it works in the end)
SLASH = (
    ("note launch Reel got saves spend=$40", "conversations.info", "logged", "logged"),
    ("notes", "conversations.info", "first note", "first note"),
    ("note delete 1", "users.info", "only its author", "only its author"),
    ("digest on", "users.info", "digest", "europe/berlin"),
    ("digest on #marketing", "conversations.list", "#marketing", "cmkt"),
)


@pytest.mark.parametrize(
    ("text", "method", "failed", "worked", "fault"),
    [
        pytest.param(*row, fault, id=f"{row[0]}: {row[1]} {fault.name}")
        for row in SLASH
        for fault in faults_for(row[1])
    ],
)
async def test_slash_commands_survive_web_api_faults(
    bot, slack, text, method, failed, worked, fault
):
    first = await bot.command("note launch first note spend=$10", user="U2")
    assert_quick(first)
    inject(slack, method, fault)
    answer = await bot.command(text)
    assert_quick(answer)
    read = await heard(slack, answer, text)
    assert ERROR_ID not in read
    assert (failed if persists(fault) else worked) in read, read
    # the note logged before the fault is intact, and a note is never logged twice
    listing = await bot.command("notes launch")
    assert_quick(listing)
    assert shown(listing.body).count("first note") == 1
    if text.startswith("note launch"):
        assert shown(listing.body).count("Reel got saves") == 1
    await assert_still_serving(bot)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
@pytest.mark.parametrize("method", ["files.getUploadURLExternal", "files.completeUploadExternal"])
async def test_an_export_that_cannot_be_uploaded_says_so(bot, slack, method, fault):
    logged = await bot.command("note launch exported spend=$10")
    assert_quick(logged)
    inject(slack, method, fault)
    answer = await bot.command("notes export")
    assert_quick(answer)
    if persists(fault):
        read = await heard(slack, answer, "notes export")
        assert ERROR_ID not in read
        assert "upload" in read and "try again" in read, read
    else:
        await slack.wait_for("files.completeUploadExternal", within=WAIT)
    await assert_still_serving(bot)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
async def test_a_form_that_cannot_open_says_what_to_type(bot, slack, fault):
    inject(slack, "views.open", fault)
    answer = await bot.command("estimate")
    assert_quick(answer)
    if persists(fault):
        read = await heard(slack, answer, "estimate")
        assert ERROR_ID not in read
        assert "estimate budget=" in read, read
    else:
        refused = 0 if fault.status == 200 and not fault.drop else fault.times
        # the refused attempts, then the one that opens the form
        await slack.wait_for("views.open", count=refused + 1, within=WAIT)
    await assert_still_serving(bot)


MESSAGE_FAULT_METHODS = ("conversations.info", "chat.postMessage")


@pytest.mark.parametrize(
    ("method", "fault"),
    [
        pytest.param(method, fault, id=f"{method} {fault.name}")
        for method in MESSAGE_FAULT_METHODS
        for fault in faults_for(method)
    ],
)
@pytest.mark.parametrize("surface", ["mention", "dm"])
async def test_mentions_and_dms_survive_web_api_faults(bot, slack, surface, method, fault):
    inject(slack, method, fault)
    text = "note launch from a message spend=$5"
    if surface == "mention":
        event = {"type": "app_mention", "user": "U1", "channel": "C1", "ts": "1.1"}
        event["text"] = f"<@{slack.bot_user_id}> {text}"
    else:
        event = {
            "type": "message",
            "channel_type": "im",
            "user": "U1",
            "channel": "D1",
            "ts": "1.1",
        }
        event["text"] = text
    answer = await bot.event(event, event_id=f"Ev-{surface}")
    assert_quick(answer)
    await finished()
    assert_no_error_id(answer, slack)
    # Slack re-delivers an event it thinks failed: the note is still logged once.
    again = await bot.event(event, event_id=f"Ev-{surface}", retry=1)
    assert_quick(again)
    await finished()
    where = "D1" if surface == "dm" else "C1"
    listing = await bot.command("notes launch", channel=where)
    assert shown(listing.body).count("from a message") == 1
    await assert_still_serving(bot)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
async def test_app_home_survives_views_publish_faults(bot, slack, fault):
    inject(slack, "views.publish", fault)
    answer = await bot.event(
        {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}, event_id="EvH"
    )
    assert_quick(answer)
    await finished()
    assert_no_error_id(answer, slack)
    await assert_still_serving(bot)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
async def test_digest_now_survives_post_faults_and_posts_at_most_once(bot, slack, fault):
    logged = await bot.command("note launch for the digest spend=$50 impressions=10k")
    assert_quick(logged)
    inject(slack, "chat.postMessage", fault)
    answer = await bot.command("digest now")
    assert_quick(answer)
    await finished()
    assert_no_error_id(answer, slack)
    posts = [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == "C1"]
    # a post Slack may have received is never sent again (at most once); a refused one may be
    firsts = {c.args.get("text") for c in posts if not c.args.get("thread_ts")}
    assert len(firsts) <= 1
    replies = [c.args.get("text", "") for c in slack.calls_to("response_url")]
    assert replies, "the person who typed `digest now` is told what happened"
    await assert_still_serving(bot)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
async def test_a_reply_slack_will_not_take_loses_nothing_and_the_bot_goes_on(
    bot, slack, fault, caplog
):
    """The response_url itself failing: the note is still deleted once, smx still answers, and a
    Slack outage is logged as one, not as smx's own failure (nothing at ERROR)."""
    logged = await bot.command("note launch to delete spend=$5")
    assert_quick(logged)
    inject(slack, "response_url", fault)
    answer = await bot.command("note delete 1")
    assert_quick(answer)
    await finished()
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text
    listing = await bot.command("notes launch")
    assert "to delete" not in shown(listing.body)
    await assert_still_serving(bot)


async def test_a_database_that_cannot_answer_is_said_in_a_sentence_not_an_error_id(
    bot, slack, caplog
):
    """The store fails (here: it was closed, as at shutdown; a real StoreUnavailable): commands,
    mentions and the health check say so as what it is, and work that needs no database goes on."""
    from bot.errors import DATABASE_UNREACHABLE

    logged = await bot.command("note launch before the outage")
    assert DATABASE_UNREACHABLE not in shown(logged.body)
    before = (await bot.get("/metrics")).body
    await bot.services.store.close()
    listing = await bot.command("notes")
    assert_quick(listing)
    assert set(shown(listing.body).splitlines()) == {DATABASE_UNREACHABLE}  # all it says
    assert ERROR_ID not in json.dumps(listing.body)
    mention = await bot.event(
        {
            "type": "app_mention",
            "user": "U1",
            "text": "<@UBOT> notes",
            "ts": "7.1",
            "channel": "C1",
        },
        event_id="EvDown",
    )
    assert_quick(mention)
    posted = await slack.wait_for("chat.postMessage")
    assert [set(shown(c.args).splitlines()) for c in posted] == [{DATABASE_UNREACHABLE}]
    assert posted[0].args["thread_ts"] == "7.1"
    health = await bot.get("/healthz")
    assert health.status == 503 and json.loads(health.body)["database"] is False
    failures = [r for r in caplog.records if "the database failed" in r.getMessage()]
    assert failures and all("closed" in r.error for r in failures)  # the store's own sentence
    assert not [r for r in caplog.records if getattr(r, "error_id", None)]
    assert "CPM" in shown((await bot.command("explain cpm")).body)  # needs no database
    # /metrics counts the outage as the database's, not as smx's own unexpected errors.
    after = (await bot.get("/metrics")).body
    outage = 'smx_database_errors_total{kind="unavailable",surface="command"} 1.0'
    assert outage not in before and outage in after
    # (the registry is the process's: compare with before, whatever earlier tests counted)
    unexpected = 'smx_unexpected_errors_total{surface="command"}'

    def count(page: str) -> str | None:
        return next((line for line in page.splitlines() if line.startswith(unexpected)), None)

    assert count(after) == count(before)
