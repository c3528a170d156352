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

_cache: dict[tuple[str, str], tuple[ChannelKind, float]] = {}


async def confirmed_kind(
    client: AsyncWebClient, team: str, channel: str, hint: ChannelKind
) -> ChannelKind:
    if hint in ("im", "mpim", "private"):
        return hint  # already as private as it gets; no need to ask
    key = (team, channel)
    cached = _cache.get(key)
    now = time.monotonic()
    if cached and cached[1] > now:
        return cached[0]
    try:
        info = await asyncio.wait_for(client.conversations_info(channel=channel), ASK_WITHIN)
        kind = info_kind(info.get("channel") or {})
    except (SlackApiError, TimeoutError, OSError) as err:
        log.warning(
            "conversations.info failed; treating the channel as private",
            extra={"error": repr(err)[:200]},
        )
        return "private"
    _cache[key] = (kind, now + TTL_SECONDS)
    return kind
