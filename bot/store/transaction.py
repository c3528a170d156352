"""SQLite transactions as `with` blocks: the one place that commits, or rolls back on any error.

Connections are opened with isolation_level=None (bot/store/sqlite.py), so the sqlite3 module opens
no transaction of its own: each one here is explicit, and every writer uses the same wrapper.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE (the write lock up front, so a busy file is waited out by busy_timeout
    rather than failing half-way), COMMIT at the end, ROLLBACK on any exception, which goes on."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        # SQLite may already have rolled back (a full disk, an interrupt): ROLLBACK would fail.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def read_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One snapshot for several SELECTs (a page and its total agree)."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")
