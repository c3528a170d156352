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
an update_run already running would be.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.store import Store
from bot.store.base import RunUpdate


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
        try:
            # Not shielded: a caller cancelled here cancels its own future only, which the
            # writer then leaves alone (it sets only futures not done), as it would a shield's.
            return await waiting.done
        except asyncio.CancelledError:
            if waiting in self._queue:  # not taken yet: it is never written
                self._queue.remove(waiting)
            raise

    async def _write(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                results = await self.store.update_runs([w.update for w in batch])
            except asyncio.CancelledError:
                for w in [*batch, *self._queue]:
                    w.done.cancel()
                raise
            except Exception as err:  # each caller gets it, as from its own update_run
                for w in batch:
                    if not w.done.done():
                        w.done.set_exception(err)
                        w.done.exception()  # retrieved here too: a cancelled caller never will
                continue
            for w, ok in zip(batch, results, strict=True):
                if not w.done.done():
                    w.done.set_result(ok)
