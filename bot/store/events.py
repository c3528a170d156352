"""Slack event de-duplication: the first delivery of an event id wins, re-deliveries are no-ops."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from bot.store.notes import db_time


def claim(conn: sqlite3.Connection, event_id: str, team: str) -> bool:
    cursor = conn.execute(
        "INSERT OR IGNORE INTO processed_events (event_id, team, seen_at) VALUES (?, ?, ?)",
        [event_id, team, db_time(datetime.now(UTC))],
    )
    return cursor.rowcount == 1


def prune(conn: sqlite3.Connection, older_than_seconds: float) -> int:
    """Forget old ids. Slack retries for about 5 minutes, so keep them well beyond that."""
    cutoff = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
    return conn.execute(
        "DELETE FROM processed_events WHERE seen_at < ?", [db_time(cutoff)]
    ).rowcount
