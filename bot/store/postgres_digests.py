"""Digest subscriptions and runs in PostgreSQL: the same moves as bot/store/digests.py (read its
docstrings for the lease and crash policy), over an async psycopg connection, each called inside
one transaction by bot/store/postgres.py.

What differs is how concurrent schedulers on several hosts are kept apart. The rows a scheduler
takes (a subscription's slot, a run to retry, stale runs to reap, lost runs to tell about) are
selected `FOR UPDATE SKIP LOCKED`: a row another scheduler is taking at that moment is skipped,
not waited for, and is theirs; every move is still a compare-and-set on the row's state and
holder, so a scheduler whose lease expired finds its run taken and stops.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

from psycopg import AsyncConnection
from psycopg.rows import tuple_row

from bot.store.base import (
    FINAL_RUN_STATES,
    PUBLIC_KINDS,
    DigestRun,
    RunClaim,
    RunState,
    RunUpdate,
    Subscription,
    SubscriptionState,
    Viewer,
    WeekActivity,
)
from bot.store.digests import (
    LATE_AFTER,
    SUB_COLUMNS,
    Interned,
    Part,
    Side,
    SideKey,
    add_candidates,
    add_parts,
    assemble,
    attach,
    chunks,
    run_changes,
    runs_filter,
    to_run,
    to_subscription,
    wanted_notes,
)
from bot.store.notes import NOTE_FIELDS, RATIO_PAIRS, to_notes, utc

_KEY = "team = %s AND channel = %s AND week = %s"


def _key(run: DigestRun) -> list[object]:
    return [run.team, run.channel, run.week]


async def _rows(conn: AsyncConnection, sql: str, params: list[object]) -> list[dict]:
    cursor = await conn.execute(sql, params)  # type: ignore[arg-type]
    return await cursor.fetchall()  # type: ignore[return-value]


async def _count(conn: AsyncConnection, sql: str, params: list[object]) -> int:
    cursor = await conn.execute(sql, params)  # type: ignore[arg-type]
    return cursor.rowcount


# -- subscriptions ----------------------------------------------------------------------------


async def save(conn: AsyncConnection, sub: Subscription, now: datetime) -> bool:
    values = {
        **{c: getattr(sub, c) for c in SUB_COLUMNS if hasattr(sub, c)},
        "enterprise": sub.enterprise or "",
        "next_run": utc(sub.next_run),
        "created_at": utc(now),
        "updated_at": utc(now),
    }
    replaced = ", ".join(f"{c} = EXCLUDED.{c}" for c in SUB_COLUMNS if c != "created_at")
    rows = await _rows(
        conn,
        f"INSERT INTO digest_subscriptions ({', '.join(SUB_COLUMNS)})"
        f" VALUES ({', '.join('%s' for _ in SUB_COLUMNS)})"
        f" ON CONFLICT (team, channel) DO UPDATE SET {replaced}"
        # xmax is 0 on a row this statement inserted, set on one it updated
        " RETURNING (xmax = 0) AS inserted",
        [values[c] for c in SUB_COLUMNS],
    )
    return bool(rows[0]["inserted"])


async def get(conn: AsyncConnection, team: str, channel: str) -> Subscription | None:
    rows = await _rows(
        conn,
        "SELECT * FROM digest_subscriptions WHERE team = %s AND channel = %s",
        [team, channel],
    )
    return to_subscription(rows[0]) if rows else None


async def set_up_by(conn: AsyncConnection, team: str, subscriber: str) -> list[Subscription]:
    rows = await _rows(
        conn,
        "SELECT * FROM digest_subscriptions WHERE team = %s AND subscriber = %s ORDER BY channel",
        [team, subscriber],
    )
    return [to_subscription(r) for r in rows]


async def delete(conn: AsyncConnection, team: str, channel: str) -> bool:
    # Its runs stay: they are what stops a re-subscribed channel getting this week's digest twice.
    sql = "DELETE FROM digest_subscriptions WHERE team = %s AND channel = %s"
    return await _count(conn, sql, [team, channel]) == 1


async def set_state(
    conn: AsyncConnection,
    team: str,
    channel: str,
    state: SubscriptionState,
    reason: str | None,
    next_run: datetime | None,
    now: datetime,
) -> Subscription | None:
    sql = "UPDATE digest_subscriptions SET state = %s, paused_reason = %s, updated_at = %s"
    params: list[object] = [state, reason if state == "paused" else None, utc(now)]
    if next_run is not None:
        sql += ", next_run = %s"
        params.append(utc(next_run))
    rows = await _rows(
        conn, sql + " WHERE team = %s AND channel = %s RETURNING *", [*params, team, channel]
    )
    return to_subscription(rows[0]) if rows else None


async def pause_workspace(conn: AsyncConnection, workspace: str, reason: str, now: datetime) -> int:
    return await _count(
        conn,
        "UPDATE digest_subscriptions SET state = 'paused', paused_reason = %s, updated_at = %s"
        " WHERE workspace = %s AND state = 'active'",
        [reason, utc(now), workspace],
    )


async def due(conn: AsyncConnection, now: datetime, limit: int) -> list[Subscription]:
    rows = await _rows(
        conn,
        "SELECT * FROM digest_subscriptions WHERE state = 'active' AND next_run <= %s"
        " ORDER BY next_run, team, channel LIMIT %s",
        [utc(now), limit],
    )
    return [to_subscription(r) for r in rows]


# -- runs -------------------------------------------------------------------------------------


async def get_run(conn: AsyncConnection, team: str, channel: str, week: str) -> DigestRun | None:
    rows = await _rows(conn, f"SELECT * FROM digest_runs WHERE {_KEY}", [team, channel, week])
    return to_run(rows[0]) if rows else None


async def claim(
    conn: AsyncConnection,
    sub: Subscription,
    week: str,
    due_at: datetime,
    late: bool,
    owner: str,
    now: datetime,
    next_run: datetime,
) -> DigestRun | None:
    """Advance the cadence (compare-and-set on next_run) and insert the claim, or do neither."""
    moved = await _count(
        conn,
        "UPDATE digest_subscriptions SET next_run = %s WHERE (team, channel) IN ("
        " SELECT team, channel FROM digest_subscriptions WHERE team = %s AND channel = %s"
        " AND state = 'active' AND next_run = %s FOR UPDATE SKIP LOCKED)",
        [utc(next_run), sub.team, sub.channel, utc(sub.next_run)],
    )
    if moved != 1:
        return None  # another scheduler is claiming or claimed this slot, or it changed
    rows = await _rows(
        conn,
        "INSERT INTO digest_runs (team, channel, week, due, state, late, claimed_by, claimed_at,"
        " attempts) VALUES (%s, %s, %s, %s, 'claimed', %s, %s, %s, 1)"
        " ON CONFLICT (team, channel, week) DO NOTHING RETURNING *",
        [sub.team, sub.channel, week, utc(due_at), late, owner, utc(now)],
    )
    # Nothing inserted: this week already has a digest. The cadence still moves on.
    return to_run(rows[0]) if rows else None


async def claim_many(
    conn: AsyncConnection, claims: Sequence[RunClaim], owner: str, now: datetime
) -> list[DigestRun | None]:
    """claim() for each of `claims` in two statements: the cadences moved (compare-and-set on
    next_run, the rows locked SKIP LOCKED as claim() locks one), then the runs inserted for the
    subscriptions moved. In the order given; None where nothing was claimed."""
    moved = await _rows(
        conn,
        "WITH wanted AS (SELECT * FROM unnest(%s::text[], %s::text[], %s::timestamptz[],"
        " %s::timestamptz[]) AS w(team, channel, old_next, new_next)),"
        " taken AS (SELECT s.team, s.channel, w.new_next FROM digest_subscriptions AS s"
        " JOIN wanted AS w ON s.team = w.team AND s.channel = w.channel"
        " WHERE s.state = 'active' AND s.next_run = w.old_next FOR UPDATE OF s SKIP LOCKED)"
        " UPDATE digest_subscriptions AS s SET next_run = taken.new_next FROM taken"
        " WHERE s.team = taken.team AND s.channel = taken.channel RETURNING s.team, s.channel",
        [
            [c.sub.team for c in claims],
            [c.sub.channel for c in claims],
            [utc(c.sub.next_run) for c in claims],
            [utc(c.next_run) for c in claims],
        ],
    )
    keys = {(r["team"], r["channel"]) for r in moved}
    inserting = [c for c in claims if (c.sub.team, c.sub.channel) in keys]
    runs: dict[tuple[str, str], DigestRun] = {}
    if inserting:
        rows = await _rows(
            conn,
            "INSERT INTO digest_runs (team, channel, week, due, state, late, claimed_by,"
            " claimed_at, attempts) SELECT x.team, x.channel, x.week, x.due, 'claimed', x.late,"
            " %s, %s, 1 FROM unnest(%s::text[], %s::text[], %s::text[], %s::timestamptz[],"
            " %s::boolean[]) AS x(team, channel, week, due, late)"
            " ON CONFLICT (team, channel, week) DO NOTHING RETURNING *",
            [
                owner,
                utc(now),
                [c.sub.team for c in inserting],
                [c.sub.channel for c in inserting],
                [c.week for c in inserting],
                [utc(c.due) for c in inserting],
                [c.late for c in inserting],
            ],
        )
        runs = {(r["team"], r["channel"]): to_run(r) for r in rows}
    # Not inserted: this week already has a digest. The cadence still moves on.
    return [runs.get((c.sub.team, c.sub.channel)) for c in claims]


async def claim_retry(
    conn: AsyncConnection,
    run: DigestRun,
    owner: str,
    now: datetime,
    late_after: timedelta = LATE_AFTER,
) -> DigestRun | None:
    late = now - run.due > late_after
    rows = await _rows(
        conn,
        "UPDATE digest_runs SET state = 'claimed', claimed_by = %s, claimed_at = %s,"
        " attempts = attempts + 1, retry_at = NULL, late = late OR %s"
        " WHERE (team, channel, week) IN (SELECT team, channel, week FROM digest_runs"
        f" WHERE {_KEY} AND state = 'retry' AND retry_at <= %s FOR UPDATE SKIP LOCKED)"
        " RETURNING *",
        [owner, utc(now), late, *_key(run), utc(now)],
    )
    return to_run(rows[0]) if rows else None


async def update(
    conn: AsyncConnection,
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
    sets, params = run_changes(state, now, ts, notes, error, retry_at, mark="%s", time=utc)
    changed = await _count(
        conn,
        f"UPDATE digest_runs SET {', '.join(sets)} WHERE {_KEY}"
        " AND claimed_by = %s AND state = ANY(%s)",
        [*params, *_key(run), owner, list(expect)],
    )
    return changed == 1


# Many runs' moves in one statement: each row its own compare-and-set (holder and expected
# states), the same SET clauses as run_changes() makes one move's, chosen per row.
_UPDATE_MANY = (
    "UPDATE digest_runs AS r SET state = u.state, error = u.error, retry_at = u.retry_at,"
    " ts = coalesce(u.ts, r.ts), notes = coalesce(u.notes, r.notes),"
    " claimed_at = CASE WHEN u.state = 'sending' THEN u.now ELSE r.claimed_at END,"
    " finished_at = CASE WHEN u.final THEN u.now ELSE r.finished_at END"
    " FROM unnest(%s::int[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],"
    " %s::text[], %s::timestamptz[], %s::text[], %s::integer[], %s::text[], %s::timestamptz[],"
    " %s::boolean[]) AS u(i, team, channel, week, owner, expect, state, now, ts, notes, error,"
    " retry_at, final)"
    " WHERE r.team = u.team AND r.channel = u.channel AND r.week = u.week"
    " AND r.claimed_by = u.owner AND r.state = ANY(string_to_array(u.expect, ','))"
    " RETURNING u.i"
)


async def update_many(conn: AsyncConnection, updates: Sequence[RunUpdate]) -> list[bool]:
    """update() for each, in order, inside the caller's one transaction: one statement for a
    whole batch of the scheduler's moves (RunWriter), not one round trip per move. A run moved
    twice in one batch is moved in that order: each statement holds one move per run (the
    first of each run's, then the second, ...), so a move sees those before it."""
    waves: list[list[int]] = []
    seen: dict[tuple[str, str, str], int] = {}
    for i, u in enumerate(updates):
        key = (u.run.team, u.run.channel, u.run.week)
        wave = seen.get(key, 0)
        seen[key] = wave + 1
        if wave == len(waves):
            waves.append([])
        waves[wave].append(i)
    done = [False] * len(updates)
    for wave in waves:
        these = [updates[i] for i in wave]
        cursor = conn.cursor(row_factory=tuple_row)
        await cursor.execute(
            _UPDATE_MANY,
            [
                wave,
                [u.run.team for u in these],
                [u.run.channel for u in these],
                [u.run.week for u in these],
                [u.owner for u in these],
                [",".join(u.expect) for u in these],
                [u.state for u in these],
                [utc(u.now) for u in these],
                [u.ts for u in these],
                [u.notes for u in these],
                [u.error for u in these],
                [utc(u.retry_at) if u.retry_at else None for u in these],
                [u.state in FINAL_RUN_STATES for u in these],
            ],
        )
        for (i,) in await cursor.fetchall():
            done[i] = True
    return done


async def reap(
    conn: AsyncConnection,
    now: datetime,
    lease_seconds: float,
    keep: frozenset[tuple[str, str, str]],
) -> list[DigestRun]:
    """Inside one transaction: the stale runs are locked as they are read (skipping any another
    reaper holds), so each is moved once."""
    cutoff = utc(now - timedelta(seconds=lease_seconds))
    stale = [
        to_run(r)
        for r in await _rows(
            conn,
            "SELECT * FROM digest_runs WHERE state IN ('claimed', 'sending') AND claimed_at < %s"
            " FOR UPDATE SKIP LOCKED",
            [cutoff],
        )
    ]
    lost = []
    for run in stale:
        if (run.team, run.channel, run.week) in keep:
            continue
        where = f" WHERE {_KEY} AND state = %s AND claimed_by IS NOT DISTINCT FROM %s"
        key = [*_key(run), run.state, run.claimed_by]
        if run.state == "claimed":
            await _count(
                conn,
                "UPDATE digest_runs SET state = 'retry', retry_at = %s,"
                " error = 'the scheduler holding it stopped before posting'" + where,
                [utc(now), *key],
            )
        elif run.ts:
            await _count(
                conn,
                "UPDATE digest_runs SET state = 'posted', finished_at = %s,"
                " error = 'the scheduler stopped while posting the thread'" + where,
                [utc(now), *key],
            )
        else:
            rows = await _rows(
                conn,
                "UPDATE digest_runs SET state = 'lost', finished_at = %s,"
                " error = 'the scheduler stopped while posting'" + where + " RETURNING *",
                [utc(now), *key],
            )
            lost.extend(to_run(r) for r in rows)
    return lost


async def claim_notices(
    conn: AsyncConnection, now: datetime, owner: str, lease_seconds: float, limit: int
) -> list[DigestRun]:
    cutoff = utc(now - timedelta(seconds=lease_seconds))
    rows = await _rows(
        conn,
        "UPDATE digest_runs SET claimed_by = %s, claimed_at = %s"
        " WHERE (team, channel, week) IN (SELECT team, channel, week FROM digest_runs"
        " WHERE state = 'lost' AND told_at IS NULL AND (claimed_at < %s OR claimed_by = %s)"
        " LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING *",
        [owner, utc(now), cutoff, owner, limit],
    )
    return [to_run(r) for r in rows]


async def mark_told(conn: AsyncConnection, run: DigestRun, owner: str, now: datetime) -> bool:
    changed = await _count(
        conn,
        f"UPDATE digest_runs SET told_at = %s WHERE {_KEY} AND claimed_by = %s AND told_at IS NULL",
        [utc(now), *_key(run), owner],
    )
    return changed == 1


async def retryable(conn: AsyncConnection, now: datetime, limit: int) -> list[DigestRun]:
    rows = await _rows(
        conn,
        "SELECT * FROM digest_runs WHERE state = 'retry' AND retry_at <= %s ORDER BY due LIMIT %s",
        [utc(now), limit],
    )
    return [to_run(r) for r in rows]


async def runs(conn: AsyncConnection, team: str | None, channel: str | None) -> list[DigestRun]:
    where, params = runs_filter(team, channel, mark="%s")
    rows = await _rows(
        conn, f"SELECT * FROM digest_runs {where} ORDER BY due DESC, channel", params
    )
    return [to_run(r) for r in rows]


# -- many channels' weeks at once (bot/store/digests.py says how and why) -------------------------

_BOTH_SET = "n.{0} IS NOT NULL AND n.{1} IS NOT NULL"
_AGGREGATES = (
    "count(*), array_agg(DISTINCT n.platform) FILTER (WHERE n.platform IS NOT NULL),"
    " array_agg(DISTINCT n.currency) FILTER (WHERE n.currency IS NOT NULL),"
    " sum(n.spend), sum(n.impressions), sum(n.clicks), sum(n.conversions), "
    + ", ".join(
        f"sum(n.{a}) FILTER (WHERE {_BOTH_SET.format(a, b)}),"
        f" sum(n.{b}) FILTER (WHERE {_BOTH_SET.format(a, b)})"
        for a, b in RATIO_PAIRS
    )
    + ", array_agg(DISTINCT ARRAY[n.team, n.channel, n.channel_kind, n.author]), max(n.created_at)"
)
_TEAM_WIDE = "n.channel_kind = ANY(%(public)s)"
_WINDOW = "n.team = ANY(%(teams)s) AND n.created_at >= %(since)s AND n.created_at < %(until)s"
_BOTH = (
    f"{_WINDOW} AND (({_TEAM_WIDE} AND n.team = ANY(%(wide)s))"
    f" OR (NOT {_TEAM_WIDE} AND (n.team, n.channel) IN"
    " (SELECT * FROM unnest(%(own_t)s::text[], %(own_c)s::text[]))))"
)
_SIDE = f"CASE WHEN {_TEAM_WIDE} THEN NULL ELSE n.channel END"
_CONFINED = (
    f"{_WINDOW} AND {_TEAM_WIDE} AND (n.team, n.channel) IN"
    " (SELECT * FROM unnest(%(conf_t)s::text[], %(conf_c)s::text[]))"
)
_RANKED = (
    "SELECT team, side, campaign, created_at, id FROM (SELECT n.team, {side} AS side,"
    " n.campaign, n.created_at, n.id, row_number() OVER (PARTITION BY n.team, {side}, n.campaign"
    " ORDER BY n.created_at DESC, n.id DESC) AS place FROM notes AS n WHERE {where}) AS ranked"
    " WHERE place <= %(keep)s ORDER BY team, side, campaign, place"
)
_NOTE = ", ".join(f"n.{c}" for c in NOTE_FIELDS)
FETCH = 500  # rows converted at a time on the event loop, which gets a turn between batches


def _part(row: tuple, at: int, interned: Interned) -> Part:
    return Part(
        campaign=row[at],
        notes=row[at + 1],
        platforms=frozenset(row[at + 2] or ()),
        currencies=frozenset(row[at + 3] or ()),
        sums=list(row[at + 4 : at + 16]),
        origins=tuple(interned[tuple(o)] for o in row[at + 16] or ()),
        newest=row[at + 17],
        commas=False,
    )


async def _fetched(conn: AsyncConnection, sql: str, params: object, tuples: bool) -> list:
    """Every row of `sql`, converted FETCH at a time with a turn for the event loop between."""
    cursor = conn.cursor(row_factory=tuple_row) if tuples else conn.cursor()
    await cursor.execute(sql, params)  # type: ignore[arg-type]
    rows: list = []
    while batch := await cursor.fetchmany(FETCH):
        rows.extend(batch)
        await asyncio.sleep(0)
    return rows


def _sides_of(
    parts: list, candidates: list, sides: dict[SideKey, Side], interned: Interned
) -> None:
    """Off the event loop: the rows read, as sides."""
    for public, rows in parts:
        add_parts(sides, rows, public, _part, interned)
    for public, rows in candidates:
        add_candidates(sides, rows, public)


async def week_activities(
    conn: AsyncConnection,
    viewers: Sequence[Viewer],
    since: datetime,
    until: datetime,
    per_campaign: int,
) -> list[WeekActivity | None]:
    """Inside one snapshot: every viewer's week in the order given; None for a viewer with a
    user (postgres.py reads those one by one). Rows are converted a few hundred at a time, and
    everything done with them runs in a worker thread: the event loop is never held long."""
    sides: dict[SideKey, Side] = {}
    interned = Interned()
    for chunk in chunks(viewers):
        params: dict = {
            "since": utc(since),
            "until": utc(until),
            "public": list(PUBLIC_KINDS),
            "teams": chunk.teams,
            "wide": chunk.wide,
            "own_t": [t for t, _c in chunk.own],
            "own_c": [c for _t, c in chunk.own],
            "conf_t": [t for t, _c in chunk.confined],
            "conf_c": [c for _t, c in chunk.confined],
            "keep": per_campaign,
        }
        queries = [(_BOTH, _SIDE, False)]
        if chunk.confined:
            queries.append((_CONFINED, "n.channel", True))
        parts, candidates = [], []
        for where, side, public in queries:
            sql = (
                f"SELECT n.team, {side}, n.campaign, {_AGGREGATES} FROM notes AS n WHERE {where}"
                f" GROUP BY n.team, {side}, n.campaign"
            )
            parts.append((public, await _fetched(conn, sql, params, tuples=True)))
            if per_campaign > 0:
                ranked = _RANKED.format(side=side, where=where)
                candidates.append((public, await _fetched(conn, ranked, params, tuples=True)))
        these: dict[SideKey, Side] = {}
        await asyncio.to_thread(_sides_of, parts, candidates, these, interned)
        if per_campaign > 0:
            teams = set(chunk.teams)
            readers = [v for v in viewers if v.team in teams and v.user is None]
            wanted = await asyncio.to_thread(wanted_notes, readers, these, per_campaign)
            rows = await _fetched(
                conn,
                f"SELECT {_NOTE} FROM notes AS n WHERE n.id = ANY(%s) AND n.team = ANY(%s)",
                [sorted(wanted), chunk.teams],
                tuples=True,
            )
            attach(these, await asyncio.to_thread(to_notes, rows))
        sides.update(these)
    return await asyncio.to_thread(assemble, viewers, sides, per_campaign)
