"""The batch read in a worker process (bot/store/read_worker.py), on SQLite and PostgreSQL: the
same weeks as the store reads itself, with a team's objects shared as the build's memo expects;
a note logged just before is seen; a dead worker, or a read that fails in it, costs no digest
(the store reads the batch itself); small batches, in-memory stores and reads nobody marked
`apart` never start one; closing the store ends it; a scheduler pass that reads through it
posts what its channels may see.

Every wait here is on an event (the worker's start, a process's end), never on a sleep."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from bot.store import Viewer
from bot.store.sqlite import SqliteStore
from tests.contract.test_contract_digest_batch import SINCE, UNTIL, dataset, readers


async def _filled(path: Path, **options) -> SqliteStore:
    store = SqliteStore(str(path), **options)
    for n in dataset():
        await store.add_note(n)
    return store


async def _read(store: SqliteStore, viewers, *, apart: bool = True):
    return await store.week_activities(
        viewers, since=SINCE, until=UNTIL, per_campaign=3, apart=apart
    )


async def _gone(pid: int) -> None:
    """Until the process has ended, waited on its pidfd (an event, not a sleep)."""
    loop = asyncio.get_running_loop()
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    ended = asyncio.Event()
    loop.add_reader(fd, ended.set)
    try:
        await asyncio.wait_for(ended.wait(), 60)
    finally:
        loop.remove_reader(fd)
        os.close(fd)


async def test_the_worker_reads_the_same_weeks_as_a_thread(tmp_path) -> None:
    store = await _filled(tmp_path / "smx.db", process_min_viewers=1)
    plain = SqliteStore(str(tmp_path / "smx.db"), read_process=False)
    try:
        worker = store._read_worker
        assert worker is not None
        pid = await worker.start()
        assert pid is not None and pid != os.getpid()
        viewers = readers()
        through_worker = await _read(store, viewers)
        assert worker.reads == 1
        in_thread = await _read(plain, viewers)
        assert plain._read_worker is None
        # Every field equal, origins and their order included: the same function read both.
        assert through_worker == in_thread
        # origin_groups (what a digest's sources count) is left out of == : compared here.
        assert [w.origin_groups for w in through_worker] == [w.origin_groups for w in in_thread]
        assert sum(w.notes for w in through_worker) > 0
        # A team's channels share its team-wide objects, as they do when read in a thread.
        by = dict(zip(viewers, through_worker, strict=True))
        first, second = by[Viewer("T1", "C1")], by[Viewer("T1", "G1")]
        assert first.origin_groups[0] is second.origin_groups[0]
        # ...and no object is shared between teams (each team is pickled whole, on its own).
        other = by[Viewer("T2", "C1")]
        assert not {id(o) for o in other.origin_groups[0]} & {id(o) for o in first.origin_groups[0]}
    finally:
        await store.close()
        await plain.close()


async def test_a_note_logged_just_before_is_in_the_workers_read(tmp_path) -> None:
    from tests.support.contract import note

    store = await _filled(tmp_path / "smx.db", process_min_viewers=1)
    try:
        assert await store._read_worker.start() is not None
        viewer = Viewer("T1", "C1")
        before = (await _read(store, [viewer]))[0]
        await store.add_note(
            note("just logged", team="T1", channel="C1", campaign="new", created_at=SINCE)
        )
        after = (await _read(store, [viewer]))[0]
        assert store._read_worker.reads == 2
        assert after.notes == before.notes + 1
        assert [n.text for n in after.highlights["new"]] == ["just logged"]
    finally:
        await store.close()


async def test_a_worker_killed_costs_no_read_and_the_next_batch_starts_another(tmp_path) -> None:
    store = await _filled(tmp_path / "smx.db", process_min_viewers=1)
    plain = SqliteStore(str(tmp_path / "smx.db"), read_process=False)
    try:
        worker = store._read_worker
        viewers = readers()
        expected = await _read(plain, viewers)
        first = await worker.start()
        # Killed under a batch: stopped first, so it cannot answer the batch before the kill.
        os.kill(first, signal.SIGSTOP)
        under = asyncio.create_task(worker.week_activities(viewers, SINCE, UNTIL, 3))
        await asyncio.sleep(0)  # a turn: the batch is handed to the worker before its first wait
        os.kill(first, signal.SIGKILL)
        assert await under is None  # no answer from the worker: the store reads it itself
        await _gone(first)
        assert await _read(store, viewers) == expected
        # Found dead at the next batch (killed between batches): read in a thread too.
        second = await worker.start()
        assert second is not None and second != first
        os.kill(second, signal.SIGKILL)
        await _gone(second)
        assert await _read(store, viewers) == expected
        third = await worker.start()
        assert third not in (None, first, second)
        assert await _read(store, viewers) == expected
        assert worker.reads == 1  # the third worker's batch
    finally:
        await store.close()
        await plain.close()


async def test_small_batches_reads_not_apart_and_memory_stores_start_no_worker(tmp_path) -> None:
    store = await _filled(tmp_path / "smx.db")  # the default threshold: a scheduler page's size
    memory = SqliteStore(":memory:", process_min_viewers=1)
    try:
        viewers = readers()
        assert len(viewers) < store._read_worker.min_viewers
        week = await _read(store, viewers)
        assert store._read_worker.pid() is None and store._read_worker._started is None
        assert memory._read_worker is None
        assert await _read(memory, viewers[:3]) and memory._read_worker is None
        wide = SqliteStore(str(tmp_path / "smx.db"), process_min_viewers=1)
        try:
            assert await _read(wide, viewers, apart=False) == week  # not apart: a thread
            assert wide._read_worker._started is None
        finally:
            await wide.close()
    finally:
        await store.close()
        await memory.close()


async def test_closing_the_store_ends_its_worker(tmp_path) -> None:
    store = await _filled(tmp_path / "smx.db", process_min_viewers=1)
    pid = await store._read_worker.start()
    assert pid is not None
    await _read(store, readers())
    await store.close()
    await _gone(pid)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert await store._read_worker.start() is None  # a closed store starts none again


async def test_a_worker_that_cannot_open_the_file_is_not_tried_again(tmp_path) -> None:
    from bot.store.read_worker import ReadWorker

    worker = ReadWorker(str(tmp_path / "missing" / "smx.db"), min_viewers=1)
    try:
        assert await worker.start() is None
        assert not worker.wants(readers())
        assert await worker.week_activities(readers(), SINCE, UNTIL, 3) is None
    finally:
        worker.close()


async def test_a_pass_read_through_the_worker_posts_what_each_channel_may_see(
    tmp_path, monkeypatch
) -> None:
    """The contract test of a pass over many due channels (three pages, a team's channels
    across two, private notes in most), with every page read by the worker: the scheduler asks
    for its pages `apart`, and the threshold here is one viewer. Each digest posted is still
    what that channel's compose() alone says, and holds only what its channel may see."""
    from tests.contract.test_contract_digest_batch import (
        test_a_pass_over_many_due_channels_posts_each_once_with_what_its_channel_may_see as a_pass,
    )

    store = SqliteStore(str(tmp_path / "smx.db"), process_min_viewers=1)
    try:
        assert await store._read_worker.start() is not None
        await a_pass(store, monkeypatch)
        assert store._read_worker.reads >= 3  # its three pages (DUE_PAGE 16, 37 channels)
    finally:
        await store.close()


async def test_a_read_the_worker_cannot_do_is_done_by_the_store_and_its_error_said(
    tmp_path, caplog
) -> None:
    """A read that fails in the worker is read again by the store itself: here both fail (the
    table is gone), and what reaches the caller is the store's own error, not the worker's."""
    import sqlite3

    from bot.store.base import StoreError

    store = await _filled(tmp_path / "smx.db", process_min_viewers=1)
    try:
        assert await store._read_worker.start() is not None
        raw = sqlite3.connect(str(tmp_path / "smx.db"), isolation_level=None)
        raw.execute("DROP TABLE notes")
        raw.close()
        with pytest.raises(StoreError, match="Can't use the SQLite file"):
            await _read(store, readers())
        assert "digest read worker's read failed (OperationalError)" in caplog.text
        assert store._read_worker.reads == 0
    finally:
        await store.close()


# -- PostgreSQL: the worker has a store of its own (one connection) ----------------------------


async def test_the_postgres_worker_reads_the_same_weeks_as_the_store(postgres_url) -> None:
    from bot.store.postgres import PostgresStore

    store = PostgresStore(postgres_url, process_min_viewers=1)
    try:
        for n in dataset():
            await store.add_note(n)
        assert await store._read_worker.start() is not None
        viewers = readers()
        through_worker = await _read(store, viewers)
        assert store._read_worker.reads == 1
        here = await _read(store, viewers, apart=False)
        assert through_worker == here and sum(w.notes for w in here) > 0
        by = dict(zip(viewers, through_worker, strict=True))
        assert by[Viewer("T1", "C1")].origin_groups[0] is by[Viewer("T1", "G1")].origin_groups[0]
        pid = store._read_worker.pid()
    finally:
        await store.close()
    await _gone(pid)


async def test_a_postgres_pass_read_through_the_worker_posts_what_each_channel_may_see(
    postgres_url, monkeypatch
) -> None:
    from bot.store.postgres import PostgresStore
    from tests.contract.test_contract_digest_batch import (
        test_a_pass_over_many_due_channels_posts_each_once_with_what_its_channel_may_see as a_pass,
    )

    store = PostgresStore(postgres_url, process_min_viewers=1)
    try:
        assert await store._read_worker.start() is not None
        await a_pass(store, monkeypatch)
        assert store._read_worker.reads >= 3
    finally:
        await store.close()


async def test_a_worker_running_other_code_than_this_process_is_not_used(
    tmp_path, monkeypatch, caplog
) -> None:
    """smx changed on disk since it started (an upgrade in place without a restart): a worker
    started now would import the new code, and its weeks would be unpickled into the old. Its
    code's stamp differs from this process's, so it is not used: the store reads itself."""
    from bot.store import read_worker

    store = await _filled(tmp_path / "smx.db", process_min_viewers=1)
    plain = SqliteStore(str(tmp_path / "smx.db"), read_process=False)
    try:
        stamp = read_worker.CODE
        monkeypatch.setattr(read_worker, "CODE", (*stamp, ("changed.py", 1, 1)))
        assert await store._read_worker.start() is None
        assert "its code differs from this process's" in caplog.text
        viewers = readers()
        assert await _read(store, viewers) == await _read(plain, viewers)
        assert store._read_worker.reads == 0 and not store._read_worker.wants(viewers)
        # The stamp is what the files were at import: this process's equals a fresh one's.
        assert stamp == read_worker._code_stamp()
    finally:
        await store.close()
        await plain.close()
