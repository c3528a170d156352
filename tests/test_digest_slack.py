"""Digests against the fake Slack: `/smx digest ...` end to end over signed HTTP, the scheduler the
server runs, and the poster's handling of Slack's answers (429, 5xx, a channel gone, a revoked
token, a fifth of all calls failing)."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.digest.compose import Window, compose
from bot.digest.delivery import HEAD_POSTED
from bot.digest.scheduler import Scheduler
from bot.digest.slots import Slot
from bot.reply import Reply, Section
from bot.slack.blocks import fallback_text, render_blocks
from bot.slack.digest_post import MAX_BLOCKS_JSON, DigestPoster, split
from bot.slack.server import DIGESTS
from bot.store import Subscription, open_store
from tests.support.blockkit import assert_message_ok, shown
from tests.support.digest_support import Clock, note, subscription
from tests.support.fake_slack import FakeSlack
from tests.support.slack_harness import single_workspace_settings
from tests.support.waits import eventually

ACK_LIMIT = 3.0
NEXT = re.compile(r"[Nn]ext: (Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2} \d\d:\d\d ")


class DigestSlack(FakeSlack):
    """The fake Slack plus conversations.list, and (when `flaky` is set) a share of failures."""

    def __init__(self) -> None:
        super().__init__()
        self.conversations = [{"id": "C2", "name": "marketing"}, {"id": "C3", "name": "sales"}]
        self.flaky: float = 0.0
        self.rng = random.Random(7)
        self.failed: set[int] = set()  # indexes into self.calls that were answered with an error
        self.blocks_limit: int | None = None  # refuse bigger messages with msg_blocks_too_long

    def _answer(self, method, args):
        if method == "conversations.list":
            return {"ok": True, "channels": self.conversations, "response_metadata": {}}
        limit = self.blocks_limit
        if method == "chat.postMessage" and limit and len(json.dumps(args.get("blocks"))) > limit:
            return {"ok": False, "error": "msg_blocks_too_long"}
        return super()._answer(method, args)

    async def _api(self, request):
        if self.flaky and self.rng.random() < self.flaky:
            method = request.match_info["method"]
            self.failed.add(len(self.calls))  # the index this call is about to be recorded at
            if self.rng.random() < 0.5:
                self.fail(method, status=429, error="ratelimited", retry_after=0)
            else:
                self.fail(method, status=500, error="internal_error")
        return await super()._api(request)

    def delivered(self, method: str = "chat.postMessage"):
        return [c for i, c in enumerate(self.calls) if c.method == method and i not in self.failed]


@pytest.fixture
async def slack():
    fake = await DigestSlack().start()
    yield fake
    await fake.stop()


def quick(answer):
    assert answer.status == 200, answer.body
    assert answer.seconds < ACK_LIMIT


async def responded(slack, count: int) -> str:
    calls = await slack.wait_for("response_url", count=count)
    return shown(calls[count - 1].args)


# -- /smx digest over signed HTTP ------------------------------------------------------------------


async def test_digest_on_status_preview_now_pause_resume_off(bot, slack):
    quick(await bot.command("note spring-launch Reel got 3x saves <!here> spend=$400"))

    on = await bot.command("digest on")
    quick(on)  # acked at once; the person's time zone is read after the answer
    text = await responded(slack, 1)
    assert slack.calls_to("users.info")[0].args["user"] == "U1"
    assert "for this channel: every Monday at 09:00 Europe/Berlin" in text
    assert NEXT.search(text) and "Europe/Berlin." in text

    status = await bot.command("digest status")
    quick(status)
    assert status.body["response_type"] == "ephemeral"
    assert re.search(r"next: Mon \d{1,2} [A-Z][a-z]{2} 09:00 Europe/Berlin", shown(status.body))
    assert_message_ok(status.body["blocks"], status.body["text"])

    preview = await bot.command("digest preview")
    quick(preview)
    assert preview.body["response_type"] == "ephemeral"
    assert "Reel got 3x saves" in shown(preview.body)
    assert "Only you can see this preview" in shown(preview.body)
    assert "<!here>" not in str(preview.body)
    assert_message_ok(preview.body["blocks"], preview.body["text"])
    assert not slack.calls_to("chat.postMessage")

    now = await bot.command("digest now")
    quick(now)
    posted = await slack.wait_for("chat.postMessage")
    assert posted[0].args["channel"] == "C1"
    assert "Reel got 3x saves" in shown(posted[0].args) and "<!here>" not in str(posted[0].args)
    assert_message_ok(posted[0].args["blocks"], posted[0].args["text"])
    assert "Posted the digest of the last 7 days (1 note) in this channel." in await responded(
        slack, 2
    )

    paused = await bot.command("digest pause")
    quick(paused)
    assert "Paused the weekly digest" in shown(paused.body)
    resumed = await bot.command("digest resume")
    quick(resumed)
    assert NEXT.search(shown(resumed.body))
    off = await bot.command("digest off")
    quick(off)
    assert "Weekly digest off for this channel" in shown(off.body)
    again = await bot.command("digest off")
    assert "This channel has no weekly digest to turn off" in shown(again.body)


async def test_digest_on_a_channel_by_name(bot, slack):
    slack.members["C2"] = ["U1"]
    quick(await bot.command("digest on #marketing fri 16:00 America/New_York"))
    text = await responded(slack, 1)
    assert "for channel `C2`: every Friday at 16:00 America/New_York" in text
    assert slack.calls_to("conversations.list")
    sub = await bot.services.store.get_subscription("T1", "C2")
    assert sub is not None and sub.tz == "America/New_York"
    quick(await bot.command("digest status #marketing"))  # a name: looked up, answered later
    assert "channel `C2`, every Friday at 16:00" in await responded(slack, 2)
    quick(await bot.command("digest on #nowhere"))
    assert "I can't find the channel `#nowhere`" in await responded(slack, 3)


async def test_digest_on_in_capitals_still_reads_the_persons_time_zone(bot, slack):
    quick(await bot.command("digest ON mon 9:00"))
    text = await responded(slack, 1)
    assert slack.calls_to("users.info")[0].args["user"] == "U1"
    assert "every Monday at 09:00 Europe/Berlin" in text and "uses UTC" not in text


async def test_users_info_failing_falls_back_to_utc_with_a_notice(bot, slack):
    slack.fail("users.info", error="user_not_found")
    quick(await bot.command("digest on tue 10:00"))
    text = await responded(slack, 1)
    assert "every Tuesday at 10:00 UTC" in text
    assert "couldn't read your Slack time zone, so this digest uses UTC" in text


@pytest.mark.parametrize(
    "command,message",
    [
        ("digest on funday", "`funday` is not a day of the week. Did you mean `sunday`?"),
        ("digest on 25:00", "`25:00` is not a time of day. Give it as HH:MM"),
        ("digest on Mars/Base", "`Mars/Base` is not a time zone I know."),
    ],
)
async def test_bad_digest_on_input_is_answered_with_its_sentence(bot, slack, command, message):
    quick(await bot.command(command))
    assert message in await responded(slack, 1)
    assert await bot.services.store.get_subscription("T1", "C1") is None


async def test_bad_management_input_is_answered_in_the_ack(bot):
    off = await bot.command("digest off")
    quick(off)
    assert "This channel has no weekly digest to turn off." in shown(off.body)
    bad = await bot.command("digest frob")
    assert "`digest frob` is not something I can do." in shown(bad.body)


async def test_the_server_runs_the_scheduler_and_it_posts_a_due_digest(bot, slack):
    store = bot.services.store
    now = datetime.now(UTC)
    await store.add_note(note("C1", now - timedelta(hours=1), "posted by the server's task"))
    slot = Slot(now.weekday(), now.hour, now.minute, "UTC")
    due = slot.latest_at_or_before(now)
    await store.save_subscription(
        Subscription(
            team="T1", channel="C1", workspace="T1", enterprise=None, weekday=slot.weekday,
            hour=slot.hour, minute=slot.minute, tz="UTC", subscriber="U1", next_run=due,
        )
    )  # fmt: skip
    from bot.telemetry import REGISTRY

    def counted() -> float:
        return REGISTRY.get_sample_value("smx_digest_runs_total", {"outcome": "posted"}) or 0.0

    before = counted()
    bot.web_app[DIGESTS].wake()
    posted = await slack.wait_for("chat.postMessage", within=10)
    assert posted[0].args["channel"] == "C1"
    assert posted[0].headers["Authorization"] == "Bearer xoxb-test-token-abcdef"
    assert posted[0].args["metadata"]["event_type"] == "smx_digest"
    assert "posted by the server's task" in shown(posted[0].args)
    assert_message_ok(posted[0].args["blocks"], posted[0].args["text"])

    async def recorded() -> bool:  # the outcome is recorded just after Slack answers
        return [r.state for r in await store.list_runs("T1", "C1")] == ["posted"]

    await eventually(recorded)
    [run] = await store.list_runs("T1", "C1")
    assert run.state == "posted" and run.ts and not run.late
    assert counted() == before + 1  # smx_digest_runs_total{outcome="posted"} for /metrics


# -- the poster against Slack's answers ---------------------------------------------------------------


def poster(slack, tmp_path, **kwargs) -> DigestPoster:
    return DigestPoster(single_workspace_settings(slack, str(tmp_path / "p.db")), **kwargs)


def short() -> Reply:
    return Reply(title="Weekly digest", intro="*3 notes*", data={"digest": {"week": "2026-W49"}})


async def test_a_rate_limit_is_waited_out_for_its_retry_after(slack, tmp_path):
    slack.fail("chat.postMessage", status=429, error="ratelimited", retry_after=1)
    delivery = await poster(slack, tmp_path)("T1", "C1", short())
    calls = slack.calls_to("chat.postMessage")
    assert delivery.outcome == "posted" and len(calls) == 2
    assert calls[1].at - calls[0].at >= 0.9


async def test_server_errors_are_retried_with_backoff(slack, tmp_path):
    slack.fail("chat.postMessage", status=500, error="internal_error", times=2)
    delivery = await poster(slack, tmp_path, backoff=0.05)("T1", "C1", short())
    calls = slack.calls_to("chat.postMessage")
    assert delivery.outcome == "posted" and len(calls) == 3
    assert calls[2].at - calls[1].at > calls[1].at - calls[0].at  # backing off


async def test_server_errors_past_the_budget_are_a_retry_for_the_scheduler(slack, tmp_path):
    slack.fail("chat.postMessage", status=503, error="service_unavailable", times=50)
    delivery = await poster(slack, tmp_path, backoff=0.05, max_wait=0.3)("T1", "C1", short())
    assert delivery.outcome == "retry" and delivery.error == "service_unavailable"


@pytest.mark.parametrize(
    "error,outcome",
    [
        ("channel_not_found", "channel_gone"),
        ("not_in_channel", "channel_gone"),
        ("is_archived", "channel_gone"),
        ("token_revoked", "team_revoked"),
        ("invalid_auth", "team_revoked"),
        ("account_inactive", "team_revoked"),
        ("invalid_blocks", "failed"),
    ],
)
async def test_slack_errors_map_to_outcomes_without_retrying(slack, tmp_path, error, outcome):
    slack.fail("chat.postMessage", error=error)
    delivery = await poster(slack, tmp_path)("T1", "C1", short())
    assert (delivery.outcome, delivery.error) == (outcome, error)
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_a_request_that_times_out_is_uncertain_and_not_repeated(slack, tmp_path):
    slack.fail("chat.postMessage", delay=1.5)
    delivery = await poster(slack, tmp_path, request_timeout=1)("T1", "C1", short())
    assert delivery.outcome == "uncertain"
    # No quiet period: the poster returned, so any repeat it would make has already been recorded.
    assert len(slack.calls_to("chat.postMessage")) == 1


def long_digest() -> Reply:
    """A digest of 40 campaigns: more than one message, so it continues in a thread."""
    sections = [Section(heading=f"campaign-{i}", text="• a note\n" * 3) for i in range(40)]
    return Reply(
        title="Weekly digest",
        intro="*120 notes*",
        sections=[Section(heading="Realised", text="…"), *sections],
        data={"digest": {"week": "2026-W49", "summary_sections": 1}},
    )


async def test_a_long_digest_continues_in_a_thread(slack, tmp_path):
    reply = long_digest()
    delivery = await poster(slack, tmp_path)("T1", "C1", reply)
    calls = slack.calls_to("chat.postMessage")
    assert delivery.outcome == "posted" and delivery.messages == len(calls) >= 3
    head, *thread = calls
    assert "thread_ts" not in head.args and head.args["metadata"]["event_payload"] == {
        "channel": "C1",
        "week": "2026-W49",
    }
    assert all(c.args["thread_ts"] == delivery.ts for c in thread)
    for call in calls:
        assert_message_ok(call.args["blocks"], call.args["text"])
    shown = "".join(str(c.args["blocks"]) for c in thread)
    assert all(f"campaign-{i}*" in shown for i in range(40))


async def test_the_first_messages_ts_is_handed_over_before_any_thread_reply(slack, tmp_path):
    sections = [Section(heading=f"campaign-{i}", text="• a note\n" * 3) for i in range(40)]
    reply = Reply(
        title="Weekly digest",
        sections=[Section(heading="Realised", text="…"), *sections],
        data={"digest": {"week": "2026-W49", "summary_sections": 1}},
    )
    seen = []

    async def record(ts):
        seen.append((ts, len(slack.calls_to("chat.postMessage"))))

    token = HEAD_POSTED.set(record)
    try:
        delivery = await poster(slack, tmp_path)("T1", "C1", reply)
    finally:
        HEAD_POSTED.reset(token)
    assert delivery.messages >= 3
    assert seen == [(delivery.ts, 1)]  # once, when only the first message had been sent


def wordy(campaigns: int, size: int) -> Reply:
    """A digest of few blocks but many characters: each campaign's section holds `size` of them."""
    sections = [
        Section(heading=f"campaign-{i}", text=("lorem ipsum " * (size // 12))[:size])
        for i in range(campaigns)
    ]
    return Reply(
        title="Weekly digest",
        intro="*many notes*",
        sections=[Section(heading="Realised", text="…"), *sections],
        data={"digest": {"week": "2026-W49", "summary_sections": 1}},
    )


def test_a_digest_of_few_but_long_blocks_is_split_by_size_too():
    reply = wordy(20, 2_000)  # 41 blocks: one message by count, ~45,000 characters
    parts = split(reply)
    assert len(parts) >= 5
    for part in parts:
        blocks = render_blocks(part)
        assert len(json.dumps(blocks)) <= MAX_BLOCKS_JSON
        assert_message_ok(blocks, fallback_text(part))
    threaded = [s.heading for part in parts[1:] for s in part.sections]
    assert threaded == [f"campaign-{i}" for i in range(20)]  # all of them, in order


async def test_a_thread_reply_slack_finds_too_long_is_split_again_and_sent(slack, tmp_path):
    slack.blocks_limit = 5_000  # stricter than MAX_BLOCKS_JSON
    delivery = await poster(slack, tmp_path)("T1", "C1", wordy(12, 1_500))
    assert delivery.outcome == "posted" and delivery.error is None
    sent = [
        c for c in slack.calls_to("chat.postMessage") if len(json.dumps(c.args["blocks"])) <= 5_000
    ]
    assert delivery.messages == len(sent) == delivery.parts
    shown = "".join(str(c.args["blocks"]) for c in sent[1:])
    assert all(f"campaign-{i}*" in shown for i in range(12))


async def test_a_thread_reply_refused_for_good_is_reported_as_a_short_thread(slack, tmp_path):
    slack.blocks_limit = 2_500  # one campaign's section alone is too long
    delivery = await poster(slack, tmp_path)("T1", "C1", wordy(6, 2_800))
    assert delivery.outcome == "posted" and delivery.ts
    assert delivery.error == "thread incomplete: msg_blocks_too_long"
    assert delivery.messages == 1 and delivery.parts > 1


async def test_with_a_fifth_of_calls_failing_every_due_digest_is_delivered_exactly_once(
    slack, tmp_path
):
    path = str(tmp_path / "smx.db")
    store = open_store(path)
    clock = Clock(datetime(2026, 11, 29, 12, tzinfo=UTC))
    try:
        for i in range(24):
            team = f"T{i % 4}"
            # Some channels with many campaigns, so their digests run on into a thread.
            for j in range(1 + (i % 3) * 4):
                await store.add_note(
                    note(f"C{i}", clock.now - timedelta(hours=j + 1), f"note {j}",
                         team=team, campaign=f"c{j}", kind="private")
                )  # fmt: skip
            await store.save_subscription(
                subscription(f"C{i}", clock.now, team=team, tz="UTC", hour=13)
            )
        slack.flaky = 0.2
        sender = DigestPoster(single_workspace_settings(slack, path), backoff=0.01)
        clock.set(datetime(2026, 11, 30, 13, 0, 10, tzinfo=UTC))
        report = await Scheduler(store, sender, clock=clock).tick()
        assert report.outcomes == {"posted": 24}, report
        assert len(slack.failed) > 5  # the fake really did fail a good share of the calls
        delivered = slack.delivered()
        heads = [c for c in delivered if "thread_ts" not in c.args]
        assert sorted(c.args["channel"] for c in heads) == sorted(f"C{i}" for i in range(24))
        sent = [(c.args["channel"], c.args.get("thread_ts"), shown(c.args)) for c in delivered]
        assert len(sent) == len(set(sent))  # no message twice, thread replies included
        threaded = {c.args["channel"] for c in delivered if "thread_ts" in c.args}
        assert threaded  # long digests did go on into threads
        runs = await store.list_runs()
        assert len(runs) == 24 and all(r.state == "posted" and r.error is None for r in runs)
    finally:
        await store.close()


async def test_scheduler_with_the_real_poster_pauses_a_gone_channel_and_dms_the_subscriber(
    slack, tmp_path
):
    path = str(tmp_path / "smx.db")
    store = open_store(path)
    clock = Clock(datetime(2026, 11, 29, 12, tzinfo=UTC))
    try:
        await store.add_note(note("C1", clock.now))
        await store.save_subscription(subscription("C1", clock.now, tz="UTC", subscriber="U5"))
        slack.fail("chat.postMessage", error="channel_not_found")
        clock.set(datetime(2026, 11, 30, 9, 0, 10, tzinfo=UTC))
        await Scheduler(
            store, DigestPoster(single_workspace_settings(slack, path)), clock=clock
        ).tick()
        first, dm = slack.calls_to("chat.postMessage")
        assert first.args["channel"] == "C1" and dm.args["channel"] == "U5"
        assert "paused the digest" in shown(dm.args) and "/invite @smx" in shown(dm.args)
        sub = await store.get_subscription("T1", "C1")
        assert sub.state == "paused" and "channel_not_found" in sub.paused_reason
    finally:
        await store.close()


async def test_compose_reads_the_week_as_the_channel_sees_it(tmp_path):
    store = open_store(str(tmp_path / "smx.db"))
    try:
        now = datetime(2026, 11, 30, 8, tzinfo=UTC)
        await store.add_note(note("C1", now - timedelta(days=1), "in the window"))
        await store.add_note(note("C1", now, "at the slot: next week's"))
        await store.add_note(note("C1", now - timedelta(days=8), "last week's"))
        reply = await compose(
            store, team="T1", channel="C1",
            window=Window(now - timedelta(days=7), now, "Europe/Berlin"), week="2026-W49",
        )  # fmt: skip
        flat = str(reply.model_dump())
        assert "in the window" in flat and "next week's" not in flat and "last week's" not in flat
        assert reply.data["digest"]["week"] == "2026-W49"
    finally:
        await store.close()


async def test_with_oauth_the_poster_asks_the_store_it_is_given_for_each_token(slack, tmp_path):
    """Installs and uninstalls reach the poster at once, also when another process (here: a
    second store on the same file) made them: nothing is cached between posts."""
    from bot.config import Settings
    from bot.slack.installations import StoreInstallationStore
    from tests.test_oauth_e2e import installation

    path = str(tmp_path / "smx.db")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        SLACK_CLIENT_ID="111.222",
        SLACK_CLIENT_SECRET="client-secret",
        SLACK_SIGNING_SECRET="signing",
        SLACK_API_URL=slack.api_url,
        SMX_DB=path,
    )
    mine, other = open_store(path), open_store(path)
    try:
        sender = DigestPoster(settings, store=mine)
        assert await sender.token("T9", None) is None
        gone = await sender("T9", "C1", short())
        assert gone.outcome == "team_revoked" and gone.error == "no_installation"
        elsewhere = StoreInstallationStore(other)
        await elsewhere.async_save(installation("T9", "U1", "xoxb-t9", 1000.0))
        assert await sender.token("T9", None) == "xoxb-t9"
        await elsewhere.async_delete_all(enterprise_id=None, team_id="T9")
        assert await sender.token("T9", None) is None
    finally:
        await mine.close()
        await other.close()
