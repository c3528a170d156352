"""The scheduler with an injected clock and a recording `post`: no sleeping, no Slack.

Cadence across daylight-saving changes, catch-up after downtime (once, marked late), pause and
resume, empty weeks, Slack failures, and one slow team not holding up the others: the scheduler's
own logic, over a SQLite store. Two schedulers on one database and the crash policy, where the
store's claims and leases decide the outcome, run on every backend in
tests/contract/test_scheduler.py.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from bot.digest.delivery import Delivery
from bot.digest.scheduler import LATE_AFTER, MAX_ATTEMPTS
from bot.digest.slots import Slot
from bot.store import open_store
from tests.support.contract import run_hourly, scheduler
from tests.support.digest_support import Clock, Recorder, note, subscription, utc
from tests.support.waits import eventually


@pytest.fixture
async def store(tmp_path):
    opened = open_store(str(tmp_path / "smx.db"))
    yield opened
    await opened.close()


# -- cadence ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tz", ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]
)
async def test_weekly_at_the_same_local_time_through_a_year_of_dst_changes(store, tz):
    clock = Clock(utc(2026, 1, 1))
    post = Recorder(clock)
    sched = scheduler(store, clock, post)
    await store.save_subscription(subscription("C1", clock.now, tz=tz, include_empty=True))
    for week in range(0, 53):
        # a note every week so each digest has something in it
        await store.add_note(note("C1", utc(2026, 1, 2) + timedelta(weeks=week)))
    # Ticks every 15 minutes would be 35,000 passes; jumping to 1 minute after each due time
    # (and once just before it) is what matters for the cadence.
    for _ in range(52):
        sub = await store.get_subscription("T1", "C1")
        clock.set(sub.next_run - timedelta(minutes=1))
        await sched.tick()
        clock.set(sub.next_run + timedelta(seconds=30))
        await sched.tick()
        await sched.tick()  # a second tick in the same minute posts nothing more
    posted = post.digests("C1")
    assert len(posted) == 52
    for p in posted:
        local = p.at.astimezone(Slot(0, 9, 0, tz).zone)
        assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
        assert "(late)" not in p.text
    weeks = [p.week for p in posted]
    assert len(set(weeks)) == 52
    runs = await store.list_runs("T1", "C1")
    assert {r.state for r in runs} == {"posted"} and not any(r.late for r in runs)


async def test_nothing_is_posted_before_its_slot_and_it_goes_out_within_a_minute(store):
    clock = Clock(utc(2026, 11, 25, 12))  # a Wednesday
    post = Recorder(clock)
    sched = scheduler(store, clock, post)
    await store.add_note(note("C1", clock.now))
    await store.save_subscription(subscription("C1", clock.now, weekday=3, hour=16, minute=30))
    await run_hourly(sched, clock, utc(2026, 11, 26, 15))  # Thu 16:00 Berlin
    assert post.digests() == []
    clock.set(utc(2026, 11, 26, 15, 30, 20))  # Thu 16:30:20 Berlin
    await sched.tick()
    [posted] = post.digests()
    assert posted.at - utc(2026, 11, 26, 15, 30) < timedelta(minutes=1)
    assert posted.week == "2026-W48"
    sub = await store.get_subscription("T1", "C1")
    assert sub.next_run == utc(2026, 12, 3, 15, 30)


# -- downtime -----------------------------------------------------------------------------------


async def test_a_digest_missed_while_down_is_posted_once_marked_late_and_older_ones_are_not_replayed(
    store,
):
    clock = Clock(utc(2026, 11, 1))
    post = Recorder(clock)
    await store.save_subscription(subscription("C1", clock.now))
    first_due = (await store.get_subscription("T1", "C1")).next_run  # Mon 2 Nov 09:00 Berlin
    for day in range(0, 30, 2):
        await store.add_note(note("C1", utc(2026, 11, 1) + timedelta(days=day), f"day {day}"))
    # smx was down for three and a half weeks: four slots passed.
    clock.set(first_due + timedelta(weeks=3, days=2))
    sched = scheduler(store, clock, post)
    await sched.tick()
    await sched.tick()
    [posted] = post.digests()
    assert "(late)" in posted.reply.title and "Posted late" in posted.text
    assert posted.reply.data["digest"]["late"] is True
    latest = first_due + timedelta(weeks=3)
    assert posted.week == Slot(0, 9, 0, "Europe/Berlin").week(latest)
    [run] = await store.list_runs("T1", "C1")
    assert run.late and run.due == latest and run.state == "posted"
    # The window is the week before the slot it stands for, not the weeks missed.
    assert posted.reply.data["digest"]["until"] == latest.isoformat()
    # The cadence resumes from the next slot: nothing more until then, then one on time.
    await run_hourly(scheduler(store, clock, post), clock, latest + timedelta(weeks=1, hours=1))
    assert len(post.digests()) == 2
    assert "(late)" not in post.digests()[1].reply.title


async def test_a_restart_right_after_the_slot_posts_it_on_time_not_late(store):
    clock = Clock(utc(2026, 11, 29))
    post = Recorder(clock)
    await store.add_note(note("C1", clock.now))
    await store.save_subscription(subscription("C1", clock.now))
    due = (await store.get_subscription("T1", "C1")).next_run
    clock.set(due + LATE_AFTER - timedelta(seconds=1))
    await scheduler(store, clock, post).tick()
    assert "(late)" not in post.digests()[0].reply.title


# -- pause and resume ---------------------------------------------------------------------------


async def test_paused_through_its_slot_nothing_is_posted_and_resume_starts_from_now(store):
    from bot.config import Settings
    from bot.context import Context, Services
    from bot.digest import commands
    from bot.router import dispatch

    clock = Clock(utc(2026, 11, 27))  # Friday
    post = Recorder(clock)
    sched = scheduler(store, clock, post)
    services = Services(Settings(SMX_DB=store.path))
    ctx = Context(team="T1", channel="C1", user="U1", surface="command", services=services)
    original = commands.clock
    commands.clock = clock
    try:
        await store.add_note(note("C1", clock.now))
        on = await dispatch(ctx, "digest on mon 09:00 Europe/Berlin")
        assert "Next: Mon 30 Nov 09:00 Europe/Berlin" in on.intro
        paused = await dispatch(ctx, "digest pause")
        assert "Paused" in paused.intro
        await run_hourly(sched, clock, utc(2026, 12, 2))  # through Monday's slot
        assert post.digests() == []
        status = await dispatch(ctx, "digest status")
        assert "paused (paused by U1" in status.intro
        resumed = await dispatch(ctx, "digest resume")  # Wednesday: the next is next Monday
        assert "Next: Mon 7 Dec 09:00 Europe/Berlin" in resumed.intro
        await sched.tick()
        assert post.digests() == []  # the missed Monday is not posted late after a resume
        await store.add_note(note("C1", clock.now))
        await run_hourly(sched, clock, utc(2026, 12, 7, 9))
        assert [p.week for p in post.digests()] == ["2026-W50"]
    finally:
        commands.clock = original
        await services.store.close()


# -- empty weeks --------------------------------------------------------------------------------


async def test_empty_weeks_are_skipped_unless_the_channel_asked_for_them(store):
    clock = Clock(utc(2026, 11, 27))
    post = Recorder(clock)
    sched = scheduler(store, clock, post)
    # Different teams, so one's team-wide notes are not the other's.
    await store.save_subscription(subscription("C1", clock.now, team="TA"))
    await store.save_subscription(subscription("C2", clock.now, team="TB", include_empty=True))
    await store.save_subscription(subscription("C3", clock.now, team="TC"))
    await store.add_note(note("C3", clock.now, team="TC"))
    await run_hourly(sched, clock, utc(2026, 12, 1))
    assert sorted(p.channel for p in post.digests()) == ["C2", "C3"]
    empty = post.digests("C2")[0]
    assert empty.reply.data["digest"]["empty"] and "No notes were logged" in empty.text
    [skipped] = await store.list_runs("TA", "C1")
    assert skipped.state == "skipped" and skipped.notes == 0
    # Skipping a week does not stop the next one.
    await store.add_note(note("C1", clock.now, team="TA"))
    await run_hourly(sched, clock, utc(2026, 12, 8))
    assert [p.week for p in post.digests("C1")] == ["2026-W50"]


async def test_private_notes_appear_only_in_their_own_channel_and_mentions_are_defused(store):
    clock = Clock(utc(2026, 11, 27))
    post = Recorder(clock)
    await store.add_note(note("C1", clock.now, "team-wide <!channel> news @here"))
    await store.add_note(note("G1", clock.now, "secret plan for G1", kind="private"))
    await store.add_note(note("D1", clock.now, "my DM note", kind="im"))
    await store.add_note(note("C1", clock.now, "other team's note", team="T2"))
    for channel in ("C1", "G1"):
        await store.save_subscription(subscription(channel, clock.now))
    await run_hourly(scheduler(store, clock, post), clock, utc(2026, 12, 1))
    public, private = post.digests("C1")[0].text, post.digests("G1")[0].text
    assert "secret plan" not in public and "my DM note" not in public
    assert "secret plan" in private and "my DM note" not in private
    assert "other team" not in public + private
    assert "<!channel>" not in public and "@here" not in public and "@\u200bhere" in public


# -- late and incomplete posts (the crash policy: tests/contract/test_scheduler.py) ---------------


async def test_a_retry_within_the_lateness_threshold_is_not_marked_late(store):
    clock = Clock(utc(2026, 11, 29))
    post = Recorder(clock)
    post.outcomes["C1"] = [Delivery("retry", error="http_503")]
    await store.add_note(note("C1", clock.now))
    await store.save_subscription(subscription("C1", clock.now))
    clock.set((await store.get_subscription("T1", "C1")).next_run)
    sched = scheduler(store, clock, post)
    await sched.tick()  # 503: retried a minute later
    clock.advance(minutes=1)
    await sched.tick()
    [posted] = post.digests()
    assert "Posted late" not in posted.text
    [run] = await store.list_runs("T1", "C1")
    assert run.state == "posted" and not run.late and timedelta(minutes=1) < LATE_AFTER


async def test_a_thread_that_times_out_after_the_first_message_is_posted_and_the_subscriber_told(
    store,
):
    clock = Clock(utc(2026, 11, 29))
    post = Recorder(clock)
    post.hang_in_thread = {"C1"}
    await store.add_note(note("C1", clock.now))
    await store.save_subscription(subscription("C1", clock.now, subscriber="U7"))
    clock.set((await store.get_subscription("T1", "C1")).next_run)
    report = await scheduler(store, clock, post, post_timeout=0.2).tick()
    assert report.outcomes == {"posted": 1}
    [run] = await store.list_runs("T1", "C1")
    assert run.state == "posted" and run.ts == "1.0001"
    assert run.error == "thread incomplete: timed out"
    [dm] = post.dms("U7")
    assert "its thread is incomplete" in dm.text and "may not have been posted" not in dm.text


# -- Slack's answers -------------------------------------------------------------------------------


async def test_a_channel_the_bot_left_pauses_the_subscription_and_dms_the_subscriber(store):
    clock = Clock(utc(2026, 11, 29))
    post = Recorder(clock)
    post.outcomes["C1"] = [Delivery("channel_gone", error="not_in_channel")]
    await store.add_note(note("C1", clock.now))
    await store.save_subscription(subscription("C1", clock.now, subscriber="U7"))
    await store.save_subscription(subscription("C2", clock.now, subscriber="U7"))
    await run_hourly(scheduler(store, clock, post), clock, utc(2026, 12, 1))
    sub = await store.get_subscription("T1", "C1")
    assert sub.state == "paused" and "not_in_channel" in sub.paused_reason
    assert (await store.get_subscription("T1", "C2")).state == "active"
    [dm] = post.dms("U7")
    assert "not_in_channel" in dm.text and "/smx digest resume" in dm.text
    await run_hourly(scheduler(store, clock, post), clock, utc(2026, 12, 15))
    assert [p.channel for p in post.digests()].count("C1") == 0


async def test_a_revoked_token_pauses_every_subscription_of_that_workspace(store):
    clock = Clock(utc(2026, 11, 29))
    post = Recorder(clock)
    post.outcomes["C1"] = [Delivery("team_revoked", error="token_revoked")]
    await store.add_note(note("C1", clock.now, team="TA"))
    await store.add_note(note("C9", clock.now, team="TB"))
    await store.save_subscription(subscription("C1", clock.now, team="TA", hour=9))
    await store.save_subscription(subscription("C2", clock.now, team="TA", hour=12))
    await store.save_subscription(subscription("C9", clock.now, team="TB", hour=12))
    await run_hourly(scheduler(store, clock, post), clock, utc(2026, 12, 1))
    assert (await store.get_subscription("TA", "C2")).state == "paused"
    assert "token_revoked" in (await store.get_subscription("TA", "C2")).paused_reason
    assert [p.channel for p in post.digests()] == ["C9"]


async def test_transient_failures_are_retried_on_later_passes_then_the_subscriber_is_told(store):
    clock = Clock(utc(2026, 11, 29))
    post = Recorder(clock)
    post.outcomes["C1"] = [Delivery("retry", error="http_503")]
    post.outcomes["C2"] = [Delivery("retry", error="http_503")] * MAX_ATTEMPTS
    await store.add_note(note("C1", clock.now))
    for channel in ("C1", "C2"):
        await store.save_subscription(subscription(channel, clock.now, subscriber="U7"))
    sched = scheduler(store, clock, post)
    await run_hourly(sched, clock, utc(2026, 11, 30, 8))  # 09:00 Berlin: first attempts
    assert post.digests() == []
    for _ in range(12):  # an hour in 5-minute steps
        clock.advance(minutes=5)
        await sched.tick()
    assert [p.channel for p in post.digests()] == ["C1"]
    runs = {r.channel: r for r in await store.list_runs("T1")}
    assert runs["C1"].state == "posted" and runs["C1"].attempts == 2
    assert runs["C2"].state == "failed" and runs["C2"].attempts == MAX_ATTEMPTS
    [dm] = post.dms("U7")
    assert "http_503" in dm.text


async def test_a_digest_whose_thread_fell_short_is_posted_and_the_subscriber_told(store):
    clock = Clock(utc(2026, 11, 29))
    post = Recorder(clock)
    short = "thread incomplete: msg_blocks_too_long"
    post.outcomes["C1"] = [Delivery("posted", ts="9.1", error=short, messages=2, parts=4)]
    await store.add_note(note("C1", clock.now))
    await store.save_subscription(subscription("C1", clock.now, subscriber="U7"))
    await run_hourly(scheduler(store, clock, post), clock, utc(2026, 11, 30, 9))
    [run] = await store.list_runs("T1", "C1")
    assert run.state == "posted" and run.ts == "9.1" and run.error == short
    [dm] = post.dms("U7")
    assert "its thread is incomplete (2 of its 4 messages went out)" in dm.text
    assert "msg_blocks_too_long" in dm.text


async def test_an_uncertain_post_is_not_retried(store):
    clock = Clock(utc(2026, 11, 29))
    post = Recorder(clock)
    post.outcomes["C1"] = [Delivery("uncertain", error="ServerDisconnectedError")]
    await store.add_note(note("C1", clock.now))
    await store.save_subscription(subscription("C1", clock.now))
    await run_hourly(scheduler(store, clock, post), clock, utc(2026, 12, 3))
    [run] = await store.list_runs("T1", "C1")
    assert run.state == "lost" and post.digests() == [] and len(post.dms("U1")) == 1


# -- many teams ----------------------------------------------------------------------------------


async def test_one_slow_team_never_delays_the_others(store):
    clock = Clock(utc(2026, 11, 29))
    post = Recorder(clock)
    post.hang = {"C0", "C1"}  # the slow team's two channels never get an answer
    for i in range(12):
        team = "TSLOW" if i < 2 else f"T{i}"
        await store.add_note(note(f"C{i}", clock.now, team=team))
        await store.save_subscription(subscription(f"C{i}", clock.now, team=team))
    clock.set(utc(2026, 11, 30, 8, 0, 30))
    sched = scheduler(store, clock, post, concurrency=3, per_workspace=2, post_timeout=0.5)
    report = await sched.tick()
    assert {p.channel for p in post.digests()} == {f"C{i}" for i in range(2, 12)}
    # The slow team held at most its own two slots: the other ten had all gone out, through the
    # slot left, before its hanging posts were given up on (an order, not a time).
    assert sorted(post.abandoned) == [("C0", 10), ("C1", 10)]
    assert report.outcomes == {"posted": 10, "lost": 2}


async def test_stop_hands_back_claims_it_had_not_started_sending(store):
    clock = Clock(utc(2026, 11, 29))
    post = Recorder(clock)
    post.hang = {"C0"}
    for i in range(3):
        await store.add_note(note(f"C{i}", clock.now, team="T1"))
        await store.save_subscription(subscription(f"C{i}", clock.now, team="T1"))
    clock.set(utc(2026, 11, 30, 8, 0, 30))
    sched = scheduler(store, clock, post, per_workspace=1, interval=3600)
    runner = asyncio.create_task(sched.run())

    async def queued() -> bool:  # C0 hangs while sending; C1 and C2 wait for the team's one slot
        states = {r.channel: r.state for r in await store.list_runs("T1")}
        return post.hanging.is_set() and states == {
            "C0": "sending",
            "C1": "claimed",
            "C2": "claimed",
        }

    await eventually(queued)
    await sched.stop(grace=0.2)
    await runner
    states = {r.channel: r.state for r in await store.list_runs("T1")}
    assert states["C0"] == "sending"  # may be on its way: left for the lease (at most once)
    assert [states["C1"], states["C2"]] == ["retry", "retry"]  # nothing sent: retried at once
    post.hang = set()
    clock.advance(minutes=1)
    await scheduler(store, clock, post).tick()
    assert sorted(p.channel for p in post.digests()) == ["C1", "C2"]


async def test_week_keys_differ_for_channels_in_different_zones_on_the_same_utc_day(store):
    clock = Clock(utc(2026, 11, 29, 12))  # Sunday noon UTC
    post = Recorder(clock)
    await store.add_note(note("C1", clock.now))
    await store.save_subscription(subscription("C1", clock.now, tz="Australia/Sydney"))
    await store.save_subscription(subscription("C2", clock.now, tz="America/New_York"))
    await run_hourly(scheduler(store, clock, post), clock, utc(2026, 11, 30, 15))
    weeks = {p.channel: p.week for p in post.digests()}
    # Monday 30 Nov 09:00 in Sydney is Sunday 29 Nov 22:00 UTC, still ISO week 48 in UTC:
    # both are week 49 in their own zones.
    assert weeks == {"C1": "2026-W49", "C2": "2026-W49"}
    assert date(2026, 11, 29).isocalendar()[1] == 48


async def test_a_pass_claims_everything_due_even_beyond_one_page(store, monkeypatch):
    from bot.digest import scheduler as module

    monkeypatch.setattr(module, "DUE_PAGE", 5)
    clock = Clock(utc(2026, 11, 29))
    post = Recorder(clock)
    for i in range(13):
        await store.save_subscription(subscription(f"C{i}", clock.now, include_empty=True))
    clock.set(utc(2026, 11, 30, 8, 0, 30))
    report = await scheduler(store, clock, post).tick()
    assert report.claimed == 13 and len(post.digests()) == 13


# -- claiming a large pass a few pages at a time --------------------------------------------------


def _held_post(
    recorder: Recorder, gate: asyncio.Event, begun: asyncio.Event, sent: list | None = None
):
    async def post(team, channel, reply, *, enterprise=None):
        begun.set()
        if sent is not None:
            sent.append(channel)
        await gate.wait()
        return await recorder(team, channel, reply, enterprise=enterprise)

    return post


async def _twelve_due(store, clock: Clock) -> None:
    for i in range(12):
        await store.save_subscription(subscription(f"C{i:02}", clock.now, include_empty=True))
    clock.set(utc(2026, 11, 30, 8, 0, 30))  # Monday 09:00:30 in Berlin: all twelve due


async def test_a_pass_claims_only_a_few_pages_ahead_of_those_settled(store, monkeypatch) -> None:
    """Claiming every page first queued all the claims' writes ahead of the first pages' run
    moves; now at most CLAIMED_AHEAD pages are claimed and unsettled, and the rest are claimed
    as those settle."""
    from bot.digest import scheduler as module

    monkeypatch.setattr(module, "DUE_PAGE", 2)
    clock = Clock(utc(2026, 11, 25, 12))
    await _twelve_due(store, clock)
    gate, begun = asyncio.Event(), asyncio.Event()
    recorder = Recorder(clock)
    sched = module.Scheduler(store, _held_post(recorder, gate, begun), clock=clock)
    tick = asyncio.create_task(sched.tick())
    await begun.wait()
    ahead = module.CLAIMED_AHEAD * module.DUE_PAGE
    assert ahead < 12
    # The pass waits for a page to settle before it claims another, and none can: posts held.
    await eventually(lambda: bool(sched._claimed_ahead._waiters))
    assert len(await store.list_runs()) == ahead
    assert len(await store.due_subscriptions(clock.now, limit=100)) == 12 - ahead
    gate.set()
    report = await tick
    assert report.claimed == 12 and report.outcomes == {"posted": 12}
    assert sorted(p.channel for p in recorder.digests()) == [f"C{i:02}" for i in range(12)]
    assert await store.due_subscriptions(clock.now, limit=100) == []


async def test_stopping_during_a_large_pass_claims_no_more_pages(store, monkeypatch) -> None:
    """stop() lets the pass under way finish, but the pages it has not claimed stay due (for the
    next start, or another replica); the runs claimed and never sent are handed back, and those
    whose post had begun stay `sending` (the crash policy: at most once)."""
    from bot.digest import scheduler as module

    monkeypatch.setattr(module, "DUE_PAGE", 2)
    clock = Clock(utc(2026, 11, 25, 12))
    await _twelve_due(store, clock)
    gate, begun = asyncio.Event(), asyncio.Event()
    sent: list[str] = []
    sched = module.Scheduler(store, _held_post(Recorder(clock), gate, begun, sent), clock=clock)
    running = asyncio.create_task(sched.run())
    await begun.wait()
    await eventually(lambda: bool(sched._claimed_ahead._waiters))
    await sched.stop(grace=0.05)  # the held posts never finish: cancelled after the grace
    await asyncio.wait_for(running, 30)
    ahead = module.CLAIMED_AHEAD * module.DUE_PAGE
    runs = await store.list_runs()
    assert len(runs) == ahead  # the pages settling as it stopped brought no new claims
    assert sent and len(sent) < ahead
    assert sorted(r.channel for r in runs if r.state == "sending") == sorted(sent)
    assert {r.state for r in runs if r.channel not in sent} == {"retry"}
    assert len(await store.due_subscriptions(clock.now, limit=100)) == 12 - ahead


async def test_stopping_a_pass_that_waits_for_a_claim_slot_ends_it_and_replays_no_retry(
    store, monkeypatch
) -> None:
    """stop() during a large pass waiting for a claim slot: the pass ends, and the runs waiting
    in `retry` (here from an earlier stop) are not taken up, so nothing starts after stop()."""
    from bot.digest import scheduler as module

    monkeypatch.setattr(module, "DUE_PAGE", 2)
    clock = Clock(utc(2026, 11, 25, 12))
    await _twelve_due(store, clock)
    gate, begun = asyncio.Event(), asyncio.Event()
    first = module.Scheduler(store, _held_post(Recorder(clock), gate, begun), clock=clock)
    running = asyncio.create_task(first.run())
    await begun.wait()
    await eventually(lambda: bool(first._claimed_ahead._waiters))
    await first.stop(grace=0.05)
    await asyncio.wait_for(running, 30)
    waiting = {r.channel for r in await store.list_runs() if r.state == "retry"}
    assert waiting  # handed back by the first stop, due again two minutes on
    clock.set(clock.now + timedelta(minutes=2))
    begun_again, sent = asyncio.Event(), []
    post = _held_post(Recorder(clock), asyncio.Event(), begun_again, sent)
    second = module.Scheduler(store, post, clock=clock)
    running = asyncio.create_task(second.run())
    await begun_again.wait()
    await eventually(lambda: bool(second._claimed_ahead._waiters))
    await second.stop(grace=0.05)
    posts_at_stop = list(sent)
    await asyncio.wait_for(running, 30)
    assert not second._inflight  # nothing claimed after stop(), nothing left to post
    assert sent == posts_at_stop
    still = {r.channel for r in await store.list_runs() if r.state == "retry"}
    assert waiting <= still  # not claimed again: for the next start
