"""Every backend upgrades a database made by any older smx in place, with its data intact, refuses
one made by a newer smx, and builds a new one once when several processes start together."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.store import LATEST, SchemaTooNew, Viewer
from bot.store.schema import VERSIONS
from tests.support.contract import Seeder, note

OLD = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
NEXT_RUN = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)


def seed(seeder: Seeder, version: int) -> None:
    """What an smx at schema `version` had written: a row in every table it knew."""
    for i, text in enumerate(["Reel got 3x saves", "Carousel flopped", "Story link CTR up"]):
        seeder.insert(
            "notes",
            team="T1", workspace="T1", channel="C1", channel_kind="public", author="U1",
            campaign="spring", text=text, created_at=OLD + timedelta(days=i),
            spend=100.0 * (i + 1), currency="$", metrics={"revenue": 5.0 * i},
        )  # fmt: skip
    if version >= 3:
        seeder.insert("processed_events", event_id="EvOld", team="T1", seen_at=datetime.now(UTC))
    if version >= 4:
        seeder.insert(
            "digest_subscriptions",
            team="T1", channel="C1", workspace="T1", enterprise="", weekday=0, hour=9, minute=0,
            tz="Europe/Berlin", subscriber="U1", state="active", include_empty=True,
            next_run=NEXT_RUN, created_at=OLD, updated_at=OLD,
        )  # fmt: skip
        seeder.insert(
            "digest_runs",
            team="T1", channel="C1", week="2025-W10", due=NEXT_RUN - timedelta(weeks=1),
            state="posted", late=False, claimed_by="A", claimed_at=OLD, attempts=1, ts="1.1",
            notes=3, finished_at=OLD,
        )  # fmt: skip


OLDER = [v for v, _ in VERSIONS if v < LATEST]
pytestmark = pytest.mark.empty_database


@pytest.mark.parametrize("version", OLDER, ids=[f"from-v{v}" for v in OLDER])
async def test_a_database_from_an_older_smx_upgrades_with_its_data_intact(
    backend, version: int
) -> None:
    seeder = backend.older(version)
    try:
        seed(seeder, version)
    finally:
        seeder.close()
    assert backend.applied_versions() == list(range(1, version + 1))

    store = await backend.open()
    assert await store.schema_version() == LATEST
    viewer = Viewer("T1", "C1", "U1")
    page = await store.list_notes(viewer)
    assert [n.text for n in page.notes] == [
        "Story link CTR up",
        "Carousel flopped",
        "Reel got 3x saves",
    ]
    assert [n.id for n in page.notes] == [3, 2, 1]
    newest = page.notes[0]
    assert newest.spend == 300.0 and newest.currency == "$" and newest.metrics == {"revenue": 10.0}
    assert newest.created_at == OLD + timedelta(days=2)
    # The search index covers notes written before it existed (v2).
    assert [n.id for n in await store.search_notes(viewer, "carousel")] == [2]
    # New ids follow the old ones; every later version's tables work.
    assert await store.add_note(note("after the upgrade")) == 4
    assert await store.claim_event("EvNew", "T1") is True
    assert await store.count_installations() == (0, 0)
    if version >= 3:
        assert await store.claim_event("EvOld", "T1") is False  # still remembered
    if version >= 4:
        sub = await store.get_subscription("T1", "C1")
        assert sub.next_run == NEXT_RUN and sub.include_empty and sub.tz == "Europe/Berlin"
        assert sub.created_at == OLD
        run = await store.get_run("T1", "C1", "2025-W10")
        assert run.state == "posted" and run.ts == "1.1" and run.notes == 3 and not run.late
        assert run.told_at is None  # v5's column, empty for older runs
        assert [s.channel for s in await store.due_subscriptions(NEXT_RUN)] == ["C1"]
    await backend.close(store)
    assert backend.applied_versions() == list(range(1, LATEST + 1))


async def test_a_new_database_gets_every_version_once(backend) -> None:
    store = await backend.open()
    assert await store.schema_version() == LATEST
    assert store.migrate() == LATEST  # again: nothing to do
    assert backend.applied_versions() == [v for v, _ in VERSIONS]


async def test_several_processes_building_a_new_database_at_once_build_it_once(backend) -> None:
    from bot.store import open_store

    stores = [open_store(backend.target) for _ in range(4)]
    try:
        versions = await asyncio.gather(*(asyncio.to_thread(s.migrate) for s in stores))
        assert versions == [LATEST] * 4
    finally:
        for s in stores:
            await s.close()
    assert backend.applied_versions() == [v for v, _ in VERSIONS]


async def test_a_database_from_a_newer_smx_is_refused(backend) -> None:
    seeder = backend.older(LATEST)
    seeder.close()
    backend.set_version(LATEST + 1)
    with pytest.raises(SchemaTooNew, match="newer than this smx"):
        store = await backend.open()
        await store.schema_version()
    from bot.store import open_store

    fresh = open_store(backend.target)
    try:
        with pytest.raises(SchemaTooNew, match="upgrade smx"):
            await asyncio.to_thread(fresh.migrate)
    finally:
        await fresh.close()
    assert backend.applied_versions() == [*range(1, LATEST + 1), LATEST + 1]  # left as it was
