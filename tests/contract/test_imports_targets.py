"""Imported rows and campaign targets on every backend (schema v11): an import is logged whole or
not at all and never twice; a target's move off track is seen by exactly one caller."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.store import Viewer
from bot.store.imports import TargetRecord
from tests.support.contract import note

AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def rows(*keys: str, team: str = "T1"):
    return [
        (note(f"imported {k}", team=team, campaign="spring", spend=10.0, created_at=AT), k)
        for k in keys
    ]


async def test_an_import_logs_each_row_once(store) -> None:
    first = await store.import_notes(rows("a", "b", "c"))
    assert len(first.ids) == 3 and first.skipped == 0
    again = await store.import_notes(rows("b", "c", "d"))  # an overlapping export
    assert len(again.ids) == 1 and again.skipped == 2
    listed = await store.list_notes(Viewer("T1", "C1"), limit=50)
    assert sorted(n.text for n in listed.notes) == [f"imported {k}" for k in "abcd"]
    assert all(n.created_at == AT for n in listed.notes)
    # The same key in another team is another row.
    other = await store.import_notes(rows("a", team="T2"))
    assert len(other.ids) == 1
    # Imported notes are searchable like any other.
    found = await store.search_notes(Viewer("T1", "C1"), "imported")
    assert len(found) == 4


async def test_an_import_is_logged_whole_or_not_at_all(store) -> None:
    good = rows("x", "y")
    bad = (note("t" * 5000, campaign="spring", created_at=AT), "z")  # over the 4,000 limit
    with pytest.raises(Exception):  # noqa: B017 (the backend's own integrity error)
        await store.import_notes([*good, bad])
    assert (await store.list_notes(Viewer("T1", "C1"))).total == 0
    done = await store.import_notes(good)
    assert len(done.ids) == 2


def target(key: str = "cpa", **fields) -> TargetRecord:
    values = dict(
        team="T1", workspace="T1", campaign="spring", key=key, op="<=", value=20.0,
        currency="$", channel="C1", channel_kind="public", author="U1", set_at=AT,
    )  # fmt: skip
    values.update(fields)
    return TargetRecord(**values)


async def test_targets_are_set_replaced_listed_and_dropped(store) -> None:
    await store.set_targets([target("cpa"), target("ctr", op=">=", value=0.01, currency=None)])
    await store.set_targets([target("cpa", value=25.0)])  # replaces the CPA target
    listed = await store.list_targets("T1", "spring")
    assert [(t.key, t.op, t.value) for t in listed] == [("cpa", "<=", 25.0), ("ctr", ">=", 0.01)]
    assert listed[0].set_at == AT and listed[0].status == "no figures"
    assert await store.list_targets("T2") == []
    assert await store.drop_targets("T1", "spring") == 2
    assert await store.list_targets("T1") == []


async def test_a_move_off_track_is_seen_once(store) -> None:
    await store.set_targets([target("cpa"), target("spend", value=500.0)])
    assert await store.move_targets("T1", "spring", {"cpa": "on track", "spend": "on track"}) == []
    moves = await asyncio.gather(
        *(store.move_targets("T1", "spring", {"cpa": "off track"}) for _ in range(8))
    )
    assert sorted(moves) == [[]] * 7 + [["cpa"]]  # one caller saw the crossing
    assert await store.move_targets("T1", "spring", {"cpa": "off track"}) == []
    await store.move_targets("T1", "spring", {"cpa": "on track"})
    assert await store.move_targets("T1", "spring", {"cpa": "off track"}) == ["cpa"]
    statuses = {t.key: t.status for t in await store.list_targets("T1", "spring")}
    assert statuses == {"cpa": "off track", "spend": "on track"}
