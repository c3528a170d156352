"""A posted digest's chart, in its thread (issue 16).

After a digest's first message is posted, its chart (bot/charts/digest.py: spend per campaign,
realised figures against the published range, the last four weeks) is drawn and uploaded with
`files_upload_v2` into that message's thread. It is extra: the digest's text never waits for it.

- **Who reads it:** the channel the digest went to. The week's figures are the digest's own, held
  against the channel before the digest was posted; the earlier weeks are read as the channel
  sees them (Viewer with no user, as the digest is) and every place and author they count is
  held against the same reader (`cleared`) before anything is drawn: a refusal draws nothing.
- **Off the loop, one at a time:** the trend is one query; the drawing (a few tenths of a second
  of CPU) runs in the chart worker process (bot/charts/draw.py), one digest chart at a time for
  the process (`_gate`), so a pass of thousands of digests queues its charts behind the digests
  rather than holding the event loop, its interpreter lock or the CPU the acks need. Only what
  the chart needs of a digest is kept while it waits, not the Reply.
- **A chart that cannot be made or uploaded** costs only the chart: one line in the thread says
  it is missing. Charts still waiting when the process stops are dropped, never awaited at
  shutdown (they are not what anyone asked for; the digest is).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from bot.charts.digest import read_trend, trend_sources
from bot.reply import Reply
from bot.store import Audience

log = logging.getLogger("smx.digest")
_pending: set[asyncio.Task] = set()
_gates: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

NOT_UPLOADED = (
    "The chart of this digest could not be uploaded (Slack said `{why}`); every figure is in "
    "the digest above."
)
NOT_DRAWN = "The chart of this digest could not be drawn; every figure is in the digest above."


def _gate() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = asyncio.Semaphore(1)
    return gate


def chart_digest_later(
    client: Any, store: Any, channel: str, ts: str | None, reply: Reply, reader: Audience
) -> None:
    """Draw and upload `reply`'s chart into the thread of `ts` once this post is done."""
    info = reply.data.get("digest") or {}
    if not ts or not info.get("notes") or store is None:
        return
    task = asyncio.ensure_future(
        _post(client, store, channel, ts, {"digest": info}, reply.title, reader)
    )
    _pending.add(task)
    task.add_done_callback(_pending.discard)


async def _post(
    client: Any,
    store: Any,
    channel: str,
    ts: str,
    data: dict[str, Any],
    title: str | None,
    reader: Audience,
) -> None:
    from bot.charts.digest import with_trend
    from bot.charts.draw import draw
    from bot.charts.model import chart_for
    from bot.slack.answer import cleared

    async with _gate():
        try:
            # Asked again now, not taken from the post: a chart may wait minutes behind others,
            # and the channel may have been shared with another organisation meanwhile.
            reader = await _fresh(client, channel, reader)
            if reader is None:
                return
            if "trend" not in data["digest"]:
                trend = await read_trend(store, reader.team, channel, data["digest"])
                held = Reply(sources=trend_sources(trend))
                if cleared(held, reader, path="digest_chart") is not held:
                    return  # logged and counted by the check; the digest itself went out
                data = with_trend(data, trend)
            chart = chart_for(data, title)
            if chart is None:
                return
            image = await draw(chart)  # in the chart worker process (bot/charts/draw.py)
        except Exception:  # never the digest's problem: said in one line, logged
            log.exception("digest chart not drawn", extra={"channel": channel})
            await _say(client, channel, ts, NOT_DRAWN)
            return
    await _upload(client, channel, ts, chart, image)


async def _fresh(client: Any, channel: str, reader: Audience) -> Audience | None:
    """The channel as Slack describes it now; None (nothing is drawn) when it is shared with
    another organisation now or Slack cannot say (a chart is extra: not worth a guess)."""
    from dataclasses import replace

    from bot.slack.channels import CALL_FAILED, asked_now

    try:
        facts = await asked_now(client, channel)
    except CALL_FAILED:
        log.warning("digest chart dropped: conversations.info failed", extra={"channel": channel})
        return None
    if facts.shared_externally:
        log.warning("digest chart dropped: the channel is shared now", extra={"channel": channel})
        return None
    return replace(reader, channel_kind=facts.kind, shared_externally=False)


RETRIES = 3  # a rate-limited upload is tried this many times in all
MAX_RETRY_AFTER = 60.0


async def _upload(client: Any, channel: str, ts: str, chart: Any, image: bytes) -> None:
    from slack_sdk.errors import SlackApiError, SlackClientError

    from bot.slack.answer import slack_error
    from bot.slack.channels import CALL_FAILED

    for attempt in range(1, RETRIES + 1):
        try:
            await client.files_upload_v2(
                channel=channel,
                thread_ts=ts,
                content=image,
                filename="digest.png",
                title=chart.title,
                alt_txt=chart.alt_text(),
            )
            return
        except (*CALL_FAILED, SlackClientError) as err:
            limited = isinstance(err, SlackApiError) and err.response.status_code == 429
            if limited and attempt < RETRIES:
                wait = err.response.headers.get("Retry-After") or err.response.headers.get(
                    "retry-after"
                )
                try:
                    pause = min(MAX_RETRY_AFTER, max(0.0, float(wait or 1)))
                except ValueError:
                    pause = 1.0
                await asyncio.sleep(pause)  # Slack's own wait, bounded: then once more
                continue
            why = slack_error(err)
            log.warning("digest chart not uploaded", extra={"error": why, "channel": channel})
            await _say(client, channel, ts, NOT_UPLOADED.format(why=why))
            return


async def _say(client: Any, channel: str, ts: str, text: str) -> None:
    from bot.slack.channels import CALL_FAILED

    try:
        await client.chat_postMessage(channel=channel, thread_ts=ts, text=text)
    except CALL_FAILED:
        log.warning("could not say the digest chart is missing", extra={"channel": channel})


def _mine() -> list[asyncio.Task]:
    loop = asyncio.get_running_loop()
    return [t for t in _pending if t.get_loop() is loop]


async def settled() -> None:
    """Wait for every chart queued so far (tests, and a command-line pass that exits after)."""
    while waiting := _mine():
        await asyncio.gather(*waiting, return_exceptions=True)


async def drop_waiting() -> None:
    """Cancel every chart not yet uploaded (the server stopping: the store closes next)."""
    waiting = _mine()
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
