"""The batch read of many digests' weeks (Store.week_activities) in a process of its own.

In a thread, that read shares the interpreter lock with everything else in the process. The
sqlite3 module lets go of the lock for each row it steps through and needs it back after, so
while the scheduler builds one page of digests and serves Slack beside it, the next page's read
waits for the lock at every row: in a 10,000-digest pass a page took 0.6 s to read against
0.28 s alone, and the pass cost as much as all of its parts done one after another
(docs/BENCHMARKS.md, sixth round). On PostgreSQL the server does the SQL, but the rows are
still converted and turned into weeks in this process, beside the build. Here the whole read
(the SQL and the Python that turns its rows into weeks) runs in one worker process with its own
connection (a SQLite connection to the file, read-only; a PostgreSQL store of its own, one
connection), and the weeks come back pickled, a team at a time: a team's channels share their
objects (its campaigns, its quoted notes, its origins) within one piece, as the build's memo
expects, and no single unpickling holds the lock for long.

Only batches of at least MIN_VIEWERS viewers that the caller reads `apart` go to the worker;
smaller ones (a preview, a handful of channels) are read in the store as before. The worker is
started by the first such batch and kept: that batch, and any that comes while the worker is
still starting, is read in the store. Whenever the worker cannot answer (it cannot be started,
it died, its read failed), the store reads the batch itself, and says why in the log; the next
batch starts a new worker if the last one died (a SQLite worker that could not open the file is
not tried again). The worker only reads: writes stay where they were. An in-memory SQLite
database has no file to share, so it never has a worker.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import resource
import sqlite3
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor, Future
from datetime import datetime
from typing import Any

from bot.store.base import Viewer, WeekActivity

log = logging.getLogger("smx.store")

MIN_VIEWERS = 200  # viewers a batch needs to be read in the worker (a scheduler page is 500)
PIECE = 20  # viewers pickled together at least (a team's are never split)

# In the worker process: its SQLite connection, or its PostgreSQL store and the event loop
# that store's pool belongs to.
_conn: sqlite3.Connection | None = None
_store: Any = None
_loop: Any = None
_open_failed: str | None = None  # why _open could not open the database (its error's kind)


def _open(target: str) -> None:
    """In the worker process, as it starts. A SQLite file is opened now (a file that cannot be
    opened will not open later either); a PostgreSQL store connects at its first read, so a
    database down for a moment costs that read, not the worker. A failure is kept for _ready
    to report, not raised: a raise would look like a worker that died."""
    global _conn, _store, _loop, _open_failed
    try:
        from bot.store import is_postgres

        if is_postgres(target):
            import asyncio

            from bot.logs import POOL_LOGGER
            from bot.store.postgres import PostgresStore

            # As the main process has it (bot/logs.py): the pool's reconnect warnings are not
            # this worker's to print (this process has no log set-up; it reads and answers).
            logging.getLogger(POOL_LOGGER).setLevel(logging.ERROR)
            _loop = asyncio.new_event_loop()
            _store = PostgresStore(target, pool_min=1, pool_max=1, read_process=False)
            _store._migrated = True  # the main process's store migrated before it asked
            return
        from bot.store.sqlite import connect

        _conn = connect(target)
        _conn.execute("PRAGMA query_only = ON")
    except Exception as err:  # noqa: BLE001  (said by _ready; the worker is then given up)
        _open_failed = type(err).__name__


def _code_stamp() -> tuple:
    """The size and modification time of the files that define the read and the types pickled
    across, as they were when this module was imported. A package upgraded in place, without a
    restart, changes them: a worker started after that would run other code than this process."""
    import os
    from pathlib import Path

    here = Path(__file__).resolve().parent
    out = []
    for name in _STAMPED:
        try:
            found = os.stat(here / name)
            out.append((name, found.st_size, found.st_mtime_ns))
        except OSError:
            out.append((name, None, None))
    return tuple(out)


_STAMPED = ("base.py", "digests.py", "notes.py", "postgres_digests.py", "read_worker.py")
CODE = _code_stamp()  # this process's, at import


def _ready() -> tuple[int, str | None, tuple]:
    """The worker's process id, why it could not open the database (None: it could), and its
    code's stamp (CODE)."""
    import os

    return os.getpid(), _open_failed, CODE


def pieces_of(viewers: Sequence[Viewer]) -> list[int]:
    """Where the batch is cut for pickling: after runs of at least PIECE viewers, only where the
    team changes (a team's viewers come together in a scheduler page; if they do not, a team's
    objects are simply pickled once in each piece it is in)."""
    ends = []
    start = 0
    for i in range(1, len(viewers)):
        if i - start >= PIECE and viewers[i].team != viewers[i - 1].team:
            ends.append(i)
            start = i
    ends.append(len(viewers))
    return ends


def _read(
    viewers: list[Viewer], since: datetime, until: datetime, per_campaign: int
) -> tuple[list[bytes] | None, str | None, float, float]:
    """In the worker process: the batch's weeks, pickled in pieces (or None and why not: the
    store then reads the batch itself), with the CPU seconds this call took and the worker's
    peak RSS in MB (for the benchmark: they are not the parent's)."""
    started = time.process_time()
    try:
        weeks = _weeks(viewers, since, until, per_campaign)
        pieces = []
        start = 0
        for end in pieces_of(viewers):
            pieces.append(pickle.dumps(weeks[start:end], protocol=pickle.HIGHEST_PROTOCOL))
            start = end
    except Exception as err:  # noqa: BLE001  (any failure: the store reads it, and says why)
        # The kind of error only: a driver's message may name the database's host and user.
        return None, type(err).__name__, time.process_time() - started, _peak_mb()
    return pieces, None, time.process_time() - started, _peak_mb()


def _weeks(
    viewers: list[Viewer], since: datetime, until: datetime, per_campaign: int
) -> list[WeekActivity]:
    if _store is not None:
        return _loop.run_until_complete(
            _store.week_activities(viewers, since=since, until=until, per_campaign=per_campaign)
        )
    from bot.store import digests
    from bot.store.transaction import read_transaction

    if _conn is None:  # _open failed, and the pool is broken: this is never reached
        raise RuntimeError("the digest read worker has no connection")
    with read_transaction(_conn):
        return digests.week_activities(_conn, viewers, since, until, per_campaign)


def _peak_mb() -> float:
    """This process's own peak RSS. Not ru_maxrss: Linux carries the parent's peak across the
    fork and exec that start a spawned process into it."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _unpickled(pieces: list[bytes]) -> list[WeekActivity]:
    # One piece a call: between calls the interpreter may hand the lock to the event loop.
    out: list[WeekActivity] = []
    for piece in pieces:
        out.extend(pickle.loads(piece))
    return out


class ReadWorker:
    """One database's worker process for batch reads (its store owns one). `target`: the
    SQLite file's path or the PostgreSQL URL (never logged: it may hold a password)."""

    def __init__(self, target: str, *, min_viewers: int = MIN_VIEWERS) -> None:
        self._target = target
        self.min_viewers = min_viewers
        self._lock = threading.Lock()
        self._pool: Executor | None = None
        self._started: Future[tuple[int, str | None, tuple]] | None = None
        self._closed = False
        self._unstartable = False  # a worker failed to start (to open the file): not tried again
        self.reads = 0  # batches the worker read
        self.cpu_seconds = 0.0  # the worker's CPU for them (the benchmark reports it)
        self.peak_mb = 0.0  # the worker's peak RSS (of every worker this store started)

    def wants(self, viewers: Sequence[Viewer]) -> bool:
        return not (self._closed or self._unstartable) and len(viewers) >= self.min_viewers

    def pid(self) -> int | None:
        """The worker process's id once it has started (tests)."""
        started = self._started
        if started is None or not started.done() or started.exception() is not None:
            return None
        return started.result()[0]

    async def start(self) -> int | None:
        """Start the worker if it is not running and wait until it is up: its process id, or
        None when it cannot be had (tests; the scheduler never waits for it)."""
        import asyncio

        if self._executor() is not None:
            return self.pid()
        started = self._started
        if started is None:
            return None
        with contextlib.suppress(Exception):  # _executor() below says what went wrong
            await asyncio.wrap_future(started)
        return self.pid() if self._executor() is not None else None

    def _executor(self) -> Executor | None:
        """The worker's pool once its process is up; None while it starts (or cannot)."""
        with self._lock:
            if self._closed or self._unstartable:
                return None
            if self._pool is None:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                try:
                    self._pool = ProcessPoolExecutor(
                        max_workers=1,
                        mp_context=multiprocessing.get_context("spawn"),
                        initializer=_open,
                        initargs=(self._target,),
                    )
                    self._started = self._pool.submit(_ready)
                except (OSError, RuntimeError) as err:
                    log.warning("digest read worker not started: %s", err)
                    self._pool = None
                    return None
                return None  # starting: this batch is read in a thread
            started = self._started
            if started is not None and not started.done():
                return None
            if started is not None and started.exception() is not None:
                # It died while starting (killed, out of memory): the next batch starts another.
                log.warning("digest read worker did not start: %s", started.exception())
                self._forget_locked(self._pool)
                return None
            if started is not None and started.result()[1] is not None:
                log.warning(
                    "digest read worker could not open the database (%s): not tried again",
                    started.result()[1],
                )
                self._unstartable = True
                self._forget_locked(self._pool)
                return None
            if started is not None and started.result()[2] != CODE:
                log.warning(
                    "digest read worker not used: its code differs from this process's (smx "
                    "was changed on disk since it started; restart it)"
                )
                self._unstartable = True
                self._forget_locked(self._pool)
                return None
            return self._pool

    def _forget_locked(self, pool: Executor | None) -> None:
        if pool is not None and self._pool is pool:
            self._pool = None
            self._started = None
            pool.shutdown(wait=False, cancel_futures=True)

    def forget(self, pool: Executor) -> None:
        with self._lock:
            self._forget_locked(pool)

    async def week_activities(
        self, viewers: Sequence[Viewer], since: datetime, until: datetime, per_campaign: int
    ) -> list[WeekActivity] | None:
        """The batch's weeks read by the worker, or None: no worker now, or its read failed (the
        caller reads the batch itself, and raises what the database says, if it fails again)."""
        import asyncio
        from concurrent.futures.process import BrokenProcessPool

        pool = self._executor()
        if pool is None:
            return None
        try:
            future = pool.submit(_read, list(viewers), since, until, per_campaign)
        except (BrokenProcessPool, OSError, RuntimeError):
            self.forget(pool)
            return None
        try:
            pieces, failed, cpu, peak = await asyncio.wrap_future(future)
        except BrokenProcessPool as err:  # the worker died under this batch
            log.warning("digest read worker stopped: %s", err)
            self.forget(pool)
            return None
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # this read's caller was cancelled
            return None  # the batch was still queued when the store closed: read it there
        except Exception as err:  # noqa: BLE001  (its answer could not be had: read it here)
            log.warning("digest read worker's answer was lost (%s)", type(err).__name__)
            return None
        self.cpu_seconds += cpu
        self.peak_mb = max(self.peak_mb, peak)
        if pieces is None:
            log.warning("digest read worker's read failed (%s): read in this process", failed)
            return None
        self.reads += 1
        return await asyncio.to_thread(_unpickled, pieces)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool, self._started = self._pool, None, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def worker_state(store: Any) -> ReadWorker | None:
    """The store's read worker, if it has one (the benchmark asks for the worker's CPU)."""
    return getattr(store, "_read_worker", None)
