"""The scheduler's run-state moves, written together: one commit for all that wait at a moment.

A digest's run is moved twice after its claim (to `sending` before the post, to its outcome
after it), each a compare-and-set that must be durable before the scheduler goes on: the move to
`sending` is what makes a crash mid-post at most once. On SQLite every commit waits for the disk
(synchronous = FULL: a few milliseconds on a virtual disk), so 10,000 digests posted one commit
per move would spend over a minute just waiting. Instead each move is queued, and while one
batch is being written the next ones gather: every waiting move goes in the next
Store.update_runs, one transaction, each still its own compare-and-set in the order asked, and
each caller goes on only once its batch has committed (the same guarantee as its own commit).

A caller cancelled before its move was taken into a batch takes the move back (as a cancelled
update_run that never reached the database thread); once taken, it is written all the same, as
an update_run already running would be. A writer cancelled (even before its first step) or
failing on its own hands every move it holds back the same way: no caller waits for ever.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.store import Store
from bot.store.base import RunUpdate

log = logging.getLogger("smx.digest")


@dataclass
class _Waiting:
    update: RunUpdate
    done: asyncio.Future[bool]


class RunWriter:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: list[_Waiting] = []
        self._writer: asyncio.Task | None = None

    async def update(self, update: RunUpdate) -> bool:
        """Store.update_run, batched: True when the move was made."""
        waiting = _Waiting(update, asyncio.get_running_loop().create_future())
        self._queue.append(waiting)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
            self._writer.add_done_callback(self._ended)
        try:
            # Not shielded: a caller cancelled here cancels its own future only, which the
            # writer then leaves alone (it sets only futures not done), as it would a shield's.
            return await waiting.done
        except asyncio.CancelledError:
            if waiting in self._queue:  # not taken yet: it is never written
                self._queue.remove(waiting)
            raise

    def _ended(self, writer: asyncio.Task) -> None:
        # A writer cancelled before its first step never entered _write, whose own handler
        # cancels the waiting futures: its callers would wait for ever. Those still queued are
        # cancelled here (never written, as for a caller cancelled before its batch is taken),
        # unless a caller has started another writer meanwhile, which writes them.
        if writer.cancelled() and writer is self._writer:
            waiting, self._queue = self._queue, []
            for w in waiting:
                w.done.cancel()

    async def _write(self) -> None:
        batch: list[_Waiting] = []
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    results = await self.store.update_runs([w.update for w in batch])
                except Exception as err:  # each caller gets it, as from its own update_run
                    _fail(batch, err)
                    continue
                for w, ok in zip(batch, results, strict=True):
                    if not w.done.done():
                        w.done.set_result(ok)
        except asyncio.CancelledError:
            waiting, self._queue = [*batch, *self._queue], []
            for w in waiting:
                w.done.cancel()
            raise
        except Exception as err:
            # A fault of the writer's own (a store answering fewer results than moves): every
            # caller waiting on it gets the error, none waits for ever.
            log.exception("the digest run writer failed")
            waiting, self._queue = [*batch, *self._queue], []
            _fail(waiting, err)


def _fail(waiting: list[_Waiting], err: Exception) -> None:
    for w in waiting:
        if not w.done.done():
            w.done.set_exception(err)
            w.done.exception()  # retrieved here too: a cancelled caller never will
