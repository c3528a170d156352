"""What SQLite's full-text index keyed by team (schema v8) must hold: exactly what a rebuild from
the notes table makes, term by term, position by position, and each note's length. A test that
has written notes by any path (smx's inserts, batches, deletes, retention, a purge, plain SQL)
calls assert_index_matches_notes on the file to show the index did not drift from the notes."""

from __future__ import annotations

import sqlite3

from bot.store.schema import rebuild_search


def index_dump(conn: sqlite3.Connection) -> tuple[list[tuple], list[tuple], int]:
    """Every (term, note, column, offset) notes_search holds, every note's length record, and the
    notes it counts."""
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_dump"
        " USING fts5vocab(main, notes_search, instance)"
    )
    terms = conn.execute("SELECT * FROM temp.search_dump ORDER BY 1, 2, 3, 4").fetchall()
    sizes = conn.execute("SELECT id, sz FROM notes_search_docsize ORDER BY id").fetchall()
    rows = conn.execute("SELECT count(*) FROM notes_search_docsize").fetchone()[0]
    return terms, sizes, rows


def assert_index_matches_notes(conn: sqlite3.Connection) -> None:
    """The index as it is equals the index rebuilt from the notes (done in a transaction rolled
    back, so the file is left as it was)."""
    before = index_dump(conn)
    conn.execute("BEGIN IMMEDIATE")
    try:
        rebuild_search(conn)
        after = index_dump(conn)
    finally:
        conn.execute("ROLLBACK")
    assert before[2] == after[2], "notes_search counts another number of notes than notes has"
    assert before[1] == after[1], "a note's length in notes_search differs from its text's"
    assert before[0] == after[0], "notes_search's terms differ from the notes' own"
    conn.execute("INSERT INTO notes_search (notes_search) VALUES ('integrity-check')")
