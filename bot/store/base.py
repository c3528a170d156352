"""What the rest of smx may ask of storage, independent of the database behind it.

Features and faces hold a `Store` and await its methods; nothing above this layer writes SQL or
opens a connection. Two backends implement it: SQLite (bot/store/sqlite.py), the embedded default,
and PostgreSQL (bot/store/postgres.py) for several replicas on one database. Both pass the same
contract tests (tests/contract/). Every read takes a `Viewer`, every write a team, so no query can
forget which tenant it serves.

Everything that holds state is here: notes and their search, digest subscriptions and runs,
processed event ids, Slack installations and OAuth state, and the operator's retention, purge and
backup. A backend raises `StoreError` (or a subclass) and nothing of its driver's: the faces
answer it in one sentence without knowing which database is behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

# Mirrors bot.context.ChannelKind; repeated here so the store does not import the faces' types.
ChannelKind = Literal["public", "private", "im", "mpim", "console"]
# Notes from these conversations are team-wide; everything else stays where it was logged.
PUBLIC_KINDS: tuple[ChannelKind, ...] = ("public", "console")


class StoreError(RuntimeError):
    """The database failed. `str(err)` is one sentence an operator can act on; it never holds a
    password or a driver's traceback (the driver's error is the `__cause__`, for the log)."""


class StoreUnavailable(StoreError):
    """The database cannot be reached (PostgreSQL down, the file's directory gone): try later."""


class SchemaTooNew(StoreError):
    """The database was written by a newer smx; running old code on it could lose data."""


class BackupUnsupported(StoreError):
    """This backend is backed up by its own tools (PostgreSQL: pg_dump); the message says how."""


@dataclass(frozen=True)
class InstallationRecord:
    """One Slack installation (a bot's, or a user's with `user` set) as the store keeps it.

    The Slack face (bot/slack/installations.py) turns slack_sdk's Installation and Bot into these
    and back; the store only keys and orders them. `enterprise` and `team` are "" when absent, and
    an org-wide install (`is_enterprise_install`) is keyed by its enterprise with team "".
    """

    enterprise: str
    team: str
    user: str  # "" for a bot record
    is_enterprise_install: bool
    installed_at: float  # seconds since the epoch, as Slack's SDK keeps it
    data: dict[str, Any]  # the SDK object's to_dict(), JSON-safe


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
    # A channel shared with another organisation (Slack Connect): only the notes logged in it, so
    # the team's own notes never reach the other organisation.
    confined: bool = False


@dataclass(frozen=True)
class Origin:
    """Where a note was logged and by whom: everything that decides who may read it."""

    team: str  # the tenant
    channel: str
    channel_kind: ChannelKind
    author: str


@dataclass(frozen=True)
class Audience:
    """Who will read a message once it is sent: the conversation it goes to, as Slack describes it
    at that moment, and `user` when only that person will see it (an ephemeral reply, their own
    DM with the bot, App Home). `shared_externally` is also set when Slack could not say: a
    conversation that might be shared with another organisation is treated as one that is."""

    team: str  # the tenant whose notes may appear
    channel: str
    channel_kind: ChannelKind
    shared_externally: bool = False
    user: str | None = None


class Readable(Protocol):
    """A note, or the record of one an answer shows or counts (bot/reply.py's Source)."""

    @property
    def team(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def channel_kind(self) -> str: ...
    @property
    def author(self) -> str: ...


def may_read(note: Readable, audience: Audience) -> bool:
    """The privacy rule of PRODUCT.md in Python, checked on every answer as it is sent: the same
    rule the store's SQL applies when it reads (bot/store/notes.py `_visible`), kept apart from
    it on purpose so that a path that reads with the wrong Viewer is still stopped."""
    if note.team != audience.team:
        return False
    if audience.shared_externally:  # another organisation reads along: this channel's notes only
        return note.channel == audience.channel
    if note.channel_kind in PUBLIC_KINDS or note.channel == audience.channel:
        return True
    return audience.user is not None and note.author == audience.user


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

    @property
    def origin(self) -> Origin:
        return Origin(self.team, self.channel, self.channel_kind, self.author)


@dataclass(frozen=True)
class NotePage:
    notes: list[Note]
    # Every note the filter matches, not only this page. An answer that shows it carries where
    # those notes come from too: campaign_totals over the same filter gives their origins.
    total: int


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
    # Where the notes summed here come from (each place and author once).
    origins: tuple[Origin, ...] = ()


DeleteOutcome = Literal["deleted", "forbidden", "missing"]

SubscriptionState = Literal["active", "paused"]
# claimed: taken by one scheduler, nothing sent yet (safe to retry after a crash);
# sending: the post may be on its way (never retried: a crash here is at most once, see
# bot/digest/scheduler.py); retry: a transient failure, to be claimed again at retry_at;
# posted, skipped (an empty week), failed, lost (sending interrupted), dropped: final.
RunState = Literal["claimed", "sending", "retry", "posted", "skipped", "failed", "lost", "dropped"]
FINAL_RUN_STATES: tuple[RunState, ...] = ("posted", "skipped", "failed", "lost", "dropped")


@dataclass(frozen=True)
class Subscription:
    """One channel's weekly digest. `team` is the tenant whose notes it shows (Grid org, else
    workspace); `workspace` and `enterprise` say whose bot token posts it."""

    team: str
    channel: str
    workspace: str
    enterprise: str | None
    weekday: int  # 0 = Monday
    hour: int
    minute: int
    tz: str  # IANA name
    subscriber: str  # who set it up: told by DM when it stops
    next_run: datetime  # UTC, computed from the local slot
    state: SubscriptionState = "active"
    paused_reason: str | None = None
    include_empty: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class DigestRun:
    """One week's digest for one channel, claimed before it is posted: (team, channel, week) is
    unique, so no second tick, process or restart can post the same week again."""

    team: str
    channel: str
    week: str  # ISO week of the slot's local date, "2025-W48"
    due: datetime  # the slot, UTC
    state: RunState
    late: bool = False
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    attempts: int = 0
    retry_at: datetime | None = None
    ts: str | None = None  # the posted message
    notes: int | None = None
    error: str | None = None
    finished_at: datetime | None = None
    told_at: datetime | None = None  # when the subscriber was told it was lost


@dataclass(frozen=True)
class RunClaim:
    """One claim of a batch (Store.claim_runs): what claim_run is given for one subscription."""

    sub: Subscription
    week: str
    due: datetime
    late: bool
    next_run: datetime


@dataclass(frozen=True)
class RunUpdate:
    """One move of a batch (Store.update_runs): what update_run is given for one run."""

    run: DigestRun
    owner: str
    expect: tuple[RunState, ...]
    state: RunState
    now: datetime
    ts: str | None = None
    notes: int | None = None
    error: str | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True)
class WeekActivity:
    """What a digest summarises, read in one snapshot."""

    totals: list[CampaignTotals]  # per campaign, most spend first
    contributors: int
    # The newest few notes of each campaign, newest first.
    highlights: dict[str, list[Note]] = field(default_factory=dict)
    # Every origin of the totals once, in groups no two of which share one, when the reader
    # knows them so (the batch read: a channel's two sides, the first shared by its team's
    # channels): what a digest's sources count, without going through every campaign's origins.
    # None: go through them. Not part of what the week is (equality, repr).
    origin_groups: tuple[tuple[Origin, ...], ...] | None = field(
        default=None, compare=False, repr=False
    )
    # Added by the digest's reader (bot/digest/compose.py read_weeks), not the store's week read:
    # the spend of campaigns in several currencies, by currency (bot/store/splits.py), and the
    # campaign targets the channel may see (bot/store/imports.py TargetRecord).
    currency_parts: tuple[Any, ...] = field(default=(), compare=False, repr=False)
    targets: tuple[Any, ...] = field(default=(), compare=False, repr=False)

    @property
    def notes(self) -> int:
        return sum(t.notes for t in self.totals)


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

    async def delete_note(
        self, viewer: Viewer, note_id: int, *, is_admin: bool, by: str | None = None
    ) -> DeleteOutcome:
        """Delete if `viewer.user` wrote it or is an admin. A note the viewer cannot see (another
        team's, or private elsewhere and not theirs) is "missing" to them even when they are an
        admin, so the answer reveals nothing about it."""

    async def week_activity(
        self, viewer: Viewer, *, since: datetime, until: datetime, per_campaign: int = 3
    ) -> WeekActivity:
        """Totals, contributors and the newest `per_campaign` notes of each campaign in
        [since, until): everything a digest shows, in one read."""

    async def week_activities(
        self,
        viewers: Sequence[Viewer],
        *,
        since: datetime,
        until: datetime,
        per_campaign: int = 3,
        apart: bool = False,
    ) -> list[WeekActivity]:
        """week_activity for every viewer (in the order given), from a few queries in all rather
        than a few per viewer: what the digest scheduler reads for all the channels it claimed.
        The same privacy rule and the same figures (bot/store/digests.py says what may differ:
        the order of equal campaigns and of origins, the last bit of a sum). `apart`: the caller
        runs CPU-bound work beside this read (the scheduler builds the page before), so a
        backend may read a large batch in a process of its own (SQLite: read_worker.py); the
        answer is the same."""

    # -- digest subscriptions and runs (bot/store/digests.py) --

    async def save_subscription(self, sub: Subscription) -> bool:
        """Create or replace the channel's subscription; True when it is new."""

    async def get_subscription(self, team: str, channel: str) -> Subscription | None: ...

    async def subscriptions_set_up_by(self, team: str, subscriber: str) -> list[Subscription]: ...

    async def delete_subscription(self, team: str, channel: str) -> bool: ...

    async def set_subscription_state(
        self,
        team: str,
        channel: str,
        state: SubscriptionState,
        *,
        reason: str | None = None,
        next_run: datetime | None = None,
    ) -> Subscription | None:
        """Pause or resume; None when there is no such subscription."""

    async def pause_workspace(self, workspace: str, reason: str) -> int:
        """Pause every active subscription a workspace's token posts (it was revoked)."""

    async def due_subscriptions(self, now: datetime, *, limit: int = 500) -> list[Subscription]:
        """Active subscriptions whose next run is at or before `now`, earliest first."""

    async def claim_run(
        self,
        sub: Subscription,
        *,
        week: str,
        due: datetime,
        late: bool,
        owner: str,
        now: datetime,
        next_run: datetime,
    ) -> DigestRun | None:
        """In one transaction: move the subscription's next run from `sub.next_run` to `next_run`
        and claim (team, channel, week) for `owner`. None when another scheduler got there first,
        the subscription changed meanwhile, or that week already has a run."""

    async def claim_runs(
        self, claims: Sequence[RunClaim], *, owner: str, now: datetime
    ) -> list[DigestRun | None]:
        """claim_run for each of `claims` (in the order given; None where it claimed nothing),
        all in one transaction: the same compare-and-set per subscription, one commit."""

    async def claim_retry(self, run: DigestRun, *, owner: str, now: datetime) -> DigestRun | None:
        """Claim a run waiting in state retry; None when another scheduler took it."""

    async def update_run(
        self,
        run: DigestRun,
        *,
        owner: str,
        expect: tuple[RunState, ...],
        state: RunState,
        now: datetime,
        ts: str | None = None,
        notes: int | None = None,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> bool:
        """Move a run `owner` holds from one of `expect` to `state`; False when the run is no
        longer theirs (a lease expired and someone else took it) or not in `expect`."""

    async def update_runs(self, updates: Sequence[RunUpdate]) -> list[bool]:
        """update_run for each of `updates`, in order, in one transaction (one commit): each its
        own compare-and-set, as if made one after the other."""

    async def reap_runs(
        self, now: datetime, *, lease_seconds: float, keep: frozenset[tuple[str, str, str]]
    ) -> list[DigestRun]:
        """Runs whose holder died: claimed ones older than the lease go back to retry; sending
        ones become lost (posted when a message ts was recorded). Returns the ones now lost.
        Runs in `keep` (the caller's own, still in flight) are left alone."""

    async def retry_runs(self, now: datetime, *, limit: int = 500) -> list[DigestRun]:
        """Runs in state retry whose retry_at has come."""

    async def claim_notices(
        self, now: datetime, *, owner: str, lease_seconds: float, limit: int = 100
    ) -> list[DigestRun]:
        """Lost runs whose subscriber has not been told yet, claimed by `owner` for telling (a
        claim older than the lease is taken again: telling is at least once)."""

    async def mark_told(self, run: DigestRun, *, owner: str, now: datetime) -> bool: ...

    async def get_run(self, team: str, channel: str, week: str) -> DigestRun | None: ...

    async def list_runs(
        self, team: str | None = None, channel: str | None = None
    ) -> list[DigestRun]:
        """Runs, newest due first (all teams when `team` is None: operators and tests)."""

    async def claim_event(self, event_id: str, team: str = "") -> bool:
        """True the first time an event id is seen, False for every re-delivery."""

    async def prune_events(self, older_than_seconds: float) -> int: ...

    # -- Slack installations and OAuth state (bot/slack/installations.py adapts these) --
    # Nothing here is cached in the process: an uninstall seen by one replica is seen by all.

    async def save_installation(self, record: InstallationRecord) -> None:
        """Add a user's installation (the newest one of a key is the one in force)."""

    async def save_bot(self, record: InstallationRecord) -> None:
        """Add a bot installation (`record.user` is ignored)."""

    async def find_bot(self, enterprise: str, team: str) -> InstallationRecord | None:
        """The newest bot installed for (enterprise, team)."""

    async def find_installation(
        self, enterprise: str, team: str, user: str | None = None
    ) -> InstallationRecord | None:
        """The newest installation for (enterprise, team), of `user` when given."""

    async def delete_bots(self, enterprise: str, team: str) -> int: ...

    async def delete_installations(
        self, enterprise: str, team: str, user: str | None = None
    ) -> int:
        """Every installation of (enterprise, team), only `user`'s when given."""

    async def count_installations(self) -> tuple[int, int]:
        """(installations, bots) held: for tests and the operator."""

    async def issue_oauth_state(self, state: str, expires_at: datetime) -> None: ...

    async def consume_oauth_state(self, state: str, now: datetime) -> bool:
        """Delete `state`; True only when it existed and had not expired (one use, ever)."""

    # -- the operator's tasks (`smx db ...`, the daily upkeep) --

    async def prune_notes(self, keep_days: int, *, now: datetime | None = None) -> int:
        """Delete notes older than `keep_days` days (SMX_RETENTION_DAYS), in small batches so the
        bot's writers never wait long; returns how many."""

    async def purge_team(self, team: str) -> dict[str, int]:
        """Delete every row of `team` (as tenant, workspace or enterprise) in every table, in one
        transaction: rows removed by table. Installations and OAuth data included."""

    async def backup(self, destination: str) -> tuple[Path, int]:
        """A consistent copy of the live database at `destination` (a file, or a directory to name
        one in): (file written, notes in it). `BackupUnsupported` where the database's own tools
        do it better (PostgreSQL)."""

    async def ping(self) -> None:
        """Return when the database answers; `StoreUnavailable` when it does not (for /healthz:
        quick, a few seconds at most)."""

    async def open(self) -> None:
        """Connect now, in the running loop that will use the store (the server at start-up):
        otherwise the first call does. A database unreachable here is retried on use."""

    def migrate(self) -> int:
        """Create or upgrade the schema now and return its version (start-up and tools, before
        the event loop serves anyone). Safe when several processes start at once. Raises
        `StoreUnavailable` (naming the host, never the password) or `SchemaTooNew`."""

    def describe(self) -> str:
        """Where the data is, for logs and messages: "the SQLite file smx.db", "PostgreSQL at
        db.internal:5432/smx". Never a password."""

    async def schema_version(self) -> int: ...

    async def currency_parts(
        self,
        viewer: Viewer,
        *,
        campaign: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Any]:
        """Each campaign's spend and money ratios by currency (bot/store/splits.py)."""

    async def campaign_days(
        self,
        viewer: Viewer,
        *,
        campaign: str,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Any]:
        """A campaign's notes summed per UTC day, platform and currency, in one read, oldest day
        first (bot/store/series.py DayFigures): what its chart draws."""

    async def week_trend(self, viewer: Viewer, edges: Sequence[datetime]) -> Any:
        """Each week's notes and spend by currency between consecutive `edges` (ascending UTC
        moments), in one query (bot/store/trend.py Trend), with the places counted."""

    async def edit_note(
        self, viewer: Viewer, note_id: int, values: dict, *, is_admin: bool, by: str | None = None
    ) -> str:
        """Replace a note's text and figures (bot/store/edits.py EDITED): "edited", or
        "forbidden" (not its author, not an admin), or "missing" (no such note to see here)."""

    # Imported rows and campaign targets (bot/store/imports.py: Imported, TargetRecord).
    async def import_notes(self, rows: Sequence[tuple[NewNote, str]]) -> Any:
        """Log every (note, import key) in one transaction, skipping keys logged before:
        Imported(ids of the notes logged, how many were skipped)."""

    async def set_targets(self, records: Sequence[Any]) -> None:
        """Set (or replace) each TargetRecord: one per team, campaign and figure."""

    async def list_targets(self, team: str, campaign: str | None = None) -> list[Any]: ...

    async def imported_keys(
        self, team: str, channel: str, campaign: str, since: datetime, until: datetime
    ) -> list[str]:
        """The import keys of a campaign's imported notes here, dated in [since, until)."""

    async def targets_of(self, teams: Sequence[str]) -> list[Any]:
        """Every target of these teams (a digest batch reads them in one query)."""

    async def drop_targets(
        self, team: str, campaign: str, channels: Sequence[str], keys: Sequence[str] | None = None
    ) -> int:
        """Remove the campaign's targets set in `channels` (only `keys`, when given)."""

    async def settle_targets(
        self, team: str, campaign: str, channel: str, judge: Any
    ) -> tuple[list[str], Any]:
        """In one transaction that holds the targets: the campaign's totals as `channel` sees
        them, judge(records, totals) -> {key: status}, each status moved; the keys this call
        moved to off track (each crossing one caller's, across every process) and the totals."""

    async def close(self) -> None: ...
