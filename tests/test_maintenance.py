"""Backups while the bot writes, purging one team, and note retention."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.store import NewNote, StoreUnavailable, Viewer, open_store
from tests.support.waits import eventually
from tests.test_store_concurrency import prepare, start_writer


def note(
    team: str, text: str, *, workspace: str | None = None, when: datetime | None = None
) -> NewNote:
    return NewNote(
        team=team,
        workspace=workspace or team,
        channel="C1",
        channel_kind="public",
        author="U1",
        campaign="spring",
        text=text,
        created_at=when,
    )


async def test_backup_taken_while_eight_writers_add_notes_holds_every_note_answered_before_it(
    tmp_path,
):
    db = tmp_path / "smx.db"
    await prepare(db)
    procs = [start_writer(db, f"T{i}", 1_000_000) for i in range(8)]
    answered: list[list[int]] = [[] for _ in procs]
    lock = threading.Lock()

    def read(i: int) -> None:
        for line in procs[i].stdout:  # type: ignore[union-attr]
            with lock:
                answered[i].append(int(line))

    readers = [threading.Thread(target=read, args=(i,), daemon=True) for i in range(len(procs))]
    for t in readers:
        t.start()
    try:

        def started() -> bool:
            with lock:
                return min(len(a) for a in answered) >= 100

        await eventually(started)  # every writer has answered a hundred notes
        with lock:
            before = {i for ids in answered for i in ids}
        copy = tmp_path / "backups" / "smx-copy.db"
        live = open_store(str(db))
        try:
            written, counted = await live.backup(str(copy))
        finally:
            await live.close()
        assert written == copy
        with lock:
            at_backup = [len(a) for a in answered]

        def all_wrote_again() -> bool:  # writers keep going after the backup
            with lock:
                return all(len(a) >= n + 20 for a, n in zip(answered, at_backup, strict=True))

        await eventually(all_wrote_again)
    finally:
        for p in procs:
            p.kill()
            p.wait()
    conn = sqlite3.connect(copy)
    try:
        held = {r[0] for r in conn.execute("SELECT id FROM notes")}
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        conn.close()
    assert before <= held, f"{len(before - held)} answered notes missing from the backup"
    assert counted == len(held)
    assert not list(copy.parent.glob("*.partial"))
    # and the backup is a working database: the store opens it and searches it
    store = open_store(str(copy))
    try:
        assert (await store.list_notes(Viewer("T0", "C1"), limit=1)).total >= 100
    finally:
        await store.close()


async def test_backup_into_a_directory_names_the_file(tmp_path):
    db = tmp_path / "smx.db"
    store = open_store(str(db))
    await store.add_note(note("T1", "hello"))
    (tmp_path / "out").mkdir()
    try:
        written, notes = await store.backup(str(tmp_path / "out"))
    finally:
        await store.close()
    [made] = list((tmp_path / "out").iterdir())
    assert notes == 1 and written == made
    assert made.name.startswith("smx-") and made.suffix == ".db"


async def test_purge_removes_one_team_and_nothing_else(tmp_path):
    db = str(tmp_path / "smx.db")
    store = open_store(db)
    for team in ("T1", "T2"):
        for i in range(3):
            await store.add_note(note(team, f"{team} note {i} findme"))
    await store.add_note(note("E1", "org note from T1 findme", workspace="T1"))
    await store.claim_event("Ev1", "T1")
    try:
        removed = await store.purge_team("T1")
        assert removed["notes"] == 4 and removed["processed_events"] == 1
        assert (await store.list_notes(Viewer("T1", "C1"))).total == 0
        assert (await store.list_notes(Viewer("E1", "C1"))).total == 0
        assert (await store.list_notes(Viewer("T2", "C1"))).total == 3
        # the search index follows the deletes
        assert await store.search_notes(Viewer("T1", "C1"), "findme") == []
        assert len(await store.search_notes(Viewer("T2", "C1"), "findme")) == 3
    finally:
        await store.close()


async def test_purge_of_an_unknown_team_changes_nothing(tmp_path):
    db = str(tmp_path / "smx.db")
    store = open_store(db)
    await store.add_note(note("T2", "keep"))
    try:
        assert await store.purge_team("T-NOPE") == {}
        assert (await store.list_notes(Viewer("T2", "C1"))).total == 1
    finally:
        await store.close()


async def test_retention_deletes_only_notes_older_than_the_setting(tmp_path):
    db = str(tmp_path / "smx.db")
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    store = open_store(db)
    for days in (400, 200, 89, 1):
        await store.add_note(note("T1", f"{days} days old", when=now - timedelta(days=days)))
    try:
        assert await store.prune_notes(90, now=now) == 2
        texts = [n.text for n in await store.export_notes(Viewer("T1", "C1"))]
    finally:
        await store.close()
    assert texts == ["89 days old", "1 days old"]


async def test_backup_of_a_missing_database_is_refused(tmp_path):
    store = open_store(str(tmp_path / "smx.db"))
    try:
        with pytest.raises(StoreUnavailable, match="no database to back up at .*smx.db"):
            await store.backup(str(tmp_path / "copy.db"))
    finally:
        await store.close()
    left = await asyncio.to_thread(lambda: sorted(p.name for p in Path(tmp_path).iterdir()))
    assert left == []  # neither an empty database nor a copy was made


def test_db_commands_from_the_command_line(tmp_path):
    import os
    import subprocess
    import sys

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SMX_"))},
        "SMX_DB": str(tmp_path / "smx.db"),
    }

    def smx(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env=env,
            cwd=tmp_path,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert smx("db", "backup", "b.db").stderr.strip().endswith("check SMX_DB.")
    smx("ask", "--team", "T1", "note", "spring", "first-of-t1")
    smx("ask", "--team", "T2", "note", "spring", "two")
    made = smx("db", "backup", "b.db")
    assert (
        made.returncode == 0
        and made.stdout.strip() == f"Backed up {tmp_path / 'smx.db'} to b.db (2 notes)."
    )
    refused = smx("db", "purge", "--team", "T1")
    assert refused.returncode == 2 and "add --yes" in refused.stderr
    done = smx("db", "purge", "--team", "T1", "--yes")
    assert done.stdout.strip() == "Removed from T1: 1 notes."
    assert "first-of-t1" not in smx("ask", "--team", "T1", "notes").stdout
    assert "two" in smx("ask", "--team", "T2", "notes").stdout


async def test_purging_an_org_removes_its_org_wide_installation(tmp_path):
    from slack_sdk.oauth.installation_store import Installation

    from bot.slack.installations import StoreInstallationStore
    from tests.test_oauth_e2e import installation

    store = open_store(str(tmp_path / "smx.db"))
    installs = StoreInstallationStore(store)
    await installs.async_save(
        Installation(
            app_id="A1",
            enterprise_id="E1",
            team_id=None,
            user_id="U1",
            bot_token="xoxb-org",
            bot_id="B1",
            bot_user_id="UB1",
            is_enterprise_install=True,
        )
    )
    await installs.async_save(installation("T7", "U1", "xoxb-t7", 1000.0))
    try:
        removed = await store.purge_team("E1")
        assert removed == {"slack_installations": 1, "slack_bots": 1}
        assert await installs.count() == (1, 1)
        assert await installs.async_find_bot(enterprise_id=None, team_id="T7") is not None
    finally:
        await store.close()


async def test_a_backup_copies_an_older_file_as_it_is_without_upgrading_it(tmp_path):
    from bot.store.schema import migrate

    db = tmp_path / "old.db"

    def make_v3() -> None:
        conn = sqlite3.connect(db, isolation_level=None)
        migrate(conn, target=3)
        conn.close()

    def version(path: Path) -> int:
        conn = sqlite3.connect(path)
        try:
            return conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
        finally:
            conn.close()

    await asyncio.to_thread(make_v3)
    store = open_store(str(db))
    try:
        written, notes = await store.backup(str(tmp_path / "copy.db"))
    finally:
        await store.close()
    assert notes == 0
    assert await asyncio.to_thread(version, written) == 3
    assert await asyncio.to_thread(version, db) == 3  # the live file is not upgraded by a backup
