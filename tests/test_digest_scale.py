"""The digest pass at scale, by behaviour (never by time): its Replies are built off the event
loop, a page of due channels is read in one batch read, the run-state moves of digests in flight
share commits, and the batch build says what one build per digest says."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot.digest import compose as composing
from bot.digest.run_writes import RunWriter
from bot.digest.scheduler import slot_of
from bot.digest.slots import week_before
from bot.notes.commands import sources
from bot.store import Viewer, open_store
from bot.store.base import RunClaim, RunUpdate
from tests.support.contract import scheduler
from tests.support.digest_support import Clock, Recorder, note, subscription, utc


@pytest.fixture
async def store(tmp_path):
    opened = open_store(str(tmp_path / "smx.db"))
    yield opened
    await opened.close()


async def due_channels(store, count: int, teams: int = 3) -> Clock:
    clock = Clock(utc(2026, 11, 25, 12))
    for i in range(count):
        team = f"T{i % teams}"
        await store.add_note(note(f"C{i}", clock.now, f"of C{i}", team=team, kind="private"))
        await store.add_note(note("C-all", clock.now, f"team-wide {i}", team=team, spend=2.5))
        await store.save_subscription(subscription(f"C{i}", clock.now, team=team))
    clock.set(utc(2026, 11, 30, 8, 0, 30))
    return clock


async def test_the_pass_builds_every_digest_off_the_event_loop(store, monkeypatch):
    clock = await due_channels(store, 12)
    loop_thread = threading.get_ident()
    built_on: list[int] = []
    real = composing.build

    def recording_build(*args, **kwargs):
        built_on.append(threading.get_ident())
        return real(*args, **kwargs)

    monkeypatch.setattr(composing, "build", recording_build)
    post = Recorder(clock)
    report = await scheduler(store, clock, post).tick()
    assert report.outcomes == {"posted": 12}
    assert len(built_on) == 12
    assert loop_thread not in built_on  # not one Reply built on the loop's thread


async def test_the_pass_works_out_every_slot_off_the_event_loop(store, monkeypatch):
    """The time-zone arithmetic of a page of claims (each slot owed, its week, the next one) and
    of each digest's window is CPU work too: done in a worker thread, as the building is."""
    from bot.digest import slots

    clock = await due_channels(store, 12)
    loop_thread = threading.get_ident()
    done_on: list[tuple[str, int]] = []
    for name in ("latest_at_or_before", "next_after"):
        real = getattr(slots.Slot, name)

        def recording(self, moment, _real=real, _name=name):
            done_on.append((_name, threading.get_ident()))
            return _real(self, moment)

        monkeypatch.setattr(slots.Slot, name, recording)
    real_week_before = week_before

    def recording_week_before(*args):
        done_on.append(("week_before", threading.get_ident()))
        return real_week_before(*args)

    from bot.digest import scheduler as module

    monkeypatch.setattr(module, "week_before", recording_week_before)
    post = Recorder(clock)
    report = await scheduler(store, clock, post).tick()
    assert report.outcomes == {"posted": 12}
    # Worked out once per distinct slot (the 12 channels share one: tests/
    # test_digest_claims_shared.py holds that equal to each worked out alone), never on the loop.
    for name in ("latest_at_or_before", "next_after", "week_before"):
        assert sum(1 for n, _t in done_on if n == name) >= 1, name
    assert loop_thread not in {t for _n, t in done_on}  # not one on the loop's thread


async def test_a_page_of_due_channels_is_read_in_one_batch_read(store, monkeypatch):
    from bot.digest import scheduler as module

    monkeypatch.setattr(module, "DUE_PAGE", 10)
    clock = await due_channels(store, 25)
    reads: list[int] = []
    one_by_one: list[Viewer] = []
    batch, single = store.week_activities, store.week_activity

    async def counted(viewers, **kwargs):
        reads.append(len(viewers))
        return await batch(viewers, **kwargs)

    async def alone(viewer, **kwargs):
        one_by_one.append(viewer)
        return await single(viewer, **kwargs)

    monkeypatch.setattr(store, "week_activities", counted)
    monkeypatch.setattr(store, "week_activity", alone)
    post = Recorder(clock)
    report = await scheduler(store, clock, post).tick()
    assert report.outcomes == {"posted": 25}
    assert sorted(reads) == [5, 10, 10] and one_by_one == []
    assert sorted(p.channel for p in post.digests()) == sorted(f"C{i}" for i in range(25))


async def test_run_moves_waiting_at_the_same_moment_share_one_commit(store):
    clock = await due_channels(store, 8, teams=1)
    subs = [await store.get_subscription("T0", f"C{i}") for i in range(8)]
    claims = []
    for s in subs:
        due = slot_of(s).latest_at_or_before(clock.now)
        claims.append(RunClaim(s, "W", due, False, slot_of(s).next_after(clock.now)))
    runs = await store.claim_runs(claims, owner="A", now=clock.now)
    calls: list[int] = []
    real = store.update_runs

    async def counted(updates):
        calls.append(len(updates))
        return await real(updates)

    store.update_runs = counted
    writer = RunWriter(store)
    moves = [RunUpdate(r, "A", ("claimed",), "sending", clock.now) for r in runs]
    moves.append(RunUpdate(runs[0], "B", ("claimed",), "sending", clock.now))  # not its holder
    done = await asyncio.gather(*(writer.update(m) for m in moves))
    assert done == [True] * 8 + [False]
    assert calls == [9]  # all nine in one transaction
    assert {r.state for r in await store.list_runs()} == {"sending"}


async def held_writer(store, count: int):
    """`count` runs claimed, and a RunWriter whose first batch is held in update_runs until
    `gate` is set (`started` is set once it is held there)."""
    clock = await due_channels(store, count, teams=1)
    subs = [await store.get_subscription("T0", f"C{i}") for i in range(count)]
    claims = [
        RunClaim(s, "W", slot_of(s).latest_at_or_before(clock.now), False, clock.now) for s in subs
    ]
    runs = await store.claim_runs(claims, owner="A", now=clock.now)
    gate, started = asyncio.Event(), asyncio.Event()
    real = store.update_runs

    async def slow(updates):
        started.set()
        await gate.wait()
        return await real(updates)

    store.update_runs = slow
    return clock, runs, gate, started, real, RunWriter(store)


async def test_a_move_cancelled_before_its_batch_is_taken_is_never_written(store):
    clock, (first, second), gate, started, _real, writer = await held_writer(store, 2)
    one = asyncio.create_task(
        writer.update(RunUpdate(first, "A", ("claimed",), "sending", clock.now))
    )
    await started.wait()  # the first batch is being written; the next one gathers
    two = asyncio.create_task(
        writer.update(RunUpdate(second, "A", ("claimed",), "sending", clock.now))
    )
    await asyncio.sleep(0)
    two.cancel()
    gate.set()
    assert await one is True
    with pytest.raises(asyncio.CancelledError):
        await two
    states = {r.channel: r.state for r in await store.list_runs()}
    assert states == {"C0": "sending", "C1": "claimed"}


async def test_a_move_cancelled_once_its_batch_is_taken_is_written_and_the_writer_goes_on(store):
    clock, (first, second, third), gate, started, real, writer = await held_writer(store, 3)
    one = asyncio.create_task(
        writer.update(RunUpdate(first, "A", ("claimed",), "sending", clock.now))
    )
    await started.wait()  # its batch is taken and being written
    one.cancel()  # the caller goes; its future is cancelled, not the write
    two = asyncio.create_task(
        writer.update(RunUpdate(second, "A", ("claimed",), "sending", clock.now))
    )
    await asyncio.sleep(0)
    gate.set()
    with pytest.raises(asyncio.CancelledError):
        await one
    assert await two is True  # the writer set no result on the cancelled future, and went on
    store.update_runs = real
    assert await writer.update(RunUpdate(third, "A", ("claimed",), "sending", clock.now))
    states = {r.channel: r.state for r in await store.list_runs()}
    assert states == {"C0": "sending", "C1": "sending", "C2": "sending"}


async def test_the_batch_build_equals_one_build_per_digest(store):
    await due_channels(store, 9)

    due = utc(2026, 11, 30, 8)
    window = composing.Window(week_before(due, "Europe/Berlin"), due, "Europe/Berlin")
    digests = [
        composing.Digest(
            f"T{i % 3}", f"C{i}", window, week="2026-W49", late_due=due if i == 4 else None
        )
        for i in range(9)
    ]
    together = await composing.compose_many(store, digests)
    for d, reply in zip(digests, together, strict=True):
        week = await store.week_activity(
            Viewer(d.team, d.channel), since=window.since, until=window.until, per_campaign=3
        )
        alone = composing.build(week, window=window, week=d.week, late_due=d.late_due)
        assert reply.model_dump(exclude={"sources"}) == alone.model_dump(exclude={"sources"})
        # The sources, as bot/notes/commands.py makes them (the quoted notes, each origin once).
        quoted = [n for ns in week.highlights.values() for n in ns]
        expected = sources(quoted, (o for t in week.totals for o in t.origins))
        assert sorted(map(repr, reply.sources)) == sorted(map(repr, expected))
        assert len(reply.sources) == len(expected)
    assert "(late)" in together[4].title and "of C4" in str(together[4].model_dump())
    assert await composing.compose_many(store, []) == []


async def test_a_writer_cancelled_before_its_first_step_cancels_its_callers(store):
    # Before: the writer's own handler cancels the callers' futures, but a task cancelled before
    # its first step never runs its body, so its callers waited for ever.
    clock, (first,), _gate, _started, real, writer = await held_writer(store, 1)
    store.update_runs = real
    one = asyncio.create_task(
        writer.update(RunUpdate(first, "A", ("claimed",), "sending", clock.now))
    )
    await asyncio.sleep(0)  # the caller queues its move and starts the writer
    assert writer._writer is not None and not writer._writer.done()
    writer._writer.cancel()
    done, _ = await asyncio.wait({one}, timeout=30)  # a hang is the failure, not a slow pass
    assert one in done and one.cancelled()
    assert {r.state for r in await store.list_runs()} == {"claimed"}  # never written
    # The next move starts a new writer and is written.
    assert await writer.update(RunUpdate(first, "A", ("claimed",), "sending", clock.now))
    assert {r.state for r in await store.list_runs()} == {"sending"}


async def test_a_move_queued_after_the_cancelled_writer_ended_is_written_by_the_next(store):
    # The writer is cancelled before its first step; a second caller comes before the first
    # writer's end is handled and starts another writer, which writes both moves: a caller
    # nobody cancelled is not told it was.
    clock, (first, second), _gate, _started, real, writer = await held_writer(store, 2)
    store.update_runs = real
    one = asyncio.create_task(
        writer.update(RunUpdate(first, "A", ("claimed",), "sending", clock.now))
    )
    await asyncio.sleep(0)  # the caller queues its move and starts the writer
    cancelled = writer._writer
    assert cancelled is not None
    cancelled.cancel()
    two = asyncio.create_task(
        writer.update(RunUpdate(second, "A", ("claimed",), "sending", clock.now))
    )
    done, _ = await asyncio.wait({one, two}, timeout=30)  # a hang is the failure
    assert done == {one, two}
    assert cancelled.cancelled() and writer._writer is not cancelled
    assert one.result() is True and two.result() is True
    assert {r.state for r in await store.list_runs()} == {"sending"}


async def test_a_writer_that_fails_on_its_own_tells_every_caller(store, caplog):
    # A store answering fewer results than moves (a fault, not a refusal): each caller gets the
    # error; before, the writer died and they waited for ever.
    clock, (first, second), gate, started, real, writer = await held_writer(store, 2)

    async def short(updates):
        started.set()
        await gate.wait()
        return (await real(updates))[:-1]

    store.update_runs = short
    one = asyncio.create_task(
        writer.update(RunUpdate(first, "A", ("claimed",), "sending", clock.now))
    )
    await started.wait()
    two = asyncio.create_task(  # queued behind the batch being written
        writer.update(RunUpdate(second, "A", ("claimed",), "sending", clock.now))
    )
    await asyncio.sleep(0)
    gate.set()
    done, _ = await asyncio.wait({one, two}, timeout=30)  # a hang is the failure
    assert done == {one, two}
    assert isinstance(one.exception(), ValueError)  # its batch of one got no result back
    assert isinstance(two.exception(), ValueError)  # queued behind it: told, not left waiting
    assert {r.state for r in await store.list_runs()} == {"sending", "claimed"}
    assert "the digest run writer failed" in caplog.text
