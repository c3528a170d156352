"""What only the SQLite backend has: WAL, PRAGMAs, the FTS5 index and its quoting, in-memory
databases, a loop that keeps running while another process holds the write lock, first use from
several threads, and the installation tables the Slack face kept in the file before v6.

Everything both backends must do (notes, search, privacy, digests, events, installations,
retention, purge, migrations) is in the contract suite, tests/contract/.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.store import LATEST, Viewer, open_store
from bot.store.notes import fts_query
from bot.store.schema import MIGRATIONS, migrate
from bot.store.sqlite import connect
from tests.support.contract import note
from tests.support.search_index import assert_index_matches_notes
from tests.support.waits import WAIT


@pytest.fixture
async def store(tmp_path: Path):
    s = open_store(str(tmp_path / "smx.db"))
    yield s
    await s.close()


# -- schema ---------------------------------------------------------------------------------


def test_migrations_are_numbered_one_to_latest() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST + 1))


async def test_new_database_has_latest_schema_wal_and_foreign_keys(store, tmp_path: Path) -> None:
    assert await store.schema_version() == LATEST
    conn = connect(str(tmp_path / "smx.db"))
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"notes_team_time", "notes_team_campaign_time", "processed_events_seen_at"} <= indexes
    conn.close()


async def test_in_memory_database_works() -> None:
    store = open_store(":memory:")
    note_id = await store.add_note(note())
    assert (await store.list_notes(Viewer("T1", "C1"))).notes[0].id == note_id
    await store.close()


async def test_installations_the_slack_face_kept_in_the_file_before_v6_are_kept(tmp_path) -> None:
    # Before v6 bot/slack/installations.py created these tables itself, in this same file.
    path = str(tmp_path / "old.db")
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, target=5) == 5
    conn.execute(
        "CREATE TABLE slack_bots (id INTEGER PRIMARY KEY, enterprise_id TEXT NOT NULL DEFAULT '',"
        " team_id TEXT NOT NULL DEFAULT '', is_enterprise_install INTEGER NOT NULL DEFAULT 0,"
        " installed_at REAL NOT NULL, data TEXT NOT NULL)"
    )
    conn.execute(
        "INSERT INTO slack_bots (team_id, installed_at, data) VALUES ('T1', 5.0, ?)",
        [json.dumps({"bot_token": "xoxb-kept"})],
    )
    conn.execute("CREATE TABLE slack_oauth_states (state TEXT PRIMARY KEY, expires_at REAL)")
    conn.execute("INSERT INTO slack_oauth_states VALUES ('s1', 4102444800.0)")  # year 2100
    conn.close()
    store = open_store(path)
    try:
        assert await store.schema_version() == LATEST
        assert (await store.find_bot("", "T1")).data == {"bot_token": "xoxb-kept"}
        assert await store.consume_oauth_state("s1", datetime.now(UTC)) is True
        assert await store.count_installations() == (0, 1)
    finally:
        await store.close()


# -- notes ----------------------------------------------------------------------------------


async def test_search_index_follows_inserts_updates_and_deletes(store, tmp_path: Path) -> None:
    viewer = Viewer("T1", "C1", "U1")
    first = await store.add_note(note("carousel flopped"))
    await store.add_note(note("reel did well"))
    assert [n.id for n in await store.search_notes(viewer, "carousel")] == [first]
    conn = connect(str(tmp_path / "smx.db"))
    conn.execute("UPDATE notes SET text = 'story did well' WHERE id = ?", [first])
    assert await store.search_notes(viewer, "carousel") == []
    assert [n.id for n in await store.search_notes(viewer, "story")] == [first]
    assert await store.delete_note(viewer, first, is_admin=False) == "deleted"
    assert await store.search_notes(viewer, "story") == []
    assert_index_matches_notes(conn)  # and FTS5's own integrity-check
    conn.close()


@pytest.mark.parametrize(
    ("typed", "query"),
    [
        ("reel", '"5431_reel"'),  # T1's key: "T1" in hex, then `_`
        ('say "hi', '"5431_sai" "5431_hi"'),  # stemmed, as notes are
        ("reel AND story", '"5431_reel" "5431_and" "5431_stori"'),
        ("NEAR(a b)", '"5431_near 5431_a" "5431_b"'),  # a word split by punctuation: a phrase
        ("camp* *", '"5431_camp"*'),
        ("text:secret ^x -y", '"5431_text 5431_secret" "5431_x" "5431_y"'),
        ("Été v2.1*", '"5431_et" "5431_v2 5431_1"*'),
        ('* ** " ( )', None),
    ],
)
def test_fts_query_quotes_every_word_under_the_teams_key(typed: str, query: str | None) -> None:
    assert fts_query(typed, "T1") == query


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.text(min_size=1, max_size=12))
def test_any_typed_query_is_valid_fts(typed: str, team: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(text, tokenize=\"ascii tokenchars '_'\")")
    conn.execute("INSERT INTO t VALUES ('some words \"and\" AND near NEAR stars *')")
    try:
        query = fts_query(typed, team)
    except UnicodeEncodeError:  # a lone surrogate: never reaches a store (bot/text.py clean)
        return
    if query is not None:
        conn.execute("SELECT * FROM t WHERE t MATCH ?", [query]).fetchall()


async def test_event_loop_keeps_running_while_the_database_is_locked(store, tmp_path: Path) -> None:
    await store.add_note(note())  # opens and migrates
    blocker = connect(str(tmp_path / "smx.db"))
    blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    try:
        writing = asyncio.create_task(store.add_note(note("waited for the lock")))
        # The event loop itself lets the lock go, after turning over while the write waits: were
        # the write blocking the loop, these turns could not happen and it would fail on the lock.
        # (The sleeps are the turns under test, not waits for something.)
        for _ in range(20):
            await asyncio.sleep(0.005)
            assert not writing.done()  # it really waits on the lock...
        blocker.execute("COMMIT")  # ...and the loop kept running meanwhile
        note_id = await asyncio.wait_for(writing, WAIT)
    finally:
        blocker.close()
    assert note_id == 2


async def test_first_use_from_several_threads_at_once(tmp_path: Path) -> None:
    # Every read thread's first connection races the one creating the schema (and WAL).
    # It used to check only that nothing raised; now it checks what the race left behind.
    viewer = Viewer("T1", "C1", "U1")
    for i in range(20):
        path = tmp_path / f"fresh{i}.db"
        store = open_store(str(path))
        try:
            texts = [f"first use {i} write {w}" for w in range(3)]
            listed, totals, *ids = await asyncio.gather(
                store.list_notes(viewer),
                store.campaign_totals(viewer),
                *(store.add_note(note(t)) for t in texts),
            )
            # Every write landed, once, under its own id; a read saw a database, empty or not.
            assert sorted(ids) == [1, 2, 3]
            assert sorted(n.text for n in await store.export_notes(viewer)) == sorted(texts)
            assert listed.total in range(4) and isinstance(totals, list)
            assert await store.schema_version() == LATEST
        finally:
            await store.close()
        # One schema, built once: each migration recorded exactly once, in order.
        conn = sqlite3.connect(path)
        try:
            versions = [r[0] for r in conn.execute("SELECT version FROM schema_version")]
            assert versions == [m.version for m in MIGRATIONS], versions
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            conn.close()


# -- a note's time as stored ----------------------------------------------------------------


@given(moment=st.datetimes(min_value=datetime(1000, 1, 1), timezones=st.just(UTC)))
def test_the_quick_utc_text_is_db_times(moment: datetime) -> None:
    """What an insert stores for "now" (notes.now_text) is db_time's text, for any moment."""
    from bot.store import notes as notes_sql

    assert notes_sql.utc_text(moment) == notes_sql.db_time(moment)
    assert len(notes_sql.now_text()) == len(notes_sql.db_time(moment))


@given(
    moment=st.datetimes(
        timezones=st.one_of(
            st.none(),
            st.just(UTC),
            st.builds(
                timezone,
                st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23)),
            ),
        )
    )
)
def test_db_time_is_the_utc_strftime_text_for_any_moment(moment: datetime) -> None:
    """db_time's quick path (isoformat) gives the text it always stored: the moment in UTC
    (naive: taken as UTC) through strftime, for any year and offset."""
    from bot.store import notes as notes_sql

    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    try:
        in_utc = aware.astimezone(UTC)
    except OverflowError:  # a moment near year 1 or 9999 with an offset past the range
        return
    assert notes_sql.db_time(moment) == in_utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
