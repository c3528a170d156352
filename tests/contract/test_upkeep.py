"""The operator's tasks on every backend: retention deletes only older notes, a purge removes one
team's rows from every table and nothing of another's, a backup is a file or says which tool."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.store import BackupUnsupported, InstallationRecord, StoreError, Viewer
from bot.store.imports import TargetRecord
from tests.support.contract import claim_slot, note
from tests.support.digest_support import subscription

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


async def test_retention_deletes_only_notes_older_than_the_kept_days(store) -> None:
    old = [
        store.add_note(note(f"old {i}", created_at=NOW - timedelta(days=31, minutes=i)))
        for i in range(620)  # more than one batch
    ]
    await asyncio.gather(*old)
    edge = await store.add_note(
        note("just inside", created_at=NOW - timedelta(days=30) + timedelta(seconds=1))
    )
    recent = await store.add_note(note("recent", created_at=NOW - timedelta(days=1)))
    other_team = await store.add_note(
        note("old elsewhere", team="T2", created_at=NOW - timedelta(days=90))
    )
    assert await store.prune_notes(30, now=NOW) == 621
    kept = [n.id for n in await store.export_notes(Viewer("T1", "C1"))]
    assert kept == [edge, recent]
    assert await store.get_note(Viewer("T2", "C1"), other_team) is None
    assert await store.search_notes(Viewer("T1", "C1"), "old") == []
    assert await store.prune_notes(30, now=NOW) == 0


async def _fill(store, team: str, *, enterprise: str) -> None:
    """A row of `team` in every table that holds a team's data."""
    at = NOW - timedelta(days=1)
    await store.add_note(note(f"note of {team}", team=team, workspace=team, created_at=at))
    # A Grid org's note logged in this workspace: the workspace's too.
    await store.add_note(note("org note", team=enterprise, workspace=team, created_at=at))
    await store.add_note(note(f"mention {team}", team=team, workspace=team), event_id=f"Ev{team}")
    await store.claim_event(f"Ev2{team}", team)
    sub = subscription("C1", NOW, team=team)
    await store.save_subscription(sub)
    run = await claim_slot(store, sub, now=NOW)
    assert run is not None
    data = {"bot_token": f"xoxb-{team}"}
    await store.save_installation(InstallationRecord("", team, "U1", False, 1.0, data))
    await store.save_bot(InstallationRecord("", team, "", False, 1.0, data))
    await store.save_bot(InstallationRecord(enterprise, "", "", True, 1.0, data))
    imported = note(f"imported {team}", team=team, workspace=team, created_at=at)
    await store.import_notes([(imported, f"key-{team}")])
    await store.set_targets([
        TargetRecord(team, team, "spring", "cpa", "<=", 20.0, "$", "C1", "public", "U1", NOW)
    ])  # fmt: skip


async def test_a_purge_removes_one_team_from_every_table_and_nothing_of_another(
    backend, store
) -> None:
    await _fill(store, "T1", enterprise="E1")
    await _fill(store, "T2", enterprise="E2")
    before = backend.team_rows("T1")
    untouched = backend.team_rows("T2")
    # Every table that keys rows by team got one here: a new such table must be added above.
    assert before and all(count > 0 for count in before.values()), before
    removed = await store.purge_team("T1")
    assert sum(removed.values()) >= sum(before.values()) - before.get("notes", 0) + 1
    assert {t: n for t, n in removed.items() if n}.keys() == {t for t, n in before.items() if n}
    assert all(count == 0 for count in backend.team_rows("T1").values()), backend.team_rows("T1")
    assert backend.team_rows("T2") == untouched
    assert await store.find_bot("", "T1") is None and await store.find_bot("", "T2") is not None
    assert await store.get_subscription("T1", "C1") is None
    assert await store.list_runs("T1") == []
    assert await store.claim_event("EvT1", "T1") is True  # forgotten with the team
    # An org-wide install is keyed by its enterprise: purging the enterprise removes it.
    assert await store.find_bot("E1", "") is not None
    await store.purge_team("E1")
    assert await store.find_bot("E1", "") is None and await store.find_bot("E2", "") is not None
    assert (await store.list_notes(Viewer("E2", "C1"))).total == 1


async def test_purging_a_team_with_no_rows_changes_nothing(backend, store) -> None:
    await _fill(store, "T2", enterprise="E2")
    untouched = backend.team_rows("T2")
    removed = await store.purge_team("T9")
    assert sum(removed.values()) == 0
    assert backend.team_rows("T2") == untouched


async def test_a_backup_is_a_file_with_the_notes_or_says_which_tool_to_use(
    backend, store, tmp_path
) -> None:
    for i in range(3):
        await store.add_note(note(f"n{i}"))
    if backend.name == "postgres":
        with pytest.raises(BackupUnsupported, match="pg_dump"):
            await store.backup(str(tmp_path / "backups"))
        return
    (tmp_path / "backups").mkdir()
    written, notes = await store.backup(str(tmp_path / "backups"))  # a directory: named in it
    assert notes == 3 and written.is_file() and written.parent == tmp_path / "backups"
    named, _ = await store.backup(str(tmp_path / "smx-copy.db"))  # a file: that name
    assert named == tmp_path / "smx-copy.db" and named.is_file()
    from tests.support.contract import open_target

    copy = await open_target(str(written))
    try:
        assert (await copy.list_notes(Viewer("T1", "C1"))).total == 3
    finally:
        await copy.close()


def _team_columns_in_database(backend) -> dict[str, set[str]]:
    """Every table or view of the database that has one of schema.TEAM_COLUMNS: its such
    columns, read from the database's own catalogue."""
    from bot.store.schema import TEAM_COLUMNS

    found: dict[str, set[str]] = {}
    if backend.name == "sqlite":
        import sqlite3

        conn = sqlite3.connect(backend.target)
        try:
            names = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
                )
            ]
            for name in names:
                columns = {r[1] for r in conn.execute(f'PRAGMA table_info("{name}")')}
                if keyed := columns & set(TEAM_COLUMNS):
                    found[name] = keyed
        finally:
            conn.close()
        return found
    import psycopg

    with psycopg.connect(backend.target, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND column_name = ANY(%s)",
            [list(TEAM_COLUMNS)],
        ).fetchall()
    for table, column in rows:
        found.setdefault(table, set()).add(column)
    return found


async def test_the_purge_list_names_every_table_that_holds_a_teams_rows(backend, store) -> None:
    """schema.TEAM_TABLES is what a purge deletes from: a migration that adds a per-team table
    (or a team column) and forgets the list fails here."""
    from bot.store.schema import TEAM_TABLES

    store.migrate()
    assert _team_columns_in_database(backend) == {t: set(c) for t, c in TEAM_TABLES.items()}


@pytest.mark.parametrize("blank", ["", " ", "\t \n"])
async def test_a_blank_team_is_refused_and_purges_nothing(backend, store, blank) -> None:
    # Installations of workspaces outside a Grid org have enterprise_id '': a purge of '' once
    # removed every one of them.
    await _fill(store, "T1", enterprise="E1")
    await _fill(store, "T2", enterprise="E2")
    before = {team: backend.team_rows(team) for team in ("T1", "T2", "E1", "")}
    with pytest.raises(StoreError) as caught:
        await store.purge_team(blank)
    message = str(caught.value)
    assert "--team T0123ABC" in message and "\n" not in message, message
    assert {team: backend.team_rows(team) for team in before} == before
    for team in ("T1", "T2"):
        assert await store.find_bot("", team) is not None
        assert await store.find_installation("", team) is not None
