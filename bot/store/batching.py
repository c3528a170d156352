"""Group commit: notes logged at the same moment are written in one transaction.

Every `note` is answered only once its row is committed, and a commit is the expensive part of a
write (SQLite syncs its WAL to disk at each one, PostgreSQL makes a round trip and syncs its own):
one note a commit cost ~300 us of CPU here, sixteen a commit ~75 us each. So a store hands its
`add_note` calls to a Batcher: the first call starts a write, and the calls that arrive while that
write runs wait for the next one, which takes them all. Nobody waits for a timer: a lone note is
written at once, exactly as before, and under load the batches grow by themselves.

Each note of a batch is its own savepoint inside the transaction (the backend's `write_many`), so
one note that fails fails alone; a failed commit fails all of its batch, none of which was
answered as logged.

`Batcher` runs the writes on the event loop (PostgreSQL's are async). `ThreadBatcher` is the
same group commit for a store that writes on a thread of its own (SQLite's): there, the thread
takes each next batch itself, as soon as its write is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MAX_BATCH = 256  # notes in one transaction at most: a commit stays short for readers and replicas


class Batcher(Generic[Item, Result]):
    """Runs `write_many(items)`: one result, or the exception for that item alone, per item."""

    def __init__(self, write_many: Callable[[list[Item]], Awaitable[list[Any]]]) -> None:
        self._write_many = write_many
        # One queue per event loop: a store may be used from several loops (tests, tools).
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = (
            weakref.WeakKeyDictionary()
        )

    async def submit(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        done: asyncio.Future = loop.create_future()
        queue.pending.append((item, done))
        if queue.writer is None or queue.writer.done():
            queue.writer = loop.create_task(self._drain(queue))
        return await done  # a caller that gives up still has its note written, as before

    async def _drain(self, queue: _Queue) -> None:
        while queue.pending:
            batch, queue.pending = queue.pending[:MAX_BATCH], queue.pending[MAX_BATCH:]
            try:
                results = await self._write_many([item for item, _ in batch])
            except BaseException as err:  # the whole batch failed (its commit, the store closed)
                for _, done in batch:
                    if not done.done():
                        done.set_exception(err)
                if not isinstance(err, Exception):
                    # This writer was cancelled (a shutdown): whoever waits for the next batch
                    # is told too, rather than left waiting for a writer that is gone.
                    for _, done in queue.pending:
                        if not done.done():
                            done.cancel()
                    queue.pending = []
                    raise
                continue
            _settle(zip((done for _, done in batch), results, strict=True))


class ThreadBatcher(Generic[Item, Result]):
    """The group commit of a store whose writes run on one thread of its own: `write_many(items)`
    runs on that thread and returns one result, or the exception for that item alone, per item.

    The thread takes each batch itself. With the loop taking them (Batcher), the next write
    could start only once the loop came round to the last one's results, and under load the loop
    is busy with the requests of the next batch: the writer stood idle about as long as it wrote
    (bench/ab_note.py --batches, a busy machine: a median gap of 0.9 to 2.8 ms between batches
    of ~8 notes that took 1.7 to 4.5 ms each to write). Here, when a write is committed,
    the thread hands its results to the loop in one call and goes straight on with whatever
    arrived meanwhile; the loop no longer runs an executor call and a task step per batch.

    What was submitted in one turn of the event loop is handed over together at the end of the
    turn, so notes logged at the same moment share a batch as with Batcher. `schedule(fn)` runs
    `fn` on the writing thread after whatever that thread has queued already (another write is
    never kept waiting behind a stream of notes) and raises once the thread is shut down: then
    whoever waits is told that exception."""

    def __init__(
        self,
        schedule: Callable[[Callable[[], None]], object],
        write_many: Callable[[list[Item]], list[Any]],
    ) -> None:
        self._schedule = schedule
        self._write_many = write_many
        self._lock = threading.Lock()
        self._pending: list[tuple[Any, asyncio.Future]] = []  # handed over, not yet written
        self._draining = False  # a drain is queued on the thread or running there
        # What each loop was given in its current turn, handed over when the turn ends.
        self._turns: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, list[tuple[Any, asyncio.Future]]
        ] = weakref.WeakKeyDictionary()

    async def submit(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        done: asyncio.Future = loop.create_future()
        turn = self._turns.get(loop)
        if turn is None:
            with self._lock:  # another loop, on another thread, may be adding its own
                turn = self._turns[loop] = []
            loop.call_soon(self._hand_over, loop)
        turn.append((item, done))
        return await done  # a caller that gives up still has its note written, as before

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the loop, at the end of the turn the first of these items was submitted in."""
        with self._lock:
            self._pending += self._turns.pop(loop, [])
            start = not self._draining
            self._draining = True
        if start:
            self._start()

    def _start(self) -> None:
        try:
            self._schedule(self._drain)
        except BaseException as err:  # the thread is gone (the store was closed)
            with self._lock:
                failed, self._pending = self._pending, []
                self._draining = False
            _deliver((done, err) for _, done in failed)

    def _drain(self) -> None:
        """On the writing thread: one batch, then the next one behind any other queued work."""
        with self._lock:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        items = [item for item, _ in batch]
        try:
            results = list(self._write_many(items)) if items else []
            if len(results) != len(items):
                raise RuntimeError(f"{len(results)} results for a batch of {len(items)}")
        except BaseException as err:  # the whole batch failed (its commit, the store closed)
            results = [err] * len(items)
        _deliver(zip((done for _, done in batch), results, strict=True))
        with self._lock:
            if not self._pending:
                self._draining = False
                return
        self._start()


def _deliver(outcomes: Iterable[tuple[asyncio.Future, object]]) -> None:
    """From any thread: each outcome to its future, one call into each future's loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future, object]]] = {}
    for done, outcome in outcomes:
        by_loop.setdefault(done.get_loop(), []).append((done, outcome))
    for loop, settled in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody there waits any more
            loop.call_soon_threadsafe(_settle, settled)


def _settle(outcomes: Iterable[tuple[asyncio.Future, object]]) -> None:
    for done, outcome in outcomes:
        if done.done():  # its caller gave up
            continue
        if isinstance(outcome, BaseException):
            done.set_exception(outcome)
        else:
            done.set_result(outcome)


class _Queue:
    def __init__(self) -> None:
        self.pending: list[tuple[Any, asyncio.Future]] = []
        self.writer: asyncio.Task | None = None
