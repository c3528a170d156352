"""What a conversation is and who is in it, asked of Slack (conversations.info, .members).

A slash command payload only hints at privacy (`channel_name` is `privategroup` for private
channels); before a note's visibility is decided by that hint, Slack is asked, and its answer is
remembered a while. Anything unclear counts as private, and a conversation Slack could not
describe might be shared with another organisation: that can only hide a note, never expose one.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.context import ChannelKind, Context, Named
from bot.slack.payloads import info_kind, shared_externally

log = logging.getLogger("smx.slack")
TTL_SECONDS = 600.0
ASK_WITHIN = 1.0  # inside the 3 s ack budget, with room for the answer itself
MEMBER_PAGES = 20  # conversations.members pages of 1,000: beyond 20,000 members, "could not say"
CHANNEL_ID = re.compile(r"<#([A-Z0-9]+)(?:\|[^>]*)?>")
# A Web API call that did not give an answer: Slack's refusal, a time-out, a dropped connection.
CALL_FAILED = (SlackApiError, TimeoutError, OSError, aiohttp.ClientError)


@dataclass(frozen=True)
class Facts:
    kind: ChannelKind
    shared_externally: bool
    known: bool = True  # False: Slack could not say; `kind` is then the private guess


_cache: dict[tuple[str, str], tuple[Facts, float]] = {}


async def conversation(client: AsyncWebClient, team: str, channel: str, hint: ChannelKind) -> Facts:
    """How private `channel` is and whether another organisation shares it, cached a while.
    A DM (hint `im`, from Slack's own channel id or name) needs no asking."""
    if hint == "im" or not channel:
        return Facts(hint, False)
    key = (team, channel)
    cached = _cache.get(key)
    now = time.monotonic()
    if cached and cached[1] > now:
        return cached[0]
    try:
        return await asyncio.wait_for(asked_now(client, channel, team=team), ASK_WITHIN)
    except CALL_FAILED as err:
        log.warning(
            "conversations.info failed; treating the channel as private and maybe shared",
            extra={"error": repr(err)[:200]},
        )
        return Facts("private" if hint == "public" else hint, False, known=False)


async def asked_now(client: AsyncWebClient, channel: str, *, team: str | None = None) -> Facts:
    """What Slack says `channel` is now, never the cache (work done long after its request:
    a chart; the cache is refreshed with it when `team` is given). Raises CALL_FAILED."""
    info = await client.conversations_info(channel=channel)
    found = info.get("channel") or {}
    facts = Facts(info_kind(found), shared_externally(found))
    if team is not None:
        _cache[(team, channel)] = (facts, time.monotonic() + TTL_SECONDS)
    return facts


async def channel_facts(
    client: AsyncWebClient, team: str, channel: str, hint: ChannelKind
) -> tuple[ChannelKind, bool]:
    """(how private, whether shared with another organisation); unknown counts as shared."""
    facts = await conversation(client, team, channel, hint)
    return facts.kind, facts.shared_externally or not facts.known


def settle(ctx: Context, facts: Facts) -> None:
    """Set the context's idea of its conversation from what Slack said."""
    ctx.channel_kind, ctx.shared_externally, ctx.facts_known = (
        facts.kind,
        facts.shared_externally,
        facts.known,
    )


async def place(client: AsyncWebClient, ctx: Context, reads_notes: bool) -> None:
    """For a command that reads or writes notes (its entry's SlackNeeds.reads_notes), set the
    context's privacy from Slack's answer."""
    if reads_notes:
        settle(ctx, await conversation(client, ctx.team, ctx.channel, ctx.channel_kind))


async def is_member(client: AsyncWebClient, channel: str, user: str) -> bool | None:
    """Whether `user` is in `channel` (conversations.members, paged); None when Slack could not
    say (an error, or more members than MEMBER_PAGES pages), which callers count as no."""
    cursor = None
    for _page in range(MEMBER_PAGES):
        try:
            page = await client.conversations_members(channel=channel, limit=1000, cursor=cursor)
        except CALL_FAILED as err:
            log.warning("conversations.members failed", extra={"error": repr(err)[:200]})
            return None
        if user in (page.get("members") or []):
            return True
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return False
    return None


async def describe_named(client: AsyncWebClient, ctx: Context, text: str) -> None:
    """For each `<#C…>` the text names besides ctx's own channel, what Slack says of it and
    whether the asker is in it (not asked for an admin, who may manage any digest), into
    ctx.named. Asked afresh, not from the cache: it decides who may manage a digest."""
    for channel in dict.fromkeys(CHANNEL_ID.findall(text)):
        if channel == ctx.channel:
            continue
        _cache.pop((ctx.team, channel), None)
        facts = await conversation(client, ctx.team, channel, "private")
        member = None if ctx.is_admin else await is_member(client, channel, ctx.user)
        ctx.named[channel] = Named(
            kind=facts.kind if facts.known else None,
            shared_externally=facts.shared_externally if facts.known else None,
            member=member,
        )
