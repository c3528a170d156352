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
    await store.set_targets([target("cpa", value=25.0)])  # replaces the CPA target of C1
    await store.set_targets([target("cpa", value=9.0, channel="G1", channel_kind="private")])
    listed = await store.list_targets("T1", "spring")
    assert [(t.key, t.channel, t.value) for t in listed] == [
        ("cpa", "C1", 25.0), ("cpa", "G1", 9.0), ("ctr", "C1", 0.01)
    ]  # fmt: skip
    assert listed[0].set_at == AT and listed[0].status == "no figures"
    assert await store.list_targets("T2") == []
    assert await store.drop_targets("T1", "spring", ["C1"], ["cpa"]) == 1
    assert await store.drop_targets("T1", "spring", ["C1"]) == 1
    assert [t.channel for t in await store.list_targets("T1")] == ["G1"]  # another place's


def _judge_cpa(limit: float):
    def judge(records, totals):
        if totals is None or not totals.conversions:
            return {r.key: "no figures" for r in records}
        cpa = totals.spend / totals.conversions
        return {r.key: "on track" if cpa <= limit else "off track" for r in records}

    return judge


async def test_a_crossing_is_seen_by_exactly_one_of_many_notes_at_once(store) -> None:
    await store.set_targets([target("cpa")])
    await store.add_note(note("first", campaign="spring", spend=100.0, conversions=10.0))
    moved, _ = await store.settle_targets("T1", "spring", "C1", _judge_cpa(20.0))
    assert moved == []  # $10: on track
    # Eight notes land at once, each then settles: the campaign goes off track once.
    await asyncio.gather(
        *(store.add_note(note("more", campaign="spring", spend=100.0)) for _ in range(8))
    )
    results = await asyncio.gather(
        *(store.settle_targets("T1", "spring", "C1", _judge_cpa(20.0)) for _ in range(8))
    )
    assert sorted(m for m, _ in results) == [[]] * 7 + [["cpa"]]
    assert (await store.settle_targets("T1", "spring", "C1", _judge_cpa(20.0)))[0] == []
    (only,) = await store.list_targets("T1", "spring")
    assert only.status == "off track"
