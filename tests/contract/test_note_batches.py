"""Notes logged at the same moment share one commit (bot/store/batching.py), on every backend:
each caller still gets its own id, a note that fails fails alone, and an event already handled
is still skipped inside a batch."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from bot.store import Viewer
from tests.support.contract import note

MANY = 40


@pytest.fixture
def batches(store, monkeypatch) -> list[int]:
    """The size of every batch the store writes, as it writes them."""
    sizes: list[int] = []
    write_many = store._note_batches._write_many

    async def counted(items):
        sizes.append(len(items))
        return await write_many(items)

    def counted_on_thread(items):  # SQLite's, called on its writer thread
        sizes.append(len(items))
        return write_many(items)

    hook = counted if inspect.iscoroutinefunction(write_many) else counted_on_thread
    monkeypatch.setattr(store._note_batches, "_write_many", hook)
    return sizes


async def test_notes_logged_together_share_a_commit_and_each_gets_its_id(store, batches):
    texts = [f"reel test {i}" for i in range(MANY)]
    ids = await asyncio.gather(*(store.add_note(note(t)) for t in texts))
    assert len(set(ids)) == MANY and all(isinstance(i, int) for i in ids)
    assert sum(batches) == MANY and len(batches) < MANY  # fewer commits than notes
    for note_id, text in zip(ids, texts, strict=True):
        got = await store.get_note(Viewer("T1", "C1"), note_id)
        assert got is not None and got.text == text


async def test_a_lone_note_is_written_at_once(store, batches):
    assert isinstance(await store.add_note(note("alone")), int)
    assert batches == [1]


async def test_a_note_that_fails_fails_alone(store, batches, monkeypatch):
    import bot.store.notes as shared
    import bot.store.postgres as pg

    def poisoned(write):
        def run(conn, item, *rest):
            text = item.text if hasattr(item, "text") else rest[0].text
            if text == "poison":
                raise RuntimeError("this note cannot be written")
            return write(conn, item, *rest)

        return run

    def poisoned_pg(item):
        if item.text == "poison":
            raise RuntimeError("this note cannot be written")
        return real_pg(item)

    real_pg = pg._note_insert
    monkeypatch.setattr(shared, "insert", poisoned(shared.insert))  # SQLite's per-note insert
    monkeypatch.setattr(pg, "_note_insert", poisoned_pg)  # PostgreSQL's, batched or not
    texts = ["fine 1", "poison", "fine 2", "fine 3"]
    results = await asyncio.gather(
        *(store.add_note(note(t)) for t in texts), return_exceptions=True
    )
    assert isinstance(results[1], RuntimeError)
    good = [results[0], results[2], results[3]]
    assert all(isinstance(i, int) for i in good), results
    assert batches[0] == len(texts)  # they were one batch
    listed = await store.list_notes(Viewer("T1", "C1"), limit=10)
    assert sorted(n.text for n in listed.notes) == ["fine 1", "fine 2", "fine 3"]


async def test_an_event_handled_twice_in_one_batch_is_logged_once(store, batches):
    results = await asyncio.gather(
        store.add_note(note("from the event"), event_id="Ev1"),
        store.add_note(note("from the event"), event_id="Ev1"),
        store.add_note(note("another"), event_id="Ev2"),
    )
    assert batches[0] == 3
    assert isinstance(results[0], int) and results[1] is None and isinstance(results[2], int)
    listed = await store.list_notes(Viewer("T1", "C1"), limit=10)
    assert sorted(n.text for n in listed.notes) == ["another", "from the event"]


async def test_a_note_the_database_refuses_fails_alone_in_its_batch(store, batches):
    """A refusal from the database itself (the channel kind's CHECK), in the middle of a batch
    whose statements were all sent before any answer was read (PostgreSQL's pipeline)."""
    fields = [{}, {"channel_kind": "bogus"}, {}, {}]
    results = await asyncio.gather(
        *(store.add_note(note(f"batch {i}", **f)) for i, f in enumerate(fields)),
        return_exceptions=True,
    )
    assert isinstance(results[1], Exception), results
    assert all(isinstance(results[i], int) for i in (0, 2, 3)), results
    assert batches[0] == len(fields)
    listed = await store.list_notes(Viewer("T1", "C1"), limit=10)
    assert sorted(n.text for n in listed.notes) == ["batch 0", "batch 2", "batch 3"]


async def test_every_field_of_a_batch_is_stored_as_given_with_each_note(store, batches):
    """A batch is written in one statement where it can be (PostgreSQL: a column of values
    each; SQLite: its search terms at once): every field of every note comes back as it went
    in, under that note's own id, and each is found by its words."""
    from datetime import UTC, datetime

    given = [
        note("plain words one"),
        note(
            "figures two",
            platform="instagram",
            spend=400.0,
            currency="€",
            impressions=60000.0,
            clicks=1200.0,
            conversions=35.0,
            metrics={"revenue": 1500.0, "ctr": 0.02},
        ),
        note("only clicks three", clicks=7.0, campaign="brand-x", author="U2"),
        note(
            "dated four",
            created_at=datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC),
            channel="D1",
            channel_kind="im",
        ),
        note("naïve été five", metrics={"views": 10.0}),
    ]
    ids = await asyncio.gather(*(store.add_note(n) for n in given))
    assert batches[0] == len(given)
    assert len(set(ids)) == len(given)
    for note_id, new in zip(ids, given, strict=True):
        got = await store.get_note(Viewer(new.team, new.channel, new.author), note_id)
        assert got is not None, new.text
        expected = {k: v for k, v in new.__dict__.items() if k != "created_at"}
        assert {k: getattr(got, k) for k in expected} == expected
        if new.created_at is not None:
            assert got.created_at == new.created_at
        else:
            assert got.created_at is not None
        word = new.text.split()[-1]
        found = await store.search_notes(Viewer(new.team, new.channel, new.author), word)
        assert [n.id for n in found] == [note_id], word
