"""SQL for digest subscriptions and runs. Plain functions over a connection, run in the store's
threads (sqlite.py); the ones that change state run inside its write transactions.

A run row is the claim: its primary key (team, channel, week) can be inserted once. State moves
are compare-and-set on (state, claimed_by), so a scheduler whose lease expired finds its run taken
and stops instead of posting (the fence that keeps two processes from both sending).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.store.base import (
    FINAL_RUN_STATES,
    CampaignTotals,
    DigestRun,
    Note,
    Origin,
    RunClaim,
    RunState,
    RunUpdate,
    Subscription,
    SubscriptionState,
    Viewer,
    WeekActivity,
)
from bot.store.notes import _ORIGIN as ORIGIN_SQL
from bot.store.notes import _PUBLIC as PUBLIC_SQL
from bot.store.notes import (
    NOTE_FIELDS,
    RATIO_PAIRS,
    Filter,
    activity,
    db_time,
    to_notes,
)
from bot.store.notes import _pair as notes_sql_pair
from bot.store.notes import as_time as _time

# A run posted more than this after its slot is marked late ("Posted late: ..."), whether it was
# claimed late (smx was down at the slot) or re-claimed late (its first holder died, or Slack
# failed and it was retried). The scheduler uses this same threshold for its first claims.
LATE_AFTER = timedelta(minutes=2)

SUB_COLUMNS = (
    "team", "channel", "workspace", "enterprise", "weekday", "hour", "minute", "tz", "subscriber",
    "state", "paused_reason", "include_empty", "next_run", "created_at", "updated_at",
)  # fmt: skip
_RUN_COLUMNS = (
    "team", "channel", "week", "due", "state", "late", "claimed_by", "claimed_at", "attempts",
    "retry_at", "ts", "notes", "error", "finished_at", "told_at",
)  # fmt: skip
_FINAL = ", ".join(f"'{s}'" for s in FINAL_RUN_STATES)


def to_subscription(row: Mapping[str, Any] | sqlite3.Row) -> Subscription:
    """A subscription row from either backend (SQLite's text times and 0/1 flags, PostgreSQL's
    timestamptz and booleans)."""
    return Subscription(
        team=row["team"],
        channel=row["channel"],
        workspace=row["workspace"],
        enterprise=row["enterprise"] or None,
        weekday=row["weekday"],
        hour=row["hour"],
        minute=row["minute"],
        tz=row["tz"],
        subscriber=row["subscriber"],
        next_run=_time(row["next_run"]),
        state=row["state"],
        paused_reason=row["paused_reason"],
        include_empty=bool(row["include_empty"]),
        created_at=_time(row["created_at"]),
        updated_at=_time(row["updated_at"]),
    )


def to_run(row: Mapping[str, Any] | sqlite3.Row) -> DigestRun:
    return DigestRun(
        team=row["team"],
        channel=row["channel"],
        week=row["week"],
        due=_time(row["due"]),
        state=row["state"],
        late=bool(row["late"]),
        claimed_by=row["claimed_by"],
        claimed_at=_time(row["claimed_at"]),
        attempts=row["attempts"],
        retry_at=_time(row["retry_at"]),
        ts=row["ts"],
        notes=row["notes"],
        error=row["error"],
        finished_at=_time(row["finished_at"]),
        told_at=_time(row["told_at"]),
    )


# -- subscriptions ----------------------------------------------------------------------------


def save(conn: sqlite3.Connection, sub: Subscription, now: datetime) -> bool:
    existing = conn.execute(
        "SELECT created_at FROM digest_subscriptions WHERE team = ? AND channel = ?",
        [sub.team, sub.channel],
    ).fetchone()
    values = {
        **{c: getattr(sub, c) for c in SUB_COLUMNS if hasattr(sub, c)},
        "enterprise": sub.enterprise or "",
        "include_empty": int(sub.include_empty),
        "next_run": db_time(sub.next_run),
        "created_at": existing["created_at"] if existing else db_time(now),
        "updated_at": db_time(now),
    }
    conn.execute(
        f"INSERT OR REPLACE INTO digest_subscriptions ({', '.join(SUB_COLUMNS)})"
        f" VALUES ({', '.join('?' for _ in SUB_COLUMNS)})",
        [values[c] for c in SUB_COLUMNS],
    )
    return existing is None


def get(conn: sqlite3.Connection, team: str, channel: str) -> Subscription | None:
    row = conn.execute(
        "SELECT * FROM digest_subscriptions WHERE team = ? AND channel = ?", [team, channel]
    ).fetchone()
    return to_subscription(row) if row else None


def set_up_by(conn: sqlite3.Connection, team: str, subscriber: str) -> list[Subscription]:
    rows = conn.execute(
        "SELECT * FROM digest_subscriptions WHERE team = ? AND subscriber = ? ORDER BY channel",
        [team, subscriber],
    ).fetchall()
    return [to_subscription(r) for r in rows]


def delete(conn: sqlite3.Connection, team: str, channel: str) -> bool:
    # Its runs stay: they are what stops a re-subscribed channel getting this week's digest twice.
    return (
        conn.execute(
            "DELETE FROM digest_subscriptions WHERE team = ? AND channel = ?", [team, channel]
        ).rowcount
        == 1
    )


def set_state(
    conn: sqlite3.Connection,
    team: str,
    channel: str,
    state: SubscriptionState,
    reason: str | None,
    next_run: datetime | None,
    now: datetime,
) -> Subscription | None:
    sql = "UPDATE digest_subscriptions SET state = ?, paused_reason = ?, updated_at = ?"
    params: list[object] = [state, reason if state == "paused" else None, db_time(now)]
    if next_run is not None:
        sql += ", next_run = ?"
        params.append(db_time(next_run))
    conn.execute(sql + " WHERE team = ? AND channel = ?", [*params, team, channel])
    return get(conn, team, channel)


def pause_workspace(conn: sqlite3.Connection, workspace: str, reason: str, now: datetime) -> int:
    return conn.execute(
        "UPDATE digest_subscriptions SET state = 'paused', paused_reason = ?, updated_at = ?"
        " WHERE workspace = ? AND state = 'active'",
        [reason, db_time(now), workspace],
    ).rowcount


def due(conn: sqlite3.Connection, now: datetime, limit: int) -> list[Subscription]:
    # Then by team: a page keeps a team's channels together, so the scheduler's batch read of a
    # page reads each team's team-wide notes once, not once per page that holds one of them.
    rows = conn.execute(
        "SELECT * FROM digest_subscriptions WHERE state = 'active' AND next_run <= ?"
        " ORDER BY next_run, team, channel LIMIT ?",
        [db_time(now), limit],
    )
    return [to_subscription(r) for r in rows]


# -- runs -------------------------------------------------------------------------------------


def get_run(conn: sqlite3.Connection, team: str, channel: str, week: str) -> DigestRun | None:
    row = conn.execute(
        "SELECT * FROM digest_runs WHERE team = ? AND channel = ? AND week = ?",
        [team, channel, week],
    ).fetchone()
    return to_run(row) if row else None


def claim(
    conn: sqlite3.Connection,
    sub: Subscription,
    week: str,
    due_at: datetime,
    late: bool,
    owner: str,
    now: datetime,
    next_run: datetime,
) -> DigestRun | None:
    """Inside a write transaction: advance the cadence and insert the claim, or do neither."""
    moved = conn.execute(
        "UPDATE digest_subscriptions SET next_run = ? WHERE team = ? AND channel = ?"
        " AND state = 'active' AND next_run = ?",
        [db_time(next_run), sub.team, sub.channel, db_time(sub.next_run)],
    ).rowcount
    if moved != 1:
        return None  # another scheduler claimed this slot, or the subscription changed
    inserted = conn.execute(
        "INSERT OR IGNORE INTO digest_runs (team, channel, week, due, state, late, claimed_by,"
        " claimed_at, attempts) VALUES (?, ?, ?, ?, 'claimed', ?, ?, ?, 1)",
        [sub.team, sub.channel, week, db_time(due_at), int(late), owner, db_time(now)],
    ).rowcount
    # Not inserted: this week already has a digest (the channel re-subscribed, or its day moved
    # within the week). The cadence still moves on; the week is not posted twice.
    return get_run(conn, sub.team, sub.channel, week) if inserted == 1 else None


def claim_many(
    conn: sqlite3.Connection, claims: Sequence[RunClaim], owner: str, now: datetime
) -> list[DigestRun | None]:
    """Inside one write transaction: claim() for each, in order."""
    return [claim(conn, c.sub, c.week, c.due, c.late, owner, now, c.next_run) for c in claims]


def claim_retry(
    conn: sqlite3.Connection,
    run: DigestRun,
    owner: str,
    now: datetime,
    late_after: timedelta = LATE_AFTER,
) -> DigestRun | None:
    """Re-claim a run waiting in `retry`. It is late now if its slot is more than `late_after`
    ago (a run first claimed on time whose holder died is posted a lease later): `late` is set
    then, and never cleared."""
    late = now - run.due > late_after
    taken = conn.execute(
        "UPDATE digest_runs SET state = 'claimed', claimed_by = ?, claimed_at = ?,"
        " attempts = attempts + 1, retry_at = NULL, late = MAX(late, ?)"
        " WHERE team = ? AND channel = ? AND week = ? AND state = 'retry' AND retry_at <= ?",
        [owner, db_time(now), int(late), run.team, run.channel, run.week, db_time(now)],
    ).rowcount
    return get_run(conn, run.team, run.channel, run.week) if taken == 1 else None


def run_changes(
    state: RunState,
    now: datetime,
    ts: str | None,
    notes: int | None,
    error: str | None,
    retry_at: datetime | None,
    mark: str = "?",
    time: Callable[[datetime], object] = db_time,
) -> tuple[list[str], list[object]]:
    """The SET clauses and parameters of a run's move to `state`, for both backends (`mark` is
    the driver's placeholder, `time` turns a datetime into what the backend stores)."""
    sets = [f"state = {mark}", f"error = {mark}", f"retry_at = {mark}"]
    params: list[object] = [state, error, time(retry_at) if retry_at else None]
    if ts is not None:
        sets.append(f"ts = {mark}")
        params.append(ts)
    if notes is not None:
        sets.append(f"notes = {mark}")
        params.append(notes)
    if state == "sending":
        # Renews the lease (still only for its holder): a run that waited for a delivery slot
        # close to the lease would otherwise be reaped as lost while it is being sent.
        sets.append(f"claimed_at = {mark}")
        params.append(time(now))
    if state in FINAL_RUN_STATES:
        sets.append(f"finished_at = {mark}")
        params.append(time(now))
    return sets, params


def runs_filter(team: str | None, channel: str | None, mark: str = "?") -> tuple[str, list[object]]:
    """The WHERE clause of list_runs, for both backends."""
    sql, params = "WHERE 1 = 1", []
    if team is not None:
        sql += f" AND team = {mark}"
        params.append(team)
    if channel is not None:
        sql += f" AND channel = {mark}"
        params.append(channel)
    return sql, params


def update(
    conn: sqlite3.Connection,
    run: DigestRun,
    owner: str,
    expect: tuple[RunState, ...],
    state: RunState,
    now: datetime,
    ts: str | None,
    notes: int | None,
    error: str | None,
    retry_at: datetime | None,
) -> bool:
    sets, params = run_changes(state, now, ts, notes, error, retry_at)
    marks = ", ".join("?" for _ in expect)
    return (
        conn.execute(
            f"UPDATE digest_runs SET {', '.join(sets)} WHERE team = ? AND channel = ? AND week = ?"
            f" AND claimed_by = ? AND state IN ({marks})",
            [*params, run.team, run.channel, run.week, owner, *expect],
        ).rowcount
        == 1
    )


def update_many(conn: sqlite3.Connection, updates: Sequence[RunUpdate]) -> list[bool]:
    """Inside one write transaction: update() for each, in order."""
    return [
        update(conn, u.run, u.owner, u.expect, u.state, u.now, u.ts, u.notes, u.error, u.retry_at)
        for u in updates
    ]


def reap(
    conn: sqlite3.Connection,
    now: datetime,
    lease_seconds: float,
    keep: frozenset[tuple[str, str, str]],
) -> list[DigestRun]:
    cutoff = db_time(now - timedelta(seconds=lease_seconds))
    stale = [
        to_run(r)
        for r in conn.execute(
            "SELECT * FROM digest_runs WHERE state IN ('claimed', 'sending') AND claimed_at < ?",
            [cutoff],
        )
    ]
    lost = []
    for run in stale:
        if (run.team, run.channel, run.week) in keep:
            continue
        where = (
            " WHERE team = ? AND channel = ? AND week = ? AND state = ? AND claimed_by IS ?"
            " AND claimed_at = ?"
        )
        key = [run.team, run.channel, run.week, run.state, run.claimed_by, db_time(run.claimed_at)]
        if run.state == "claimed":
            # Nothing was sent: whoever comes next may post it.
            conn.execute(
                "UPDATE digest_runs SET state = 'retry', retry_at = ?,"
                " error = 'the scheduler holding it stopped before posting'" + where,
                [db_time(now), *key],
            )
        elif run.ts:
            # The first message is in the channel (the scheduler records its ts before posting
            # the thread): the digest is posted, only its thread may be short.
            conn.execute(
                "UPDATE digest_runs SET state = 'posted', finished_at = ?,"
                " error = 'the scheduler stopped while posting the thread'" + where,
                [db_time(now), *key],
            )
        else:
            changed = conn.execute(
                "UPDATE digest_runs SET state = 'lost', finished_at = ?,"
                " error = 'the scheduler stopped while posting'" + where,
                [db_time(now), *key],
            ).rowcount
            if changed:
                lost.append(get_run(conn, run.team, run.channel, run.week))
    return [r for r in lost if r is not None]


def claim_notices(
    conn: sqlite3.Connection, now: datetime, owner: str, lease_seconds: float, limit: int
) -> list[DigestRun]:
    """Inside a write transaction. A lost run keeps the claim of the process that lost it (long
    expired when a reaper marked it); telling re-uses claimed_by/claimed_at as its own lease, and
    a process may always tell about the runs it holds itself."""
    cutoff = db_time(now - timedelta(seconds=lease_seconds))
    rows = conn.execute(
        "UPDATE digest_runs SET claimed_by = ?, claimed_at = ? WHERE rowid IN ("
        " SELECT rowid FROM digest_runs WHERE state = 'lost' AND told_at IS NULL"
        " AND (claimed_at < ? OR claimed_by = ?) LIMIT ?) RETURNING *",
        [owner, db_time(now), cutoff, owner, limit],
    ).fetchall()
    return [to_run(r) for r in rows]


def mark_told(conn: sqlite3.Connection, run: DigestRun, owner: str, now: datetime) -> bool:
    return (
        conn.execute(
            "UPDATE digest_runs SET told_at = ? WHERE team = ? AND channel = ? AND week = ?"
            " AND claimed_by = ? AND told_at IS NULL",
            [db_time(now), run.team, run.channel, run.week, owner],
        ).rowcount
        == 1
    )


def retryable(conn: sqlite3.Connection, now: datetime, limit: int) -> list[DigestRun]:
    rows = conn.execute(
        "SELECT * FROM digest_runs WHERE state = 'retry' AND retry_at <= ? ORDER BY due LIMIT ?",
        [db_time(now), limit],
    )
    return [to_run(r) for r in rows]


def runs(conn: sqlite3.Connection, team: str | None, channel: str | None) -> list[DigestRun]:
    where, params = runs_filter(team, channel)
    rows = conn.execute(f"SELECT * FROM digest_runs {where} ORDER BY due DESC, channel", params)
    return [to_run(r) for r in rows]


# -- many channels' weeks at once (the scheduler's batch read) -----------------------------------
#
# A digest reads as its whole channel sees it: notes.py `_visible` for a Viewer without a user is
# "the team's team-wide notes, plus every note logged in this channel" (a confined, Slack Connect,
# channel: only the notes logged in it). Ten channels of one team share the first half, so the
# batch reads it once per team, and the rest once per channel, each grouped per campaign; then it
# adds up the two sides of each channel: the same totals, contributors and highlights as one
# week_activity per channel, from a handful of queries however many channels there are. The two
# sides never share a note (one holds team-wide kinds only, the other the rest), so their counts,
# sums and origins simply add up. Viewers with a user (an answer one person sees) are read one by
# one, through week_activity's own SQL.
#
# The sides, by key: ("wide", team, "") the team's team-wide notes; ("own", team, channel) the
# channel's notes of the other kinds; ("pub", team, channel) the team-wide notes logged in a
# confined channel (its other side, in place of the whole team's).
#
# Highlights: each side's newest `per_campaign` per campaign are found first by id and time only;
# a channel's own notes are read in full only when they are newer than its other side's oldest
# quoted one (most are not: a team-wide side has many more notes).
#
# Differences from week_activity that do not change what a digest says: campaigns whose spend
# and newest note are both equal are ordered by name (week_activity leaves that order to the
# database); a campaign's `origins` come side by side, not in the database's order; floating-point
# sums are added in another order (they may differ in the last bit).

TEAM_CHUNK = 250  # teams per query: a bounded parameter list and a bounded result to hold at once

SideKey = tuple[str, str, str]
Candidate = tuple[Any, int]  # (created_at as the backend orders it, id)


@dataclass(slots=True)
class Part:
    """One campaign's notes on one side, as the SQL summed them: what CampaignTotals is made of,
    in a form that adds up."""

    campaign: str
    notes: int
    platforms: frozenset[str]  # distinct values as stored (split on commas only at the end)
    currencies: frozenset[str]
    sums: list[float | None]  # spend, impressions, clicks, conversions, then RATIO_PAIRS' pairs
    origins: tuple[Origin, ...]
    newest: Any  # max(created_at), comparable within one backend
    # SQLite's week_activity splits its comma-joined distinct values; PostgreSQL's keeps arrays.
    commas: bool = True


def _add(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else a + b


def _joined(values: frozenset[str], commas: bool) -> tuple[str, ...]:
    # As week_activity reads SQLite's group_concat: the distinct values joined by commas, split.
    # A week's campaigns name the same few sets of platforms and currencies: each read once.
    found = _JOINED.get((values, commas))
    if found is None:
        if not commas:
            found = tuple(sorted(values))
        else:
            found = tuple(sorted(",".join(values).split(","))) if values else ()
        if len(_JOINED) >= _JOINED_KEPT:
            _JOINED.clear()
        _JOINED[(values, commas)] = found
    return found


_JOINED: dict[tuple[frozenset[str], bool], tuple[str, ...]] = {}
_JOINED_KEPT = 4096  # sets kept at most (a bound, not a tuning: a week has a few dozen)


def _totals_of(part: Part) -> CampaignTotals:
    s = part.sums
    return CampaignTotals(
        part.campaign,
        part.notes,
        _joined(part.platforms, part.commas),
        _joined(part.currencies, part.commas),
        s[0],
        s[1],
        s[2],
        s[3],
        (s[4], s[5]) if s[4] is not None else None,
        (s[6], s[7]) if s[6] is not None else None,
        (s[8], s[9]) if s[8] is not None else None,
        (s[10], s[11]) if s[10] is not None else None,
        part.origins,
    )


def _merged(a: Part, b: Part) -> Part:
    """Two sides' parts of one campaign (disjoint notes, so disjoint origins)."""
    return Part(
        campaign=a.campaign,
        notes=a.notes + b.notes,
        platforms=a.platforms | b.platforms,
        currencies=a.currencies | b.currencies,
        # _add, inlined: this runs for every campaign a channel adds notes to.
        sums=[
            y if x is None else x if y is None else x + y
            for x, y in zip(a.sums, b.sums, strict=True)
        ],
        origins=a.origins + b.origins,
        newest=max(a.newest, b.newest),
        commas=a.commas,
    )


def _ordered(parts: list[Part]) -> list[Part]:
    """week_activity's order: most spend first, then the most recent note."""
    parts = sorted(parts, key=lambda p: p.campaign)
    parts.sort(key=lambda p: (p.sums[0] or 0, p.newest), reverse=True)
    return parts


def _newest(a: list[Note], b: list[Note], keep: int) -> list[Note]:
    if not b:
        return a
    if not a:
        return b
    # Both newest first: merged, not sorted (this runs for every campaign a channel adds to).
    out: list[Note] = []
    i = j = 0
    while len(out) < keep and (i < len(a) or j < len(b)):
        if j == len(b) or (i < len(a) and (a[i].created_at, a[i].id) >= (b[j].created_at, b[j].id)):
            out.append(a[i])
            i += 1
        else:
            out.append(b[j])
            j += 1
    return out


@dataclass
class Side:
    """What one side holds in the window, per campaign."""

    parts: dict[str, Part] = field(default_factory=dict)
    candidates: dict[str, list[Candidate]] = field(default_factory=dict)  # newest first
    highlights: dict[str, list[Note]] = field(default_factory=dict)  # newest first
    _activity: WeekActivity | None = None  # this side alone, built once (shared by its team)
    _origins: tuple[Origin, ...] | None = None
    _authors: frozenset[str] | None = None
    _by_campaign: dict[str, CampaignTotals] | None = None

    def origins(self) -> tuple[Origin, ...]:
        """Every origin of its campaigns once. One Origin object per value within a read
        (interned as the rows are read: Interned), so the objects' ids tell them apart."""
        if self._origins is None:
            every = [o for p in self.parts.values() for o in p.origins]
            self._origins = tuple(dict(zip(map(id, every), every, strict=True)).values())
        return self._origins

    def authors(self) -> frozenset[str]:
        if self._authors is None:
            self._authors = frozenset(o.author for o in self.origins())
        return self._authors

    def by_campaign(self) -> dict[str, CampaignTotals]:
        """alone()'s totals by campaign (its channels each look theirs up)."""
        if self._by_campaign is None:
            self._by_campaign = {t.campaign: t for t in self.alone().totals}
        return self._by_campaign

    def alone(self) -> WeekActivity:
        if self._activity is None:
            ordered = _ordered(list(self.parts.values()))
            totals = [_totals_of(p) for p in ordered]
            self._activity = WeekActivity(
                totals, len(self.authors()), dict(self.highlights), (self.origins(),)
            )
        return self._activity


EMPTY = Side()


def _copy(week: WeekActivity) -> WeekActivity:
    return WeekActivity(
        list(week.totals), week.contributors, dict(week.highlights), week.origin_groups
    )


def combine(first: Side, second: Side, per_campaign: int) -> WeekActivity:
    """One channel's week from its two sides (either may be EMPTY). The first (the team's, shared
    by its channels) lends its objects wherever the second adds nothing. The two never share an
    origin (one holds team-wide kinds only, the other the rest): the week's origins are theirs
    side by side, and its contributors the authors of both."""
    if not second.parts:
        return _copy(first.alone())
    if not first.parts:
        return _copy(second.alone())
    first_totals = first.by_campaign()
    parts = dict(first.parts)
    for campaign, part in second.parts.items():
        theirs = parts.get(campaign)
        parts[campaign] = part if theirs is None else _merged(theirs, part)
    totals = []
    for p in _ordered(list(parts.values())):
        shared = first_totals.get(p.campaign)
        totals.append(shared if p.campaign not in second.parts and shared else _totals_of(p))
    highlights = dict(first.highlights)
    for campaign, notes_ in second.highlights.items():
        highlights[campaign] = _newest(highlights.get(campaign, []), notes_, per_campaign)
    return WeekActivity(
        totals,
        len(first.authors() | second.authors()),
        highlights,
        (first.origins(), second.origins()),
    )


class Interned(dict):
    """One Origin object per value within a batch read, made from the text of a row's origins
    (SQLite's records, PostgreSQL's arrays as tuples): campaigns and channels of a team share
    them, and what is built from an origin (compose.py's Sources) is made once per object."""

    def __init__(self) -> None:
        super().__init__()
        self.values = _Values()

    def __missing__(self, key: str | tuple) -> Origin:
        fields = key.split("\x1f") if isinstance(key, str) else key
        made = self[key] = Origin(*fields)
        return made

    def of_records(self, joined: str | None) -> tuple[Origin, ...]:
        """notes._origins' reading of group_concat(DISTINCT ORIGIN_SQL), interned."""
        if not joined:
            return ()
        # group_concat's commas follow each record's separator: dropped before the split, so
        # the records are looked up by dict's own lookup (map), not one Python step each.
        records = joined.removeprefix(",").replace("\x1e,", "\x1e").split("\x1e")
        if not records[-1]:
            records.pop()
        return tuple(map(self.__getitem__, records))


class _Values(dict):
    """SQLite's group_concat(DISTINCT ...) of platforms or currencies, read once per text."""

    def read(self, joined: str | None) -> frozenset[str]:
        made = self[joined] = _values(joined)
        return made


@dataclass
class Chunk:
    """The keys of one chunk of the batch: at most TEAM_CHUNK teams and their channels."""

    teams: list[str]  # every team of the chunk
    wide: list[str]  # teams whose team-wide notes are needed
    own: list[tuple[str, str]]  # channels whose own notes are needed
    confined: list[tuple[str, str]]  # confined channels (their team-wide notes too)


def chunks(viewers: Sequence[Viewer]) -> list[Chunk]:
    readers = [v for v in viewers if v.user is None]
    wide = {v.team for v in readers if not v.confined}
    own = {(v.team, v.channel) for v in readers}
    confined = {(v.team, v.channel) for v in readers if v.confined}
    every = sorted({t for t, _c in own})
    found = []
    for i in range(0, len(every), TEAM_CHUNK):
        teams = every[i : i + TEAM_CHUNK]
        these = set(teams)
        found.append(
            Chunk(
                teams=teams,
                wide=sorted(wide & these),
                own=sorted(k for k in own if k[0] in these),
                confined=sorted(k for k in confined if k[0] in these),
            )
        )
    return found


def side_key(team: str, channel: str | None, public: bool = False) -> SideKey:
    """The side a row of the aggregate queries belongs to (channel None: the team-wide side)."""
    if channel is None:
        return ("wide", team, "")
    return ("pub" if public else "own", team, channel)


def pairs_of(viewer: Viewer) -> tuple[SideKey, SideKey]:
    """A viewer's two sides: the team's (or its confined channel's) team-wide one, its own."""
    first = (
        side_key(viewer.team, viewer.channel, True)
        if viewer.confined
        else side_key(viewer.team, None)
    )
    return first, side_key(viewer.team, viewer.channel)


def wanted_notes(
    chunk_viewers: Sequence[Viewer], sides: dict[SideKey, Side], per_campaign: int
) -> set[int]:
    """The ids of the notes some digest of the chunk quotes: every candidate of a team-wide side,
    and each of a channel's own that is newer than its other side's oldest quoted one."""
    wanted = {
        i
        for key, side in sides.items()
        if key[0] != "own"
        for found in side.candidates.values()
        for _at, i in found
    }
    for v in chunk_viewers:
        first_key, own_key = pairs_of(v)
        own = sides.get(own_key)
        if own is None:
            continue
        first = sides.get(first_key, EMPTY)
        for campaign, found in own.candidates.items():
            theirs = first.candidates.get(campaign, [])
            floor = theirs[-1] if len(theirs) >= per_campaign else None
            wanted.update(i for at, i in found if floor is None or (at, i) > floor)
    return wanted


def attach(sides: dict[SideKey, Side], notes_: dict[int, Note]) -> None:
    """Each side's quoted notes, newest first, from the notes read by id (an own candidate not
    read is older than every note quoted beside it, so it is quoted in no digest)."""
    for side in sides.values():
        for campaign, found in side.candidates.items():
            listed = [notes_[i] for _at, i in found if i in notes_]
            if listed:
                side.highlights[campaign] = listed


def add_part(sides: dict[SideKey, Side], key: SideKey, part: Part) -> None:
    side = sides.get(key)
    if side is None:
        side = sides[key] = Side()
    side.parts[part.campaign] = part


def add_candidate(
    sides: dict[SideKey, Side], key: SideKey, campaign: str, at: Any, note_id: int
) -> None:
    side = sides.get(key)
    if side is None:
        side = sides[key] = Side()
    side.candidates.setdefault(campaign, []).append((at, note_id))


def add_parts(
    sides: dict[SideKey, Side],
    rows: Iterable[Sequence[Any]],
    public: bool,
    part_of: Callable[[Any, int, Interned], Part],
    interned: Interned,
) -> None:
    """add_part for each grouped row (team, side's channel or None, then the part's columns from
    the third on, made by `part_of`), one step each: the batch reads about six a channel."""
    kind = "pub" if public else "own"
    for r in rows:
        key = ("wide", r[0], "") if r[1] is None else (kind, r[0], r[1])  # side_key, inlined
        side = sides.get(key)
        if side is None:
            side = sides[key] = Side()
        part = part_of(r, 2, interned)
        side.parts[part.campaign] = part


def add_candidates(sides: dict[SideKey, Side], rows: Iterable[Sequence[Any]], public: bool) -> None:
    """add_candidate for each ranked row (team, side's channel or None, campaign, created_at,
    id): the rows of one side and campaign come together (ranked in that order), so each run
    of them finds its list once."""
    kind = "pub" if public else "own"
    last: tuple | None = None
    found: list[Candidate] = []
    for team, channel, campaign, at, note_id in rows:
        if (team, channel, campaign) != last:
            last = (team, channel, campaign)
            key = ("wide", team, "") if channel is None else (kind, team, channel)
            side = sides.get(key)
            if side is None:
                side = sides[key] = Side()
            found = side.candidates.setdefault(campaign, [])
        found.append((at, note_id))


def assemble(
    viewers: Sequence[Viewer], sides: dict[SideKey, Side], per_campaign: int
) -> list[WeekActivity | None]:
    """Each viewer's week from the sides read (None for a viewer with a user: read apart)."""
    out: list[WeekActivity | None] = []
    for v in viewers:
        if v.user is not None:
            out.append(None)
            continue
        first_key, own_key = pairs_of(v)
        out.append(combine(sides.get(first_key, EMPTY), sides.get(own_key, EMPTY), per_campaign))
    return out


# SQLite's half: the aggregates of week_activity's totals (notes.py), per side and campaign.
_AGGREGATES = (
    "count(*), group_concat(DISTINCT n.platform || char(30)),"
    " group_concat(DISTINCT n.currency || char(30)),"  # a record separator: values may hold commas
    " sum(n.spend), sum(n.impressions), sum(n.clicks), sum(n.conversions), "
    + ", ".join(notes_sql_pair(a, b) for a, b in RATIO_PAIRS)
    + f", group_concat(DISTINCT {ORIGIN_SQL}), max(n.created_at)"
)
_PAIRS = "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(:{0})"
_TEAM_WIDE = f"n.channel_kind IN ({PUBLIC_SQL})"
_NOTE_FIELDS = ", ".join(f"n.{c}" for c in NOTE_FIELDS)
# The chunk's notes of both sides: its teams' team-wide notes, its channels' other notes.
_BOTH = (
    "n.team IN (SELECT value FROM json_each(:teams))"
    " AND n.created_at >= :since AND n.created_at < :until AND ("
    f"({_TEAM_WIDE} AND n.team IN (SELECT value FROM json_each(:wide)))"
    f" OR (NOT {_TEAM_WIDE} AND (n.team, n.channel) IN ({_PAIRS.format('own')})))"
)
_SIDE = f"CASE WHEN {_TEAM_WIDE} THEN NULL ELSE n.channel END"
# A confined channel's team-wide notes, its other side.
_CONFINED = (
    "n.team IN (SELECT value FROM json_each(:teams))"
    f" AND n.created_at >= :since AND n.created_at < :until AND {_TEAM_WIDE}"
    f" AND (n.team, n.channel) IN ({_PAIRS.format('confined')})"
)
_RANKED = (
    "SELECT team, side, campaign, created_at, id FROM (SELECT n.team, {side} AS side,"
    " n.campaign, n.created_at, n.id, row_number() OVER (PARTITION BY n.team, {side}, n.campaign"
    " ORDER BY n.created_at DESC, n.id DESC) AS place FROM notes AS n WHERE {where})"
    " WHERE place <= :keep ORDER BY team, side, campaign, place"
)


def _values(joined: str | None) -> frozenset[str]:
    if not joined:
        return frozenset()
    return frozenset(v.removeprefix(",") for v in joined.split("\x1e") if v)


def _part(row: sqlite3.Row | tuple, at: int, interned: Interned) -> Part:
    values = interned.values  # the same few sets of platforms and currencies, each read once
    platforms, currencies = row[at + 2], row[at + 3]
    return Part(
        campaign=row[at],
        notes=row[at + 1],
        platforms=values[platforms] if platforms in values else values.read(platforms),
        currencies=values[currencies] if currencies in values else values.read(currencies),
        sums=list(row[at + 4 : at + 16]),
        origins=interned.of_records(row[at + 16]),
        newest=row[at + 17],
    )


def _read_chunk(
    conn: sqlite3.Connection,
    chunk: Chunk,
    since: str,
    until: str,
    per_campaign: int,
    sides: dict[SideKey, Side],
    interned: Interned,
) -> None:
    params = {
        "teams": json.dumps(chunk.teams),
        "wide": json.dumps(chunk.wide),
        "own": json.dumps(chunk.own),
        "confined": json.dumps(chunk.confined),
        "since": since,
        "until": until,
        "keep": per_campaign,
    }
    queries = [(_BOTH, _SIDE, False)]
    if chunk.confined:
        queries.append((_CONFINED, "n.channel", True))
    for where, side, public in queries:
        rows = conn.cursor()
        rows.row_factory = None  # plain tuples, read by position
        rows.execute(
            f"SELECT n.team, {side}, n.campaign, {_AGGREGATES} FROM notes AS n WHERE {where}"
            f" GROUP BY n.team, {side}, n.campaign",
            params,
        )
        add_parts(sides, rows, public, _part, interned)
        if per_campaign > 0:
            rows = conn.cursor()
            rows.row_factory = None
            rows.execute(_RANKED.format(side=side, where=where), params)
            add_candidates(sides, rows, public)


def week_activities(
    conn: sqlite3.Connection,
    viewers: Sequence[Viewer],
    since: datetime,
    until: datetime,
    per_campaign: int,
) -> list[WeekActivity]:
    """Inside one read transaction (sqlite.py): every viewer's week, in the order given."""
    sides: dict[SideKey, Side] = {}
    interned = Interned()
    for chunk in chunks(viewers):
        these: dict[SideKey, Side] = {}
        _read_chunk(conn, chunk, db_time(since), db_time(until), per_campaign, these, interned)
        if per_campaign > 0:
            teams = set(chunk.teams)
            readers = [v for v in viewers if v.team in teams and v.user is None]
            wanted = wanted_notes(readers, these, per_campaign)
            rows = conn.cursor()
            rows.row_factory = None  # plain tuples: to_notes reads them by position
            rows.execute(
                f"SELECT {_NOTE_FIELDS} FROM notes AS n"
                " WHERE n.id IN (SELECT value FROM json_each(?))"
                " AND n.team IN (SELECT value FROM json_each(?))",
                [json.dumps(sorted(wanted)), json.dumps(chunk.teams)],
            )
            attach(these, to_notes(rows))
        sides.update(these)
    found = assemble(viewers, sides, per_campaign)
    return [
        a if a is not None else activity(conn, Filter(v, None, since, until), per_campaign)
        for v, a in zip(viewers, found, strict=True)
    ]
