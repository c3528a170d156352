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
