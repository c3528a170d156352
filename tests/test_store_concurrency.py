"""Several processes writing one database: nothing lost, nothing locked, nothing answered then gone.

On both backends: eight processes on one SQLite file (one write lock, taken in turn) or one
PostgreSQL database (eight replicas). The writers are this file run as a script (see the bottom),
so the test and the process it drives stay side by side.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bot.store import NewNote, Viewer, is_postgres, open_store
from tests.support.contract import database_fixture
from tests.support.search_index import assert_index_matches_notes

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
WRITERS = 8
NOTES_EACH = 1_000

database = database_fixture()


def start_writer(db: str, team: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HERE), db, team, str(count)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


async def prepare(db: str) -> None:
    store = open_store(db)
    await store.schema_version()  # create the schema once, as the running bot would have
    await store.close()


async def test_eight_writer_processes_land_every_note(database: str) -> None:
    db = database  # not created yet: all eight create the schema at once
    procs = [start_writer(db, f"T{i}", NOTES_EACH) for i in range(WRITERS)]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert "locked" not in err
        assert proc.returncode == 0, err
    answered = [[int(line) for line in out.split()] for out, _err in outputs]
    assert all(len(ids) == NOTES_EACH for ids in answered)
    assert len({i for ids in answered for i in ids}) == WRITERS * NOTES_EACH

    store = open_store(db)
    try:
        for i, ids in enumerate(answered):
            page = await store.list_notes(Viewer(f"T{i}", "C1"), limit=1)
            assert page.total == NOTES_EACH
            exported = await store.export_notes(Viewer(f"T{i}", "C1"))
            assert [n.id for n in exported] == ids  # this writer's notes, in the order answered
    finally:
        await store.close()
    assert_healthy(db)


async def test_a_killed_writer_loses_no_note_it_answered(database: str) -> None:
    db = database
    await prepare(db)
    answered: list[int] = []
    for round_ in range(3):
        # A second writer keeps the lock busy so the kill can land mid-transaction or mid-wait.
        neighbour = start_writer(db, "T-OTHER", 1_000_000)
        victim = start_writer(db, "T-VICTIM", 1_000_000)
        assert victim.stdout is not None
        for seen, line in enumerate(victim.stdout, start=1):
            answered.append(int(line))
            if seen == 150 + 100 * round_:
                break
        victim.send_signal(signal.SIGKILL)
        # Whatever it printed before dying was answered too; keep it.
        rest, _err = victim.communicate(timeout=30)
        answered += [int(line) for line in rest.split()]
        assert victim.returncode == -signal.SIGKILL
        neighbour.send_signal(signal.SIGKILL)
        neighbour.communicate(timeout=30)

    store = open_store(db)
    try:
        stored = {n.id for n in await store.export_notes(Viewer("T-VICTIM", "C1"))}
    finally:
        await store.close()
    assert set(answered) <= stored
    assert len(answered) >= 150 + 250 + 350
    assert_healthy(db)


def assert_healthy(db: str) -> None:
    """SQLite's own checks of the file and its search index (PostgreSQL has no such step)."""
    if is_postgres(db):
        return
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert_index_matches_notes(conn)  # and FTS5's own integrity-check
    conn.close()


# -- the writer process ---------------------------------------------------------------------


async def write(db: str, team: str, count: int) -> None:
    store = open_store(db)
    for i in range(count):
        note = NewNote(
            team=team, workspace=team, channel="C1", channel_kind="public", author="U1",
            campaign="load", text=f"note {i} from {team} spend=$10", spend=10.0, currency="$",
        )  # fmt: skip
        note_id = await store.add_note(note)
        # Printed only once add_note returned, i.e. committed: this is "answering the id".
        print(note_id, flush=True)
    await store.close()


if __name__ == "__main__":
    started = time.perf_counter()
    asyncio.run(write(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    print(f"{sys.argv[2]}: {time.perf_counter() - started:.2f}s", file=sys.stderr)
