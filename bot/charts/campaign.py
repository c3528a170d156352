"""A campaign's chart (`notes CAMPAIGN chart`), from the series in its answer's data
(bot/notes/series.py): spend per period, then each realised rate per period and platform, each
against its platform's published low–high range (a band), its typical value and the campaign's
target. Every number drawn is one of data["campaign_series"]; nothing is worked out here."""

from __future__ import annotations

from typing import Any

from bot.charts.model import Chart, Panel, Point
from bot.charts.render import MONTHS
from bot.platforms import PLATFORM_NAME

KEY = "campaign_series"
NAMES = {"spend": "Spend", "spend_to_date": "Spend to date", "cpm": "CPM", "cpc": "CPC",
         "ctr": "CTR", "cpa": "CPA"}  # fmt: skip
SHOWN_OP = {"<=": "≤", ">=": "≥", "<": "<", ">": ">"}


def campaign_chart(data: dict[str, Any]) -> Chart | None:
    found = data.get(KEY)
    if not found or not found.get("lines"):
        return None
    period, currency = found["period"], found.get("currency") or "$"
    labels = found["periods"]
    several = len(found.get("platforms", [])) > 1
    panels = [_panel(line, labels, currency, period, several) for line in found["lines"]]
    lead = sum(p.metric in ("spend", "spend_to_date") for p in panels)
    rates = [p.metric for p in panels if p.metric not in ("spend", "spend_to_date")]
    per_metric = rates.count(rates[0]) if rates else 1  # one panel per platform line
    columns = min(3, per_metric) if per_metric > 1 else 2
    wide = 0 if lead == columns else lead
    return Chart(
        "campaign",
        f"{found['campaign']}: spend and realised figures per {period}, {_span(found)}",
        panels,
        caption=_caption(found),
        extra={"period": period, "columns": columns, "wide": wide},
    )


def _span(found: dict) -> str:
    """`10 Nov – 30 Nov 2026`: the days charted (a week's to its Sunday)."""
    from datetime import date, timedelta

    first = date.fromisoformat(found["starts"][0])
    last = date.fromisoformat(found["starts"][-1])
    if found["period"] == "week":
        last += timedelta(days=6)
    start = f"{first.day} {MONTHS[first.month - 1]}"
    start += f" {first.year}" if first.year != last.year else ""
    return f"{start} – {last.day} {MONTHS[last.month - 1]} {last.year}"


def _unit(metric: str, currency: str) -> str:
    return "%" if metric == "ctr" else currency


def _panel(line: dict, labels: list[str], currency: str, period: str, several: bool) -> Panel:
    metric = line["metric"]
    title = NAMES.get(metric, metric.upper())
    if metric == "spend":
        title = f"Spend per {period}" + (", all platforms" if several else "")
    platform = line.get("platform")
    if metric not in ("spend", "spend_to_date"):
        if platform:
            title += f" on {PLATFORM_NAME.get(platform, platform)}"
        elif several:
            title += ", notes with no platform"
    unit = _unit(metric, currency)
    published = line.get("published")
    target = line.get("target")
    target_label = ""
    if target is not None:
        from bot.charts.model import shown_value

        probe = Panel(metric, title, unit, [], style="line")
        name = NAMES.get(target["key"], target["key"])
        target_label = (
            f"target {name if name.isupper() else name.lower()} {SHOWN_OP[target['op']]} "
            f"{shown_value(probe, target['value'])}"
        )
    return Panel(
        metric,
        title,
        unit,
        [],
        style="line",
        points=[Point(label, value) for label, value in zip(labels, line["values"], strict=True)],
        # A single published figure (low = high) is its typical line, not a band of no height.
        band=(published["low"], published["high"])
        if published and published["low"] < published["high"]
        else None,
        typical=published["typical"] if published else None,
        target=target["value"] if target is not None else None,
        target_label=target_label,
    )


def _caption(found: dict) -> str:
    # The legend says what the band and the dashed line are: the caption says whose they are.
    parts = [] if any(line.get("published") for line in found["lines"]) else [
        "No published range applies to these figures."
    ]  # fmt: skip
    sources = sorted(
        {s for line in found["lines"] for s in (line.get("published") or {}).get("sources", [])}
    )
    if sources:
        money = any(
            line.get("published") and line["metric"] in ("cpm", "cpc", "cpa")
            for line in found["lines"]
        )
        parts.append(
            f"Published: {'; '.join(sources)}" + ("; money in US dollars." if money else ".")
        )
    only: dict[tuple[str, str], list[str]] = {}
    for line in found["lines"]:
        objective = (line.get("published") or {}).get("objective")
        if objective and line.get("platform"):
            name = PLATFORM_NAME.get(line["platform"], line["platform"])
            only.setdefault((name, objective), []).append(line["metric"].upper())
    for (name, objective), metrics in only.items():
        from bot.text import and_list

        verb = "is" if len(metrics) == 1 else "are"
        parts.append(
            f"{name}'s {and_list(metrics)} {verb} published for {objective} campaigns only."
        )
    unpublished: dict[str, list[str]] = {}
    reasons = set()
    for line in found["lines"]:
        why = line.get("why_no_range")
        if not why:
            continue
        if line.get("platform") and why.startswith("no published "):
            name = PLATFORM_NAME.get(line["platform"], line["platform"])
            unpublished.setdefault(name, []).append(line["metric"].upper())
        else:
            reasons.add(why)
    if unpublished:
        from bot.text import and_list

        said = "; ".join(f"{name} {and_list(m)}" for name, m in unpublished.items())
        parts.append(f"Not published, so not compared: {said}.")
    if reasons:
        parts.append(f"Not compared where there is {'; '.join(sorted(reasons))}.")
    for gone in found.get("left_out", []):
        from bot import units

        parts.append(
            f"Spend in {gone['currency']} ({units.format_money(gone['spend'], gone['currency'])}, "
            f"{gone['notes']} note{'s' * (gone['notes'] != 1)}) is not in the money lines: "
            f"currencies are never added up."
        )
    parts.append(
        "Gaps: no figure that day."
        if found["period"] == "day"
        else "ISO weeks, Monday to Sunday (UTC); gaps: no figure that week."
    )
    return " ".join(parts)
