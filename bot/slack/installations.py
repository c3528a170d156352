"""OAuth installations and state in the project's SQLite file, with async deletes.

slack_sdk's SQLite3InstallationStore has no async delete, so under AsyncApp an `app_uninstalled`
event would leave tokens behind (reference/slack.md). This store deletes, and keeps each
workspace's rows keyed by (enterprise, team) like everything else in the database.

Data policy on uninstall: the team's tokens (bot and user installations) are deleted at once; its
notes and digest subscriptions stay so that a reinstall finds them, until an operator removes them
(`smx db purge --team T`).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
import time
from datetime import datetime
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS slack_installations (
    id INTEGER PRIMARY KEY,
    enterprise_id TEXT NOT NULL DEFAULT '',
    team_id TEXT NOT NULL DEFAULT '',
    user_id TEXT NOT NULL DEFAULT '',
    is_enterprise_install INTEGER NOT NULL DEFAULT 0,
    installed_at REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS slack_installations_team
    ON slack_installations (enterprise_id, team_id, user_id, installed_at);
CREATE TABLE IF NOT EXISTS slack_bots (
    id INTEGER PRIMARY KEY,
    enterprise_id TEXT NOT NULL DEFAULT '',
    team_id TEXT NOT NULL DEFAULT '',
    is_enterprise_install INTEGER NOT NULL DEFAULT 0,
    installed_at REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS slack_bots_team ON slack_bots (enterprise_id, team_id, installed_at);
CREATE TABLE IF NOT EXISTS slack_oauth_states (
    state TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
"""


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v.timestamp() if isinstance(v, datetime) else v)
        for k, v in data.items()
        if v is not None
    }


class _Db:
    """One short-lived connection per call, in a worker thread: never blocks the event loop."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 30000")
        if not self._ready:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(SCHEMA)
            self._ready = True
        return conn

    def _run(self, sql: str, args: tuple = ()) -> list[tuple]:
        conn = self._connect()
        try:
            with conn:
                return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    async def run(self, sql: str, args: tuple = ()) -> list[tuple]:
        return await asyncio.to_thread(self._run, sql, args)


def _scope(
    enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None
) -> tuple:
    # An org-wide install answers for every workspace of the org, so the team is not part of its key.
    if is_enterprise_install:
        return (enterprise_id or "", "")
    return (enterprise_id or "", team_id or "")


class SqliteInstallationStore(AsyncInstallationStore):
    def __init__(self, path: str) -> None:
        self.db = _Db(path)

    @property
    def logger(self):  # required by the interface
        import logging

        return logging.getLogger("smx.installations")

    async def async_save(self, installation: Installation) -> None:
        enterprise, team = _scope(
            installation.enterprise_id, installation.team_id, installation.is_enterprise_install
        )
        await self.db.run(
            "INSERT INTO slack_installations (enterprise_id, team_id, user_id, is_enterprise_install, "
            "installed_at, data) VALUES (?, ?, ?, ?, ?, ?)",
            (
                enterprise,
                team,
                installation.user_id or "",
                int(bool(installation.is_enterprise_install)),
                installation.installed_at,
                json.dumps(_plain(installation.to_dict())),
            ),
        )
        await self.async_save_bot(installation.to_bot())

    async def async_save_bot(self, bot: Bot) -> None:
        enterprise, team = _scope(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        await self.db.run(
            "INSERT INTO slack_bots (enterprise_id, team_id, is_enterprise_install, installed_at, data) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                enterprise,
                team,
                int(bool(bot.is_enterprise_install)),
                bot.installed_at,
                json.dumps(_plain(bot.to_dict())),
            ),
        )

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        enterprise, team = _scope(enterprise_id, team_id, is_enterprise_install)
        rows = await self.db.run(
            "SELECT data FROM slack_bots WHERE enterprise_id = ? AND team_id = ? "
            "ORDER BY installed_at DESC, id DESC LIMIT 1",
            (enterprise, team),
        )
        return Bot(**json.loads(rows[0][0])) if rows else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        enterprise, team = _scope(enterprise_id, team_id, is_enterprise_install)
        sql = "SELECT data FROM slack_installations WHERE enterprise_id = ? AND team_id = ?"
        args: tuple = (enterprise, team)
        if user_id is not None:
            sql, args = sql + " AND user_id = ?", (*args, user_id)
        rows = await self.db.run(sql + " ORDER BY installed_at DESC, id DESC LIMIT 1", args)
        if not rows:
            return None
        installation = Installation(**json.loads(rows[0][0]))
        if user_id is None:
            return installation
        # A user's own row may carry an older bot token: the newest bot is the one in force.
        bot = await self.async_find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        if bot is not None and bot.bot_token != installation.bot_token:
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
        enterprise, team = _scope(enterprise_id, team_id, is_enterprise_install)
        await self.db.run(
            "DELETE FROM slack_bots WHERE enterprise_id = ? AND team_id = ?", (enterprise, team)
        )

    async def async_delete_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> None:
        enterprise, team = _scope(enterprise_id, team_id, is_enterprise_install)
        sql = "DELETE FROM slack_installations WHERE enterprise_id = ? AND team_id = ?"
        args: tuple = (enterprise, team)
        if user_id is not None:
            sql, args = sql + " AND user_id = ?", (*args, user_id)
        await self.db.run(sql, args)

    async def async_delete_all(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> None:
        await self.async_delete_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        await self.async_delete_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )

    async def count(self) -> tuple[int, int]:
        """(installations, bots) held: for tests and the operator."""
        inst = await self.db.run("SELECT count(*) FROM slack_installations")
        bots = await self.db.run("SELECT count(*) FROM slack_bots")
        return inst[0][0], bots[0][0]


class SqliteOAuthStateStore(AsyncOAuthStateStore):
    """One-time OAuth `state` values with an expiry, so a callback cannot be replayed."""

    def __init__(self, path: str, expiration_seconds: int = 600) -> None:
        self.db = _Db(path)
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self):
        import logging

        return logging.getLogger("smx.oauth_state")

    async def async_issue(self, *args, **kwargs) -> str:
        state = secrets.token_urlsafe(24)
        await self.db.run(
            "INSERT INTO slack_oauth_states (state, expires_at) VALUES (?, ?)",
            (state, time.time() + self.expiration_seconds),
        )
        return state

    async def async_consume(self, state: str) -> bool:
        rows = await self.db.run(
            "DELETE FROM slack_oauth_states WHERE state = ? RETURNING expires_at", (state,)
        )
        return bool(rows) and rows[0][0] > time.time()
