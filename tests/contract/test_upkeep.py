"""The operator's tasks on every backend: retention deletes only older notes, a purge removes one
team's rows from every table and nothing of another's, a backup is a file or says which tool."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.store import BackupUnsupported, InstallationRecord, Viewer
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
