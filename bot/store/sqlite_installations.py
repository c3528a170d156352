"""SQL for Slack installations and OAuth state (tables of migration v6), run in the store's threads.

Rows are kept as the Slack face hands them (bot/slack/installations.py keys an org-wide install by
its enterprise with team ""); every lookup takes the newest row of its key, so a reinstall wins
over the install it replaces without any row being updated in place.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

from bot.store.base import InstallationRecord

_NEWEST = " ORDER BY installed_at DESC, id DESC LIMIT 1"


def save_installation(conn: sqlite3.Connection, record: InstallationRecord) -> None:
    _insert(conn, "slack_installations", record, {"user_id": record.user})


def save_bot(conn: sqlite3.Connection, record: InstallationRecord) -> None:
    _insert(conn, "slack_bots", record, {})


def _insert(
    conn: sqlite3.Connection, table: str, record: InstallationRecord, extra: dict[str, object]
) -> None:
    row = {
        "enterprise_id": record.enterprise,
        "team_id": record.team,
        **extra,
        "is_enterprise_install": int(record.is_enterprise_install),
        "installed_at": record.installed_at,
        "data": json.dumps(record.data),
    }
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))


def _record(row: sqlite3.Row, user: str) -> InstallationRecord:
    return InstallationRecord(
        enterprise=row["enterprise_id"],
        team=row["team_id"],
        user=user,
        is_enterprise_install=bool(row["is_enterprise_install"]),
        installed_at=float(row["installed_at"]),
        data=json.loads(row["data"]),
    )


def find_bot(conn: sqlite3.Connection, enterprise: str, team: str) -> InstallationRecord | None:
    row = conn.execute(
        "SELECT * FROM slack_bots WHERE enterprise_id = ? AND team_id = ?" + _NEWEST,
        [enterprise, team],
    ).fetchone()
    return _record(row, "") if row else None


def _who(enterprise: str, team: str, user: str | None) -> tuple[str, list[object]]:
    where, args = "enterprise_id = ? AND team_id = ?", [enterprise, team]
    if user is not None:
        where, args = where + " AND user_id = ?", [*args, user]
    return where, args


def find_installation(
    conn: sqlite3.Connection, enterprise: str, team: str, user: str | None
) -> InstallationRecord | None:
    where, args = _who(enterprise, team, user)
    row = conn.execute(f"SELECT * FROM slack_installations WHERE {where}" + _NEWEST, args)
    found = row.fetchone()
    return _record(found, found["user_id"]) if found else None


def delete_bots(conn: sqlite3.Connection, enterprise: str, team: str) -> int:
    return conn.execute(
        "DELETE FROM slack_bots WHERE enterprise_id = ? AND team_id = ?", [enterprise, team]
    ).rowcount


def delete_installations(
    conn: sqlite3.Connection, enterprise: str, team: str, user: str | None
) -> int:
    where, args = _who(enterprise, team, user)
    return conn.execute(f"DELETE FROM slack_installations WHERE {where}", args).rowcount


def count(conn: sqlite3.Connection) -> tuple[int, int]:
    installations = conn.execute("SELECT count(*) FROM slack_installations").fetchone()[0]
    bots = conn.execute("SELECT count(*) FROM slack_bots").fetchone()[0]
    return installations, bots


def issue_state(conn: sqlite3.Connection, state: str, expires_at: datetime) -> None:
    # Seconds since the epoch (REAL), as the table has held them since before v6.
    conn.execute(
        "INSERT INTO slack_oauth_states (state, expires_at) VALUES (?, ?)",
        [state, expires_at.timestamp()],
    )
    # States nobody came back for (an abandoned install page) are not kept for ever.
    conn.execute(
        "DELETE FROM slack_oauth_states WHERE expires_at < ?", [datetime.now(UTC).timestamp()]
    )


def consume_state(conn: sqlite3.Connection, state: str, now: datetime) -> bool:
    row = conn.execute(
        "DELETE FROM slack_oauth_states WHERE state = ? RETURNING expires_at", [state]
    ).fetchone()
    return row is not None and row[0] > now.timestamp()
