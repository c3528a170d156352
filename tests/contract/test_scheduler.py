"""The scheduler on every backend where the store decides the outcome: two schedulers on one
database post each due digest exactly once, and the crash policy (bot/digest/scheduler.py): a
claim whose holder died is posted once after its lease, a send that was interrupted is never
posted again and its subscriber is told once, a holder whose lease ran out is fenced off.

An injected clock and a recording `post` (tests/support/digest_support.py): no sleeping, no Slack.
The real-SIGKILL version of the crash policy is tests/test_digest_crash.py, on both backends too.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.digest.scheduler import LEASE_SECONDS, Scheduler
from tests.support.contract import claim_slot, run_hourly, scheduler
from tests.support.digest_support import Clock, Recorder, note, subscription, utc


async def test_two_schedulers_on_one_database_post_every_due_digest_exactly_once(backend):
    first, second = await backend.open(), await backend.open()
    clock = Clock(utc(2026, 11, 28))
    post = Recorder(clock)
    zones = ("Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC")
    try:
        for i in range(40):
            await first.save_subscription(
                subscription(
                    f"C{i}",
                    clock.now,
                    team=f"T{i % 7}",
                    tz=zones[i % 5],
                    hour=i % 24,
                    include_empty=True,
                )
            )
        a = Scheduler(first, post, clock=clock, owner="A")
        b = Scheduler(second, post, clock=clock, owner="B")
        end = clock.now + timedelta(weeks=3)
        while True:
            # Straight to the next due time (and 20 s past it), both schedulers ticking at once.
            upcoming = await first.due_subscriptions(end, limit=1)
            if not upcoming:
                break
            clock.set(upcoming[0].next_run + timedelta(seconds=20))
            await asyncio.gather(a.tick(), b.tick(), a.tick(), b.tick())
        keys = [(p.channel, p.week) for p in post.digests()]
        assert len(keys) == len(set(keys))
        assert len(keys) == 40 * 3
        runs = await first.list_runs()
        assert {r.claimed_by for r in runs} == {"A", "B"}  # both did real work
        assert {r.state for r in runs} == {"posted"}
    finally:
        await backend.close(first)
        await backend.close(second)


async def at_the_slot(store, subscriber: str = "U1") -> tuple[Clock, Recorder]:
    """A note and a weekly subscription of C1, and a clock at its first slot."""
    clock = Clock(utc(2026, 11, 29))
    await store.add_note(note("C1", clock.now))
    await store.save_subscription(subscription("C1", clock.now, subscriber=subscriber))
    clock.set((await store.get_subscription("T1", "C1")).next_run)
    return clock, Recorder(clock)


async def _claimed_then_crashed(store, clock, state: str) -> None:
    """Leave a run as a process killed in `state` would: claimed (nothing sent) or sending."""
    sub = await store.get_subscription("T1", "C1")
    run = await claim_slot(store, sub, owner="dead", now=clock.now)
    if state == "sending":
        assert await store.update_run(
            run, owner="dead", expect=("claimed",), state="sending", now=clock.now, notes=1
        )


async def test_killed_before_sending_the_digest_is_posted_once_after_the_lease(store):
    clock, post = await at_the_slot(store)
    await _claimed_then_crashed(store, clock, "claimed")
    sched = scheduler(store, clock, post)
    clock.advance(seconds=LEASE_SECONDS / 2)
    await sched.tick()
    assert post.digests() == []  # the holder might still be alive: its lease has not run out
    clock.advance(seconds=LEASE_SECONDS)
    await sched.tick()
    await sched.tick()
    assert len(post.digests()) == 1
    [run] = await store.list_runs("T1", "C1")
    assert run.state == "posted" and run.attempts == 2 and run.claimed_by == sched.owner


async def test_a_run_recovered_after_its_holder_died_is_posted_marked_late(store):
    # Claimed on time at the slot; the holder died; the run is re-claimed a lease (and more) later.
    clock = Clock(utc(2026, 11, 29))
    post = Recorder(clock)
    await store.add_note(note("C1", clock.now))
    await store.save_subscription(subscription("C1", clock.now))
    due = (await store.get_subscription("T1", "C1")).next_run
    clock.set(due)
    await _claimed_then_crashed(store, clock, "claimed")
    clock.advance(seconds=LEASE_SECONDS + 5 * 60)  # 15 minutes after the slot
    await scheduler(store, clock, post).tick()
    [posted] = post.digests()
    assert "Posted late: it was due Mon 30 Nov 09:00 Europe/Berlin" in posted.text
    assert "(late)" in posted.reply.title
    [run] = await store.list_runs("T1", "C1")
    assert run.state == "posted" and run.late and run.attempts == 2


async def test_killed_while_sending_it_is_never_posted_again_and_the_subscriber_is_told(store):
    clock, post = await at_the_slot(store, subscriber="U7")
    await _claimed_then_crashed(store, clock, "sending")
    sched = scheduler(store, clock, post)
    for _ in range(5):
        clock.advance(seconds=LEASE_SECONDS)
        await sched.tick()
    assert post.digests() == []  # at most once: never retried
    [run] = await store.list_runs("T1", "C1")
    assert run.state == "lost"
    [dm] = post.dms("U7")
    assert "may not have been posted" in dm.text and "/smx digest now" in dm.text
    # The next week goes out as usual.
    await store.add_note(note("C1", clock.now))
    await run_hourly(sched, clock, utc(2026, 12, 7, 9))
    assert len(post.digests()) == 1


async def test_killed_while_posting_the_thread_the_digest_counts_as_posted_not_missing(store):
    clock, post = await at_the_slot(store, subscriber="U7")
    post.hang_in_thread = {"C1"}  # the first message goes out; the process stops there
    dying = scheduler(store, clock, post, owner="A", interval=3600)
    runner = asyncio.create_task(dying.run())
    await asyncio.wait_for(post.head_in_channel.wait(), 5)
    [run] = await store.list_runs("T1", "C1")
    assert run.state == "sending" and run.ts == "1.0001"  # recorded before the thread
    # A never comes back; another process reaps the run once A's lease has passed.
    clock.advance(seconds=LEASE_SECONDS + 1)
    await scheduler(store, clock, post, owner="B").tick()
    [run] = await store.list_runs("T1", "C1")
    assert run.state == "posted" and run.ts == "1.0001"
    assert run.error == "the scheduler stopped while posting the thread"
    assert len(post.digests("C1")) == 1
    assert post.dms("U7") == []  # no "may be missing": it is in the channel
    await dying.stop(grace=0.05)
    await runner


async def test_moving_to_sending_renews_the_lease_so_a_queued_run_is_not_reaped_while_sent(store):
    clock = Clock(utc(2026, 11, 29))
    await store.save_subscription(subscription("C1", clock.now))
    sub = await store.get_subscription("T1", "C1")
    clock.set(sub.next_run)
    run = await claim_slot(store, sub, owner="A", now=clock.now)
    # A waited for its workspace's delivery slot almost the whole lease, then starts sending.
    clock.advance(seconds=LEASE_SECONDS - 10)
    assert not await store.update_run(  # only the holder may move it (the fence holds)
        run, owner="B", expect=("claimed",), state="sending", now=clock.now
    )
    assert await store.update_run(
        run, owner="A", expect=("claimed",), state="sending", now=clock.now
    )
    clock.advance(seconds=20)  # the first claim is older than the lease; the send is not
    assert await store.reap_runs(clock.now, lease_seconds=LEASE_SECONDS) == []
    assert (await store.get_run("T1", "C1", run.week)).state == "sending"
    assert await store.update_run(
        run, owner="A", expect=("sending",), state="posted", now=clock.now, ts="1.1"
    )
    clock.advance(seconds=LEASE_SECONDS)
    assert await store.reap_runs(clock.now, lease_seconds=LEASE_SECONDS) == []


async def test_a_scheduler_whose_lease_ran_out_does_not_post_what_another_took_over(store):
    clock, post = await at_the_slot(store)
    await _claimed_then_crashed(store, clock, "claimed")  # "slow", not dead
    clock.advance(seconds=LEASE_SECONDS + 1)
    await scheduler(store, clock, post, owner="B").tick()  # B takes over and posts
    [run] = await store.list_runs("T1", "C1")
    # The slow holder wakes up and tries to go on: the fence refuses it.
    assert not await store.update_run(
        run, owner="dead", expect=("claimed",), state="sending", now=clock.now
    )
    assert len(post.digests()) == 1


async def test_a_reaper_that_dies_before_telling_is_relieved_and_the_subscriber_told_once(store):
    clock, post = await at_the_slot(store, subscriber="U7")
    await _claimed_then_crashed(store, clock, "sending")
    clock.advance(seconds=LEASE_SECONDS + 1)
    # Another process reaps the run (marks it lost) and is killed before its DM goes out.
    [lost] = await store.reap_runs(clock.now, lease_seconds=LEASE_SECONDS)
    assert lost.state == "lost" and lost.told_at is None
    sched = scheduler(store, clock, post)
    await sched.tick()
    await sched.tick()
    clock.advance(seconds=LEASE_SECONDS + 1)
    await sched.tick()
    assert len(post.dms("U7")) == 1
    [run] = await store.list_runs("T1", "C1")
    assert run.state == "lost" and run.told_at is not None
    status = await store.get_run("T1", "C1", run.week)
    assert status.error == "the scheduler stopped while posting"
