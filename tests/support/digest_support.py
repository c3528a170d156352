"""What the digest tests share: a clock the test moves, a recording `post`, quick set-up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.digest.delivery import Delivery, head_posted
from bot.digest.slots import Slot
from bot.reply import Reply, render_text
from bot.store import NewNote, Subscription


class Clock:
    """Injected into the scheduler: time moves only when the test says so."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class Posted:
    team: str
    channel: str
    reply: Reply
    at: datetime

    @property
    def text(self) -> str:
        return render_text(self.reply)

    @property
    def week(self) -> str | None:
        return (self.reply.data.get("digest") or {}).get("week")


@dataclass
class Recorder:
    """A `post` that records every call; `outcomes[channel]` scripts what the next posts answer."""

    clock: Callable[[], datetime]
    posts: list[Posted] = field(default_factory=list)
    outcomes: dict[str, list[Delivery]] = field(default_factory=dict)
    hang: set[str] = field(default_factory=set)  # channels whose posts never return
    # Channels whose first message goes out and whose thread replies then never return (a
    # process that dies, or hangs, while posting the thread).
    hang_in_thread: set[str] = field(default_factory=set)
    head_in_channel: asyncio.Event = field(default_factory=asyncio.Event)
    hanging: asyncio.Event = field(default_factory=asyncio.Event)  # a post to `hang` has begun
    # (channel, how many posts had gone out) for each hanging post the scheduler gave up on.
    abandoned: list[tuple[str, int]] = field(default_factory=list)

    async def __call__(
        self, team: str, channel: str, reply: Reply, *, enterprise: str | None = None
    ) -> Delivery:
        if channel in self.hang:
            self.hanging.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:  # the scheduler's post timeout, or its stop
                self.abandoned.append((channel, len(self.posts)))
                raise
        scripted = self.outcomes.get(channel)
        if scripted:
            outcome = scripted.pop(0)
            if outcome.outcome == "posted":
                self.posts.append(Posted(team, channel, reply, self.clock()))
            return outcome
        self.posts.append(Posted(team, channel, reply, self.clock()))
        ts = f"{len(self.posts)}.0001"
        await head_posted(ts)  # as the Slack poster does, before any thread reply
        if channel in self.hang_in_thread:
            self.head_in_channel.set()
            await asyncio.Event().wait()
        return Delivery("posted", ts=ts, messages=1)

    def digests(self, channel: str | None = None) -> list[Posted]:
        """Posts to channels (not DMs to people), optionally to one."""
        return [
            p
            for p in self.posts
            if not p.channel.startswith("U") and (channel is None or p.channel == channel)
        ]

    def dms(self, user: str | None = None) -> list[Posted]:
        return [
            p
            for p in self.posts
            if p.channel.startswith("U") and (user is None or p.channel == user)
        ]


def subscription(
    channel: str,
    now: datetime,
    *,
    team: str = "T1",
    weekday: int = 0,
    hour: int = 9,
    minute: int = 0,
    tz: str = "Europe/Berlin",
    include_empty: bool = False,
    workspace: str | None = None,
    subscriber: str = "U1",
) -> Subscription:
    slot = Slot(weekday, hour, minute, tz)
    return Subscription(
        team=team,
        channel=channel,
        workspace=workspace or team,
        enterprise=None,
        weekday=weekday,
        hour=hour,
        minute=minute,
        tz=tz,
        subscriber=subscriber,
        next_run=slot.next_after(now),
        include_empty=include_empty,
    )


def note(
    channel: str,
    at: datetime,
    text: str = "Reel got 3x saves",
    *,
    team: str = "T1",
    campaign: str = "spring-launch",
    kind: str = "public",
    author: str = "U1",
    **metrics,
) -> NewNote:
    return NewNote(
        team=team,
        workspace=team,
        channel=channel,
        channel_kind=kind,  # type: ignore[arg-type]
        author=author,
        campaign=campaign,
        text=text,
        created_at=at,
        **metrics,
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)
