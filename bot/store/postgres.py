"""The PostgreSQL backend: the Store protocol over psycopg 3's async connection pool, for several
replicas of smx on one database (SMX_DATABASE_URL=postgresql://USER:PASS@HOST:PORT/DB).

The pool is made and opened inside the event loop that uses it, by open() or the first call (a
pool belongs to one loop: `smx ask` runs one loop per query, the server its own; each gets one). Connections are safe behind
PgBouncer's transaction mode: no server-side prepared statements (`prepare_threshold=None`) and no
session state (every multi-statement read or write is one transaction; the migration lock is
transaction-scoped). A dead database answers `StoreUnavailable` within the pool's timeout rather
than hanging, and the pool checks each connection as it lends it (`_check_lent`), so after an
outage broken ones are replaced and smx carries on by itself.

Every driver or pool error leaves here as a StoreError whose sentence names host:port/db and
never the password; the driver's exception is its __cause__.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import select
import shlex
import threading
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_plus, urlsplit

import psycopg
from psycopg import AsyncConnection
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from bot.store import imports, maintenance, notes
from bot.store import postgres_digests as digests
from bot.store import postgres_schema as schema
from bot.store.base import (
    BackupUnsupported,
    CampaignTotals,
    DeleteOutcome,
    DigestRun,
    InstallationRecord,
    NewNote,
    Note,
    NotePage,
    Origin,
    RunClaim,
    RunState,
    RunUpdate,
    StoreError,
    StoreUnavailable,
    Subscription,
    SubscriptionState,
    Viewer,
    WeekActivity,
)
from bot.store.batching import Batcher
from bot.store.maintenance import PRUNE_BATCH
from bot.store.notes import COLUMNS, RATIO_PAIRS, utc
from bot.store.read_worker import MIN_VIEWERS, ReadWorker
from bot.store.schema import TEAM_TABLES

CONNECT_TIMEOUT = 3  # seconds to open one connection
POOL_TIMEOUT = 5.0  # seconds a call waits for a connection before StoreUnavailable
PING_TIMEOUT = 3.0
POOL_MIN = 1
POOL_MAX = 10

_NOTE = "n.id, " + ", ".join(f"n.{c}" for c in COLUMNS)
_INSERT_NOTE = (
    f"INSERT INTO notes ({', '.join(COLUMNS)}, search)"
    f" VALUES ({', '.join('%s' for _ in COLUMNS)}, {schema.note_search_vector()}) RETURNING id"
)
# Many notes in one statement: a column's values as one array each (the query's text the same
# whatever the batch's size, so psycopg reads it once), the rows in the batch's order.
_ARRAY_TYPES = {
    "created_at": "timestamptz",
    **{c: "float8" for c in ("spend", "impressions", "clicks", "conversions")},
    "metrics": "jsonb",
}
_INSERT_NOTES = (
    f"INSERT INTO notes ({', '.join(COLUMNS)}, search)"
    f" SELECT {', '.join('u.' + c for c in COLUMNS)}, {schema.note_search_vector('u.searched')}"
    " FROM unnest("
    + ", ".join(f"%s::{_ARRAY_TYPES.get(c, 'text')}[]" for c in (*COLUMNS, "searched"))
    + f") WITH ORDINALITY AS u({', '.join(COLUMNS)}, searched, place) ORDER BY u.place"
    " RETURNING id"
)

# The same insert with the batch as one JSON array of rows (each row its columns in COLUMNS'
# order, then its search text): psycopg writes a parameter list a value at a time in Python
# (~190 us of the event loop for 8 notes, ~280 for 16, measured), json.dumps writes the one
# text in C. Each value is read back as the type the arrays above give it.
_JSON_FIELDS = (*COLUMNS, "searched")


def _json_field(place: int, column: str) -> str:
    kind = _ARRAY_TYPES.get(column, "text")
    if kind == "jsonb":
        return f"u.r->{place}"
    return f"u.r->>{place}" if kind == "text" else f"(u.r->>{place})::{kind}"


_INSERT_NOTES_JSON = (
    f"INSERT INTO notes ({', '.join(COLUMNS)}, search)"
    f" SELECT {', '.join(_json_field(i, c) for i, c in enumerate(COLUMNS))},"
    f" {schema.note_search_vector(_json_field(len(COLUMNS), 'searched'))}"
    " FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS u(r, place) ORDER BY u.place"
    " RETURNING id"
)


def _where(filt: notes.Filter) -> tuple[str, list[object]]:
    """The shared privacy and window filter (bot/store/notes.py) in psycopg's terms."""
    return filt.sql(mark="%s", time=utc)


def tsquery_text(typed: str) -> str | None:
    """What a person typed as text for to_tsquery: every word read as the notes were
    (notes.search_text: only letters, digits and spaces are left) and quoted as one tsquery
    operand, so nothing typed is tsquery syntax; a word that punctuation splits is a phrase, as
    in SQLite. `:*` after a prefix word, all joined by `&`. None when no word is left. It is
    always passed as a parameter, never written into the SQL."""
    terms = []
    for word, prefix in notes.search_words(typed):
        folded = notes.search_text(word)
        if folded:  # quotes and backslashes cannot remain, escaped all the same
            quoted = folded.replace("\\", "\\\\").replace("'", "''")
            terms.append(f"'{quoted}'" + (":*" if prefix else ""))
    return " & ".join(terms) or None


SHORT_SECRET = 4  # characters: a shorter password is scrubbed only where it stands on its own


# SQLSTATE classes that mean the server is gone or will not take work now: connection exceptions,
# insufficient resources (too many connections, disk full), operator intervention (shutdown).
_UNREACHABLE_CLASSES = ("08", "53", "57")


def _unreachable(err: psycopg.Error) -> bool:
    """Whether an OperationalError means "cannot be reached" (try again later) rather than a
    statement the server refused. psycopg files both under OperationalError; a failure on the
    client side, before any server answered (refused, timed out, cut), has no SQLSTATE."""
    state = err.sqlstate
    return state is None or state.startswith(_UNREACHABLE_CLASSES)


class Location:
    """Where a postgresql:// URL points, parsed once: for messages (never the password).

    `url` is what psycopg is given: the scheme lowercased (libpq reads only lowercase, while
    bot/config.py and is_postgres accept any case). `secrets`: every form of the password the
    URL holds (after the user or as `?password=`), raw and decoded, for `scrub`."""

    def __init__(self, url: str) -> None:
        bad = StoreError(
            "SMX_DATABASE_URL is not a PostgreSQL URL: write it as "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE."
        )
        if not isinstance(url, str) or "\x00" in url:
            raise bad
        scheme, sep, rest = url.partition("://")
        if not sep or scheme.lower() not in ("postgresql", "postgres"):
            raise bad
        self.url = f"{scheme.lower()}://{rest}"
        try:
            parts = urlsplit(self.url)
            port = parts.port
            params = conninfo_to_dict(self.url)
        except (ValueError, psycopg.Error):
            raise bad from None  # the driver's message may quote the URL, password and all
        # Where libpq connects: the host of the URL or of ?host= (decoded, as libpq reads it),
        # else PGHOST, else its Unix socket; the port likewise.
        host = params.get("host") or os.environ.get("PGHOST") or None
        self.host: str | None = str(host) if host else None
        self.port = port or int(params.get("port") or os.environ.get("PGPORT") or 5432)
        user = params.get("user") or (unquote(parts.username) if parts.username else None)
        self.user: str | None = str(user) if user else None
        self.database = str(params.get("dbname") or self.user or "")
        password = params.get("password")  # what the driver sends: ?password= wins
        self.password = str(password) if password else None
        raw = [parts.password] + [
            value for key, _, value in (p.partition("=") for p in parts.query.split("&"))
            if unquote_plus(key) == "password"
        ]  # fmt: skip
        forms = {self.password}
        for value in raw:
            if value:
                forms |= {value, unquote(value), unquote_plus(value)}
        # Longest first: a form that holds another is replaced whole.
        self.secrets = sorted((f for f in forms if f), key=len, reverse=True)

    def __str__(self) -> str:
        if self.host is None:
            return (
                f"the local Unix socket (libpq's default directory, port {self.port}), "
                f"database {self.database}"
            )
        if self.host.startswith("/"):
            return f"the Unix socket {self.host}/.s.PGSQL.{self.port}, database {self.database}"
        return f"{self.host}:{self.port}/{self.database}"

    def scrub(self, text: str) -> str:
        """`text` without any form of the password. A long one goes wherever it appears; a short
        one (under SHORT_SECRET characters) only where it stands on its own, not inside a word,
        so a password "p" leaves "port 5432" as it was and still never shows as itself."""
        for secret in self.secrets:
            if len(secret) >= SHORT_SECRET:
                text = text.replace(secret, "***")
            else:
                text = re.sub(rf"(?<![^\W_]){re.escape(secret)}(?![^\W_])", "***", text)
        return text


class PostgresStore:
    """The Store protocol (bot/store/base.py) over one PostgreSQL database."""

    def __init__(
        self,
        url: str,
        *,
        pool_min: int = POOL_MIN,
        pool_max: int = POOL_MAX,
        pool_timeout: float = POOL_TIMEOUT,
        connect_timeout: int = CONNECT_TIMEOUT,
        read_process: bool = True,
        process_min_viewers: int = MIN_VIEWERS,
    ) -> None:
        self.location = Location(url)
        self._url = self.location.url  # the scheme as libpq reads it
        self._pool_min, self._pool_max = pool_min, pool_max
        self._pool_timeout = pool_timeout
        self._connect_timeout = connect_timeout
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncConnectionPool]
        self._pools = weakref.WeakKeyDictionary()
        self._opening: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]
        self._opening = weakref.WeakKeyDictionary()
        self._migrated = False
        self._migrate_lock = threading.Lock()
        # Notes logged at the same moment share one transaction (bot/store/batching.py).
        self._note_batches: Batcher = Batcher(self._add_notes)
        # Large batch reads of digest weeks in a process of their own (bot/store/read_worker.py).
        self._read_worker = (
            ReadWorker(url, min_viewers=process_min_viewers) if read_process else None
        )

    # -- plumbing ---------------------------------------------------------------------------

    def describe(self) -> str:
        return f"PostgreSQL at {self.location}"

    def _reason(self, err: BaseException) -> str:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        first = first.removeprefix("connection failed: ")
        return self.location.scrub(first)[:300].rstrip(".")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Every driver and pool error as a StoreError naming the database, never the password."""
        try:
            yield
        except StoreError:
            raise
        except PoolTimeout as err:
            raise StoreUnavailable(
                f"{self.describe()} did not answer within {self._pool_timeout:g} s: "
                "it is down or cannot be reached."
            ) from err
        except psycopg.OperationalError as err:
            if not _unreachable(err):  # e.g. a statement the server refuses in this state
                raise StoreError(f"{self.describe()} failed: {self._reason(err)}.") from err
            raise StoreUnavailable(
                f"{self.describe()} cannot be reached: {self._reason(err)}."
            ) from err
        except psycopg.Error as err:
            raise StoreError(f"{self.describe()} failed: {self._reason(err)}.") from err

    def _connect_kwargs(self) -> dict[str, Any]:
        return {
            "autocommit": True,  # transactions are explicit (conn.transaction())
            "prepare_threshold": None,  # PgBouncer's transaction mode: no prepared statements
            "connect_timeout": self._connect_timeout,
            "row_factory": dict_row,
        }

    def migrate(self) -> int:
        """Create or upgrade the schema now (start-up, tools, before the loop serves anyone);
        otherwise the first call does it. Several processes at once take turns on an advisory
        lock (bot/store/postgres_schema.py)."""
        with self._migrate_lock, self._errors():
            kwargs = {k: v for k, v in self._connect_kwargs().items() if k != "row_factory"}
            with psycopg.connect(self._url, **kwargs) as conn:
                version = schema.migrate(conn)
            self._migrated = True
            return version

    @property
    def _pool(self) -> AsyncConnectionPool | None:
        """The running loop's pool, if it has one yet."""
        try:
            return self._pools.get(asyncio.get_running_loop())
        except RuntimeError:  # no loop running
            return None

    async def _get_pool(self) -> AsyncConnectionPool:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is not None:
            return pool
        lock = self._opening.setdefault(loop, asyncio.Lock())
        async with lock:
            pool = self._pools.get(loop)
            if pool is not None:
                return pool
            if not self._migrated:
                await asyncio.to_thread(self.migrate)
            # One pool per event loop, made in it: a pool's connections and tasks belong to the
            # loop that opened it. A finished loop's pool goes with the loop (weak keys).
            pool = AsyncConnectionPool(
                self._url,
                kwargs=self._connect_kwargs(),
                min_size=self._pool_min,
                max_size=self._pool_max,
                timeout=self._pool_timeout,
                check=_check_lent,
                name="smx",
                open=False,
            )
            # wait=False: the pool fills in the background; a call that finds the database down
            # waits at most `timeout` for a connection and says so.
            await pool.open(wait=False)
            self._pools[loop] = pool
            return pool

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        with self._errors():
            pool = await self._get_pool()  # open() is implicit: the first call makes the pool
            async with pool.connection() as conn:
                yield conn

    @asynccontextmanager
    async def _transaction(self, *, snapshot: bool = False) -> AsyncIterator[AsyncConnection]:
        """One transaction; `snapshot`: read-only, every statement sees the same data."""
        async with self._connection() as conn, conn.transaction():
            if snapshot:
                await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield conn

    async def _rows(self, query: Any, params: list[object] | tuple = ()) -> list[dict]:
        async with self._connection() as conn:
            cursor = await conn.execute(query, params)
            return await cursor.fetchall()  # type: ignore[return-value]

    async def _count(self, query: Any, params: list[object] | tuple = ()) -> int:
        async with self._connection() as conn:
            cursor = await conn.execute(query, params)
            return cursor.rowcount

    async def _in_transaction(self, fn: Any, *args: object) -> Any:
        async with self._transaction() as conn:
            return await fn(conn, *args)

    async def open(self) -> None:
        """Migrate if nobody has, and open the pool in the running loop, now rather than on the
        first call (the server does this at start-up; every call opens it otherwise)."""
        with self._errors():
            await self._get_pool()

    async def close(self) -> None:
        """Close this loop's pool (another loop's, if any, is closed by a close() run there), and
        end the read worker, if one was started."""
        if self._read_worker is not None:
            await asyncio.to_thread(self._read_worker.close)
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.close()

    async def ping(self) -> None:
        with self._errors():
            pool = await self._get_pool()
            within = min(PING_TIMEOUT, self._pool_timeout)
            try:
                async with pool.connection(timeout=within) as conn:
                    await conn.execute("SELECT 1")
            except PoolTimeout as err:
                raise StoreUnavailable(
                    f"{self.describe()} did not answer within {within:g} s: "
                    "it is down or cannot be reached."
                ) from err

    async def schema_version(self) -> int:
        rows = await self._rows("SELECT max(version) AS version FROM schema_version")
        return rows[0]["version"] or 0

    async def currency_parts(
        self,
        viewer: Viewer,
        *,
        campaign: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list:
        from bot.store.splits import postgres_parts

        async with self._connection() as conn:
            return await postgres_parts(conn, notes.Filter(viewer, campaign, since, until))

    async def campaign_days(
        self,
        viewer: Viewer,
        *,
        campaign: str,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list:
        from bot.store.series import postgres_days

        async with self._connection() as conn:
            return await postgres_days(conn, notes.Filter(viewer, campaign, since, until))

    async def week_trend(self, viewer: Viewer, edges: Sequence[datetime]) -> Any:
        from bot.store.trend import postgres_trend

        async with self._connection() as conn:
            return await postgres_trend(conn, viewer, list(edges))

    async def edit_note(
        self, viewer: Viewer, note_id: int, values: dict, *, is_admin: bool, by: str | None = None
    ) -> str:
        from bot.store.edits import postgres_edit

        return await self._in_transaction(postgres_edit, viewer, note_id, is_admin, values, by)

    # -- imports and targets (bot/store/imports.py) --------------------------------------------

    async def import_notes(self, rows: Sequence[tuple[NewNote, str]]) -> imports.Imported:
        return await self._in_transaction(imports.postgres_import, rows)

    async def set_targets(self, records: Sequence[imports.TargetRecord]) -> None:
        await self._in_transaction(imports.postgres_set_targets, records)

    async def list_targets(
        self, team: str, campaign: str | None = None
    ) -> list[imports.TargetRecord]:
        async with self._connection() as conn:
            return await imports.postgres_targets(conn, team, campaign)

    async def imported_keys(
        self, team: str, channel: str, campaign: str, since: datetime, until: datetime
    ) -> list[str]:
        async with self._connection() as conn:
            return await imports.postgres_imported_keys(conn, team, channel, campaign, since, until)

    async def targets_of(self, teams: Sequence[str]) -> list[imports.TargetRecord]:
        async with self._connection() as conn:
            return await imports.postgres_targets_of(conn, list(teams))

    async def drop_targets(
        self, team: str, campaign: str, channels: Sequence[str], keys: Sequence[str] | None = None
    ) -> int:
        return await self._in_transaction(
            imports.postgres_drop_targets, team, campaign, list(channels), keys
        )

    async def settle_targets(self, team: str, campaign: str, channel: str, judge) -> tuple:
        return await self._in_transaction(
            imports.postgres_settle_targets, team, campaign, channel, judge, _totals
        )

    # -- notes ------------------------------------------------------------------------------

    async def add_note(self, note: NewNote, *, event_id: str | None = None) -> int | None:
        return await self._note_batches.submit((note, event_id))

    async def _add_notes(self, items: list[tuple[NewNote, str | None]]) -> list[object]:
        """All in one transaction (one statement, when no event is to be claimed); when it fails
        and there was more than one note, each is tried again in a transaction of its own, so
        one bad note fails alone (nothing of the failed transaction was committed). A savepoint
        each would cost two more round trips."""
        try:
            if all(event_id is None for _, event_id in items):
                # Nothing to claim first: the batch is one statement, so one transaction of its
                # own (the connections autocommit), committed before its answer is read: one
                # round trip, not BEGIN, the inserts and COMMIT one after the other.
                async with self._connection() as conn:
                    return await _insert_notes(conn, [note for note, _ in items])
            async with self._transaction() as conn:
                return [await _add_note(conn, note, event_id) for note, event_id in items]
        except StoreUnavailable:
            raise  # the connection is gone; a commit's outcome unknown: every note is told
        except Exception:
            if len(items) == 1:
                raise
        found: list[object] = []
        for note, event_id in items:
            try:
                async with self._transaction() as conn:
                    found.append(await _add_note(conn, note, event_id))
            except Exception as err:  # that note's alone; its caller gets it
                found.append(err)
        return found

    async def get_note(self, viewer: Viewer, note_id: int) -> Note | None:
        where, params = notes._visible(viewer, "%s")
        rows = await self._rows(
            f"SELECT {_NOTE} FROM notes AS n WHERE n.id = %s AND {where}", [note_id, *params]
        )
        return notes.to_note(rows[0]) if rows else None

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
        where, params = _where(notes.Filter(viewer, campaign, since, until))
        async with self._transaction(snapshot=True) as conn:
            cursor = await conn.execute(
                f"SELECT count(*) AS total FROM notes AS n WHERE {where}", params
            )
            total = (await cursor.fetchone())["total"]  # type: ignore[index,call-overload]
            cursor = await conn.execute(
                f"SELECT {_NOTE} FROM notes AS n WHERE {where}"
                " ORDER BY n.created_at DESC, n.id DESC LIMIT %s OFFSET %s",
                [*params, limit, offset],
            )
            rows = await cursor.fetchall()
        return NotePage([notes.to_note(r) for r in rows], total)

    async def campaign_totals(
        self,
        viewer: Viewer,
        *,
        campaign: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[CampaignTotals]:
        async with self._connection() as conn:
            return await _totals(conn, notes.Filter(viewer, campaign, since, until))

    async def search_notes(self, viewer: Viewer, query: str, *, limit: int = 20) -> list[Note]:
        text = tsquery_text(query)
        if text is None:
            return []
        where, params = notes._visible(viewer, "%s")
        q = f"to_tsquery('{schema.SEARCH_CONFIG}', %s)"
        # A prefix (`launch*`) is a partial match, which GIN answers by gathering every team's
        # notes with any word it begins before looking at the team (50-90 ms for `a*` in a
        # million notes): the team's own notes, read by its index and checked one by one, are
        # far fewer. coalesce() (search is never NULL) keeps the planner off the GIN index.
        vector = "coalesce(n.search, ''::tsvector)" if ":*" in text else "n.search"
        rows = await self._rows(
            f"SELECT {_NOTE} FROM notes AS n WHERE {vector} @@ {q} AND {where}"
            f" ORDER BY ts_rank(n.search, {q}) DESC, n.id DESC LIMIT %s",
            [text, *params, text, limit],
        )
        return [notes.to_note(r) for r in rows]

    async def export_notes(self, viewer: Viewer, *, campaign: str | None = None) -> list[Note]:
        where, params = _where(notes.Filter(viewer, campaign))
        rows = await self._rows(
            f"SELECT {_NOTE} FROM notes AS n WHERE {where} ORDER BY n.created_at, n.id", params
        )
        return [notes.to_note(r) for r in rows]

    async def delete_note(
        self, viewer: Viewer, note_id: int, *, is_admin: bool, by: str | None = None
    ) -> DeleteOutcome:
        where, params = notes._visible(viewer, "%s")
        async with self._transaction() as conn:
            cursor = await conn.execute(
                f"SELECT n.author FROM notes AS n WHERE n.id = %s AND {where} FOR UPDATE",
                [note_id, *params],
            )
            found = await cursor.fetchone()
            if found is None:
                return "missing"
            author = found["author"]  # type: ignore[call-overload]
            if author != (by or viewer.user) and not is_admin:
                return "forbidden"
            await conn.execute(
                "DELETE FROM notes WHERE id = %s AND team = %s", [note_id, viewer.team]
            )
            return "deleted"

    async def week_activity(
        self, viewer: Viewer, *, since: datetime, until: datetime, per_campaign: int = 3
    ) -> WeekActivity:
        filt = notes.Filter(viewer, None, since, until)
        where, params = _where(filt)
        async with self._transaction(snapshot=True) as conn:
            campaigns = await _totals(conn, filt)
            cursor = await conn.execute(
                f"SELECT count(DISTINCT n.author) AS people FROM notes AS n WHERE {where}", params
            )
            contributors = (await cursor.fetchone())["people"]  # type: ignore[index,call-overload]
            highlights: dict[str, list[Note]] = {}
            if per_campaign > 0 and campaigns:
                cursor = await conn.execute(
                    f"SELECT * FROM (SELECT {_NOTE}, row_number() OVER (PARTITION BY n.campaign"
                    f" ORDER BY n.created_at DESC, n.id DESC) AS place FROM notes AS n"
                    f" WHERE {where}) AS ranked WHERE place <= %s ORDER BY campaign, place",
                    [*params, per_campaign],
                )
                for row in await cursor.fetchall():
                    highlights.setdefault(row["campaign"], []).append(notes.to_note(row))  # type: ignore[call-overload]
        return WeekActivity(campaigns, contributors, highlights)

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
            found = await worker.week_activities(viewers, since, until, per_campaign)
            if found is not None:
                return found
        async with self._transaction(snapshot=True) as conn:
            found = await digests.week_activities(conn, viewers, since, until, per_campaign)
        out = []
        for viewer, activity in zip(viewers, found, strict=True):
            if activity is None:  # a viewer with a user: their own private notes too
                activity = await self.week_activity(
                    viewer, since=since, until=until, per_campaign=per_campaign
                )
            out.append(activity)
        return out

    # -- digest subscriptions and runs ------------------------------------------------------

    async def save_subscription(self, sub: Subscription) -> bool:
        return await self._in_transaction(digests.save, sub, datetime.now(UTC))

    async def get_subscription(self, team: str, channel: str) -> Subscription | None:
        async with self._connection() as conn:
            return await digests.get(conn, team, channel)

    async def subscriptions_set_up_by(self, team: str, subscriber: str) -> list[Subscription]:
        async with self._connection() as conn:
            return await digests.set_up_by(conn, team, subscriber)

    async def delete_subscription(self, team: str, channel: str) -> bool:
        return await self._in_transaction(digests.delete, team, channel)

    async def set_subscription_state(
        self,
        team: str,
        channel: str,
        state: SubscriptionState,
        *,
        reason: str | None = None,
        next_run: datetime | None = None,
    ) -> Subscription | None:
        return await self._in_transaction(
            digests.set_state, team, channel, state, reason, next_run, datetime.now(UTC)
        )

    async def pause_workspace(self, workspace: str, reason: str) -> int:
        return await self._in_transaction(
            digests.pause_workspace, workspace, reason, datetime.now(UTC)
        )

    async def due_subscriptions(self, now: datetime, *, limit: int = 500) -> list[Subscription]:
        async with self._connection() as conn:
            return await digests.due(conn, now, limit)

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
        return await self._in_transaction(digests.claim, sub, week, due, late, owner, now, next_run)

    async def claim_runs(
        self, claims: Sequence[RunClaim], *, owner: str, now: datetime
    ) -> list[DigestRun | None]:
        if not claims:
            return []
        return await self._in_transaction(digests.claim_many, list(claims), owner, now)

    async def claim_retry(self, run: DigestRun, *, owner: str, now: datetime) -> DigestRun | None:
        return await self._in_transaction(digests.claim_retry, run, owner, now)

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
        return await self._in_transaction(
            digests.update, run, owner, expect, state, now, ts, notes, error, retry_at
        )

    async def update_runs(self, updates: Sequence[RunUpdate]) -> list[bool]:
        if not updates:
            return []
        return await self._in_transaction(digests.update_many, list(updates))

    async def reap_runs(
        self,
        now: datetime,
        *,
        lease_seconds: float,
        keep: frozenset[tuple[str, str, str]] = frozenset(),
    ) -> list[DigestRun]:
        return await self._in_transaction(digests.reap, now, lease_seconds, keep)

    async def retry_runs(self, now: datetime, *, limit: int = 500) -> list[DigestRun]:
        async with self._connection() as conn:
            return await digests.retryable(conn, now, limit)

    async def claim_notices(
        self, now: datetime, *, owner: str, lease_seconds: float, limit: int = 100
    ) -> list[DigestRun]:
        return await self._in_transaction(digests.claim_notices, now, owner, lease_seconds, limit)

    async def mark_told(self, run: DigestRun, *, owner: str, now: datetime) -> bool:
        return await self._in_transaction(digests.mark_told, run, owner, now)

    async def get_run(self, team: str, channel: str, week: str) -> DigestRun | None:
        async with self._connection() as conn:
            return await digests.get_run(conn, team, channel, week)

    async def list_runs(
        self, team: str | None = None, channel: str | None = None
    ) -> list[DigestRun]:
        async with self._connection() as conn:
            return await digests.runs(conn, team, channel)

    # -- events -----------------------------------------------------------------------------

    async def claim_event(self, event_id: str, team: str = "") -> bool:
        async with self._connection() as conn:
            return await _claim_event(conn, event_id, team)

    async def prune_events(self, older_than_seconds: float) -> int:
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
        return await self._count("DELETE FROM processed_events WHERE seen_at < %s", [cutoff])

    # -- Slack installations and OAuth state ------------------------------------------------

    async def save_installation(self, record: InstallationRecord) -> None:
        await self._count(
            "INSERT INTO slack_installations (enterprise_id, team_id, user_id,"
            " is_enterprise_install, installed_at, data) VALUES (%s, %s, %s, %s, %s, %s)",
            [
                record.enterprise,
                record.team,
                record.user,
                record.is_enterprise_install,
                record.installed_at,
                Jsonb(record.data),
            ],
        )

    async def save_bot(self, record: InstallationRecord) -> None:
        await self._count(
            "INSERT INTO slack_bots (enterprise_id, team_id, is_enterprise_install, installed_at,"
            " data) VALUES (%s, %s, %s, %s, %s)",
            [
                record.enterprise,
                record.team,
                record.is_enterprise_install,
                record.installed_at,
                Jsonb(record.data),
            ],
        )

    async def find_bot(self, enterprise: str, team: str) -> InstallationRecord | None:
        rows = await self._rows(
            "SELECT enterprise_id, team_id, '' AS user_id, is_enterprise_install, installed_at,"
            " data FROM slack_bots WHERE enterprise_id = %s AND team_id = %s"
            " ORDER BY installed_at DESC, id DESC LIMIT 1",
            [enterprise, team],
        )
        return _installation(rows[0]) if rows else None

    async def find_installation(
        self, enterprise: str, team: str, user: str | None = None
    ) -> InstallationRecord | None:
        query = (
            "SELECT enterprise_id, team_id, user_id, is_enterprise_install, installed_at, data"
            " FROM slack_installations WHERE enterprise_id = %s AND team_id = %s"
        )
        params: list[object] = [enterprise, team]
        if user is not None:
            query += " AND user_id = %s"
            params.append(user)
        rows = await self._rows(query + " ORDER BY installed_at DESC, id DESC LIMIT 1", params)
        return _installation(rows[0]) if rows else None

    async def delete_bots(self, enterprise: str, team: str) -> int:
        return await self._count(
            "DELETE FROM slack_bots WHERE enterprise_id = %s AND team_id = %s", [enterprise, team]
        )

    async def delete_installations(
        self, enterprise: str, team: str, user: str | None = None
    ) -> int:
        query = "DELETE FROM slack_installations WHERE enterprise_id = %s AND team_id = %s"
        params: list[object] = [enterprise, team]
        if user is not None:
            query += " AND user_id = %s"
            params.append(user)
        return await self._count(query, params)

    async def count_installations(self) -> tuple[int, int]:
        rows = await self._rows(
            "SELECT (SELECT count(*) FROM slack_installations) AS installations,"
            " (SELECT count(*) FROM slack_bots) AS bots"
        )
        return rows[0]["installations"], rows[0]["bots"]

    async def issue_oauth_state(self, state: str, expires_at: datetime) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO slack_oauth_states (state, expires_at) VALUES (%s, %s)",
                [state, utc(expires_at)],
            )
            # States nobody came back for (an abandoned install page) are not kept for ever.
            await conn.execute(
                "DELETE FROM slack_oauth_states WHERE expires_at < %s", [datetime.now(UTC)]
            )

    async def consume_oauth_state(self, state: str, now: datetime) -> bool:
        rows = await self._rows(
            "DELETE FROM slack_oauth_states WHERE state = %s RETURNING expires_at", [state]
        )
        return bool(rows) and rows[0]["expires_at"] > utc(now)

    # -- the operator's tasks ---------------------------------------------------------------

    async def prune_notes(self, keep_days: int, *, now: datetime | None = None) -> int:
        cutoff = utc(now or datetime.now(UTC)) - timedelta(days=keep_days)
        total = 0
        while True:  # each batch its own short transaction, so the bot's writers never wait long
            removed = await self._count(
                "DELETE FROM notes WHERE id IN"
                " (SELECT id FROM notes WHERE created_at < %s LIMIT %s)",
                [cutoff, PRUNE_BATCH],
            )
            total += removed
            if removed < PRUNE_BATCH:
                return total

    async def purge_team(self, team: str) -> dict[str, int]:
        # smx's own tables only (schema.TEAM_TABLES): the database, even its schema, may be
        # shared with other applications whose tables have a `team` column too.
        team = maintenance.purge_target(team)
        removed: dict[str, int] = {}
        async with self._transaction() as conn:
            for table, columns in TEAM_TABLES.items():
                deleted = await conn.execute(
                    f'DELETE FROM "{table}" WHERE {maintenance.purge_where(columns, "%s")}',  # type: ignore[arg-type]
                    [team] * len(columns),
                )
                if deleted.rowcount:
                    removed[table] = deleted.rowcount
        return removed

    async def backup(self, destination: str) -> tuple[Path, int]:
        loc = self.location
        where = [] if loc.host is None else [f"--host={shlex.quote(loc.host)}"]
        where.append(f"--port={loc.port}")
        if loc.user:
            where.append(f"--username={shlex.quote(loc.user)}")
        if loc.database:
            where.append(shlex.quote(loc.database))
        raise BackupUnsupported(
            "For PostgreSQL, back up with pg_dump: pg_dump --format=custom "
            f"--file=smx.dump {' '.join(where)} "
            "(it takes a consistent snapshot beside the running bot; restore with pg_restore)."
        )


async def _check_lent(conn: AsyncConnection) -> None:
    """The pool's check of a connection it is about to lend: raises when the connection is not
    working (the pool then closes it and lends another, or makes a new one).

    A connection the server has given up on has said so on its socket: a server that stops or
    restarts, a backend terminated, an idle timeout, all send their error and close it, and a
    dropped TCP connection comes back as a reset. So a connection that is open, not broken, in
    no transaction and with nothing waiting on its socket is lent as it is; any other goes
    through psycopg_pool's own check, an empty query's round trip to the server. That round
    trip was one more for every batch of notes (and every read); now it is made only when
    something arrived that nobody asked for."""
    if not _quiet(conn):
        await AsyncConnectionPool.check_connection(conn)


def _quiet(conn: AsyncConnection) -> bool:
    """Whether the connection looks as it did when last handed back: open, not broken, idle
    (no transaction left open), and nothing arrived on its socket since."""
    if conn.closed or conn.broken:
        return False
    pgconn = conn.pgconn
    if pgconn.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return False
    try:
        waiting = select.poll()
        waiting.register(pgconn.socket, select.POLLIN | select.POLLPRI)
        return not waiting.poll(0)  # POLLIN, or POLLHUP/POLLERR: something to look at
    except (OSError, ValueError, psycopg.Error):
        return False


def _note_insert(note: NewNote) -> tuple[Any, list[object]]:
    """The statement that inserts `note` and returns its id, and its parameters."""
    values = dict(note.__dict__)
    values["created_at"] = utc(note.created_at or datetime.now(UTC))
    values["metrics"] = Jsonb(note.metrics)
    searched = notes.search_text(f"{note.campaign} {note.text}")
    return _INSERT_NOTE, [*(values[c] for c in COLUMNS), searched]


async def _add_note(conn: AsyncConnection, note: NewNote, event_id: str | None) -> int | None:
    insert = _note_insert(note)
    if event_id is not None and not await _claim_event(conn, event_id, note.team):
        return None
    cursor = await conn.execute(*insert)
    row = await cursor.fetchone()
    assert row is not None
    return row["id"]  # type: ignore[call-overload]


async def _insert_notes(conn: AsyncConnection, new: list[NewNote]) -> list[object]:
    """Insert the notes in one statement and return their ids, in their order."""
    if len(new) == 1:
        return [await _add_note(conn, new[0], None)]
    batch = _json_rows(new)
    if batch is not None:
        cursor = await conn.execute(_INSERT_NOTES_JSON, [batch])
    else:
        rows = [_note_insert(note)[1] for note in new]
        columns = [list(column) for column in zip(*rows, strict=True)]
        cursor = await conn.execute(_INSERT_NOTES, columns)
    found = await cursor.fetchall()
    # The rows go in in the batch's order (ORDER BY place), each taking the identity's next
    # value as it does, so the ids in ascending order are the notes' in the batch's order.
    return sorted(row["id"] for row in found)  # type: ignore[call-overload]


def _json_rows(new: list[NewNote]) -> str | None:
    """The batch as _INSERT_NOTES_JSON's one parameter; None when JSON cannot hold a value as
    the arrays would (a float that is not finite: JSON has no NaN or infinity), and the batch
    goes as arrays."""
    rows = []
    for note in new:
        row = _note_insert(note)[1]  # what the arrays are made of, as JSON can hold it
        row[_CREATED_AT] = row[_CREATED_AT].isoformat()  # type: ignore[attr-defined]
        row[_METRICS] = row[_METRICS].obj  # type: ignore[attr-defined]
        rows.append(row)
    try:
        return json.dumps(rows, allow_nan=False, ensure_ascii=False)
    except (ValueError, TypeError):  # not finite, or a value JSON does not know
        return None


_CREATED_AT, _METRICS = COLUMNS.index("created_at"), COLUMNS.index("metrics")


async def _claim_event(conn: AsyncConnection, event_id: str, team: str) -> bool:
    cursor = await conn.execute(
        "INSERT INTO processed_events (event_id, team, seen_at) VALUES (%s, %s, %s)"
        " ON CONFLICT (event_id) DO NOTHING",
        [event_id, team, datetime.now(UTC)],
    )
    return cursor.rowcount == 1


def _installation(row: dict) -> InstallationRecord:
    return InstallationRecord(
        enterprise=row["enterprise_id"],
        team=row["team_id"],
        user=row["user_id"],
        is_enterprise_install=bool(row["is_enterprise_install"]),
        installed_at=float(row["installed_at"]),
        data=dict(row["data"]),
    )


def _pair(num: str, den: str, alias: str) -> str:
    both = f"n.{num} IS NOT NULL AND n.{den} IS NOT NULL"
    return (
        f"sum(n.{num}) FILTER (WHERE {both}) AS {alias}_num,"
        f" sum(n.{den}) FILTER (WHERE {both}) AS {alias}_den"
    )


_TOTALS = (
    "SELECT n.campaign, count(*) AS notes,"
    " array_agg(DISTINCT n.platform) FILTER (WHERE n.platform IS NOT NULL) AS platforms,"
    " array_agg(DISTINCT n.currency) FILTER (WHERE n.currency IS NOT NULL) AS currencies,"
    " sum(n.spend) AS spend, sum(n.impressions) AS impressions, sum(n.clicks) AS clicks,"
    " sum(n.conversions) AS conversions, "
    + ", ".join(_pair(a, b, f"p{i}") for i, (a, b) in enumerate(RATIO_PAIRS))
    + ", array_agg(DISTINCT ARRAY[n.team, n.channel, n.channel_kind, n.author]) AS origins"
    " FROM notes AS n WHERE {where} GROUP BY n.campaign"
    " ORDER BY coalesce(sum(n.spend), 0) DESC, max(n.created_at) DESC"
)


async def _totals(conn: AsyncConnection, filt: notes.Filter) -> list[CampaignTotals]:
    where, params = _where(filt)
    cursor = await conn.execute(_TOTALS.replace("{where}", where), params)  # type: ignore[arg-type]
    out = []
    for r in await cursor.fetchall():
        row: dict = r  # type: ignore[assignment]
        ratios = [
            (row[f"p{i}_num"], row[f"p{i}_den"]) if row[f"p{i}_num"] is not None else None
            for i in range(len(RATIO_PAIRS))
        ]
        out.append(
            CampaignTotals(
                campaign=row["campaign"],
                notes=row["notes"],
                platforms=tuple(sorted(row["platforms"] or ())),
                currencies=tuple(sorted(row["currencies"] or ())),
                spend=row["spend"],
                impressions=row["impressions"],
                clicks=row["clicks"],
                conversions=row["conversions"],
                spend_per_impression=ratios[0],
                spend_per_click=ratios[1],
                clicks_per_impression=ratios[2],
                spend_per_conversion=ratios[3],
                origins=tuple(Origin(*origin) for origin in row["origins"] or ()),
            )
        )
    return out
