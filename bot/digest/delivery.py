"""What the scheduler is handed to post with, and what posting can come to.

The scheduler knows nothing of Slack: a face gives it `post(team, channel, reply, enterprise=...)`
(bot/slack/digest_post.py in Slack; a recording function in tests), which does its own waiting on
rate limits and retrying of server errors, and reports one of these outcomes.

A long digest is several messages (the first in the channel, the rest in its thread). As soon as
the first is in the channel, `post` calls `head_posted(ts)`: the scheduler sets HEAD_POSTED (a
context variable, so `post`'s signature stays the same for every face and test double) to record
the ts at once. A process that dies while posting the thread then leaves a run whose head is known
to be posted, and the reaper marks it posted, not lost.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.reply import Reply

Outcome = Literal[
    "posted",  # the message is in the channel (`ts`); `error` notes a thread left short
    "channel_gone",  # the bot is not in the channel, or it was archived or deleted
    "team_revoked",  # the workspace's token no longer works (uninstalled, revoked)
    "retry",  # a transient failure outlasted the retries; certainly not posted
    "failed",  # refused for good (e.g. invalid blocks); certainly not posted
    "uncertain",  # the request may have reached Slack (a timeout mid-request)
    # Not sent: the conversation may not read it (`error` says why: SHARED_EXTERNALLY, or
    # PRIVACY_CHECK when the answer held notes its audience may not see). Certainly not posted.
    "refused",
]
SHARED_EXTERNALLY = "shared_externally"  # Slack says another organisation is in the channel
PRIVACY_CHECK = "privacy_check"


@dataclass(frozen=True)
class Delivery:
    outcome: Outcome
    ts: str | None = None
    error: str | None = None
    messages: int = 0  # how many messages were posted (the first, then thread replies)
    parts: int = 0  # how many messages the digest was split into (0: not known)


class Post(Protocol):
    async def __call__(
        self, team: str, channel: str, reply: Reply, *, enterprise: str | None = None
    ) -> Delivery:
        """Post `reply` to `channel` (a channel id, or a user id for a DM) with the bot token of
        workspace `team` (of Grid org `enterprise`)."""
        ...


HEAD_POSTED: ContextVar[Callable[[str], Awaitable[None]] | None] = ContextVar(
    "digest_head_posted", default=None
)


async def head_posted(ts: str | None) -> None:
    """Called by `post` once the first message is in the channel; a no-op outside the scheduler
    (`/smx digest now`). Never raises: failing to record the ts must not stop the post."""
    record = HEAD_POSTED.get()
    if record is None or not ts:
        return
    try:
        await record(ts)
    except Exception:
        logging.getLogger("smx.digest").exception("could not record the digest's first message")
