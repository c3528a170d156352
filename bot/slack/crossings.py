"""A target moved off track: the one message in the conversation where it was set.

The note's (or the import's) handler has already made the compare-and-set that makes this move
this request's alone (bot/target_commands.py); here it is posted, after the last-step check
against whoever reads that conversation now, as Slack describes it. It never delays the answer
to the person who logged the note: it runs as tracked work after it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.context import Context
from bot.reply import Reply, Source
from bot.slack.answer import message_args
from bot.slack.inflight import tracked
from bot.store import Audience

log = logging.getLogger("smx.slack")
_pending: set[asyncio.Task] = set()


def announce_later(client: Any, ctx: Context, reply: Reply) -> None:
    """Post each crossing `reply` carries, after this request is answered."""
    crossed = reply.data.get("crossed") if not reply.is_error else None
    if not crossed:
        return
    task = asyncio.ensure_future(tracked(announce)(client, ctx, crossed))
    _pending.add(task)
    task.add_done_callback(_pending.discard)


async def announce(client: Any, ctx: Context, crossed: list[dict]) -> None:
    from bot.slack.channels import conversation
    from bot.slack.payloads import event_kind

    for c in crossed:
        channel = c["channel"]
        hint = event_kind(None, channel) or c["channel_kind"]
        if hint == "console":
            continue  # set in a terminal: there is no conversation to post in
        facts = await conversation(client, ctx.team, channel, hint)
        reader = Audience(
            team=ctx.owner,
            channel=channel,
            channel_kind=facts.kind,
            shared_externally=facts.shared_externally or not facts.known,
            user=None,
        )
        message = Reply(
            intro=f"{c['text']} Type `/smx targets {c['campaign']}` for every target.",
            sources=[Source(**s) for s in c["sources"]],
        )
        try:
            await client.chat_postMessage(
                channel=channel, **message_args(message, reader, path="target crossing")
            )
        except SlackApiError as err:
            log.warning(
                "could not say a target moved off track",
                extra={"channel": channel, "error": err.response.get("error")},
            )
