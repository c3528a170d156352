"""The group commit's queue (bot/store/batching.py) on its own: what arrives while a write runs
goes in the next one, results go back to their callers, a failed write fails its batch only."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import pytest

from bot.store import batching
from bot.store.base import StoreUnavailable
from tests.support.waits import WAIT


class Writes:
    """A write_many whose every call waits until the test lets it finish."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.started = asyncio.Event()

    async def __call__(self, items: list[int]) -> list[object]:
        self.batches.append(list(items))
        self.started.set()
        await self.release.wait()
        return [ValueError(f"bad {i}") if i < 0 else i * 10 for i in items]


async def test_what_arrives_during_a_write_goes_in_the_next_one():
    writes = Writes()
    batcher = batching.Batcher(writes)
    first = asyncio.ensure_future(batcher.submit(1))
    await writes.started.wait()  # the first write is running, with the first item alone
    rest = [asyncio.ensure_future(batcher.submit(i)) for i in (2, 3, 4)]
    await asyncio.sleep(0)
    writes.release.set()
    assert await first == 10
    assert await asyncio.gather(*rest) == [20, 30, 40]
    assert writes.batches == [[1], [2, 3, 4]]


async def test_an_item_that_failed_fails_alone():
    writes = Writes()
    writes.release.set()
    batcher = batching.Batcher(writes)
    results = await asyncio.gather(
        batcher.submit(1), batcher.submit(-2), batcher.submit(3), return_exceptions=True
    )
    assert results[0] == 10 and results[2] == 30
    assert isinstance(results[1], ValueError) and str(results[1]) == "bad -2"
    assert writes.batches == [[1, -2, 3]]


async def test_a_failed_write_fails_its_batch_and_the_next_one_still_runs():
    calls: list[list[int]] = []
    first_started, release = asyncio.Event(), asyncio.Event()

    async def write_many(items):
        calls.append(list(items))
        if len(calls) == 1:
            first_started.set()
            await release.wait()
            raise StoreUnavailable("the database is down")
        return [i * 10 for i in items]

    batcher = batching.Batcher(write_many)
    doomed = [asyncio.ensure_future(batcher.submit(i)) for i in (1, 2)]
    await first_started.wait()
    later = asyncio.ensure_future(batcher.submit(3))  # arrives while the doomed write runs
    await asyncio.sleep(0)
    release.set()
    for task in doomed:
        with pytest.raises(StoreUnavailable):
            await task
    assert await later == 30
    assert calls == [[1, 2], [3]]


async def test_batches_have_a_ceiling(monkeypatch):
    monkeypatch.setattr(batching, "MAX_BATCH", 3)
    writes = Writes()
    writes.release.set()
    batcher = batching.Batcher(writes)
    assert await asyncio.gather(*(batcher.submit(i) for i in range(7))) == [
        i * 10 for i in range(7)
    ]
    assert writes.batches == [[0, 1, 2], [3, 4, 5], [6]]


def test_each_event_loop_has_its_own_queue():
    writes_seen: list[list[int]] = []

    async def write_many(items):
        writes_seen.append(list(items))
        return items

    batcher = batching.Batcher(write_many)
    assert asyncio.run(batcher.submit(1)) == 1
    assert asyncio.run(batcher.submit(2)) == 2  # a new loop: no queue of the old one is reused
    assert writes_seen == [[1], [2]]


async def test_a_cancelled_writer_leaves_nobody_waiting_for_the_next_batch():
    first_started = asyncio.Event()

    async def write_many(items):
        first_started.set()
        await asyncio.Event().wait()  # never ends by itself

    batcher = batching.Batcher(write_many)
    first = asyncio.ensure_future(batcher.submit(1))
    await first_started.wait()
    queued = asyncio.ensure_future(batcher.submit(2))  # waits for the next batch
    await asyncio.sleep(0)
    writer = next(iter(batcher._queues.values())).writer
    writer.cancel()  # a shutdown
    with contextlib.suppress(asyncio.CancelledError):
        await writer
    # Not left waiting for a writer that is gone: both end (the bound only fails the bug).
    await asyncio.wait({first, queued}, timeout=WAIT)
    assert first.done() and queued.done()
    for task in (first, queued):
        with pytest.raises(asyncio.CancelledError):
            await task


# -- ThreadBatcher: the same group commit, its batches taken by a writing thread of its own --


class OnThread:
    """A writing thread (a pool of one, as SQLite's store has) and a write_many there whose
    every call waits until the test lets it finish."""

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.pool = ThreadPoolExecutor(1)
        self.batches: list[list[int]] = []
        self.done: list[str] = []  # what the thread did, in order
        self.started = threading.Event()
        self.release = threading.Event()
        self.fail_next: BaseException | None = None

    def schedule(self, fn) -> None:
        self.pool.submit(fn)

    def __call__(self, items: list[int]) -> list[object]:
        self.batches.append(list(items))
        self.started.set()
        assert self.release.wait(WAIT)
        self.done.append(f"batch {items}")
        if self.fail_next is not None:
            err, self.fail_next = self.fail_next, None
            raise err
        return [ValueError(f"bad {i}") if i < 0 else i * 10 for i in items]

    def close(self) -> None:
        self.release.set()
        self.pool.shutdown(wait=True)


@pytest.fixture
def on_thread():
    writes = OnThread()
    yield writes
    writes.close()


async def started(writes: OnThread) -> None:
    assert await asyncio.to_thread(writes.started.wait, WAIT)
    writes.started.clear()


async def test_on_a_thread_what_arrives_during_a_write_goes_in_the_next_one(on_thread):
    batcher = batching.ThreadBatcher(on_thread.schedule, on_thread)
    first = asyncio.ensure_future(batcher.submit(1))
    await started(on_thread)  # the first write is running, with the first item alone
    rest = [asyncio.ensure_future(batcher.submit(i)) for i in (2, 3, 4)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # handed over to the thread at the end of their turn
    on_thread.release.set()
    assert await first == 10
    assert await asyncio.gather(*rest) == [20, 30, 40]
    assert on_thread.batches == [[1], [2, 3, 4]]


async def test_on_a_thread_what_is_submitted_in_one_turn_is_one_batch(on_thread):
    on_thread.release.set()
    batcher = batching.ThreadBatcher(on_thread.schedule, on_thread)
    results = await asyncio.gather(
        batcher.submit(1), batcher.submit(-2), batcher.submit(3), return_exceptions=True
    )
    assert results[0] == 10 and results[2] == 30
    assert isinstance(results[1], ValueError) and str(results[1]) == "bad -2"
    assert on_thread.batches == [[1, -2, 3]]


async def test_on_a_thread_a_failed_write_fails_its_batch_and_the_next_one_still_runs(on_thread):
    on_thread.fail_next = StoreUnavailable("the database is down")
    batcher = batching.ThreadBatcher(on_thread.schedule, on_thread)
    doomed = [asyncio.ensure_future(batcher.submit(i)) for i in (1, 2)]
    await started(on_thread)
    later = asyncio.ensure_future(batcher.submit(3))  # arrives while the doomed write runs
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    on_thread.release.set()
    for task in doomed:
        with pytest.raises(StoreUnavailable):
            await task
    assert await later == 30
    assert on_thread.batches == [[1, 2], [3]]


async def test_on_a_thread_batches_have_a_ceiling(monkeypatch, on_thread):
    monkeypatch.setattr(batching, "MAX_BATCH", 3)
    on_thread.release.set()
    batcher = batching.ThreadBatcher(on_thread.schedule, on_thread)
    assert await asyncio.gather(*(batcher.submit(i) for i in range(7))) == [
        i * 10 for i in range(7)
    ]
    assert on_thread.batches == [[0, 1, 2], [3, 4, 5], [6]]


async def test_on_a_thread_other_work_queued_meanwhile_goes_before_the_next_batch(on_thread):
    """The thread takes the next batch after whatever else it was given meanwhile (another
    write of the store), never keeping that waiting behind a stream of notes."""
    batcher = batching.ThreadBatcher(on_thread.schedule, on_thread)
    first = asyncio.ensure_future(batcher.submit(1))
    await started(on_thread)
    later = asyncio.ensure_future(batcher.submit(2))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    other = asyncio.wrap_future(on_thread.pool.submit(lambda: on_thread.done.append("other")))
    on_thread.release.set()
    assert await first == 10
    assert await later == 20
    await other
    assert on_thread.done == ["batch [1]", "other", "batch [2]"]


def test_on_a_thread_each_event_loop_gets_its_own_results(on_thread):
    on_thread.release.set()
    batcher = batching.ThreadBatcher(on_thread.schedule, on_thread)
    assert asyncio.run(batcher.submit(1)) == 10
    assert asyncio.run(batcher.submit(2)) == 20  # a new loop: its result comes to it
    assert on_thread.batches == [[1], [2]]


async def test_on_a_thread_that_is_shut_down_nobody_is_left_waiting(on_thread):
    """The thread shut down (the store closed) with a batch still running and more waiting for
    the next one: the running batch is written and answered, and whoever waits for the next is
    told what the thread's scheduler said."""
    refused = StoreUnavailable("this store has been closed")
    closed = threading.Event()

    def schedule(fn) -> None:
        if closed.is_set():
            raise refused
        on_thread.schedule(fn)

    batcher = batching.ThreadBatcher(schedule, on_thread)
    first = asyncio.ensure_future(batcher.submit(1))
    await started(on_thread)
    queued = asyncio.ensure_future(batcher.submit(2))  # waits for the next batch
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    closed.set()
    on_thread.release.set()
    assert await first == 10
    with pytest.raises(StoreUnavailable):
        await queued
    with pytest.raises(StoreUnavailable):  # and a note submitted after it
        await batcher.submit(3)
    assert on_thread.batches == [[1]]


def test_on_a_thread_loops_on_two_threads_each_get_their_own_results(on_thread):
    on_thread.release.set()
    batcher = batching.ThreadBatcher(on_thread.schedule, on_thread)
    got: dict[int, list[int]] = {}

    def run(start: int) -> None:
        async def many() -> list[int]:
            return await asyncio.gather(*(batcher.submit(start + i) for i in range(50)))

        got[start] = asyncio.run(many())

    workers = [threading.Thread(target=run, args=(start,)) for start in (0, 1000)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(WAIT)
    assert got == {start: [(start + i) * 10 for i in range(50)] for start in (0, 1000)}
    assert sorted(i for batch in on_thread.batches for i in batch) == [
        *range(50),
        *range(1000, 1050),
    ]
