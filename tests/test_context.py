"""Services: the store is opened on first use, or handed in already open."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.context import Context, Services
from bot.router import dispatch
from bot.store import Viewer, open_store


async def test_a_store_handed_in_is_the_one_used_and_nothing_is_opened_from_smx_db(tmp_path: Path):
    elsewhere = tmp_path / "from-settings.db"
    settings = Settings(_env_file=None, SMX_DB=str(elsewhere))  # type: ignore[call-arg]
    given = open_store(str(tmp_path / "given.db"))
    try:
        services = Services(settings, store=given)
        assert services.store is given
        ctx = Context(channel_kind="public", services=services)
        assert not (await dispatch(ctx, "note spring Reel got 3x saves")).is_error
        [logged] = await given.export_notes(Viewer("T-LOCAL", "C-LOCAL"))
        assert logged.text.endswith("Reel got 3x saves")
        assert not elsewhere.exists()
    finally:
        await given.close()


async def test_without_a_store_it_opens_smx_db_on_first_use(tmp_path: Path):
    path = tmp_path / "smx.db"
    services = Services(Settings(_env_file=None, SMX_DB=str(path)))  # type: ignore[call-arg]
    assert not path.exists()  # nothing opened until asked
    try:
        await services.store.schema_version()
        assert path.exists()
    finally:
        await services.store.close()


def test_open_store_picks_the_backend_from_the_target(tmp_path: Path):
    from bot.store import SqliteStore
    from bot.store.postgres import PostgresStore

    for url in ("postgresql://smx:pw-not-shown@127.0.0.1:1/smx", "postgres://smx@127.0.0.1/smx"):
        store = open_store(url)  # nothing is connected yet: port 1 answers nobody
        assert isinstance(store, PostgresStore)
        assert "pw-not-shown" not in store.describe() + repr(store)
    sqlite = open_store(str(tmp_path / "x.db"))
    assert isinstance(sqlite, SqliteStore)
    assert sqlite.describe() == f"the SQLite file {tmp_path / 'x.db'}"
    sqlite.close_sync()


def test_the_postgresql_driver_is_imported_only_for_a_postgresql_url(tmp_path: Path):
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from bot.store import open_store\n"
        f"open_store({str(tmp_path / 'x.db')!r}).close_sync()\n"
        "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('psycopg', 'psycopg_pool') or m == 'bot.store.postgres'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert "LOADED []" in done.stdout, done.stdout + done.stderr


async def test_services_open_the_database_the_settings_name(tmp_path: Path):
    from bot.store.postgres import PostgresStore

    url = "postgresql://smx:pw@127.0.0.1:1/smx"
    services = Services(Settings(_env_file=None, SMX_DATABASE_URL=url))  # type: ignore[call-arg]
    assert isinstance(services.store, PostgresStore)
    await services.store.close()
