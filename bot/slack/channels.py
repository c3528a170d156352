"""How private a conversation is, asked of Slack (conversations.info) and remembered a while.

A slash command payload only hints at it (`channel_name` is `privategroup` for private channels);
before a note's visibility is decided by that hint, Slack is asked. Anything unclear counts as
private: that can only hide a note, never expose one.
"""

from __future__ import annotations

import asyncio
import logging
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.context import ChannelKind
from bot.slack.payloads import info_kind

log = logging.getLogger("smx.slack")
TTL_SECONDS = 600.0
ASK_WITHIN = 1.0  # inside the 3 s ack budget, with room for the answer itself

_cache: dict[tuple[str, str], tuple[tuple[ChannelKind, bool], float]] = {}


async def channel_facts(
    client: AsyncWebClient, team: str, channel: str, hint: ChannelKind
) -> tuple[ChannelKind, bool]:
    """(how private, whether shared with another organisation), asked of Slack and cached."""
    if hint == "im" or not channel:
        return hint, False
    key = (team, channel)
    cached = _cache.get(key)
    now = time.monotonic()
    if cached and cached[1] > now:
        return cached[0]
    try:
        info = await asyncio.wait_for(client.conversations_info(channel=channel), ASK_WITHIN)
        found = info.get("channel") or {}
        facts: tuple[ChannelKind, bool] = (info_kind(found), bool(found.get("is_ext_shared")))
    except (SlackApiError, TimeoutError, OSError) as err:
        log.warning(
            "conversations.info failed; treating the channel as private",
            extra={"error": repr(err)[:200]},
        )
        return ("private" if hint == "public" else hint), False
    _cache[key] = (facts, now + TTL_SECONDS)
    return facts


NOTE_WORDS = frozenset({"note", "notes", "digest"})


async def place(client: AsyncWebClient, ctx, text: str) -> None:
    """For commands that read or write notes, set the context's privacy from Slack's answer."""
    first = text.split()[:1]
    if first and first[0].lower() in NOTE_WORDS:
        ctx.channel_kind, ctx.shared_externally = await channel_facts(
            client, ctx.team, ctx.channel, ctx.channel_kind
        )
