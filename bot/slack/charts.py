"""An answer's chart, uploaded with it (issue 16): after the answer is sent, drawn off the event
loop and uploaded with `files_upload_v2` (scope `files:write`) where the answer's readers are:
the channel for an answer posted there, the person's DM with smx for one only they see (never the
channel, where others would see it). A chart that cannot be uploaded costs only the chart: one
line says so where the answer went.

A chart drawn from notes (`notes CAMPAIGN chart`) shows their figures, so it is held to the
answer's own privacy check (bot/slack/answer.py `cleared`, over every note the answer shows or
counts) against who will read it where it goes, right before the upload: the channel's audience
for an answer posted there, the person's DM for an ephemeral one. A DM outlives the channel it
was asked in, so a private channel's notes by others are not sent there; and in a conversation
that may be shared with another organisation nobody is taken to be only of this one. A chart
that fails the check is not uploaded and nothing more is said: the text answer stands alone.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.context import Context
from bot.reply import Reply
from bot.slack.inflight import tracked
from bot.store.base import Audience, may_read

log = logging.getLogger("smx.slack")
_pending: set[asyncio.Task] = set()


# Charts waiting to be drawn and uploaded, at most, in a process: past this an answer goes
# without its chart and says so in one line of its own (no extra message), so a flood of
# estimates queues no unbounded drawing behind it (the worker draws a few a second).
MAX_WAITING = 16
BUSY = "No chart this time: smx is drawing many just now. Ask again in a minute for the chart."


def chart_later(client: Any, ctx: Context, reply: Reply, *, shared: bool) -> Reply:
    """Upload `reply`'s chart, if it has one, after this request is answered; the reply to send
    (`reply` itself, or with a line saying the chart is not coming when too many wait)."""
    if reply.is_error or not getattr(ctx.services.settings, "charts", True):
        return reply
    from bot.charts.model import chart_for

    chart = chart_for(reply.data, reply.title)
    if chart is None:
        return reply
    if reply.sources and not all(
        may_read(s, destination(ctx, shared=shared)) for s in reply.sources
    ):
        # Looked at before drawing, so a chart that will be refused costs nothing; the check
        # that decides (cleared, logged when it refuses) is made again right before the upload.
        if not shared:  # expected, not a fault: a private channel's notes by others, asked there
            log.info("chart not sent to the DM", extra={"channel": ctx.channel})
        return reply
    loop = asyncio.get_running_loop()
    if sum(1 for t in _pending if t.get_loop() is loop) >= MAX_WAITING:
        log.warning("chart skipped: too many waiting", extra={"channel": ctx.channel})
        from bot.telemetry import CHARTS_SKIPPED

        CHARTS_SKIPPED.inc()
        return reply.model_copy(update={"footnotes": [*reply.footnotes, BUSY]})
    task = asyncio.ensure_future(tracked(post_chart)(client, ctx, chart, shared, reply))
    _pending.add(task)
    task.add_done_callback(_pending.discard)
    return reply


def destination(ctx: Context, *, shared: bool, dm: str | None = None) -> Audience:
    """Who reads the chart where it goes: everyone in ctx's conversation for a shared answer
    (the person alone when that is their own DM with smx, as for the text answer there), or the
    person in their DM with smx (`dm`) for an ephemeral one."""
    from bot.slack.answer import audience

    if shared:
        own_dm = ctx.surface in ("mention", "dm") and ctx.channel_kind == "im"
        return audience(ctx, private=own_dm)
    return Audience(
        team=ctx.owner,
        channel=dm or "",
        channel_kind="im",
        # From a conversation that may be shared with another organisation the person may be of
        # that one: their DM is held to the same rule as the conversation.
        shared_externally=ctx.confined,
        user=None if ctx.confined else ctx.user,
    )


def cleared_for(reply: Reply, reader: Audience) -> bool:
    """Whether every note `reply` shows or counts may be read by `reader` (the last-step check,
    logged and counted when it refuses)."""
    from bot.slack.answer import cleared

    return cleared(reply, reader, path="chart upload") is reply


async def post_chart(
    client: Any, ctx: Context, chart: Any, shared: bool, reply: Reply | None = None
) -> None:
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
        # Right before the upload, against the conversation it goes to.
        reader = destination(ctx, shared=shared, dm=channel)
        if shared and reply is not None and reply.sources and not reader.shared_externally:
            # A chart may wait behind others: whether the channel has been shared with another
            # organisation since the answer is asked again, not taken from the answer's facts.
            from dataclasses import replace

            from bot.slack.channels import asked_now

            if (await asked_now(client, channel, team=ctx.team)).shared_externally:
                reader = replace(reader, shared_externally=True, user=None)
        if reply is not None and reply.sources and not cleared_for(reply, reader):
            return
        await client.files_upload_v2(
            channel=channel,
            # A mention's answer is in a thread: its chart goes beside it (never a DM's thread).
            thread_ts=ctx.thread_ts if shared else None,
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
                await client.chat_postMessage(
                    channel=ctx.channel, thread_ts=ctx.thread_ts, text=text
                )
            else:
                await client.chat_postEphemeral(channel=ctx.channel, user=ctx.user, text=text)
        except CALL_FAILED:
            log.warning("could not say the chart is missing", extra={"channel": ctx.channel})
