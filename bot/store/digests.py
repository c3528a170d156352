"""SQL for digest subscriptions and runs. Plain functions over a connection, run in the store's
threads (sqlite.py); the ones that change state run inside its write transactions.

A run row is the claim: its primary key (team, channel, week) can be inserted once. State moves
are compare-and-set on (state, claimed_by), so a scheduler whose lease expired finds its run taken
and stops instead of posting (the fence that keeps two processes from both sending).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.store.base import (
    FINAL_RUN_STATES,
    DigestRun,
    RunState,
    Subscription,
    SubscriptionState,
)
from bot.store.notes import as_time as _time
from bot.store.notes import db_time

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
    rows = conn.execute(
        "SELECT * FROM digest_subscriptions WHERE state = 'active' AND next_run <= ?"
        " ORDER BY next_run LIMIT ?",
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
