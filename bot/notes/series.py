"""`notes CAMPAIGN chart`'s figures: a campaign's spend and realised CPM, CPC, CTR and CPA per
day (notes spanning up to 31 days) or per ISO week (longer), from one read of the store
(bot/store/series.py), against each platform's published range and the campaign's targets.

The formulas are those of bot/notes/realised.py, applied to each period: a rate divides figures
summed over the notes that carry both. Money is charted in one currency, the campaign's main
one (the most spend; never converted): spend in another currency is left out of the spend and
money-rate lines and said so (`left_out`); CTR, which has no currency, counts every note.
A campaign on several platforms has one line of each rate per platform, each against its own
platform's range (one range for all would compare Facebook's CPM with LinkedIn's).
Published money figures are in US dollars: a range is drawn for a money rate only when the
campaign's money is in dollars.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from bot.notes.realised import DOLLAR, MONEY, ORDER
from bot.platforms import PLATFORM_NAME
from bot.store.series import DayFigures
from knowledge import benchmarks_for

KEY = "campaign_series"  # the key of reply.data that holds the series (bot/charts/campaign.py)
MAX_DAYS = 31  # a campaign's notes spanning more days are charted per ISO week
RATIO = {"cpm": ("spend_per_impression", 1000.0), "cpc": ("spend_per_click", 1.0),
         "ctr": ("clicks_per_impression", 1.0), "cpa": ("spend_per_conversion", 1.0)}  # fmt: skip


def main_currency(days: Sequence[DayFigures]) -> str | None:
    """The currency of most of the campaign's spend (dollars on a tie); None with no spend."""
    spent: dict[str, float] = {}
    for d in days:
        if d.currency is not None and d.spend is not None:
            spent[d.currency] = spent.get(d.currency, 0.0) + d.spend
    if not spent:
        return None
    return max(spent, key=lambda c: (spent[c], c == DOLLAR, c))


def _period_of(day: date, weekly: bool) -> tuple[str, date]:
    if not weekly:
        return day.isoformat(), day
    year, week, weekday = day.isocalendar()
    return f"{year}-W{week:02d}", day - timedelta(days=weekday - 1)


def periods(days: Sequence[DayFigures]) -> tuple[str, list[tuple[str, date]]]:
    """("day" or "week", every period from the first note's to the last's, empty ones too:
    a day with no note is a gap in the picture, not a day that did not happen)."""
    first, last = date.fromisoformat(days[0].day), date.fromisoformat(days[-1].day)
    weekly = (last - first).days + 1 > MAX_DAYS
    out: list[tuple[str, date]] = []
    step = first
    while step <= last:
        found = _period_of(step, weekly)
        if not out or out[-1][0] != found[0]:
            out.append(found)
        step += timedelta(days=1)
    return ("week" if weekly else "day"), out


def _platform_lines(days: Sequence[DayFigures]) -> list[str | None]:
    """The platforms the rates are drawn for: each one named in the notes; with one named,
    notes that name none count with it (as the campaign's totals count them); with several,
    those notes have a line of their own (no range: no platform)."""
    named = sorted({d.platform for d in days if d.platform})
    if len(named) <= 1:
        return [named[0] if named else None]
    return [*named, *([None] if any(d.platform is None for d in days) else [])]


def _published(platform: str | None, metric: str, currency: str | None) -> tuple[Any, str | None]:
    """The platform's published figure for `metric` to draw as a band, or why there is none."""
    if platform is None:
        return None, "no platform= in these notes"
    found = benchmarks_for(platform).get(metric)
    if found is None:
        return None, f"no published {metric.upper()} for {PLATFORM_NAME.get(platform, platform)}"
    if metric in MONEY and currency != DOLLAR:
        return None, "no published figure in this currency (they are in US dollars)"
    return found, None


def build(
    campaign: str, days: Sequence[DayFigures], targets: Sequence[dict]
) -> dict[str, Any] | None:
    """reply.data[KEY] for `days` (oldest first), or None when no period has a figure to draw.
    `targets`: the campaign's targets visible here ({key, op, value, currency})."""
    if not days:
        return None
    period, found = periods(days)
    weekly = period == "week"
    labels = [label for label, _ in found]
    place = {label: i for i, label in enumerate(labels)}
    currency = main_currency(days)
    platforms = _platform_lines(days)
    several = len(platforms) > 1

    def slot(d: DayFigures) -> int:
        return place[_period_of(date.fromisoformat(d.day), weekly)[0]]

    spend: list[float | None] = [None] * len(labels)
    pairs: dict[tuple[str, str | None], list[list[float] | None]] = {
        (m, p): [None] * len(labels) for m in ORDER for p in platforms
    }
    left_out: dict[str, dict[str, float]] = {}
    for d in days:
        i = slot(d)
        in_currency = d.currency == currency
        if d.spend is not None and in_currency:
            spend[i] = (spend[i] or 0.0) + d.spend
        elif d.spend is not None:
            gone = left_out.setdefault(d.currency or "?", {"notes": 0, "spend": 0.0})
            gone["notes"] += d.notes
            gone["spend"] += d.spend
        line = d.platform if several else platforms[0]
        for metric in ORDER:
            pair = getattr(d, RATIO[metric][0])
            if pair is None or (metric in MONEY and not in_currency):
                continue
            kept = pairs[(metric, line)]
            if kept[i] is None:
                kept[i] = [0.0, 0.0]
            kept[i][0] += pair[0]  # type: ignore[index]
            kept[i][1] += pair[1]  # type: ignore[index]
    rate_targets = {t["key"]: t for t in targets}
    lines: list[dict[str, Any]] = []
    if any(v is not None for v in spend):
        lines.append({"metric": "spend", "platform": None, "values": spend})
        cap = rate_targets.get("spend")
        if cap is not None and cap.get("currency") in (currency, None):
            # A spend target bounds the campaign's whole spend: drawn against spend to date.
            total, to_date = None, []
            for value in spend:
                if value is not None:
                    total = (total or 0.0) + value
                to_date.append(total)
            lines.append(
                {"metric": "spend_to_date", "platform": None, "values": to_date,
                 "target": _target(cap)}
            )  # fmt: skip
    for metric in ORDER:
        by_platform = {
            platform: [
                p[0] / p[1] * RATIO[metric][1] if p is not None and p[1] else None
                for p in pairs[(metric, platform)]
            ]
            for platform in platforms
        }
        if all(v is None for values in by_platform.values() for v in values):
            continue  # kept for every platform otherwise: the panels line up platform by platform
        for platform, values in by_platform.items():
            bench, why = _published(platform, metric, currency)
            target = rate_targets.get(metric)
            if target is not None and metric in MONEY and target.get("currency") != currency:
                target = None  # a target in another currency than the chart's: never converted
            lines.append(
                {
                    "metric": metric,
                    "platform": platform,
                    "values": values,
                    "published": None
                    if bench is None
                    else {
                        "low": bench.low,
                        "typical": bench.typical,
                        "high": bench.high,
                        "sources": [f"{s.name} {s.year}" for s in bench.sources[:2]],
                        "objective": bench.objective,
                    },
                    "why_no_range": why,
                    "target": _target(target) if target is not None else None,
                }
            )
    if not lines:
        return None
    return {
        "campaign": campaign,
        "period": period,
        "periods": labels,
        "starts": [start.isoformat() for _, start in found],
        "currency": currency,
        "currencies": sorted({d.currency for d in days if d.currency}),
        "left_out": [{"currency": c, **v} for c, v in sorted(left_out.items())],
        "platforms": [p for p in platforms if p],
        "lines": lines,
        "targets": [dict(t) for t in targets],
    }


def _target(t: dict) -> dict:
    return {"key": t["key"], "op": t["op"], "value": t["value"], "currency": t.get("currency")}
