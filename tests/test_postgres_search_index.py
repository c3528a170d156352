"""PostgreSQL's search index keyed by team (schema v7, bot/store/postgres_schema.py): built with
btree_gin where the database lets smx create it, in place of the index over search alone; where
it does not (a role without CREATE on the database), the migration still completes, the old
index stays, and search answers the same."""

from __future__ import annotations

import secrets

import psycopg
import pytest

from bot.store import LATEST, Viewer
from bot.store.postgres import PostgresStore
from tests.support.contract import note


def notes_indexes(url: str) -> set[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'notes'")
        return {r[0] for r in rows}


async def searches(url: str) -> dict[str, list[int]]:
    """Migrate a new database at `url`, write three notes and search them: what each finds."""
    store = PostgresStore(url)
    await store.open()
    try:
        assert store.migrate() == LATEST
        public = await store.add_note(note("reel story saves"))
        private = await store.add_note(note("reel story", channel="G1", channel_kind="private"))
        await store.add_note(note("reel elsewhere", team="T2", workspace="T2"))
        found = {
            typed: [n.id for n in await store.search_notes(Viewer("T1", "C1"), typed)]
            for typed in ("reel", "ree*", "saves", "nothing")
        }
        found["reel in G1"] = [n.id for n in await store.search_notes(Viewer("T1", "G1"), "reel")]
        found["written"] = [public, private]
        return found
    finally:
        await store.close()


def assert_answers(found: dict[str, list[int]]) -> None:
    public, private = found["written"]
    assert found["reel"] == found["ree*"] == found["saves"] == [public]
    assert found["nothing"] == []
    # "saves" makes the public note no better a match for "reel": the same rank, newest first.
    assert found["reel in G1"] == [private, public]


async def test_the_index_is_keyed_by_team_where_btree_gin_can_be_created(postgres_url) -> None:
    assert_answers(await searches(postgres_url))
    indexes = notes_indexes(postgres_url)
    assert "notes_team_search" in indexes and "notes_search" not in indexes


@pytest.fixture
def url_without_create(postgres_server, postgres_url):
    """The same fresh database reached as a role that may create tables in its schema but not
    extensions (no CREATE on the database): as on a managed server that withholds it."""
    role, password = f"r{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        conn.execute(f"GRANT CREATE, USAGE ON SCHEMA public TO {role}")
        conn.execute(f"REVOKE CREATE ON DATABASE {postgres_url.rsplit('/', 1)[1]} FROM PUBLIC")
    head, tail = postgres_url.split("@", 1)
    yield f"postgresql://{role}:{password}@{tail}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,)
        )
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE {role}")


async def test_without_btree_gin_the_migration_completes_and_search_answers_the_same(
    url_without_create,
) -> None:
    with (
        psycopg.connect(url_without_create, autocommit=True) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("CREATE EXTENSION btree_gin")  # the premise: it may not
    assert_answers(await searches(url_without_create))
    indexes = notes_indexes(url_without_create)
    assert "notes_search" in indexes and "notes_team_search" not in indexes
