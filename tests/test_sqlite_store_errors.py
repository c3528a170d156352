"""SqliteStore lets no sqlite3 error out: a file that cannot be used is a StoreError, one that
cannot be opened (or a closed store) a StoreUnavailable, each naming the file, the sqlite3 error
kept as the cause for the log. ping() opens the file afresh, so it notices what open connections
do not (the directory moved away) and answers again once the file is back."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.store import NewNote, SchemaTooNew, StoreError, StoreUnavailable, Viewer, open_store
from tests.test_maintenance import note as team_note

VIEWER = Viewer("T1", "C1")


def note(text: str) -> NewNote:
    return team_note("T1", text)


async def test_a_file_that_is_not_a_database_is_a_store_error_naming_it(tmp_path: Path):
    junk = tmp_path / "junk.db"
    await asyncio.to_thread(junk.write_text, "not a database, just words " * 100)
    store = open_store(str(junk))
    try:
        with pytest.raises(StoreError) as raised:
            await store.list_notes(VIEWER)
        assert str(junk) in str(raised.value) and "file is not a database" in str(raised.value)
        assert isinstance(raised.value.__cause__, sqlite3.DatabaseError)
        with pytest.raises(StoreError):  # and so does every call after it, writes too
            await store.add_note(note("hello"))
        with pytest.raises(StoreError) as migrating:
            store.migrate()
        assert isinstance(migrating.value.__cause__, sqlite3.DatabaseError)
    finally:
        await store.close()


async def test_a_file_that_cannot_be_opened_is_unavailable(tmp_path: Path):
    gone = tmp_path / "gone"
    await asyncio.to_thread(gone.mkdir)
    store = open_store(str(gone / "smx.db"))
    await asyncio.to_thread(gone.rmdir)  # after the settings were checked, before the first call
    try:
        with pytest.raises(StoreUnavailable) as raised:
            await store.add_note(note("hello"))
        assert str(gone / "smx.db") in str(raised.value)
        assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
        with pytest.raises(StoreUnavailable):
            await store.ping()
    finally:
        await store.close()


async def test_a_closed_store_is_unavailable_not_a_runtime_error(tmp_path: Path):
    store = open_store(str(tmp_path / "smx.db"))
    await store.add_note(note("hello"))
    await store.close()
    for call in (store.list_notes(VIEWER), store.ping(), store.find_bot("", "T1")):
        with pytest.raises(StoreUnavailable, match="closed"):
            await call
    with pytest.raises(StoreUnavailable, match="closed"):
        store.migrate()


async def test_a_newer_schema_stays_schema_too_new(tmp_path: Path):
    path = tmp_path / "smx.db"
    store = open_store(str(path))
    await store.schema_version()
    await store.close()

    def from_the_future() -> None:
        conn = sqlite3.connect(path)
        with conn:
            conn.execute("INSERT INTO schema_version VALUES (99, 'the future', 'then')")
        conn.close()

    await asyncio.to_thread(from_the_future)
    again = open_store(str(path))
    try:
        with pytest.raises(SchemaTooNew):
            await again.list_notes(VIEWER)
    finally:
        await again.close()


async def test_ping_notices_the_directory_moved_away_and_answers_once_it_is_back(tmp_path: Path):
    home = tmp_path / "data"
    await asyncio.to_thread(home.mkdir)
    store = open_store(str(home / "smx.db"))
    try:
        await store.add_note(note("before"))
        await store.ping()
        aside = tmp_path / "aside"
        await asyncio.to_thread(home.rename, aside)
        with pytest.raises(StoreUnavailable) as raised:
            await store.ping()
        assert str(home / "smx.db") in str(raised.value)
        assert not await asyncio.to_thread(home.exists)  # ping made no new file or directory
        await asyncio.to_thread(aside.rename, home)
        await store.ping()
        assert [n.text for n in await store.export_notes(VIEWER)] == ["before"]
    finally:
        await store.close()


async def test_ping_of_a_file_not_yet_made_does_not_make_it(tmp_path: Path):
    store = open_store(str(tmp_path / "smx.db"))
    try:
        with pytest.raises(StoreUnavailable):
            await store.ping()
        assert not await asyncio.to_thread((tmp_path / "smx.db").exists)
        store.migrate()
        await store.ping()
    finally:
        await store.close()
