"""The contract suite: every test here runs once per backend, on a fresh database each time.

`backend` is parametrised over SQLite (a temp file, not :memory:) and PostgreSQL (a fresh database
on the session's throwaway server, tests/conftest.py); `store` is a store open on it. A test that
needs a second process or replica on the same database opens another with `backend.open()`.
"""

from __future__ import annotations

import pytest

from tests.support.contract import Backend, PostgresBackend, SqliteBackend

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path) -> Backend:
    if request.param == "sqlite":
        return SqliteBackend(tmp_path / "smx.db")
    server = request.getfixturevalue("postgres_server")
    url = request.getfixturevalue("postgres_url")
    return PostgresBackend(url, server.password)


@pytest.fixture(autouse=True)
async def _close_stores(backend: Backend):
    """Every store a test opened through `backend.open()` is closed after it, pass or fail."""
    yield
    await backend.close_all()


@pytest.fixture
async def store(backend: Backend, _close_stores):
    return await backend.open()
