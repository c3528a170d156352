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

from datetime import datetime, timedelta

from psycopg import AsyncConnection

from bot.store.base import DigestRun, RunState, Subscription, SubscriptionState
from bot.store.digests import (
    LATE_AFTER,
    SUB_COLUMNS,
    run_changes,
    runs_filter,
    to_run,
    to_subscription,
)
from bot.store.notes import utc

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
        " ORDER BY next_run LIMIT %s",
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
