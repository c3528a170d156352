"""A campaign's figures day by day, for its chart (`notes CAMPAIGN chart`): one query on either
backend, grouped by UTC day, platform and currency, with the same privacy filter as every read
(bot/store/notes.py `Filter`). The chart's periods (days or ISO weeks) are summed from these
rows in Python, so a series never costs a query per period.

Ratios are paired as in the campaign totals: spend and impressions summed over the notes that
carry both, so a note with spend and no impressions never inflates a day's CPM.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from bot.store import notes
from bot.store.base import Origin

FIGURES = ("spend", "impressions", "clicks", "conversions")


@dataclass(frozen=True)
class DayFigures:
    """The notes of one UTC day, one platform and one currency of a campaign, summed."""

    day: str  # YYYY-MM-DD, UTC
    platform: str | None
    currency: str | None  # of the spend; None for notes with no money figure
    notes: int
    spend: float | None
    impressions: float | None
    clicks: float | None
    conversions: float | None
    # (numerator, denominator) over the notes that carry both, as CampaignTotals pairs them
    spend_per_impression: tuple[float, float] | None
    spend_per_click: tuple[float, float] | None
    clicks_per_impression: tuple[float, float] | None
    spend_per_conversion: tuple[float, float] | None
    origins: tuple[Origin, ...]  # where these notes come from, each place and author once


def _select(sql: str, day: str, origins: str) -> str:
    # Every column named (c0, c1, ...): a driver that returns rows as dicts keeps them all.
    columns = [day, "n.platform", "n.currency", "count(*)"]
    columns += [f"sum(n.{f})" for f in FIGURES]
    for a, b in notes.RATIO_PAIRS:
        columns += notes._pair(a, b).split(", ")
    columns.append(origins)
    named = ", ".join(f"{c} AS c{i}" for i, c in enumerate(columns))
    return f"SELECT {named} FROM notes AS n WHERE {sql} GROUP BY 1, 2, 3"


def _rows(rows: Any, origins: Any) -> list[DayFigures]:
    out = []
    for r in rows:
        r = list(r.values()) if isinstance(r, dict) else list(r)
        pairs = [(r[i], r[i + 1]) if r[i] is not None else None for i in range(8, 16, 2)]
        out.append(DayFigures(r[0], r[1], r[2], r[3], *r[4:8], *pairs, origins(r[16])))  # type: ignore[arg-type]
    # NULLs sort first on SQLite and last on PostgreSQL: ordered here, the same on both.
    out.sort(key=lambda d: (d.day, d.platform or "", d.currency or ""))
    return out


def sqlite_days(conn: sqlite3.Connection, where: notes.Filter) -> list[DayFigures]:
    sql, params = where.sql()
    # created_at is fixed-width UTC text (notes.db_time): its first ten characters are the day.
    query = _select(sql, "substr(n.created_at, 1, 10)", f"group_concat(DISTINCT {notes._ORIGIN})")
    return _rows(conn.execute(query, params).fetchall(), notes._origins)


async def postgres_days(conn: Any, where: notes.Filter) -> list[DayFigures]:
    sql, params = where.sql(mark="%s", time=notes.utc)
    query = _select(
        sql,
        "to_char(n.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
        "array_agg(DISTINCT ARRAY[n.team, n.channel, n.channel_kind, n.author])",
    )
    cursor = await conn.execute(query, params)
    return _rows(await cursor.fetchall(), lambda found: tuple(Origin(*o) for o in found or ()))
