"""A campaign's realised CPM, CPC, CTR and CPA from its notes, set against its platform's figures.

Published figures are in US dollars: money is compared only when the campaign's spend is in
dollars too, never converted. A campaign that ran on several platforms has no single range.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.metric_table import MONEY_KEYS
from bot.store import CampaignTotals
from knowledge import Benchmark, benchmarks_for

DOLLAR = "$"
ORDER = ("cpm", "cpc", "ctr", "cpa")
MONEY = MONEY_KEYS


@dataclass(frozen=True)
class Figure:
    metric: str  # cpm, cpc, ctr, cpa
    value: float  # money in the campaign's currency; rates as fractions
    benchmark: Benchmark | None
    # "below", "within", "above" (a range) or "under", "in line with" (within 5%), "over" (one)
    verdict: str | None
    why_not: str | None = None  # why there is no comparison, when there is none


def figures(
    totals: CampaignTotals, published_for: Callable[[str], dict[str, Benchmark]] | None = None
) -> list[Figure]:
    """`published_for`: a platform's published figures (benchmarks_for, or what a batch of
    digests kept of it: it asks once per platform)."""
    values = _values(totals)
    platform = totals.platforms[0] if len(totals.platforms) == 1 else None
    published = (published_for or benchmarks_for)(platform) if platform else {}
    out = []
    for metric, value in values.items():  # in ORDER
        benchmark = published.get(metric)
        why_not = None
        if not totals.platforms:
            why_not = "no platform= in its notes"
        elif platform is None:
            why_not = f"several platforms ({', '.join(totals.platforms)})"
        elif benchmark is None:
            why_not = f"no published {metric.upper()} for {platform}"
        elif metric in MONEY and totals.currencies != (DOLLAR,):
            benchmark, why_not = None, "published figures are in US dollars"
        out.append(Figure(metric, value, benchmark, _verdict(value, benchmark), why_not))
    return out


def _values(t: CampaignTotals) -> dict[str, float]:
    """Each realised figure the totals have, in ORDER."""
    ratios = (
        ("cpm", t.spend_per_impression, 1000.0),
        ("cpc", t.spend_per_click, 1.0),
        ("ctr", t.clicks_per_impression, 1.0),
        ("cpa", t.spend_per_conversion, 1.0),
    )
    mixed = len(t.currencies) > 1  # spend in several currencies cannot be summed
    out = {}
    for metric, pair, scale in ratios:
        if pair is None or not pair[1]:
            continue
        if mixed and metric in MONEY:
            continue
        out[metric] = pair[0] / pair[1] * scale
    return out


IN_LINE = 0.05  # a realised figure this close to a single published one is in line with it


def _verdict(value: float, b: Benchmark | None) -> str | None:
    if b is None:
        return None
    if b.low == b.high:
        if abs(value - b.low) <= IN_LINE * abs(b.low):
            return "in line with"
        return "under" if value < b.low else "over"
    return "below" if value < b.low else "above" if value > b.high else "within"
