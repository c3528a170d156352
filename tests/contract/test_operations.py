"""What operators and /healthz see on every backend: ping, where the data is (never a password),
and a database that cannot be reached as a StoreUnavailable in one sentence."""

from __future__ import annotations

import asyncio

import pytest

from bot.store import StoreError, StoreUnavailable, Viewer
from tests.support.contract import note


async def test_ping_answers_on_a_live_database(store) -> None:
    store.migrate()  # as smx serve does before /healthz asks
    await store.ping()
    await store.add_note(note())
    await store.ping()


async def test_describe_names_the_place_and_never_the_password(backend, store) -> None:
    described = store.describe()
    assert described and "\n" not in described
    if backend.secret:
        assert backend.secret not in described
    if backend.name == "sqlite":
        assert "smx.db" in described and "SQLite" in described
    else:
        assert "PostgreSQL" in described and "127.0.0.1" in described


async def test_an_unreachable_database_is_a_store_error_in_one_sentence(backend) -> None:
    from bot.store import open_store

    target = backend.unreachable()
    store = open_store(target)
    try:
        with pytest.raises(StoreUnavailable) as caught:
            await asyncio.wait_for(store.ping(), 30)
        message = str(caught.value)
        assert message and "\n" not in message and "Traceback" not in message
        if backend.secret:
            assert backend.secret not in message
            assert "127.0.0.1" in message  # names the host
        with pytest.raises(StoreError) as again:
            await asyncio.wait_for(store.list_notes(Viewer("T1", "C1")), 30)
        if backend.secret:
            assert backend.secret not in str(again.value)
    finally:
        await store.close()


async def test_a_write_the_database_refuses_is_a_store_error_not_the_drivers(store) -> None:
    import sqlite3

    import psycopg

    for text in ("", "x" * 4001):  # the schema's CHECK on a note's length
        with pytest.raises(StoreError) as caught:
            await store.add_note(note(text))
        assert not isinstance(caught.value, sqlite3.Error | psycopg.Error)
        assert "\n" not in str(caught.value) and str(caught.value)
    assert (await store.list_notes(Viewer("T1", "C1"))).total == 0
    assert await store.add_note(note("still fine")) is not None  # the store goes on
