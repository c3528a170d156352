"""The store: schema and migrations, pragmas, search quoting, team keying, de-duplication, and an
event loop that keeps running while SQLite waits."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.store import LATEST, NewNote, SchemaTooNew, Viewer, open_store
from bot.store.notes import fts_query
from bot.store.schema import MIGRATIONS, migrate
from bot.store.sqlite import connect
from tests.support.waits import WAIT

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def note(text: str = "reel got 3x saves", **fields: object) -> NewNote:
    base: dict[str, object] = dict(
        team="T1", workspace="T1", channel="C1", channel_kind="public", author="U1",
        campaign="spring-launch", text=text,
    )  # fmt: skip
    base.update(fields)
    return NewNote(**base)  # type: ignore[arg-type]


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


async def test_database_made_by_schema_v1_upgrades_with_notes_intact(tmp_path: Path) -> None:
    path = str(tmp_path / "old.db")
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, target=1) == 1
    # What smx wrote with schema v1: no search index yet.
    for i, text in enumerate(["Reel got 3x saves", "Carousel flopped", "Story link CTR up"]):
        conn.execute(
            "INSERT INTO notes (team, workspace, channel, channel_kind, author, campaign, text,"
            " created_at, spend, currency) VALUES ('T1', 'T1', 'C1', 'public', 'U1', 'spring',"
            " ?, ?, ?, '$')",
            [text, f"2025-03-0{i + 1}T09:00:00.000000Z", 100.0 * (i + 1)],
        )
    conn.close()

    store = open_store(path)
    try:
        assert await store.schema_version() == LATEST
        viewer = Viewer("T1", "C1", "U1")
        page = await store.list_notes(viewer)
        assert [n.text for n in page.notes] == [
            "Story link CTR up",
            "Carousel flopped",
            "Reel got 3x saves",
        ]
        assert [n.id for n in page.notes] == [3, 2, 1]
        assert page.notes[0].spend == 300.0 and page.notes[0].created_at == datetime(
            2025, 3, 3, 9, tzinfo=UTC
        )
        # The v2 search index covers the notes v1 wrote; v3's event table works.
        assert [n.id for n in await store.search_notes(viewer, "carousel")] == [2]
        assert await store.claim_event("Ev1", "T1")
        assert await store.add_note(note("after the upgrade")) == 4
    finally:
        await store.close()
    conn = sqlite3.connect(path)
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == list(range(1, LATEST + 1))
    conn.close()


async def test_database_from_a_newer_smx_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "new.db")
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn)
    conn.execute("INSERT INTO schema_version VALUES (?, 'future', '2030-01-01')", [LATEST + 1])
    conn.close()
    store = open_store(path)
    with pytest.raises(SchemaTooNew, match="newer than this smx"):
        await store.schema_version()
    await store.close()


async def test_in_memory_database_works() -> None:
    store = open_store(":memory:")
    note_id = await store.add_note(note())
    assert (await store.list_notes(Viewer("T1", "C1"))).notes[0].id == note_id
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
    conn.execute("INSERT INTO notes_fts (notes_fts) VALUES ('integrity-check')")
    conn.close()


async def test_search_stems_and_supports_prefixes(store) -> None:
    viewer = Viewer("T1", "C1")
    note_id = await store.add_note(note("Launched three reels for the Spring-Launch"))
    assert [n.id for n in await store.search_notes(viewer, "reel launch")] == [note_id]
    assert [n.id for n in await store.search_notes(viewer, "spri*")] == [note_id]
    assert await store.search_notes(viewer, "spri") == []
    assert await store.search_notes(viewer, "reel carousel") == []


@pytest.mark.parametrize(
    ("typed", "query"),
    [
        ("reel", '"reel"'),
        ('say "hi', '"say" """hi"'),
        ("reel AND story", '"reel" "AND" "story"'),
        ("NEAR(a b)", '"NEAR(a" "b)"'),
        ("camp* *", '"camp"*'),
        ("text:secret ^x -y", '"text:secret" "^x" "-y"'),
        ('* ** " ( )', None),
    ],
)
def test_fts_query_quotes_every_word(typed: str, query: str | None) -> None:
    assert fts_query(typed) == query


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_typed_query_is_valid_fts(typed: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(text)")
    conn.execute("INSERT INTO t VALUES ('some words \"and\" AND near NEAR stars *')")
    query = fts_query(typed)
    if query is not None:
        conn.execute("SELECT * FROM t WHERE t MATCH ?", [query]).fetchall()


async def test_every_read_is_keyed_by_team(store) -> None:
    mine = await store.add_note(note("team one only"))
    other = Viewer("T2", "C1", "U1")  # same channel and user ids, another tenant
    assert await store.get_note(other, mine) is None
    assert (await store.list_notes(other)).total == 0
    assert await store.search_notes(other, "team") == []
    assert await store.export_notes(other) == []
    assert await store.campaign_totals(other) == []
    assert await store.delete_note(other, mine, is_admin=True) == "missing"
    assert await store.get_note(Viewer("T1", "C9"), mine) is not None


async def test_private_notes_stay_in_their_conversation_and_with_their_author(store) -> None:
    dm = await store.add_note(note("dm idea", channel="D1", channel_kind="im", author="U1"))
    assert await store.get_note(Viewer("T1", "D1"), dm) is not None  # in that DM
    assert await store.get_note(Viewer("T1", "C1", "U1"), dm) is not None  # its author, privately
    assert await store.get_note(Viewer("T1", "C1"), dm) is None  # not in a channel-wide answer
    assert await store.get_note(Viewer("T1", "C1", "U2"), dm) is None  # nor to anyone else


async def test_delete_is_for_the_author_or_an_admin_who_can_see_it(store) -> None:
    public = await store.add_note(note(author="U1"))
    assert await store.delete_note(Viewer("T1", "C1", "U2"), public, is_admin=False) == "forbidden"
    assert await store.delete_note(Viewer("T1", "C1", "U2"), public, is_admin=True) == "deleted"
    assert await store.delete_note(Viewer("T1", "C1", "U2"), public, is_admin=True) == "missing"
    hidden = await store.add_note(note(channel="G1", channel_kind="private", author="U1"))
    assert await store.delete_note(Viewer("T1", "C1", "U9"), hidden, is_admin=True) == "missing"
    assert await store.delete_note(Viewer("T1", "C5", "U1"), hidden, is_admin=False) == "deleted"
    # AUTOINCREMENT: an answered id is never handed to another note.
    assert await store.add_note(note()) == hidden + 1


async def test_listing_pages_newest_first_and_filters_by_time(store) -> None:
    ids = [
        await store.add_note(note(f"day {d}", created_at=T0 + timedelta(days=d))) for d in range(5)
    ]
    viewer = Viewer("T1", "C1")
    first = await store.list_notes(viewer, limit=2)
    second = await store.list_notes(viewer, limit=2, offset=2)
    assert first.total == 5
    assert [n.id for n in first.notes + second.notes] == ids[::-1][:4]
    recent = await store.list_notes(viewer, since=T0 + timedelta(days=3))
    assert [n.id for n in recent.notes] == [ids[4], ids[3]]
    window = await store.list_notes(
        viewer, since=T0 + timedelta(days=1), until=T0 + timedelta(days=2)
    )
    assert [n.id for n in window.notes] == [ids[1]]
    assert [n.id for n in await store.export_notes(viewer)] == ids


async def test_campaign_totals_pair_figures_from_the_same_notes(store) -> None:
    await store.add_note(note(spend=400.0, currency="$", impressions=60_000.0, clicks=1_200.0))
    await store.add_note(note(spend=100.0, currency="$", platform="instagram"))  # no impressions
    await store.add_note(note(clicks=300.0, conversions=30.0, campaign="other"))
    spring, other = await store.campaign_totals(Viewer("T1", "C1"))
    assert spring.campaign == "spring-launch" and spring.notes == 2
    assert spring.spend == 500.0 and spring.platforms == ("instagram",)
    assert spring.currencies == ("$",)
    assert spring.spend_per_impression == (400.0, 60_000.0)  # the $100 had no impressions
    assert spring.clicks_per_impression == (1_200.0, 60_000.0)
    assert spring.spend_per_conversion is None
    assert other.spend is None and other.conversions == 30.0


async def test_re_delivered_events_are_claimed_once(store) -> None:
    assert await store.claim_event("Ev1", "T1") is True
    assert await store.claim_event("Ev1", "T1") is False
    first = await store.add_note(note("from a mention"), event_id="Ev2")
    assert first is not None
    assert await store.add_note(note("from a mention"), event_id="Ev2") is None
    assert (await store.list_notes(Viewer("T1", "C1"))).total == 1
    assert await store.prune_events(3600) == 0
    assert await store.prune_events(-1) == 2
    assert await store.claim_event("Ev1", "T1") is True


async def test_concurrent_adds_from_one_process_all_land(store) -> None:
    ids = await asyncio.gather(*(store.add_note(note(f"n{i}")) for i in range(200)))
    assert sorted(ids) == list(range(1, 201))


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
