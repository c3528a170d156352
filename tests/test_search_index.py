"""SQLite's full-text index keyed by team (schema v8): the terms smx makes in Python are SQLite's
own, the index never drifts from the notes whoever writes them, and a search finds exactly the
notes v7's search found (v7's index and query are rebuilt here, beside v8's, as the reference).

The ranking is not compared: it is v7's bm25 over every team's notes there, bm25 over the team's
own words here (tests/contract/test_search_by_team.py shows what that changes)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.store import NewNote, Viewer, open_store, search_terms
from bot.store import notes as notes_sql
from bot.store.schema import LATEST, migrate
from bot.store.sqlite import connect
from bot.text import clean
from tests.support.contract import note
from tests.support.hostile import fuzz_settings, hostile_text
from tests.support.search_index import assert_index_matches_notes

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def no_surrogates(text: str) -> bool:
    return not any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)  # no store is handed one


# -- the terms ----------------------------------------------------------------------------------

WORDS = [
    "reel", "Reels", "REEL", "launch", "Launched", "launching", "the", "as", "is", "us", "oping",
    "Été", "ete", "naïve", "Ünïcödé", "v2.1", "a/b", "spring-launch", "x", "ǅemal", "ﬁnal",
    "２０２５", "Straße", "İstanbul", "ΣΊΣΥΦΟΣ", "日本語", "e\u0301te\u0301", "١٢٣", "Ⅻ",
    "don't", "co-op", "e-mail", "3x", "60k", "$400", "CTR", "ctr's", "x\u200by", "a\u00a0b",
]  # fmt: skip
GLUE = [" ", "  ", "-", ".", "/", "\n", "_", "'", '"', "*", ":", "\t", "\u3000", ""]
TEXTS = st.one_of(
    st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(GLUE)), max_size=12).map(
        lambda pairs: "".join(w + g for w, g in pairs)
    ),
    st.text(max_size=40),
    hostile_text(40),
).filter(no_surrogates)


@fuzz_settings(300)
@given(text=TEXTS)
def test_the_terms_made_in_python_are_sqlites_own(text: str) -> None:
    """A piece at a time and cached, they are what SQLite's tokenizer makes of the whole text,
    in the same order: the insert trigger's terms for the same note."""
    assert search_terms.terms(text) == list(search_terms.tokenize(text))
    assert search_terms.terms(text) == list(search_terms.tokenize(text))  # from the cache too


@pytest.mark.parametrize("number", ["0", "7", "42", "2025", "0007", "1" * 40, "123456789"])
def test_a_number_is_its_own_term(number: str) -> None:
    assert search_terms.tokenize(number) == (number,)
    assert search_terms.tokenize(f"x{number}") != (number,)  # only a number alone


def test_keys_are_one_teams_alone() -> None:
    keys = {search_terms.search_key(t) for t in ("T1", "T12", "t1", "T1 ", "Ť1", "E0", "")}
    assert len(keys) == 7
    assert all(k.endswith("_") and k.count("_") == 1 for k in keys)  # so none begins another


# -- the index follows every writer -------------------------------------------------------------


async def test_the_index_follows_every_writer(tmp_path: Path) -> None:
    path = str(tmp_path / "smx.db")
    store = open_store(path)
    try:
        # smx's own inserts, many at once (one batch, a savepoint each) and alone
        written = await _gather(
            store,
            [note(f"reel {w} number {i}", team=f"T{i % 3}", workspace=f"T{i % 3}",
                  created_at=NOW - timedelta(days=40 * (i % 2)))
             for i, w in enumerate(WORDS)],
        )  # fmt: skip
        await store.add_note(note("Été launch", campaign="Spring-Launch"))
        conn = connect(path)
        # anyone else's, in plain SQL: the triggers
        conn.execute(
            "INSERT INTO notes (team, workspace, channel, channel_kind, author, campaign, text,"
            " created_at) VALUES ('T9', 'T9', 'C1', 'public', 'U1', 'q3', 'Reels v2.1 naïve', ?)",
            [notes_sql.db_time(NOW)],
        )
        conn.execute("UPDATE notes SET text = 'story did well' WHERE id = ?", [written[0]])
        conn.execute("UPDATE notes SET team = 'T7' WHERE id = ?", [written[1]])
        conn.execute("UPDATE notes SET campaign = 'brand-x' WHERE id = ?", [written[2]])
        conn.execute("DELETE FROM notes WHERE id = ?", [written[3]])
        assert_index_matches_notes(conn)
        # smx's deletes, retention and a purge
        viewer = Viewer("T1", "C1", "U1")
        assert await store.delete_note(viewer, written[4], is_admin=False) == "deleted"
        assert await store.prune_notes(30, now=NOW) > 0
        assert (await store.purge_team("T2"))["notes"] > 0
        assert_index_matches_notes(conn)
        assert [n.text for n in await store.search_notes(Viewer("T9", "C1"), "reel")] == [
            "Reels v2.1 naïve"
        ]
        conn.close()
    finally:
        await store.close()


async def _gather(store, new: list[NewNote]) -> list[int]:
    return list(await asyncio.gather(*(store.add_note(n) for n in new)))


def test_an_insert_that_fails_leaves_the_index_as_it_was(tmp_path: Path) -> None:
    conn = connect(str(tmp_path / "smx.db"))
    migrate(conn)
    notes_sql.insert(conn, note("reel kept"))
    with pytest.raises(sqlite3.IntegrityError):
        notes_sql.insert(conn, note("x" * 4001))  # the length CHECK refuses it
    assert conn.execute("SELECT count(*) FROM notes_search_writer").fetchone()[0] == 0
    # and a note written in plain SQL after it is indexed by the trigger, as any other
    conn.execute(
        "INSERT INTO notes (team, workspace, channel, channel_kind, author, campaign, text,"
        " created_at) VALUES ('T1', 'T1', 'C1', 'public', 'U1', 'c', 'reel later', 'x')"
    )
    assert_index_matches_notes(conn)
    conn.close()


async def test_a_batch_is_indexed_in_one_statement_and_matches_the_triggers(tmp_path: Path) -> None:
    """The notes of one batch, the ones refused among them left out, are indexed together
    (notes.search_batch): the index is what the triggers make, and each note is found."""
    path = str(tmp_path / "smx.db")
    store = open_store(path)
    try:
        texts = ["reel one", "Reels two", "x" * 4001, "launch v2.1 three", "naïve été four"]
        results = await asyncio.gather(
            *(store.add_note(note(t)) for t in texts), return_exceptions=True
        )
        assert isinstance(results[2], Exception)  # the length CHECK refuses it, alone
        assert all(isinstance(results[i], int) for i in (0, 1, 3, 4)), results
        conn = connect(path)
        assert_index_matches_notes(conn)
        assert conn.execute("SELECT count(*) FROM notes_search_writer").fetchone()[0] == 0
        conn.close()
        found = await store.search_notes(Viewer("T1", "C1"), "reel")
        assert sorted(n.text for n in found) == ["Reels two", "reel one"]
        assert [n.text for n in await store.search_notes(Viewer("T1", "C1"), "ete")] == [
            "naïve été four"
        ]
    finally:
        await store.close()


async def test_a_batch_whose_index_write_fails_is_written_again_one_note_at_a_time(
    tmp_path: Path, monkeypatch
) -> None:
    """Should the one statement that indexes a batch fail, nothing of the batch is kept and it
    is written again with each note indexed on its own: the note that cannot be indexed fails
    alone, the others are logged and found."""
    real_keyed = search_terms.keyed

    def keyed(team: str, text: str):
        # Terms SQLite cannot be handed: the index's INSERT fails for this note, batched or not.
        return ["not", "text"] if text == "reel blocked" else real_keyed(team, text)

    monkeypatch.setattr(search_terms, "keyed", keyed)
    path = str(tmp_path / "smx.db")
    store = open_store(path)
    sizes: list[int] = []
    write_many = store._note_batches._write_many

    def counted(items):  # on the store's writer thread
        sizes.append(len(items))
        return write_many(items)

    monkeypatch.setattr(store._note_batches, "_write_many", counted)
    try:
        results = await asyncio.gather(
            store.add_note(note("reel kept")),
            store.add_note(note("reel blocked")),
            store.add_note(note("reel also kept")),
            return_exceptions=True,
        )
        assert sizes == [3]  # one batch
        assert isinstance(results[1], Exception), results
        assert isinstance(results[0], int) and isinstance(results[2], int), results
        assert results[2] == results[0] + 1  # ids of the first try, rolled back, handed out again
        found = await store.search_notes(Viewer("T1", "C1"), "reel")
        assert sorted(n.text for n in found) == ["reel also kept", "reel kept"]
        listed = await store.list_notes(Viewer("T1", "C1"))
        assert sorted(n.text for n in listed.notes) == ["reel also kept", "reel kept"]
        conn = connect(path)
        assert_index_matches_notes(conn)
        conn.close()
    finally:
        await store.close()


# -- the same notes as v7's search --------------------------------------------------------------


def v7_query(typed: str) -> str | None:
    """v7's notes.fts_query: every word quoted (quotes doubled), a trailing `*` kept outside."""
    terms = [
        '"' + word.replace('"', '""') + '"' + ("*" if prefix else "")
        for word, prefix in notes_sql.search_words(typed)
    ]
    return " ".join(terms) or None


def v7_found(conn: sqlite3.Connection, viewer: Viewer, typed: str) -> set[int]:
    query = v7_query(typed)
    if query is None:
        return set()
    where, params = notes_sql._visible(viewer)
    rows = conn.execute(
        "SELECT v7.rowid FROM v7 WHERE v7 MATCH ?"
        f" AND v7.rowid IN (SELECT n.id FROM notes AS n WHERE {where})",
        [query, *params],
    )
    return {r[0] for r in rows}


def with_v7_index(conn: sqlite3.Connection) -> None:
    """v2-v7's index over the same notes, as the v2 migration made it."""
    conn.execute(
        "CREATE VIRTUAL TABLE v7 USING fts5(campaign, text, content='notes', content_rowid='id',"
        f" tokenize='{search_terms.SEARCH_TOKENIZER}')"
    )
    conn.execute("INSERT INTO v7 (v7) VALUES ('rebuild')")


QUERY_WORDS = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(WORDS).map(lambda w: w[: max(1, len(w) // 2)] + "*"),
    st.sampled_from(WORDS).map(str.upper),
    st.text(max_size=8),
    hostile_text(8),
)
QUERIES = st.lists(QUERY_WORDS, min_size=1, max_size=3).map(" ".join).filter(no_surrogates)
VIEWERS = [Viewer("T1", "C1", "U1"), Viewer("T1", "G1"), Viewer("T1", "G1", confined=True)]


@fuzz_settings(150)
@given(
    texts=st.lists(st.tuples(TEXTS, st.booleans(), st.booleans()), min_size=1, max_size=8),
    queries=st.lists(QUERIES, min_size=1, max_size=4),
)
def test_a_search_finds_the_notes_v7_found(tmp_path_factory, texts, queries) -> None:
    """On a small database of two teams, notes written by smx and in plain SQL, private and
    public: every query finds, as a set, what v7's index and query found for the same viewer."""
    conn = connect(str(tmp_path_factory.mktemp("v7") / "smx.db"))
    migrate(conn)
    for i, (text, plain_sql, private) in enumerate(texts):
        row = dict(
            team="T1" if i % 4 else "T2", channel="G1" if private else "C1",
            channel_kind="private" if private else "public", author=f"U{i % 2}",
            campaign=("Spring-Launch", "q3", "Été-2025")[i % 3], text=clean(text) or "-",
        )  # fmt: skip
        if plain_sql:
            conn.execute(
                "INSERT INTO notes (team, workspace, channel, channel_kind, author, campaign,"
                " text, created_at) VALUES (:team, :team, :channel, :channel_kind, :author,"
                " :campaign, :text, '2026-01-01T00:00:00.000000Z')",
                row,
            )
        else:
            notes_sql.insert(conn, note(**{**row, "workspace": row["team"]}))
    with_v7_index(conn)
    for typed in queries:
        for viewer in VIEWERS:
            found = {n.id for n in notes_sql.search(conn, viewer, typed, 100)}
            assert found == v7_found(conn, viewer, typed), (typed, viewer)
    conn.close()


async def test_a_v7_file_upgrades_and_finds_what_it_found(tmp_path: Path) -> None:
    """v8 builds its index from the notes a v7 file holds: the same notes found for every
    query as v7 found them, and the index exactly what the triggers would have made."""
    path = str(tmp_path / "smx.db")
    conn = connect(path)
    assert migrate(conn, target=7) == 7
    for i, text in enumerate(WORDS * 3):
        conn.execute(
            "INSERT INTO notes (team, workspace, channel, channel_kind, author, campaign, text,"
            " created_at) VALUES (?, ?, ?, ?, 'U1', ?, ?, '2026-01-01T00:00:00.000000Z')",
            [f"T{i % 3}", f"T{i % 3}", f"C{i % 2}", ("public", "private")[i % 2], "spring-a",
             f"{text} {WORDS[(i * 7) % len(WORDS)]}"],
        )  # fmt: skip
    assert migrate(conn) == LATEST
    assert_index_matches_notes(conn)
    gone = conn.execute("SELECT name FROM sqlite_master WHERE name LIKE 'notes_fts%'").fetchall()
    assert gone == []  # v7's index and its triggers
    with_v7_index(conn)
    for typed in [*WORDS, "ree*", "spring", "a*", "launch reel", "v2.1*"]:
        for viewer in (Viewer("T1", "C0", "U1"), Viewer("T2", "C1")):
            assert {n.id for n in notes_sql.search(conn, viewer, typed, 100)} == v7_found(
                conn, viewer, typed
            ), typed
    conn.close()


async def test_a_file_that_took_version_8_as_an_empty_placeholder_gets_the_index(tmp_path: Path):
    """For a few commits of main, version 8 was an empty placeholder and version 9 the digest
    index: a file opened then is at 9 without v8's index, and version 10 builds it."""
    from sqlite_utils import Database

    from bot.store import schema

    path = str(tmp_path / "smx.db")
    conn = connect(path)
    assert migrate(conn, target=7) == 7
    conn.execute(
        "INSERT INTO notes (team, workspace, channel, channel_kind, author, campaign, text,"
        " created_at) VALUES ('T1', 'T1', 'C1', 'public', 'U1', 'spring', 'reel saves',"
        " '2026-01-01T00:00:00.000000Z')"
    )
    with conn:  # what those commits applied: nothing for 8, the digest index for 9
        schema._v9_digest_index(Database(conn))
        for version in (8, 9):
            conn.execute(
                "INSERT INTO schema_version VALUES (?, 'then', '2026-12-01T00:00:00+00:00')",
                [version],
            )
    assert migrate(conn) == LATEST and LATEST >= 10
    assert_index_matches_notes(conn)
    conn.close()
    store = open_store(path)
    try:
        note_id = await store.add_note(note("reel saves again"))
        found = await store.search_notes(Viewer("T1", "C1"), "reel")
        assert {n.text for n in found} == {"reel saves", "reel saves again"} and note_id
    finally:
        await store.close()
