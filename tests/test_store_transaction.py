"""The one transaction wrapper of the SQLite backend (bot/store/transaction.py)."""

from __future__ import annotations

import sqlite3

import pytest

from bot.store.transaction import read_transaction, write_transaction


@pytest.fixture
def conn():
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute("CREATE TABLE t (x INTEGER)")
    yield db
    db.close()


def test_a_write_commits(conn):
    with write_transaction(conn):
        conn.execute("INSERT INTO t VALUES (1)")
    assert not conn.in_transaction
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 1


def test_an_error_rolls_back_and_goes_on(conn):
    with pytest.raises(KeyError), write_transaction(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        raise KeyError("boom")
    assert not conn.in_transaction
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0


def test_a_transaction_sqlite_already_ended_is_not_rolled_back_twice(conn):
    # ROLLBACK with no transaction open would raise and hide the error that ended it.
    with pytest.raises(ValueError, match="ended"), write_transaction(conn):
        conn.execute("ROLLBACK")
        raise ValueError("ended")
    assert not conn.in_transaction


def test_a_read_sees_one_snapshot_and_ends(conn):
    with read_transaction(conn):
        assert conn.in_transaction
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    assert not conn.in_transaction
