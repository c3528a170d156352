"""`/smx` answered straight from the gate, without Bolt's dispatch, when the answer is complete in
the ack.

Over HTTP the gate (bot/slack/guard.py) has already verified the signature, read the body once
and checked its shape. For a slash command whose entry needs nothing of the Web API around its
handler, what Bolt would add is its middleware chain, its listener matching, the building of
keyword arguments for each listener and matcher, and its own response object: several times the
cost of the answer itself (bench/bench_ack.py). The gate hands such a command here instead; the
answer is made by the very function Bolt's listener calls (`ack_args`), so the two paths cannot
answer differently.

Authorization is kept as Bolt does it, so a workspace Bolt would turn away is still turned away by
Bolt: anything this path is not sure of goes to Bolt.
- One workspace (a bot token): Bolt calls auth.test once and then trusts the token for the life of
  the process. This path calls auth.test once too (a failure is not remembered: the command goes
  to Bolt, which says what it says, and the next command asks again).
- Many workspaces (OAuth): the team's installation is looked up in the store for every command,
  as Bolt does; no installation or no bot token, and the command goes to Bolt. Bolt would also
  call auth.test with that token on every command; here the token is trusted as stored, as Bolt
  itself does with `cache_enabled`: it was checked when the workspace installed smx, and
  app_uninstalled / tokens_revoked delete it (bot/slack/listeners/events.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from bot import telemetry
from bot.context import Services
from bot.reply import Reply
from bot.router import entry
from bot.slack.failure import log_failure
from bot.slack.listeners.commands import Acked, acked

log = logging.getLogger("smx.slack")
COMMAND = "/smx"


class DirectAnswers:
    """The gate's way past Bolt for `/smx` answers complete in the ack (see the module's notes)."""

    def __init__(self, bolt, services: Services) -> None:
        self._bolt = bolt
        self._services = services
        self._installations = bolt.installation_store if bolt.oauth_flow is not None else None
        self._token_checked = False
        self._checking: asyncio.Lock | None = None

    async def respond(self, body: dict[str, Any]) -> web.Response | None:
        """The HTTP answer to a signed, well-shaped command body, or None: Bolt's to answer."""
        if body.get("command") != COMMAND:
            return None
        found = entry(body.get("text") or "")  # cleaned as the router cleans it
        if found is not None and found[0].slack.web_api(found[1]):
            return None  # acks first and finishes in Bolt's lazy listener
        try:
            client = await self._client(body)  # the store (OAuth) or Slack (auth.test) may fail
            if client is None:
                return None
            answer = await acked(body, client, self._services, found)
        except Exception as err:
            # What Bolt's error handler would log; but the person is told in a sentence with an
            # error id instead of Slack's "failed with the error http_service_error".
            telemetry.count_failure("listener", err)
            answer = Acked(_error_args(log_failure(log, "request failed", type="command")))
        return web.Response(body=answer.json(), content_type="application/json")

    async def _client(self, body: dict[str, Any]):
        """The Web API client Bolt would give the listener, once authorized; None to leave the
        command to Bolt."""
        if self._installations is None:
            client = self._bolt.client
            if not client.token:
                return None
            if not self._token_checked and not await self._check_token(client):
                return None
            return client
        from slack_bolt.context.async_context import AsyncBoltContext
        from slack_bolt.request.async_internals import build_async_context

        # The team and organisation read from the body exactly as Bolt reads them.
        context = build_async_context(AsyncBoltContext({}), body)
        installation = await self._installations.async_find_installation(
            enterprise_id=context.enterprise_id,
            team_id=context.team_id,
            is_enterprise_install=context.is_enterprise_install,
        )
        if installation is None or not installation.bot_token:
            return None
        from bot.slack.app import web_client

        return web_client(self._services.settings, installation.bot_token)

    async def _check_token(self, client) -> bool:
        from bot.slack.channels import CALL_FAILED

        if self._checking is None:
            self._checking = asyncio.Lock()
        async with self._checking:  # one auth.test for a burst of first commands
            if self._token_checked:
                return True
            try:
                await client.auth_test()
            except CALL_FAILED:
                return False  # Bolt tries again and answers as it does
            self._token_checked = True
            return True


def _error_args(sentence: str) -> dict[str, Any]:
    from bot.slack.blocks import fallback_text, render_blocks

    reply = Reply.error(sentence)  # no notes in it: nothing to clear for the reader
    return {
        "response_type": "ephemeral",
        "text": fallback_text(reply),
        "blocks": render_blocks(reply),
    }
