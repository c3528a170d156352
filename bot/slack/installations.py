"""slack_sdk's installation and OAuth state stores, over the smx Store (bot/store/base.py).

The SQL lives in the store, with everything else (SQLite or PostgreSQL alike); these adapters only
translate. They decide the key of a row, (enterprise, team): an org-wide install answers for every
workspace of its Enterprise Grid org, so its team is "". They turn slack_sdk's Installation and
Bot into InstallationRecord and back, and give a user's installation the newest bot token.

Nothing is cached in the process: every lookup asks the store, so an uninstall seen by one replica
is seen by all at once. slack_sdk's own SQLite store has no async delete, so under AsyncApp an
`app_uninstalled` event would leave tokens behind (reference/slack.md); these delete.

Data policy on uninstall: the team's tokens (bot and user installations) are deleted at once; its
notes and digest subscriptions stay so that a reinstall finds them, until an operator removes them
(`smx db purge --team T`).
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.store.base import InstallationRecord, Store

_log = logging.getLogger("smx.installations")


def scope(
    enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None
) -> tuple[str, str]:
    """The (enterprise, team) a row is kept under: an org-wide install answers for every
    workspace of the org, so the team is not part of its key."""
    if is_enterprise_install:
        return (enterprise_id or "", "")
    return (enterprise_id or "", team_id or "")


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """The SDK's to_dict(), JSON-safe: its datetimes as seconds since the epoch."""
    return _numbers({k: v for k, v in data.items() if v is not None})


def _numbers(data: dict[str, Any]) -> dict[str, Any]:
    """Times as the numbers the SDK's constructors take back: `installed_at` a float, token
    expiries (`..._expires_at`) whole seconds (it refuses a float there, as rows kept before
    v6 may hold)."""
    out = dict(data)
    for key, value in data.items():
        if isinstance(value, datetime):
            value = value.timestamp()
        if key.endswith("_expires_at") and isinstance(value, float):
            value = int(value)
        out[key] = value
    return out


def _bot(record: InstallationRecord) -> Bot:
    return Bot(**_numbers(record.data))


def _installation(record: InstallationRecord) -> Installation:
    return Installation(**_numbers(record.data))


def installation_record(installation: Installation) -> InstallationRecord:
    enterprise, team = scope(
        installation.enterprise_id, installation.team_id, installation.is_enterprise_install
    )
    return InstallationRecord(
        enterprise=enterprise,
        team=team,
        user=installation.user_id or "",
        is_enterprise_install=bool(installation.is_enterprise_install),
        installed_at=float(installation.installed_at),
        data=_plain(installation.to_dict()),
    )


def bot_record(bot: Bot) -> InstallationRecord:
    enterprise, team = scope(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
    return InstallationRecord(
        enterprise=enterprise,
        team=team,
        user="",
        is_enterprise_install=bool(bot.is_enterprise_install),
        installed_at=float(bot.installed_at),
        data=_plain(bot.to_dict()),
    )


class StoreInstallationStore(AsyncInstallationStore):
    """Bolt's installation store (OAuth mode) over `store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def logger(self) -> logging.Logger:  # required by the interface
        return _log

    async def async_save(self, installation: Installation) -> None:
        await self.store.save_installation(installation_record(installation))
        await self.async_save_bot(installation.to_bot())

    async def async_save_bot(self, bot: Bot) -> None:
        await self.store.save_bot(bot_record(bot))

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        found = await self.store.find_bot(*scope(enterprise_id, team_id, is_enterprise_install))
        return _bot(found) if found else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        key = scope(enterprise_id, team_id, is_enterprise_install)
        found = await self.store.find_installation(*key, user_id)
        if found is None:
            return None
        installation = _installation(found)
        if user_id is None:
            return installation
        # A user's own row may carry an older bot token: the newest bot is the one in force.
        newest = await self.store.find_bot(*key)
        if newest is not None:
            bot = _bot(newest)
            if bot.bot_token != installation.bot_token:
                installation.bot_token, installation.bot_id = bot.bot_token, bot.bot_id
                installation.bot_user_id, installation.bot_scopes = bot.bot_user_id, bot.bot_scopes
                installation.bot_refresh_token = bot.bot_refresh_token
                installation.bot_token_expires_at = bot.bot_token_expires_at
        return installation

    async def async_delete_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> None:
        await self.store.delete_bots(*scope(enterprise_id, team_id, is_enterprise_install))

    async def async_delete_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> None:
        key = scope(enterprise_id, team_id, is_enterprise_install)
        await self.store.delete_installations(*key, user_id)

    async def async_delete_all(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> None:
        key = scope(enterprise_id, team_id, is_enterprise_install)
        await self.store.delete_bots(*key)
        await self.store.delete_installations(*key)

    async def count(self) -> tuple[int, int]:
        """(installations, bots) held: for tests and the operator."""
        return await self.store.count_installations()


class StoreOAuthStateStore(AsyncOAuthStateStore):
    """One-time OAuth `state` values with an expiry, so a callback cannot be replayed; kept in
    the store, so the install page and the callback may reach different replicas."""

    def __init__(self, store: Store, expiration_seconds: int = 600) -> None:
        self.store = store
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return _log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        expires = datetime.now(UTC) + timedelta(seconds=self.expiration_seconds)
        await self.store.issue_oauth_state(state, expires)
        return state

    async def async_consume(self, state: str) -> bool:
        return await self.store.consume_oauth_state(state, datetime.now(UTC))
