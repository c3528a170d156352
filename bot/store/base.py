"""What the rest of smx may ask of storage, independent of the database behind it.

Features and faces hold a `Store` and await its methods; nothing above this layer writes SQL. The
SQLite backend (bot/store/sqlite.py) is the only one today; a PostgreSQL backend for several
replicas would implement the same protocol. Every read takes a `Viewer`, every write a team, so no
query can forget which tenant it serves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

# Mirrors bot.context.ChannelKind; repeated here so the store does not import the faces' types.
ChannelKind = Literal["public", "private", "im", "mpim", "console"]
# Notes from these conversations are team-wide; everything else stays where it was logged.
PUBLIC_KINDS: tuple[ChannelKind, ...] = ("public", "console")


@dataclass(frozen=True)
class Viewer:
    """Who will read an answer, which decides which notes it may contain.

    `team` is the tenant (Enterprise Grid org, else workspace). `user` is set when only that person
    sees the answer (an ephemeral reply, a console): their own private notes are then included.
    Leave `user` as None for anything the whole conversation sees (a CSV uploaded to the channel, a
    digest): it then holds public notes and the notes logged in `channel` only.
    """

    team: str
    channel: str
    user: str | None = None


@dataclass(frozen=True)
class NewNote:
    team: str  # the tenant: ctx.owner
    workspace: str  # the Slack workspace it was logged in (ctx.team); differs from team on Grid
    channel: str
    channel_kind: ChannelKind
    author: str
    campaign: str
    text: str
    platform: str | None = None
    spend: float | None = None
    currency: str | None = None  # of `spend`, as the person typed it ("$", "€", ...)
    impressions: float | None = None
    clicks: float | None = None
    conversions: float | None = None
    # Every other metric token (revenue, views, reach, ...) by canonical key, rates as fractions.
    metrics: dict[str, float] = field(default_factory=dict)
    created_at: datetime | None = None  # None: now (UTC)


@dataclass(frozen=True)
class Note(NewNote):
    id: int = 0

    @property
    def is_public(self) -> bool:
        return self.channel_kind in PUBLIC_KINDS


@dataclass(frozen=True)
class NotePage:
    notes: list[Note]
    total: int  # every note the filter matches, not only this page


@dataclass(frozen=True)
class CampaignTotals:
    """Summed metrics of one campaign's notes, paired so that a realised rate never divides figures
    that came from different notes (spend logged without impressions does not inflate the CPM)."""

    campaign: str
    notes: int
    platforms: tuple[str, ...]  # distinct platforms named in its notes
    currencies: tuple[str, ...]  # distinct currencies of its spend
    spend: float | None  # all spend (None when no note has any)
    impressions: float | None
    clicks: float | None
    conversions: float | None
    # (numerator, denominator) summed over the notes that carry both figures
    spend_per_impression: tuple[float, float] | None = None
    spend_per_click: tuple[float, float] | None = None
    clicks_per_impression: tuple[float, float] | None = None
    spend_per_conversion: tuple[float, float] | None = None


DeleteOutcome = Literal["deleted", "forbidden", "missing"]


class Store(Protocol):
    """The storage operations smx uses. All are coroutines: none blocks the event loop."""

    async def add_note(self, note: NewNote, *, event_id: str | None = None) -> int | None:
        """Store a note and return its id. With `event_id`, the event is claimed in the same
        transaction: a re-delivered event stores nothing and returns None."""

    async def get_note(self, viewer: Viewer, note_id: int) -> Note | None: ...

    async def list_notes(
        self,
        viewer: Viewer,
        *,
        campaign: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> NotePage:
        """Newest first; `since` inclusive, `until` exclusive."""

    async def campaign_totals(
        self,
        viewer: Viewer,
        *,
        campaign: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[CampaignTotals]:
        """Per campaign, most spend first."""

    async def search_notes(self, viewer: Viewer, query: str, *, limit: int = 20) -> list[Note]:
        """Full-text search; `query` is what a person typed, never FTS syntax."""

    async def export_notes(self, viewer: Viewer, *, campaign: str | None = None) -> list[Note]:
        """Every visible note, oldest first."""

    async def delete_note(self, viewer: Viewer, note_id: int, *, is_admin: bool) -> DeleteOutcome:
        """Delete if `viewer.user` wrote it or is an admin. A note the viewer cannot see (another
        team's, or private elsewhere and not theirs) is "missing" to them even when they are an
        admin, so the answer reveals nothing about it."""

    async def claim_event(self, event_id: str, team: str = "") -> bool:
        """True the first time an event id is seen, False for every re-delivery."""

    async def prune_events(self, older_than_seconds: float) -> int: ...

    async def schema_version(self) -> int: ...

    async def close(self) -> None: ...
