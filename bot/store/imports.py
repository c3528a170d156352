"""Imported rows and campaign targets, on both backends (schema v11).

An import is one transaction: every row is logged, or none is. A row carries its `import_key`
(bot/imports/read.py's Row.key, as text), unique per team: a row already logged, by this file
or an overlapping one, is skipped and counted, never logged twice.

A target is one row per (team, campaign, figure). Its `status` is the verdict the notes last
gave it. Moving it is a compare-and-set (`WHERE status <> new`), so when two replicas or two
notes at once move the same target off track, exactly one of them sees the move and posts.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.store import notes
from bot.store.base import NewNote
from bot.store.notes import COLUMNS, as_time, db_time

_IMPORT_COLUMNS = (*COLUMNS, "import_key")
TARGET_COLUMNS = (
    "team", "workspace", "campaign", "key", "op", "value", "currency", "channel",
    "channel_kind", "author", "set_at", "status",
)  # fmt: skip


@dataclass(frozen=True)
class Imported:
    ids: list[int]  # the notes logged, in the rows' order
    skipped: int  # rows already logged before (the same key), not logged again


@dataclass(frozen=True)
class TargetRecord:
    team: str
    workspace: str
    campaign: str
    key: str
    op: str
    value: float
    currency: str | None
    channel: str  # where it was set: where a move off track is posted
    channel_kind: str
    author: str
    set_at: datetime
    status: str = "no figures"


# --- SQLite (run in the store's writer or reader thread, inside its transaction) ----------------

_SQLITE_IMPORT = (
    f"INSERT INTO notes ({', '.join(_IMPORT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _IMPORT_COLUMNS)}) "
    "ON CONFLICT (team, channel, import_key) WHERE import_key IS NOT NULL DO NOTHING"
)


def _values(note: NewNote, key: str, time: Any) -> list[object]:
    values = dict(note.__dict__)
    values["created_at"] = time(note.created_at or datetime.now(UTC))
    values["import_key"] = key
    return [values[c] for c in _IMPORT_COLUMNS]


def sqlite_import(conn: sqlite3.Connection, rows: Sequence[tuple[NewNote, str]]) -> Imported:
    """Inside the caller's write transaction. The insert triggers index each note for search."""
    ids: list[int] = []
    skipped = 0
    for note, key in rows:
        values = _values(note, key, db_time)
        values[_IMPORT_COLUMNS.index("metrics")] = json.dumps(note.metrics, sort_keys=True)
        cursor = conn.execute(_SQLITE_IMPORT, values)
        if cursor.rowcount == 1 and cursor.lastrowid is not None:
            ids.append(cursor.lastrowid)
        else:
            skipped += 1
    return Imported(ids, skipped)


_KEYS_SQL = (
    "SELECT import_key FROM notes WHERE team = {m} AND channel = {m} AND campaign = {m}"
    " AND import_key IS NOT NULL AND created_at >= {m} AND created_at < {m}"
)


def sqlite_imported_keys(
    conn: sqlite3.Connection,
    team: str,
    channel: str,
    campaign: str,
    since: datetime,
    until: datetime,
) -> list[str]:
    rows = conn.execute(
        _KEYS_SQL.format(m="?"), (team, channel, campaign, db_time(since), db_time(until))
    ).fetchall()
    return [r[0] for r in rows]


async def postgres_imported_keys(
    conn: Any, team: str, channel: str, campaign: str, since: datetime, until: datetime
) -> list[str]:
    cursor = await conn.execute(
        _KEYS_SQL.format(m="%s"), (team, channel, campaign, _utc(since), _utc(until))
    )
    return [r["import_key"] for r in await cursor.fetchall()]


def sqlite_set_targets(conn: sqlite3.Connection, records: Sequence[TargetRecord]) -> None:
    for r in records:
        values = [getattr(r, c) for c in TARGET_COLUMNS]
        values[TARGET_COLUMNS.index("set_at")] = db_time(r.set_at)
        conn.execute(
            f"INSERT INTO targets ({', '.join(TARGET_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in TARGET_COLUMNS)}) "
            "ON CONFLICT (team, campaign, key, channel) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in TARGET_COLUMNS[4:] if c != "channel"),
            values,
        )


def sqlite_targets(conn: sqlite3.Connection, team: str, campaign: str | None) -> list[TargetRecord]:
    sql = f"SELECT {', '.join(TARGET_COLUMNS)} FROM targets WHERE team = ?"
    params: list[object] = [team]
    if campaign is not None:
        sql += " AND campaign = ?"
        params.append(campaign)
    rows = conn.execute(sql + " ORDER BY campaign, key", params).fetchall()
    return [_target(dict(zip(TARGET_COLUMNS, row, strict=True))) for row in rows]


def _drop_sql(channels: Sequence[str], keys: Sequence[str] | None, mark: str) -> str:
    sql = f"DELETE FROM targets WHERE team = {mark} AND campaign = {mark}"
    sql += f" AND channel IN ({', '.join(mark for _ in channels)})"
    if keys is not None:
        sql += f" AND key IN ({', '.join(mark for _ in keys)})"
    return sql


def sqlite_targets_of(conn: sqlite3.Connection, teams: Sequence[str]) -> list[TargetRecord]:
    if not teams:
        return []
    marks = ", ".join("?" for _ in teams)
    rows = conn.execute(
        f"SELECT {', '.join(TARGET_COLUMNS)} FROM targets WHERE team IN ({marks})"
        " ORDER BY team, campaign, key",
        list(teams),
    ).fetchall()
    return [_target(dict(zip(TARGET_COLUMNS, row, strict=True))) for row in rows]


def sqlite_drop_targets(
    conn: sqlite3.Connection,
    team: str,
    campaign: str,
    channels: Sequence[str],
    keys: Sequence[str] | None,
) -> int:
    if not channels or keys == []:
        return 0
    params = [team, campaign, *channels, *(keys or [])]
    return conn.execute(_drop_sql(channels, keys, "?"), params).rowcount


# judge(records, totals) -> {key: status}: the verdict of each target on the campaign's totals.
Judge = Any


def sqlite_settle_targets(
    conn: sqlite3.Connection, team: str, campaign: str, channel: str, judge: Judge
) -> tuple[list[str], Any]:
    """Inside the caller's write transaction (SQLite's write lock held from its start): the
    campaign's totals as `channel` sees them, each target's verdict on them, and its status
    moved; the keys this call moved to off track, and the totals. Reading the totals and moving
    the status under one lock is what makes each crossing one call's alone."""
    from bot.store.base import Viewer

    records = [r for r in sqlite_targets(conn, team, campaign) if r.channel == channel]
    if not records:
        return [], None
    found = notes.totals(conn, notes.Filter(Viewer(team, channel), campaign))
    totals = found[0] if found else None
    moved = []
    for key, status in judge(records, totals).items():
        cursor = conn.execute(
            "UPDATE targets SET status = ? WHERE team = ? AND campaign = ? AND key = ?"
            " AND channel = ? AND status <> ?",
            (status, team, campaign, key, channel, status),
        )
        if cursor.rowcount and status == "off track":
            moved.append(key)
    return moved, totals


def _target(row: dict[str, Any]) -> TargetRecord:
    row["set_at"] = as_time(row["set_at"])
    return TargetRecord(**row)


# --- PostgreSQL (awaited on one connection, inside the caller's transaction) --------------------


async def postgres_import(conn: Any, rows: Sequence[tuple[NewNote, str]]) -> Imported:
    from psycopg.types.json import Jsonb

    from bot.store import postgres_schema as schema
    from bot.store.notes import search_text

    sql = (
        f"INSERT INTO notes ({', '.join(_IMPORT_COLUMNS)}, search) "
        f"VALUES ({', '.join('%s' for _ in _IMPORT_COLUMNS)}, {schema.note_search_vector()}) "
        "ON CONFLICT (team, channel, import_key) WHERE import_key IS NOT NULL DO NOTHING"
        " RETURNING id"
    )
    ids: list[int] = []
    skipped = 0
    for note, key in rows:
        values = _values(note, key, _utc)
        values[_IMPORT_COLUMNS.index("metrics")] = Jsonb(note.metrics)
        cursor = await conn.execute(sql, [*values, search_text(f"{note.campaign} {note.text}")])
        row = await cursor.fetchone()
        if row is None:
            skipped += 1
        else:
            ids.append(row["id"])
    return Imported(ids, skipped)


async def postgres_set_targets(conn: Any, records: Sequence[TargetRecord]) -> None:
    for r in records:
        values = [getattr(r, c) for c in TARGET_COLUMNS]
        values[TARGET_COLUMNS.index("set_at")] = _utc(r.set_at)
        await conn.execute(
            f"INSERT INTO targets ({', '.join(TARGET_COLUMNS)}) "
            f"VALUES ({', '.join('%s' for _ in TARGET_COLUMNS)}) "
            "ON CONFLICT (team, campaign, key, channel) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in TARGET_COLUMNS[4:] if c != "channel"),
            values,
        )


async def postgres_targets(conn: Any, team: str, campaign: str | None) -> list[TargetRecord]:
    sql = f"SELECT {', '.join(TARGET_COLUMNS)} FROM targets WHERE team = %s"
    params: list[object] = [team]
    if campaign is not None:
        sql += " AND campaign = %s"
        params.append(campaign)
    cursor = await conn.execute(sql + " ORDER BY campaign, key", params)
    return [_target(dict(row)) for row in await cursor.fetchall()]


async def postgres_targets_of(conn: Any, teams: Sequence[str]) -> list[TargetRecord]:
    if not teams:
        return []
    cursor = await conn.execute(
        f"SELECT {', '.join(TARGET_COLUMNS)} FROM targets WHERE team = ANY(%s)"
        " ORDER BY team, campaign, key",
        (list(teams),),
    )
    return [_target(dict(row)) for row in await cursor.fetchall()]


async def postgres_drop_targets(
    conn: Any, team: str, campaign: str, channels: Sequence[str], keys: Sequence[str] | None
) -> int:
    if not channels or keys == []:
        return 0
    params = [team, campaign, *channels, *(keys or [])]
    cursor = await conn.execute(_drop_sql(channels, keys, "%s"), params)
    return cursor.rowcount


async def postgres_settle_targets(
    conn: Any, team: str, campaign: str, channel: str, judge: Judge, totals_of: Any
) -> tuple[list[str], Any]:
    """As sqlite_settle_targets, in the caller's transaction: the target rows are locked first
    (FOR UPDATE), so a second note's check waits for this one and then sees its note too."""
    from bot.store.base import Viewer

    cursor = await conn.execute(
        f"SELECT {', '.join(TARGET_COLUMNS)} FROM targets WHERE team = %s AND campaign = %s"
        " AND channel = %s ORDER BY key FOR UPDATE",
        (team, campaign, channel),
    )
    records = [_target(dict(row)) for row in await cursor.fetchall()]
    if not records:
        return [], None
    found = await totals_of(conn, notes.Filter(Viewer(team, channel), campaign))
    totals = found[0] if found else None
    moved = []
    for key, status in judge(records, totals).items():
        cursor = await conn.execute(
            "UPDATE targets SET status = %s WHERE team = %s AND campaign = %s AND key = %s"
            " AND channel = %s AND status <> %s",
            (status, team, campaign, key, channel, status),
        )
        if cursor.rowcount and status == "off track":
            moved.append(key)
    return moved, totals


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
