"""Digest subscriptions and runs on every backend: the store's half of "each digest once".

A run is claimed under (team, channel, week) once, however many schedulers race for it; only its
holder moves it on (the fence); and the crash policy: a claim whose holder died goes back to retry
(nothing was sent), a send with a recorded ts counts as posted, a send without one is lost and its
subscriber is told (at least once, by whoever holds the telling).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from tests.support.contract import claim_slot
from tests.support.digest_support import subscription, utc

NOW = utc(2026, 11, 29, 12)  # a Sunday
LEASE = 600.0


async def saved(store, channel="C1", **fields):
    await store.save_subscription(subscription(channel, NOW, **fields))
    return await store.get_subscription(fields.get("team", "T1"), channel)


# -- subscriptions --------------------------------------------------------------------------------


async def test_a_subscription_reads_back_and_is_replaced_in_place(store) -> None:
    sub = subscription("C1", NOW, tz="America/New_York", hour=7, minute=45, include_empty=True)
    assert await store.save_subscription(sub) is True
    got = await store.get_subscription("T1", "C1")
    for field in (
        "team", "channel", "workspace", "enterprise", "weekday", "hour", "minute", "tz",
        "subscriber", "next_run", "state", "paused_reason", "include_empty",
    ):  # fmt: skip
        assert getattr(got, field) == getattr(sub, field), field
    assert got.next_run.utcoffset() == timedelta(0) and got.created_at is not None
    moved = replace(sub, hour=10, subscriber="U2", enterprise="E1")
    assert await store.save_subscription(moved) is False  # replaced, not new
    again = await store.get_subscription("T1", "C1")
    assert (again.hour, again.subscriber, again.enterprise) == (10, "U2", "E1")
    assert again.created_at == got.created_at
    assert await store.get_subscription("T2", "C1") is None  # keyed by team


async def test_subscriptions_by_subscriber_and_deleting_one(store) -> None:
    for channel, who in (("C2", "U1"), ("C1", "U1"), ("C3", "U2")):
        await store.save_subscription(subscription(channel, NOW, subscriber=who))
    await store.save_subscription(subscription("C4", NOW, subscriber="U1", team="T2"))
    assert [s.channel for s in await store.subscriptions_set_up_by("T1", "U1")] == ["C1", "C2"]
    assert await store.delete_subscription("T1", "C1") is True
    assert await store.delete_subscription("T1", "C1") is False
    assert await store.get_subscription("T1", "C1") is None
    assert [s.channel for s in await store.subscriptions_set_up_by("T1", "U1")] == ["C2"]


async def test_pause_and_resume(store) -> None:
    sub = await saved(store)
    paused = await store.set_subscription_state("T1", "C1", "paused", reason="paused by U1")
    assert paused.state == "paused" and paused.paused_reason == "paused by U1"
    assert await store.due_subscriptions(sub.next_run + timedelta(days=30)) == []
    later = sub.next_run + timedelta(weeks=2)
    resumed = await store.set_subscription_state("T1", "C1", "active", next_run=later)
    assert resumed.state == "active" and resumed.paused_reason is None
    assert resumed.next_run == later
    assert await store.set_subscription_state("T1", "C9", "paused") is None


async def test_a_revoked_workspace_pauses_only_its_active_subscriptions(store) -> None:
    await saved(store, "C1", team="TA")
    await saved(store, "C2", team="TA")
    await saved(store, "C3", team="TB")
    await store.set_subscription_state("TA", "C2", "paused", reason="by hand")
    assert await store.pause_workspace("TA", "token_revoked") == 1
    assert (await store.get_subscription("TA", "C1")).paused_reason == "token_revoked"
    assert (await store.get_subscription("TA", "C2")).paused_reason == "by hand"
    assert (await store.get_subscription("TB", "C3")).state == "active"


async def test_due_subscriptions_are_the_active_ones_at_or_before_now_earliest_first(store) -> None:
    for i, hour in enumerate([12, 9, 15, 9]):
        await store.save_subscription(subscription(f"C{i}", NOW, hour=hour, team=f"T{i}"))
    first = (await store.get_subscription("T1", "C1")).next_run  # Mon 09:00 Berlin
    due = await store.due_subscriptions(first)
    assert sorted(s.channel for s in due) == ["C1", "C3"]
    everything = await store.due_subscriptions(first + timedelta(hours=6))
    assert [s.next_run for s in everything] == sorted(s.next_run for s in everything)
    assert len(everything) == 4
    assert len(await store.due_subscriptions(first + timedelta(hours=6), limit=2)) == 2
    assert await store.due_subscriptions(first - timedelta(seconds=1)) == []


# -- claims ---------------------------------------------------------------------------------------


async def test_a_week_is_claimed_once_and_the_cadence_moves_on(store) -> None:
    sub = await saved(store)
    run = await claim_slot(store, sub)
    assert run is not None and run.state == "claimed" and run.claimed_by == "A"
    assert run.attempts == 1 and run.due == sub.next_run and run.week == "2026-W49"
    assert await claim_slot(store, sub, owner="B") is None  # the same slot again: stale next_run
    moved = await store.get_subscription("T1", "C1")
    assert moved.next_run == sub.next_run + timedelta(weeks=1)
    # The subscription re-made for the same week (its day moved within it): not posted twice.
    await store.save_subscription(replace(moved, next_run=sub.next_run + timedelta(hours=3)))
    again = await store.get_subscription("T1", "C1")
    assert await claim_slot(store, again, owner="B") is None
    assert [r.claimed_by for r in await store.list_runs("T1", "C1")] == ["A"]
    assert (await store.get_run("T1", "C1", "2026-W49")).state == "claimed"


async def test_a_claim_from_a_stale_copy_of_the_subscription_changes_nothing(store) -> None:
    stale = await saved(store)
    moved_to = stale.next_run + timedelta(days=2)  # changed meanwhile (paused and resumed)
    await store.set_subscription_state("T1", "C1", "paused", reason="x")
    await store.set_subscription_state("T1", "C1", "active", next_run=moved_to)
    assert await claim_slot(store, stale) is None
    assert (await store.get_subscription("T1", "C1")).next_run == moved_to
    assert await store.list_runs("T1") == []


async def test_a_paused_subscription_is_not_claimed(store) -> None:
    sub = await saved(store)
    await store.set_subscription_state("T1", "C1", "paused", reason="x")
    assert await claim_slot(store, sub) is None
    assert await store.list_runs("T1") == []


async def test_two_stores_racing_every_claim_take_each_week_exactly_once(backend, store) -> None:
    other = await backend.open()
    subs = [await saved(store, f"C{i}", team=f"T{i % 3}") for i in range(30)]
    won = await asyncio.gather(
        *(
            claim_slot(s, sub, owner=name)
            for sub in subs
            for s, name in ((store, "A"), (other, "B"))
        )
    )
    pairs = [won[i * 2 : i * 2 + 2] for i in range(len(subs))]
    assert all(sum(r is not None for r in pair) == 1 for pair in pairs)
    runs = await other.list_runs()
    assert len(runs) == 30 and len({(r.team, r.channel, r.week) for r in runs}) == 30
    for sub in subs:  # every cadence moved exactly one week
        moved = await other.get_subscription(sub.team, sub.channel)
        assert moved.next_run == sub.next_run + timedelta(weeks=1)


async def test_runs_are_listed_newest_due_first_by_team_and_channel(store) -> None:
    sub = await saved(store)
    await claim_slot(store, sub)
    await claim_slot(store, await store.get_subscription("T1", "C1"))
    await claim_slot(store, await saved(store, "C2", team="T2"))
    assert [r.week for r in await store.list_runs("T1", "C1")] == ["2026-W50", "2026-W49"]
    assert len(await store.list_runs()) == 3
    assert [r.channel for r in await store.list_runs("T2")] == ["C2"]


# -- the fence ------------------------------------------------------------------------------------


async def test_only_the_holder_moves_a_run_and_only_from_the_expected_state(store) -> None:
    run = await claim_slot(store, await saved(store))
    now = run.due
    assert not await store.update_run(run, owner="B", expect=("claimed",), state="sending", now=now)
    assert not await store.update_run(run, owner="A", expect=("retry",), state="sending", now=now)
    assert await store.update_run(
        run, owner="A", expect=("claimed",), state="sending", now=now, notes=4
    )
    assert await store.update_run(
        run, owner="A", expect=("sending",), state="sending", now=now, ts="1.5"
    )
    assert await store.update_run(
        run, owner="A", expect=("sending",), state="posted", now=now, error="thread incomplete"
    )
    done = await store.get_run("T1", "C1", run.week)
    assert (done.state, done.ts, done.notes, done.error) == (
        "posted",
        "1.5",
        4,
        "thread incomplete",
    )
    assert done.finished_at == now
    assert not await store.update_run(run, owner="A", expect=("sending",), state="lost", now=now)


async def test_a_transient_failure_waits_for_its_retry_time_and_one_scheduler_takes_it(
    backend, store
) -> None:
    other = await backend.open()
    run = await claim_slot(store, await saved(store))
    at = run.due + timedelta(minutes=1)
    assert await store.update_run(
        run, owner="A", expect=("claimed",), state="retry", now=run.due, retry_at=at,
        error="http_503",
    )  # fmt: skip
    assert await store.retry_runs(at - timedelta(seconds=1)) == []
    [waiting] = await store.retry_runs(at)
    assert waiting.state == "retry" and waiting.retry_at == at and waiting.error == "http_503"
    taken = await asyncio.gather(
        store.claim_retry(waiting, owner="A", now=at), other.claim_retry(waiting, owner="B", now=at)
    )
    [winner] = [r for r in taken if r is not None]
    assert winner.state == "claimed" and winner.attempts == 2 and not winner.late
    assert winner.claimed_by in ("A", "B") and winner.retry_at is None
    assert await store.retry_runs(at + timedelta(hours=1)) == []


async def test_a_retry_claimed_long_after_its_slot_is_marked_late(store) -> None:
    run = await claim_slot(store, await saved(store))
    late = run.due + timedelta(hours=2)
    await store.update_run(
        run, owner="A", expect=("claimed",), state="retry", now=run.due, retry_at=run.due
    )
    taken = await store.claim_retry(run, owner="B", now=late)
    assert taken.late and taken.claimed_by == "B" and taken.claimed_at == late


# -- the crash policy -----------------------------------------------------------------------------


async def test_reaping_runs_whose_holder_died(store) -> None:
    """claimed -> retry (nothing sent); sending with a ts -> posted; sending without -> lost."""
    subs = [await saved(store, f"C{i}") for i in range(5)]
    due = subs[0].next_run
    runs = [await claim_slot(store, sub, owner=f"dead{i}", now=due) for i, sub in enumerate(subs)]
    claimed, with_ts, without_ts, young, kept = runs
    for run, ts in ((with_ts, "7.1"), (without_ts, None), (kept, None)):
        assert await store.update_run(
            run, owner=run.claimed_by, expect=("claimed",), state="sending", now=due, ts=ts
        )
    # `young` was claimed again just now (a live holder): its lease has not run out.
    await store.update_run(
        young,
        owner="dead3",
        expect=("claimed",),
        state="sending",
        now=due + timedelta(seconds=LEASE),
    )
    now = due + timedelta(seconds=LEASE + 1)
    assert (
        await store.reap_runs(now - timedelta(seconds=2), lease_seconds=LEASE, keep=frozenset())
        == []
    )
    keep = frozenset({("T1", kept.channel, kept.week)})
    lost = await store.reap_runs(now, lease_seconds=LEASE, keep=keep)
    assert [(r.channel, r.state) for r in lost] == [(without_ts.channel, "lost")]
    assert lost[0].told_at is None and lost[0].finished_at == now
    state = {r.channel: r for r in await store.list_runs("T1")}
    assert state[claimed.channel].state == "retry" and state[claimed.channel].retry_at == now
    assert state[with_ts.channel].state == "posted" and state[with_ts.channel].ts == "7.1"
    assert state[without_ts.channel].state == "lost"
    assert state[young.channel].state == "sending"
    assert state[kept.channel].state == "sending"
    # Reaping again finds nothing more to do.
    assert await store.reap_runs(now, lease_seconds=LEASE, keep=keep) == []


async def test_two_reapers_at_once_report_each_lost_run_once(backend, store) -> None:
    other = await backend.open()
    subs = [await saved(store, f"C{i}") for i in range(10)]
    due = subs[0].next_run
    for sub in subs:
        run = await claim_slot(store, sub, owner="dead", now=due)
        await store.update_run(run, owner="dead", expect=("claimed",), state="sending", now=due)
    now = due + timedelta(seconds=LEASE + 1)
    both = await asyncio.gather(
        store.reap_runs(now, lease_seconds=LEASE, keep=frozenset()),
        other.reap_runs(now, lease_seconds=LEASE, keep=frozenset()),
    )
    reported = [r.channel for found in both for r in found]
    assert sorted(reported) == sorted(s.channel for s in subs)


async def test_lost_runs_are_told_once_by_whoever_holds_the_telling(backend, store) -> None:
    other = await backend.open()
    run = await claim_slot(store, await saved(store), owner="dead")
    await store.update_run(run, owner="dead", expect=("claimed",), state="sending", now=run.due)
    now = run.due + timedelta(seconds=LEASE + 1)
    [lost] = await store.reap_runs(now, lease_seconds=LEASE, keep=frozenset())
    [notice] = await store.claim_notices(now, owner="A", lease_seconds=LEASE)
    assert notice.claimed_by == "A" and notice.state == "lost"
    assert await other.claim_notices(now, owner="B", lease_seconds=LEASE) == []  # A holds it
    assert [r.week for r in await store.claim_notices(now, owner="A", lease_seconds=LEASE)] == [
        lost.week
    ]  # a holder may always tell about its own
    # A died before telling: once its hold is older than the lease, B takes it over.
    later = now + timedelta(seconds=LEASE + 1)
    [taken] = await other.claim_notices(later, owner="B", lease_seconds=LEASE)
    assert not await store.mark_told(notice, owner="A", now=later)  # no longer A's
    assert await other.mark_told(taken, owner="B", now=later)
    assert not await other.mark_told(taken, owner="B", now=later)  # once
    assert (await store.get_run("T1", "C1", lost.week)).told_at == later
    assert (
        await store.claim_notices(later + timedelta(days=1), owner="C", lease_seconds=LEASE) == []
    )
