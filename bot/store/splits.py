"""A campaign's figures by the currency of its spend, for a campaign whose notes are in more than
one: `$750 + €300`, and its CPM, CPC and CPA in each currency, where one sum of both would be
meaningless and dropping them loses what was logged. Same privacy filter as every read."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from bot.store import notes

_PAIRS = (("spend", "impressions"), ("spend", "clicks"), ("spend", "conversions"))


@dataclass(frozen=True)
class CurrencyPart:
    campaign: str
    currency: str
    notes: int
    spend: float
    spend_per_impression: tuple[float, float] | None
    spend_per_click: tuple[float, float] | None
    spend_per_conversion: tuple[float, float] | None


def _select(sql: str) -> str:
    # Every column named (c0, c1, ...): a driver that returns rows as dicts keeps them all.
    columns = ["n.campaign", "n.currency", "count(*)", "sum(n.spend)"]
    for a, b in _PAIRS:
        columns += notes._pair(a, b).split(", ")
    named = ", ".join(f"{c} AS c{i}" for i, c in enumerate(columns))
    return (
        f"SELECT {named} FROM notes AS n WHERE {sql} AND n.spend IS NOT NULL"
        " AND n.currency IS NOT NULL GROUP BY n.campaign, n.currency"
        " ORDER BY n.campaign, sum(n.spend) DESC"
    )


def _parts(rows: Any) -> list[CurrencyPart]:
    out = []
    for r in rows:
        r = list(r.values()) if isinstance(r, dict) else list(r)
        pairs = [(r[i], r[i + 1]) if r[i] is not None and r[i + 1] else None for i in (4, 6, 8)]
        out.append(CurrencyPart(r[0], r[1], r[2], r[3], *pairs))
    return out


def sqlite_parts(conn: sqlite3.Connection, where: notes.Filter) -> list[CurrencyPart]:
    sql, params = where.sql()
    return _parts(conn.execute(_select(sql), params).fetchall())


async def postgres_parts(conn: Any, where: notes.Filter) -> list[CurrencyPart]:
    sql, params = where.sql(mark="%s", time=notes.utc)
    cursor = await conn.execute(_select(sql), params)
    return _parts(await cursor.fetchall())
