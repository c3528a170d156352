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
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
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
            for (_, done), result in zip(batch, results, strict=True):
                if done.done():
                    continue
                if isinstance(result, BaseException):
                    done.set_exception(result)
                else:
                    done.set_result(result)


class _Queue:
    def __init__(self) -> None:
        self.pending: list[tuple[Any, asyncio.Future]] = []
        self.writer: asyncio.Task | None = None
