"""The backends the contract suite (tests/contract/) runs every test against, behind one shape.

A `Backend` is one empty database of one kind and the ways a test reaches it:
- `await backend.open()`: a store on it, closed after the test (tracked);
- another `open()` is a second process or replica on the SAME database;
- `backend.target`: what a child process is given (the SQLite path, the PostgreSQL URL);
- `backend.older(version)`: the database built only up to an older schema version, with a
  `Seeder` to write rows the way the smx of that version did, in that backend's own types;
- `backend.reset()`: empty every smx table again (property tests, between examples);
- `backend.team_rows(team)`: rows that still mention `team`, table by table, read straight from
  the database (not through the store under test), to check a purge.

Nothing here knows what a store does with the data: the tests say that, once, for both.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.store import NewNote
from bot.store.notes import db_time

# Per-team rows live in tables with one of these columns (as the store keys them).
TEAM_COLUMNS = ("team", "team_id", "workspace", "enterprise_id", "enterprise")

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def note(text: str = "reel got 3x saves", **fields: object) -> NewNote:
    """A public note of team T1 in C1 by U1, campaign spring-launch, unless `fields` say else."""
    base: dict[str, object] = dict(
        team="T1", workspace="T1", channel="C1", channel_kind="public", author="U1",
        campaign="spring-launch", text=text,
    )  # fmt: skip
    base.update(fields)
    return NewNote(**base)  # type: ignore[arg-type]


async def open_target(target: str) -> Any:
    """A store on `target` (a SQLite path or a postgresql:// URL), ready for use, as smx opens
    one (bot.store.open_store)."""
    from bot.store import open_store

    store = open_store(target)
    opener = getattr(store, "open", None)  # PostgreSQL's pool is opened explicitly
    if opener is not None:
        await opener()
    return store


class Seeder:
    """Rows written straight into a database at an older schema version, as that smx wrote them.
    Values are Python's: a datetime, a bool, a dict (JSON); each backend stores them its way."""

    def insert(self, table: str, **row: object) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


@dataclass
class Backend:
    name: str
    target: str
    _open: list[Any] = field(default_factory=list)
    _renewals: int = 0

    async def open(self) -> Any:
        store = await open_target(self.target)
        self._open.append(store)
        return store

    async def close(self, store: Any) -> None:
        if store in self._open:
            self._open.remove(store)
        await store.close()

    async def close_all(self) -> None:
        while self._open:
            await self.close(self._open[-1])

    async def open_empty(self) -> Any:
        """A store on an empty database again (property tests: one per example). SQLite: a new
        file beside the first, the store before closed; PostgreSQL: the same database emptied
        under the store already open (a new store's pool costs more than the example)."""
        raise NotImplementedError

    # -- backend-specific --

    def older(self, version: int) -> Seeder:
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError

    def team_rows(self, team: str) -> dict[str, int]:
        raise NotImplementedError

    def applied_versions(self) -> list[int]:
        """The versions the database records as applied, in order, repeats included."""
        raise NotImplementedError

    def set_version(self, version: int) -> None:
        """Record `version` as applied (a database from a newer smx, for SchemaTooNew)."""
        raise NotImplementedError

    def unreachable(self) -> str:
        """A target of this kind that cannot be reached (a server not listening, a directory
        that does not exist), with the same credentials."""
        raise NotImplementedError

    @property
    def secret(self) -> str | None:
        """The password in `target`, which no message may show (None: there is none)."""
        return None


# -- SQLite ---------------------------------------------------------------------------------------


class _SqliteSeeder(Seeder):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def insert(self, table: str, **row: object) -> None:
        values = [_sqlite_value(v) for v in row.values()]
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self.conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)

    def close(self) -> None:
        self.conn.close()


def _sqlite_value(value: object) -> object:
    if isinstance(value, datetime):
        return db_time(value)
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, bool):
        return int(value)
    return value


class SqliteBackend(Backend):
    def __init__(self, path: Path) -> None:
        super().__init__("sqlite", str(path))

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.target, isolation_level=None)

    async def open_empty(self) -> Any:
        await self.close_all()
        self._renewals += 1
        store = await open_target(str(Path(self.target).with_name(f"empty-{self._renewals}.db")))
        self._open.append(store)
        return store

    def older(self, version: int) -> Seeder:
        from bot.store.schema import migrate

        conn = self._connect()
        assert migrate(conn, target=version) == version
        return _SqliteSeeder(conn)

    def reset(self) -> None:
        Path(self.target).unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(self.target + suffix).unlink(missing_ok=True)

    def team_rows(self, team: str) -> dict[str, int]:
        conn = self._connect()
        try:
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    " AND sql NOT LIKE '%VIRTUAL%'"
                )
                if not r[0].startswith("sqlite_") and "_fts" not in r[0]
            ]
            found = {}
            for table in tables:
                columns = {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}
                keyed = [c for c in TEAM_COLUMNS if c in columns]
                if keyed:
                    where = " OR ".join(f'"{c}" = ?' for c in keyed)
                    count = conn.execute(
                        f'SELECT count(*) FROM "{table}" WHERE {where}', [team] * len(keyed)
                    ).fetchone()[0]
                    found[table] = count
            return found
        finally:
            conn.close()

    def applied_versions(self) -> list[int]:
        conn = self._connect()
        try:
            return [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
        finally:
            conn.close()

    def unreachable(self) -> str:
        return str(Path(self.target).parent / "gone" / "smx.db")

    def set_version(self, version: int) -> None:
        conn = self._connect()
        try:
            conn.execute(
                "INSERT INTO schema_version VALUES (?, 'from a newer smx', '2030-01-01')", [version]
            )
        finally:
            conn.close()


# -- PostgreSQL -----------------------------------------------------------------------------------


class _PostgresSeeder(Seeder):
    def __init__(self, conn: Any, version: int) -> None:
        self.conn = conn
        self.version = version

    def insert(self, table: str, **row: object) -> None:
        from psycopg.types.json import Jsonb

        values = [Jsonb(v) if isinstance(v, dict) else v for v in row.values()]
        columns = list(row)
        marks = ["%s" for _ in row]
        if table == "notes" and self.version >= 2:
            self._with_search(row, columns, marks, values)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(marks)})"
        self.conn.execute(sql, values)

    @staticmethod
    def _with_search(row: dict, columns: list, marks: list, values: list) -> None:
        """From v2 a note's search vector is written with the note, by smx, not by the database
        (bot/store/postgres_schema.py): write it as that smx did."""
        from bot.store import postgres_schema

        vector = getattr(postgres_schema, "note_search_vector", None)
        if vector is None:  # a generated column: the database writes it
            return
        from bot.store.notes import search_text

        columns.append("search")
        marks.append(vector())
        values.append(search_text(f"{row['campaign']} {row['text']}"))

    def close(self) -> None:
        self.conn.close()


class PostgresBackend(Backend):
    def __init__(self, url: str, password: str) -> None:
        super().__init__("postgres", url)
        self._password = password

    @property
    def secret(self) -> str | None:
        return self._password

    def unreachable(self) -> str:
        import socket
        from urllib.parse import urlsplit

        with socket.socket() as sock:  # a port nothing listens on (closed again at once)
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        parts = urlsplit(self.target)
        netloc = parts.netloc.rsplit(":", 1)[0] + f":{port}"
        return parts._replace(netloc=netloc).geturl()

    def _connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.target, autocommit=True, connect_timeout=5)

    async def open_empty(self) -> Any:
        if not self._open:
            store = await self.open()
            await store.schema_version()  # the schema is there to empty
        self.reset()
        return self._open[-1]

    def older(self, version: int) -> Seeder:
        from bot.store.postgres_schema import migrate

        conn = self._connect()
        assert migrate(conn, target=version) == version
        return _PostgresSeeder(conn, version)

    def reset(self) -> None:
        from tests.support.postgres import reset_postgres

        reset_postgres(self.target)

    def team_rows(self, team: str) -> dict[str, int]:
        from psycopg import sql

        with self._connect() as conn:
            columns = conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND column_name = ANY(%s)",
                (list(TEAM_COLUMNS),),
            ).fetchall()
            keyed: dict[str, list[str]] = {}
            for table, column in columns:
                keyed.setdefault(table, []).append(column)
            found = {}
            for table, cols in sorted(keyed.items()):
                where = sql.SQL(" OR ").join(
                    sql.SQL("{} = %s").format(sql.Identifier(c)) for c in cols
                )
                query = sql.SQL("SELECT count(*) FROM {} WHERE ").format(sql.Identifier(table))
                found[table] = conn.execute(query + where, [team] * len(cols)).fetchone()[0]
            return found

    def applied_versions(self) -> list[int]:
        with self._connect() as conn:
            rows = conn.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()
        return [r[0] for r in rows]

    def set_version(self, version: int) -> None:
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO schema_version (version, description) VALUES (%s, 'from a newer smx')",
                (version,),
            )


# -- for tests outside the suite that hand a database to child processes --------------------------


def database_fixture():
    """A pytest fixture `database`: the target of an empty database, once per backend (a SQLite
    file; a fresh PostgreSQL database), for tests whose child processes open it themselves.
    Use as `database = database_fixture()` at module level."""
    import pytest

    @pytest.fixture(params=["sqlite", "postgres"])
    def database(request, tmp_path) -> str:
        if request.param == "sqlite":
            return str(tmp_path / "smx.db")
        return request.getfixturevalue("postgres_url")

    return database


# -- digests: the scheduler's moves, for tests that make them by hand -----------------------------


async def claim_slot(store: Any, sub: Any, *, owner: str = "A", now: Any = None, late=False):
    """Claim the subscription's next slot as a scheduler does at `now` (the slot itself unless
    said): the cadence moves to the slot after it. The DigestRun, or None."""
    from bot.digest.slots import Slot

    slot = Slot(sub.weekday, sub.hour, sub.minute, sub.tz)
    return await store.claim_run(
        sub,
        week=slot.week(sub.next_run),
        due=sub.next_run,
        late=late,
        owner=owner,
        now=now or sub.next_run,
        next_run=slot.next_after(sub.next_run),
    )


def scheduler(store: Any, clock: Any, post: Any, **kwargs: Any) -> Any:
    """The real Scheduler over `store`, on the test's clock and recording `post`."""
    from bot.digest.scheduler import Scheduler

    return Scheduler(store, post, clock=clock, **kwargs)


async def run_hourly(sched: Any, clock: Any, until: datetime) -> None:
    """Tick every hour of simulated time, as a running bot would (but without waiting)."""
    while clock.now < until:
        clock.advance(hours=1)
        await sched.tick()
