"""The contract suite: every test here runs once per backend, on an empty database each time.

`backend` is parametrised over SQLite (a temp file, not :memory:) and PostgreSQL (the session's
throwaway server, tests/conftest.py); `store` is a store open on it. A test that needs a second
process or replica on the same database opens another with `backend.open()`.

PostgreSQL: creating a database costs about 0.3 s on this kind of machine (measured: CREATE
DATABASE, either strategy), a schema's worth of tables much less to empty. So a test gets one
database of the session, emptied with reset_postgres (its schema kept), unless it is marked
`empty_database` (it needs one no smx has touched: the migration tests), which gets a new one.
"""

from __future__ import annotations

import pytest

from tests.support.contract import Backend, PostgresBackend, SqliteBackend

BACKENDS = ["sqlite", "postgres"]


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "empty_database: the test needs a database no smx has touched yet"
    )


@pytest.fixture(scope="session")
def _reused_postgres() -> dict[str, str]:
    return {}


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path, _reused_postgres) -> Backend:
    if request.param == "sqlite":
        return SqliteBackend(tmp_path / "smx.db")
    server = request.getfixturevalue("postgres_server")
    if request.node.get_closest_marker("empty_database"):
        return PostgresBackend(request.getfixturevalue("postgres_url"), server.password)
    if not server.running:  # a test elsewhere took it away and failed before bringing it back
        server.start_again()
    url = _reused_postgres.get("url")
    if url is None:
        url = _reused_postgres["url"] = server.create_database()
    else:
        PostgresBackend(url, server.password).reset()
    return PostgresBackend(url, server.password)


@pytest.fixture(autouse=True)
async def _close_stores(backend: Backend):
    """Every store a test opened through `backend.open()` is closed after it, pass or fail."""
    yield
    await backend.close_all()


@pytest.fixture
async def store(backend: Backend, _close_stores):
    return await backend.open()
