"""What the scheduler is handed to post with, and what posting can come to.

The scheduler knows nothing of Slack: a face gives it `post(team, channel, reply, enterprise=...)`
(bot/slack/digest_post.py in Slack; a recording function in tests), which does its own waiting on
rate limits and retrying of server errors, and reports one of these outcomes.
"""

from __future__ import annotations

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
]


@dataclass(frozen=True)
class Delivery:
    outcome: Outcome
    ts: str | None = None
    error: str | None = None
    messages: int = 0  # how many messages were posted (the first, then thread replies)


class Post(Protocol):
    async def __call__(
        self, team: str, channel: str, reply: Reply, *, enterprise: str | None = None
    ) -> Delivery:
        """Post `reply` to `channel` (a channel id, or a user id for a DM) with the bot token of
        workspace `team` (of Grid org `enterprise`)."""
        ...
