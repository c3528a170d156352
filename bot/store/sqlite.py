"""The SQLite backend: connections, threads and transactions around the queries in notes.py/events.py.

SQLite calls block, so none runs on the event loop. Writes go to one dedicated thread: inside this
process they queue instead of fighting over the database lock, and each is a short BEGIN IMMEDIATE
transaction (taking the lock up front, so a busy database is waited out by busy_timeout rather than
failing half-way as a deferred transaction can). Reads run on a small pool of their own, each thread
with its own connection: WAL lets them proceed while a write is in progress. The digest
scheduler's large batch reads go to a worker process with a connection of its own
(read_worker.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from bot.store import digests, events, imports, maintenance, notes
from bot.store import sqlite_installations as installs
from bot.store.base import (
    CampaignTotals,
    DeleteOutcome,
    DigestRun,
    InstallationRecord,
    NewNote,
    Note,
    NotePage,
    RunClaim,
    RunState,
    RunUpdate,
    SchemaTooNew,
    StoreError,
    StoreUnavailable,
    Subscription,
    SubscriptionState,
    Viewer,
    WeekActivity,
)
from bot.store.batching import ThreadBatcher
from bot.store.read_worker import MIN_VIEWERS, ReadWorker
from bot.store.schema import current_version, migrate
from bot.store.transaction import read_transaction, write_transaction

T = TypeVar("T")

# How long a writer waits for another process's transaction before giving up. Transactions here
# last well under a millisecond, so reaching this means something is badly wrong.
BUSY_TIMEOUT_MS = 15_000
READ_THREADS = 2
# /healthz waits at most this long for the file to answer.
PING_TIMEOUT = 3.0


def connect(path: str) -> sqlite3.Connection:
    # isolation_level=None: the sqlite3 module opens no hidden transactions; ours are explicit.
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _use_wal(conn)
    # FULL: the WAL is synced at every commit, so a note whose id was answered survives a power cut
    # too, not only a killed process (NORMAL's guarantee). Measured here: ~8,300 commits/s with FULL
    # against ~84,000 with NORMAL, far above what a team's notes and digests need.
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _use_wal(conn: sqlite3.Connection) -> None:
    """WAL is a property of the file: set once, by whoever opens a new file first.

    Switching needs an exclusive lock and SQLite answers "database is locked" at once, without
    the busy handler, when another connection (another process starting up) holds the file; so
    wait here as busy_timeout would.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        try:
            if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0] in ("wal", "memory"):
                return  # an in-memory database has no WAL; it needs none
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class SqliteStore:
    """The Store protocol (bot/store/base.py) over one SQLite file.

    Every sqlite3 error leaving it is a StoreError (StoreUnavailable when the file cannot be
    opened), with the sqlite3 error as its `__cause__`, so the faces never see the driver."""

    def __init__(
        self,
        path: str,
        *,
        read_threads: int = READ_THREADS,
        read_process: bool = True,
        process_min_viewers: int = MIN_VIEWERS,
    ) -> None:
        self.path = path
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="smx-db-write")
        # An in-memory database exists once per connection: everything shares the writer's.
        self._in_memory = path == ":memory:" or "mode=memory" in path
        self._readers = (
            self._writer
            if self._in_memory
            else ThreadPoolExecutor(read_threads, thread_name_prefix="smx-db-read")
        )
        # Large batch reads of digest weeks in a process of their own (bot/store/read_worker.py).
        self._read_worker = (
            ReadWorker(path, min_viewers=process_min_viewers)
            if read_process and not self._in_memory
            else None
        )
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._migrated = False
        self._closed = False
        # Notes logged at the same moment share one commit (bot/store/batching.py), and the
        # writer thread takes each next batch itself.
        self._note_batches: ThreadBatcher = ThreadBatcher(self._on_writer, self._add_notes)

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r})"

    def describe(self) -> str:
        return f"the SQLite file {self.path}"

    # -- plumbing ---------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # Under the lock: the first connection creates or upgrades the schema before any
            # other thread of this store touches the file.
            with self._lock:
                try:
                    conn = connect(self.path)
                except sqlite3.Error as err:
                    raise self._failed(err) from err
                if not self._migrated:
                    try:
                        migrate(conn)
                    except BaseException:
                        conn.close()  # e.g. SchemaTooNew: every call will say so, none leaks
                        raise
                    self._migrated = True
                self._connections.append(conn)
            self._local.conn = conn
        return conn

    def _unavailable(self, err: BaseException) -> StoreUnavailable:
        return StoreUnavailable(f"Can't open {self.describe()}: {_said(err)}.")

    def _failed(self, err: sqlite3.Error) -> StoreError:
        if isinstance(err, sqlite3.OperationalError) and "unable to open" in str(err):
            return self._unavailable(err)
        return StoreError(f"Can't use {self.describe()}: {_said(err)}.")

    def _in_thread(self, fn: Callable[..., T], *args: object) -> T:
        try:
            return fn(self._conn(), *args)
        except (StoreError, SchemaTooNew):
            raise
        except sqlite3.Error as err:
            raise self._failed(err) from err

    def _closed_error(self) -> StoreUnavailable:
        return StoreUnavailable(f"Can't use {self.describe()}: this store has been closed.")

    async def _run(self, pool: ThreadPoolExecutor, fn: Callable[..., T], *args: object) -> T:
        if self._closed:
            raise self._closed_error()
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(pool, partial(self._in_thread, fn, *args))
        except RuntimeError as err:  # the pool was shut down between the check and the call
            raise self._closed_error() from err
        return await future

    async def _read(self, fn: Callable[..., T], *args: object) -> T:
        return await self._run(self._readers, fn, *args)

    async def _write(self, fn: Callable[..., T], *args: object) -> T:
        return await self._run(self._writer, fn, *args)

    def _on_writer(self, fn: Callable[[], None]) -> None:
        """Queue `fn` on the writer thread, behind the writes already queued there."""
        if self._closed:
            raise self._closed_error()
        try:
            self._writer.submit(fn)
        except RuntimeError as err:  # the pool was shut down between the check and the call
            raise self._closed_error() from err

    def migrate(self) -> int:
        """Create or upgrade the schema now (start-up, tools); otherwise the first call does it."""
        if self._closed:
            raise self._closed_error()
        return self._writer.submit(self._in_thread, migrate).result()

    async def open(self) -> None:
        """Open (and migrate) the file now rather than on the first call: the server's start-up."""
        await self._write(current_version)

    async def ping(self) -> None:
        """A fresh connection, never one already open: an open file stays readable after its
        directory was removed or its disk unmounted, so only opening it again tells."""
        if self._closed:
            raise self._closed_error()
        if self._in_memory:
            await self._read(_select_one)
            return
        try:
            await asyncio.wait_for(asyncio.to_thread(_ping, self.path), PING_TIMEOUT)
        except TimeoutError as err:
            raise StoreUnavailable(
                f"{self.describe().capitalize()} did not answer within {PING_TIMEOUT:g} s."
            ) from err
        except sqlite3.Error as err:
            raise self._unavailable(err) from err

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.close_sync)

    def close_sync(self) -> None:
        self._closed = True
        if self._read_worker is not None:
            self._read_worker.close()
        self._writer.shutdown(wait=True)
        if self._readers is not self._writer:
            self._readers.shutdown(wait=True)
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()

    # -- notes ------------------------------------------------------------------------------

    async def add_note(self, note: NewNote, *, event_id: str | None = None) -> int | None:
        return await self._note_batches.submit((note, event_id))

    def _add_notes(self, items: list[tuple[NewNote, str | None]]) -> list[object]:
        """On the writer thread: a batch of notes (the ThreadBatcher's write_many)."""
        if self._closed:
            raise self._closed_error()
        results = self._in_thread(_add_notes, items)
        return [self._failed(r) if isinstance(r, sqlite3.Error) else r for r in results]

    async def get_note(self, viewer: Viewer, note_id: int) -> Note | None:
        return await self._read(notes.get, viewer, note_id)

    async def list_notes(
        self,
        viewer: Viewer,
        *,
        campaign: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> NotePage:
        where = notes.Filter(viewer, campaign, since, until)
        return await self._read(_list_notes, where, limit, offset)

    async def campaign_totals(
        self,
        viewer: Viewer,
        *,
        campaign: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[CampaignTotals]:
        return await self._read(notes.totals, notes.Filter(viewer, campaign, since, until))

    async def search_notes(self, viewer: Viewer, query: str, *, limit: int = 20) -> list[Note]:
        return await self._read(notes.search, viewer, query, limit)

    async def export_notes(self, viewer: Viewer, *, campaign: str | None = None) -> list[Note]:
        return await self._read(notes.export, notes.Filter(viewer, campaign))

    async def delete_note(
        self, viewer: Viewer, note_id: int, *, is_admin: bool, by: str | None = None
    ) -> DeleteOutcome:
        return await self._write(_delete_note, viewer, note_id, is_admin, by)

    async def week_activity(
        self, viewer: Viewer, *, since: datetime, until: datetime, per_campaign: int = 3
    ) -> WeekActivity:
        where = notes.Filter(viewer, None, since, until)
        return await self._read(_week_activity, where, per_campaign)

    async def week_activities(
        self,
        viewers: Sequence[Viewer],
        *,
        since: datetime,
        until: datetime,
        per_campaign: int = 3,
        apart: bool = False,
    ) -> list[WeekActivity]:
        if not viewers:
            return []
        worker = self._read_worker
        if apart and worker is not None and worker.wants(viewers):
            # Opens (and migrates) the file first, as any read, and says so if the store is closed.
            await self._read(_select_one)
            found = await worker.week_activities(viewers, since, until, per_campaign)
            if found is not None:
                return found
        return await self._read(
            _in_snapshot, digests.week_activities, list(viewers), since, until, per_campaign
        )

    # -- digest subscriptions and runs ------------------------------------------------------

    async def save_subscription(self, sub: Subscription) -> bool:
        return await self._write(_in_write, digests.save, sub, datetime.now(UTC))

    async def get_subscription(self, team: str, channel: str) -> Subscription | None:
        return await self._read(digests.get, team, channel)

    async def subscriptions_set_up_by(self, team: str, subscriber: str) -> list[Subscription]:
        return await self._read(digests.set_up_by, team, subscriber)

    async def delete_subscription(self, team: str, channel: str) -> bool:
        return await self._write(_in_write, digests.delete, team, channel)

    async def set_subscription_state(
        self,
        team: str,
        channel: str,
        state: SubscriptionState,
        *,
        reason: str | None = None,
        next_run: datetime | None = None,
    ) -> Subscription | None:
        return await self._write(
            _in_write,
            digests.set_state,
            team,
            channel,
            state,
            reason,
            next_run,
            datetime.now(UTC),
        )

    async def pause_workspace(self, workspace: str, reason: str) -> int:
        return await self._write(
            _in_write, digests.pause_workspace, workspace, reason, datetime.now(UTC)
        )

    async def due_subscriptions(self, now: datetime, *, limit: int = 500) -> list[Subscription]:
        return await self._read(digests.due, now, limit)

    async def claim_run(
        self,
        sub: Subscription,
        *,
        week: str,
        due: datetime,
        late: bool,
        owner: str,
        now: datetime,
        next_run: datetime,
    ) -> DigestRun | None:
        return await self._write(
            _in_write, digests.claim, sub, week, due, late, owner, now, next_run
        )

    async def claim_runs(
        self, claims: Sequence[RunClaim], *, owner: str, now: datetime
    ) -> list[DigestRun | None]:
        if not claims:
            return []
        return await self._write(_in_write, digests.claim_many, list(claims), owner, now)

    async def claim_retry(self, run: DigestRun, *, owner: str, now: datetime) -> DigestRun | None:
        return await self._write(_in_write, digests.claim_retry, run, owner, now)

    async def update_run(
        self,
        run: DigestRun,
        *,
        owner: str,
        expect: tuple[RunState, ...],
        state: RunState,
        now: datetime,
        ts: str | None = None,
        notes: int | None = None,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> bool:
        return await self._write(
            _in_write, digests.update, run, owner, expect, state, now, ts, notes, error, retry_at
        )

    async def update_runs(self, updates: Sequence[RunUpdate]) -> list[bool]:
        if not updates:
            return []
        return await self._write(_in_write, digests.update_many, list(updates))

    async def reap_runs(
        self,
        now: datetime,
        *,
        lease_seconds: float,
        keep: frozenset[tuple[str, str, str]] = frozenset(),
    ) -> list[DigestRun]:
        return await self._write(_in_write, digests.reap, now, lease_seconds, keep)

    async def retry_runs(self, now: datetime, *, limit: int = 500) -> list[DigestRun]:
        return await self._read(digests.retryable, now, limit)

    async def claim_notices(
        self, now: datetime, *, owner: str, lease_seconds: float, limit: int = 100
    ) -> list[DigestRun]:
        return await self._write(_in_write, digests.claim_notices, now, owner, lease_seconds, limit)

    async def mark_told(self, run: DigestRun, *, owner: str, now: datetime) -> bool:
        return await self._write(_in_write, digests.mark_told, run, owner, now)

    async def get_run(self, team: str, channel: str, week: str) -> DigestRun | None:
        return await self._read(digests.get_run, team, channel, week)

    async def list_runs(
        self, team: str | None = None, channel: str | None = None
    ) -> list[DigestRun]:
        return await self._read(digests.runs, team, channel)

    # -- events -----------------------------------------------------------------------------

    async def claim_event(self, event_id: str, team: str = "") -> bool:
        return await self._write(events.claim, event_id, team)

    async def prune_events(self, older_than_seconds: float) -> int:
        return await self._write(events.prune, older_than_seconds)

    # -- Slack installations and OAuth state -------------------------------------------------

    async def save_installation(self, record: InstallationRecord) -> None:
        await self._write(_in_write, installs.save_installation, record)

    async def save_bot(self, record: InstallationRecord) -> None:
        await self._write(_in_write, installs.save_bot, record)

    async def find_bot(self, enterprise: str, team: str) -> InstallationRecord | None:
        return await self._read(installs.find_bot, enterprise, team)

    async def find_installation(
        self, enterprise: str, team: str, user: str | None = None
    ) -> InstallationRecord | None:
        return await self._read(installs.find_installation, enterprise, team, user)

    async def delete_bots(self, enterprise: str, team: str) -> int:
        return await self._write(_in_write, installs.delete_bots, enterprise, team)

    async def delete_installations(
        self, enterprise: str, team: str, user: str | None = None
    ) -> int:
        return await self._write(_in_write, installs.delete_installations, enterprise, team, user)

    async def count_installations(self) -> tuple[int, int]:
        return await self._read(_in_snapshot, installs.count)

    async def issue_oauth_state(self, state: str, expires_at: datetime) -> None:
        await self._write(_in_write, installs.issue_state, state, expires_at)

    async def consume_oauth_state(self, state: str, now: datetime) -> bool:
        return await self._write(_in_write, installs.consume_state, state, now)

    # -- the operator's tasks -----------------------------------------------------------------

    async def prune_notes(self, keep_days: int, *, now: datetime | None = None) -> int:
        cutoff = notes.db_time((now or datetime.now(UTC)) - timedelta(days=keep_days))
        total = 0
        while True:  # one short transaction a batch: the bot's writes queue between them
            removed = await self._write(_in_write, maintenance.prune_batch, cutoff)
            total += removed
            if removed < maintenance.PRUNE_BATCH:
                return total

    async def purge_team(self, team: str) -> dict[str, int]:
        team = maintenance.purge_target(team)  # a blank team is refused before anything queues
        return await self._write(_in_write, maintenance.purge_team, team)

    async def backup(self, destination: str) -> tuple[Path, int]:
        if self._closed:
            raise self._closed_error()
        if self._in_memory or not await asyncio.to_thread(Path(self.path).is_file):
            raise StoreUnavailable(f"There is no database to back up at {self.path}.")
        # Not migrated first: a copy taken before an upgrade is of the file as it was.
        try:
            # A connection of its own, off the store's threads: the copy takes as long as the
            # file is big, and neither readers nor the writer wait for it.
            return await asyncio.to_thread(_backup, self.path, destination)
        except maintenance.BackupFailed as err:
            raise StoreError(str(err)) from err
        except sqlite3.Error as err:
            raise self._failed(err) from err

    async def schema_version(self) -> int:
        return await self._read(current_version)

    async def currency_parts(
        self,
        viewer: Viewer,
        *,
        campaign: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list:
        from bot.store.splits import sqlite_parts

        return await self._read(
            _in_snapshot, sqlite_parts, notes.Filter(viewer, campaign, since, until)
        )

    async def campaign_days(
        self,
        viewer: Viewer,
        *,
        campaign: str,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list:
        from bot.store.series import sqlite_days

        return await self._read(sqlite_days, notes.Filter(viewer, campaign, since, until))

    async def week_trend(self, viewer: Viewer, edges: Sequence[datetime]) -> Any:
        from bot.store.trend import sqlite_trend

        return await self._read(sqlite_trend, viewer, list(edges))

    async def edit_note(
        self, viewer: Viewer, note_id: int, values: dict, *, is_admin: bool, by: str | None = None
    ) -> str:
        from bot.store.edits import sqlite_edit

        return await self._write(_in_write, sqlite_edit, viewer, note_id, is_admin, values, by)

    # -- imports and targets (bot/store/imports.py) --------------------------------------------

    async def import_notes(self, rows: Sequence[tuple[NewNote, str]]) -> imports.Imported:
        return await self._write(_in_write, imports.sqlite_import, rows)

    async def set_targets(self, records: Sequence[imports.TargetRecord]) -> None:
        await self._write(_in_write, imports.sqlite_set_targets, records)

    async def list_targets(
        self, team: str, campaign: str | None = None
    ) -> list[imports.TargetRecord]:
        return await self._read(imports.sqlite_targets, team, campaign)

    async def imported_keys(
        self, team: str, channel: str, campaign: str, since: datetime, until: datetime
    ) -> list[str]:
        return await self._read(imports.sqlite_imported_keys, team, channel, campaign, since, until)

    async def targets_of(self, teams: Sequence[str]) -> list[imports.TargetRecord]:
        return await self._read(imports.sqlite_targets_of, list(teams))

    async def drop_targets(
        self, team: str, campaign: str, channels: Sequence[str], keys: Sequence[str] | None = None
    ) -> int:
        return await self._write(
            _in_write, imports.sqlite_drop_targets, team, campaign, list(channels), keys
        )

    async def settle_targets(self, team: str, campaign: str, channel: str, judge) -> tuple:
        return await self._write(
            _in_write, imports.sqlite_settle_targets, team, campaign, channel, judge
        )


def _add_notes(
    conn: sqlite3.Connection, items: list[tuple[NewNote, str | None]]
) -> list[int | None | Exception]:
    """Each note in its own savepoint, all in one commit: the new id, None for an event already
    handled, or the error of that note alone. The batch's search terms are written together at
    the end (notes.search_batch); should that one statement fail, the batch is written again
    with each note indexed on its own, so a note that cannot be indexed fails alone."""
    try:
        return _write_notes(conn, items, batched=True)
    except notes.SearchBatchFailed:
        return _write_notes(conn, items, batched=False)


def _write_notes(
    conn: sqlite3.Connection, items: list[tuple[NewNote, str | None]], *, batched: bool
) -> list[int | None | Exception]:
    found: list[int | None | Exception] = []
    with write_transaction(conn), _search_batch(conn, batched) as batch:
        for note, event_id in items:
            conn.execute("SAVEPOINT note")
            indexed = len(batch.params) if batch is not None else 0
            try:
                if event_id is not None and not events.claim(conn, event_id, note.team):
                    found.append(None)
                else:
                    found.append(notes.insert(conn, note, batch))
            except Exception as err:  # that note's alone; its caller gets it
                conn.execute("ROLLBACK TO note")  # raises if SQLite rolled all back: all fail
                found.append(err)
                if batch is not None:
                    del batch.params[indexed:]  # nothing of it is left to index
            conn.execute("RELEASE note")
    return found


@contextlib.contextmanager
def _search_batch(conn: sqlite3.Connection, batched: bool) -> Iterator[notes.SearchBatch | None]:
    if not batched:
        yield None
        return
    with notes.search_batch(conn) as batch:
        yield batch


def _in_write(conn: sqlite3.Connection, fn: Callable[..., T], *args: object) -> T:
    with write_transaction(conn):
        return fn(conn, *args)


def _week_activity(
    conn: sqlite3.Connection, where: notes.Filter, per_campaign: int
) -> WeekActivity:
    with read_transaction(conn):
        return notes.activity(conn, where, per_campaign)


def _list_notes(conn: sqlite3.Connection, where: notes.Filter, limit: int, offset: int) -> NotePage:
    with read_transaction(conn):
        return notes.page(conn, where, limit, offset)


def _delete_note(
    conn: sqlite3.Connection, viewer: Viewer, note_id: int, is_admin: bool, by: str | None
) -> DeleteOutcome:
    with write_transaction(conn):
        return notes.delete(conn, viewer, note_id, is_admin, by)


def _in_snapshot(conn: sqlite3.Connection, fn: Callable[..., T], *args: object) -> T:
    with read_transaction(conn):
        return fn(conn, *args)


def _backup(path: str, destination: str) -> tuple[Path, int]:
    source = connect(path)
    try:
        return maintenance.backup(source, destination)
    finally:
        source.close()


def _ping(path: str) -> None:
    # mode=rw: never create a file where the database was (its directory emptied, say).
    conn = sqlite3.connect(
        f"file:{quote(path)}?mode=rw", uri=True, timeout=PING_TIMEOUT, check_same_thread=False
    )
    try:
        _select_one(conn)
    finally:
        conn.close()


def _select_one(conn: sqlite3.Connection) -> None:
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()


def _said(err: BaseException) -> str:
    """What SQLite said, as the end of a sentence (no trailing period, never empty)."""
    return str(err).strip().rstrip(".") or type(err).__name__
