"""Operator tasks on the database file: online backup, removing a team, note retention.

These run beside a live bot: each uses its own connection with the same busy timeout, short
transactions, and never holds a lock the bot would wait on for long.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.store.notes import db_time
from bot.store.sqlite import connect
from bot.store.transaction import write_transaction

# Per-team rows live in tables with one of these columns (the store keys everything by team; a
# note also records the workspace it came from when its team is an Enterprise Grid org, and an
# org-wide installation is keyed by its enterprise_id alone).
TEAM_COLUMNS = ("team", "team_id", "workspace", "enterprise_id")


def backup(source: str, destination: str) -> tuple[Path, int]:
    """Copy the live database to `destination` with SQLite's online backup: (file written, notes).

    The copy is one consistent snapshot (taken in a single step, under a read transaction that WAL
    lets writers work beside), written to a temporary file and renamed into place, so a crash
    mid-backup never leaves a half-written file under the destination's name.
    """
    if not Path(source).is_file():
        raise FileNotFoundError(f"There is no database at {source}: check SMX_DB.")
    target = Path(destination)
    if target.exists() and target.is_dir():
        target = target / f"smx-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = connect(source)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode = DELETE")  # a backup is a single self-contained file
            check = dst.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise RuntimeError(f"the backup failed its integrity check: {check}")
            notes = _count(dst, "notes")
        finally:
            dst.close()
    finally:
        src.close()
    os.replace(partial, target)
    return target, notes


def purge_team(path: str, team: str) -> dict[str, int]:
    """Delete every row that belongs to `team` (notes, subscriptions, runs, installations, ...).

    Tables are found by their team column, so tables added by later migrations are covered too.
    One transaction: either the whole team is gone or nothing changed.
    """
    conn = connect(path)
    removed: dict[str, int] = {}
    try:
        with write_transaction(conn):
            for table, columns in _team_tables(conn):
                where = " OR ".join(f'"{c}" = ?' for c in columns)
                cursor = conn.execute(
                    f'DELETE FROM "{table}" WHERE {where}', (team,) * len(columns)
                )
                if cursor.rowcount:
                    removed[table] = cursor.rowcount
    finally:
        conn.close()
    return removed


def prune_notes(path: str, keep_days: int, now: datetime | None = None) -> int:
    """Delete notes older than `keep_days` days (the retention setting); returns how many."""
    cutoff = db_time((now or datetime.now(UTC)) - timedelta(days=keep_days))
    conn = connect(path)
    try:
        total = 0
        while True:  # in small batches, so the bot's writers never wait long
            with write_transaction(conn):
                cursor = conn.execute(
                    "DELETE FROM notes WHERE id IN "
                    "(SELECT id FROM notes WHERE created_at < ? LIMIT 500)",
                    (cutoff,),
                )
            total += cursor.rowcount
            if cursor.rowcount < 500:
                return total
    finally:
        conn.close()


def _team_tables(conn: sqlite3.Connection) -> list[tuple[str, list[str]]]:
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE '%VIRTUAL%'"
        )
        if not r[0].startswith("sqlite_") and "_fts" not in r[0]
    ]
    found = []
    for table in tables:
        columns = {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}
        keyed = [c for c in TEAM_COLUMNS if c in columns]
        if keyed:
            found.append((table, keyed))
    return found


def _count(conn: sqlite3.Connection, table: str) -> int:
    try:
        return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    except sqlite3.OperationalError:
        return 0
