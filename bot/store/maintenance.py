"""The SQLite backend's operator tasks: online backup, removing a team, note retention.

SqliteStore (bot/store/sqlite.py) runs these beside a live bot: purge and each batch of retention
on its writer thread (short transactions, queued with the bot's own writes), the backup on a
connection of its own, under a read snapshot that WAL lets writers work beside.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bot.store.base import StoreError
from bot.store.schema import TEAM_TABLES

PRUNE_BATCH = 500


class BackupFailed(Exception):
    """The copy could not be made; the message says why in words (the store makes it a
    StoreError)."""


def backup(source: sqlite3.Connection, destination: str) -> tuple[Path, int]:
    """Copy the database behind `source` to `destination` with SQLite's online backup:
    (file written, notes in it).

    The copy is one consistent snapshot (taken in a single step), written to a temporary file and
    renamed into place, so a crash mid-backup never leaves a half-written file under the
    destination's name.
    """
    target = Path(destination)
    if target.is_dir():
        target = target / f"smx-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.db"
    partial = target.with_name(target.name + ".partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.unlink(missing_ok=True)
    except OSError as err:
        raise BackupFailed(f"Can't write a backup to {target}: {err.strerror}.") from err
    dst = sqlite3.connect(partial)
    try:
        source.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode = DELETE")  # a backup is a single self-contained file
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupFailed(f"The backup failed its integrity check: {check}.")
        notes = _count(dst, "notes")
    except BaseException:
        dst.close()
        partial.unlink(missing_ok=True)
        raise
    dst.close()
    os.replace(partial, target)
    return target, notes


def purge_target(team: object) -> str:
    """The team a purge is for, or a StoreError saying to name one: a blank team would match
    every row whose team column is empty, and every installation of a workspace outside an
    Enterprise Grid org has an empty enterprise_id."""
    if not isinstance(team, str) or not team.strip():
        raise StoreError(
            "Name the team to purge by its Slack id, e.g. `smx db purge --team T0123ABC`: "
            "a blank team would match every workspace's installation."
        )
    return team


def purge_where(columns: tuple[str, ...], mark: str) -> str:
    """The WHERE of a purge on one table: any of its team columns is the team, and never an
    empty value (an installation's enterprise_id is '' outside a Grid org)."""
    return " OR ".join(f'("{c}" = {mark} AND "{c}" <> \'\')' for c in columns)


def purge_team(conn: sqlite3.Connection, team: str) -> dict[str, int]:
    """Delete every row that belongs to `team` (notes, subscriptions, runs, installations, ...),
    inside the caller's transaction, from smx's own tables only (schema.TEAM_TABLES)."""
    team = purge_target(team)
    removed: dict[str, int] = {}
    for table, columns in TEAM_TABLES.items():
        where = purge_where(columns, "?")
        cursor = conn.execute(f'DELETE FROM "{table}" WHERE {where}', (team,) * len(columns))
        if cursor.rowcount:
            removed[table] = cursor.rowcount
    return removed


def prune_batch(conn: sqlite3.Connection, cutoff: str) -> int:
    """Delete up to PRUNE_BATCH notes created before `cutoff` (db_time text); how many went."""
    return conn.execute(
        "DELETE FROM notes WHERE id IN (SELECT id FROM notes WHERE created_at < ? LIMIT ?)",
        (cutoff, PRUNE_BATCH),
    ).rowcount


def _count(conn: sqlite3.Connection, table: str) -> int:
    try:
        return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    except sqlite3.OperationalError:
        return 0
