"""A channel's last few weeks at a glance, for the digest's chart (issue 16): each week's notes
and spend by currency, in one query over all of the weeks, with the same privacy filter as every
read, and the places and authors counted (so the chart is held against the channel, as the
digest's own notes are, before it is posted)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.store import notes


@dataclass(frozen=True)
class WeekPoint:
    since: datetime  # inclusive, UTC
    until: datetime  # exclusive, UTC
    notes: int = 0
    spend: dict[str, float] = field(default_factory=dict)  # by currency sign


@dataclass(frozen=True)
class Trend:
    weeks: list[WeekPoint]
    # (team, channel, channel_kind, author) of every note counted, each once.
    origins: tuple[tuple[str, str, str, str], ...] = ()


def _select(where: str, mark: str, buckets: int) -> str:
    cases = " ".join(f"WHEN n.created_at < {mark} THEN {i}" for i in range(buckets))
    return (
        f"SELECT CASE {cases} END AS c0, n.currency AS c1, count(*) AS c2, sum(n.spend) AS c3,"
        " n.team AS c4, n.channel AS c5, n.channel_kind AS c6, n.author AS c7"
        f" FROM notes AS n WHERE {where}"
        " GROUP BY 1, n.currency, n.team, n.channel, n.channel_kind, n.author"
    )


def _trend(edges: Sequence[datetime], rows: Any) -> Trend:
    weeks = [WeekPoint(edges[i], edges[i + 1], 0, {}) for i in range(len(edges) - 1)]
    counts = [0] * len(weeks)
    origins: dict[tuple[str, str, str, str], None] = {}
    for r in rows:
        r = list(r.values()) if isinstance(r, dict) else list(r)
        bucket, currency, count, spend = r[0], r[1], r[2], r[3]
        counts[bucket] += count
        if spend is not None and currency is not None:
            got = weeks[bucket].spend
            got[currency] = got.get(currency, 0.0) + float(spend)
        origins[(r[4], r[5], r[6], r[7])] = None
    return Trend(
        [WeekPoint(w.since, w.until, c, w.spend) for w, c in zip(weeks, counts, strict=True)],
        tuple(origins),
    )


def _where(viewer: Any, edges: Sequence[datetime], mark: str, time: Any) -> tuple[str, list]:
    sql, params = notes.Filter(viewer, None, edges[0], edges[-1]).sql(mark=mark, time=time)
    return _select(sql, mark, len(edges) - 1), [time(e) for e in edges[1:]] + params


def sqlite_trend(conn: sqlite3.Connection, viewer: Any, edges: Sequence[datetime]) -> Trend:
    sql, params = _where(viewer, edges, "?", notes.db_time)
    return _trend(edges, conn.execute(sql, params).fetchall())


async def postgres_trend(conn: Any, viewer: Any, edges: Sequence[datetime]) -> Trend:
    sql, params = _where(viewer, edges, "%s", notes.utc)
    cursor = await conn.execute(sql, params)
    return _trend(edges, await cursor.fetchall())
