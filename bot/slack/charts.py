"""An answer's chart, uploaded with it (issue 16): after the answer is sent, drawn off the event
loop and uploaded with `files_upload_v2` (scope `files:write`) where the answer's readers are:
the channel for an answer posted there, the person's DM with smx for one only they see (never the
channel, where others would see it). A chart that cannot be uploaded costs only the chart: one
line says so where the answer went. Only answers worked out from the words alone have charts
(estimates, platform comparisons): no note ever reaches a picture.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.context import Context
from bot.reply import Reply
from bot.slack.inflight import tracked

log = logging.getLogger("smx.slack")
_pending: set[asyncio.Task] = set()


def chart_later(client: Any, ctx: Context, reply: Reply, *, shared: bool) -> None:
    """Upload `reply`'s chart, if it has one, after this request is answered."""
    if reply.is_error or reply.sources:
        return
    from bot.charts.model import chart_for

    chart = chart_for(reply.data, reply.title)
    if chart is None:
        return
    task = asyncio.ensure_future(tracked(post_chart)(client, ctx, chart, shared))
    _pending.add(task)
    task.add_done_callback(_pending.discard)


async def post_chart(client: Any, ctx: Context, chart: Any, shared: bool) -> None:
    from slack_sdk.errors import SlackClientError

    from bot.charts.draw import draw
    from bot.slack.answer import slack_error
    from bot.slack.channels import CALL_FAILED

    data = await draw(chart)  # CPU work, in the chart worker process (bot/charts/draw.py)
    try:
        if shared:
            channel = ctx.channel
        else:
            opened = await client.conversations_open(users=ctx.user)
            channel = opened["channel"]["id"]
        await client.files_upload_v2(
            channel=channel,
            content=data,
            filename="chart.png",
            title=chart.title,
            alt_txt=chart.alt_text(),
        )
    except (*CALL_FAILED, SlackClientError) as err:  # the upload URL refusing the bytes too
        why = slack_error(err)
        log.warning("chart not uploaded", extra={"error": why, "channel": ctx.channel})
        text = (
            f"The chart of that answer could not be uploaded (Slack said `{why}`); the figures "
            "in the answer are all there is."
        )
        try:
            if shared:
                await client.chat_postMessage(channel=ctx.channel, text=text)
            else:
                await client.chat_postEphemeral(channel=ctx.channel, user=ctx.user, text=text)
        except CALL_FAILED:
            log.warning("could not say the chart is missing", extra={"channel": ctx.channel})
