"""Schema v9: the notes a digest reads, in one covering index (bot/store/schema.py), on every
backend: a database from the version before it, notes in it, gets the index on upgrade, and the
batch read (bot/store/digests.py, postgres_digests.py) is served from it, not from the table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.store import LATEST, Viewer
from bot.store.schema import DIGEST_INDEX
from tests.support.contract import Seeder

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.empty_database


def seed(seeder: Seeder) -> None:
    for i in range(6):
        seeder.insert(
            "notes",
            team="T1", workspace="T1", channel="C1" if i % 2 else "G1",
            channel_kind="public" if i % 2 else "private", author=f"U{i % 3}",
            campaign="spring", text=f"note {i}", created_at=T0 + timedelta(hours=i),
            spend=10.0 * (i + 1), currency="$", impressions=1000.0, metrics={},
        )  # fmt: skip


def indexes(backend) -> set[str]:
    conn = backend._connect()
    try:
        if backend.name == "sqlite":
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        else:
            rows = conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'notes'")
        return {r[0] for r in rows}
    finally:
        conn.close()


def batch_plan(backend) -> str:
    """The plan of the batch read's sums, as the backend would run it over one team."""
    conn = backend._connect()
    try:
        if backend.name == "sqlite":
            from bot.store import digests

            sql = (
                f"SELECT n.team, {digests._SIDE}, n.campaign, {digests._AGGREGATES}"
                f" FROM notes AS n WHERE {digests._BOTH} GROUP BY n.team, {digests._SIDE},"
                " n.campaign"
            )
            params = {
                "teams": '["T1"]', "wide": '["T1"]', "own": '[["T1", "G1"]]',
                "confined": "[]", "since": "2026-03-01", "until": "2026-03-09",
            }  # fmt: skip
            return " ".join(r[-1] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        from bot.store import postgres_digests as pg
        from bot.store.base import PUBLIC_KINDS

        # Six notes: the planner would read the table whatever the indexes; what is asked here
        # is whether the index can serve the read alone (an index-only scan), once vacuumed.
        conn.execute("VACUUM ANALYZE notes")
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET enable_bitmapscan = off")
        sql = (
            f"SELECT n.team, {pg._SIDE}, n.campaign, {pg._AGGREGATES} FROM notes AS n"
            f" WHERE {pg._BOTH} GROUP BY n.team, {pg._SIDE}, n.campaign"
        )
        params = {
            "teams": ["T1"], "wide": ["T1"], "own_t": ["T1"], "own_c": ["G1"],
            "public": list(PUBLIC_KINDS), "since": T0 - timedelta(days=1),
            "until": T0 + timedelta(days=7),
        }  # fmt: skip
        return " ".join(r[0] for r in conn.execute(f"EXPLAIN {sql}", params))
    finally:
        conn.close()


async def test_a_database_from_v8_gets_the_digest_index_and_its_notes_read_the_same(
    backend,
) -> None:
    seeder = backend.older(8)
    try:
        seed(seeder)
    finally:
        seeder.close()
    assert DIGEST_INDEX not in indexes(backend)

    store = await backend.open()
    assert await store.schema_version() == LATEST >= 9
    assert DIGEST_INDEX in indexes(backend)
    plan = batch_plan(backend)
    if backend.name == "sqlite":
        assert f"COVERING INDEX {DIGEST_INDEX}" in plan, plan
    else:
        assert f"Index Only Scan using {DIGEST_INDEX}" in plan, plan
    # The notes written before the index are in it: the batch read finds them all.
    viewers = [Viewer("T1", "G1"), Viewer("T1", "C1")]
    since, until = T0 - timedelta(days=1), T0 + timedelta(days=7)
    together = await store.week_activities(viewers, since=since, until=until, per_campaign=3)
    assert [w.notes for w in together] == [6, 3]  # G1: the team's three and its own three
    for viewer, week in zip(viewers, together, strict=True):
        alone = await store.week_activity(viewer, since=since, until=until, per_campaign=3)
        assert week.totals[0].spend == alone.totals[0].spend
        assert week.highlights == alone.highlights
    await backend.close(store)
