"""Slack re-delivers events; every backend lets the first delivery of an id win, once, also when
two processes (replicas) on one database get the same event at the same moment."""

from __future__ import annotations

import asyncio

from bot.store import Viewer
from tests.support.contract import note


async def test_re_delivered_events_are_claimed_once(store) -> None:
    assert await store.claim_event("Ev1", "T1") is True
    assert await store.claim_event("Ev1", "T1") is False
    assert await store.claim_event("Ev1", "T2") is False  # an id is Slack's, not per team
    first = await store.add_note(note("from a mention"), event_id="Ev2")
    assert first is not None
    assert await store.add_note(note("from a mention"), event_id="Ev2") is None
    assert await store.claim_event("Ev2", "T1") is False  # the note claimed it
    assert (await store.list_notes(Viewer("T1", "C1"))).total == 1


async def test_old_event_ids_are_forgotten(store) -> None:
    await store.claim_event("Ev1", "T1")
    await store.add_note(note(), event_id="Ev2")
    assert await store.prune_events(3600) == 0  # seen just now: kept
    assert await store.claim_event("Ev1", "T1") is False
    assert await store.prune_events(-1) == 2
    assert await store.claim_event("Ev1", "T1") is True


async def test_two_stores_racing_the_same_events_claim_each_once(backend, store) -> None:
    other = await backend.open()
    ids = [f"Ev{i}" for i in range(60)]
    results = await asyncio.gather(
        *(s.claim_event(event_id, "T1") for event_id in ids for s in (store, other, store, other))
    )
    wins = [sum(results[i * 4 : i * 4 + 4]) for i in range(len(ids))]
    assert wins == [1] * len(ids)
    # Both deliveries of a mention reach add_note on different replicas: one note.
    notes = await asyncio.gather(
        *(
            s.add_note(note(f"mention {i}"), event_id=f"Note{i}")
            for i in range(30)
            for s in (store, other)
        )
    )
    landed = [notes[i * 2 : i * 2 + 2] for i in range(30)]
    assert all(sum(x is not None for x in pair) == 1 for pair in landed)
    assert (await other.list_notes(Viewer("T1", "C1"))).total == 30
