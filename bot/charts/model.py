"""What a chart draws, worked out from an answer's `data` alone: so a test can read the series
drawn, and the picture can never say what the answer does not.

An estimate's chart: one panel per figure the estimate worked out (impressions, reach, clicks,
conversions, views), a bar at its typical value with the published low–high range as a whisker.
A platform comparison: the same panels with one bar per platform.
A campaign (bot/charts/campaign.py): line panels, one value per day or week, against the
published low–high range (a band), its typical value and the campaign's target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.metric_table import LABEL
from bot.platforms import PLATFORM_NAME

# What an estimate's chart shows, in this order: what the money reaches and brings.
SHOWN = ("impressions", "reach", "clicks", "conversions", "views", "engagements")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # the typical value (style "against": the realised one)
    low: float | None = None  # the published range, where there is one
    high: float | None = None
    typical: float | None = None  # style "against": the published typical value
    key: str = ""  # what the bar is about, whole (a campaign): one colour in every panel


@dataclass(frozen=True)
class Point:
    label: str  # the period: "Nov 2" (a digest's week), "2026-11-03" or "2026-W45" (a campaign's)
    value: float | None  # None: nothing to draw for that period (a line: a gap)


@dataclass(frozen=True)
class Panel:
    metric: str
    title: str
    unit: str  # what the axis counts ("people", "clicks") or the currency sign
    bars: list[Bar] = field(default_factory=list)
    # "bars": a bar at each value, the published low–high as a whisker around it; "against": a
    # realised value as a bar over its published low–high drawn as a band, the typical marked;
    # "columns": `points` as columns over time; "line": `points` as a line with a marker at each
    # period, over `band` (the published low–high), `typical` dashed and `target` drawn apart.
    style: str = "bars"
    points: list[Point] = field(default_factory=list)
    band: tuple[float, float] | None = None  # style "line": the published low–high range
    typical: float | None = None  # style "line": the published typical value
    target: float | None = None  # style "line": the campaign's target
    target_label: str = ""  # as the chart says it: "target CPA ≤ $20"


@dataclass(frozen=True)
class Chart:
    kind: str  # "estimate" or "platforms"
    title: str
    panels: list[Panel]
    caption: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def data(self) -> dict[str, Any]:
        """The series drawn, as `smx ask --json` reports them under data["chart"]."""
        return {
            "kind": self.kind,
            "title": self.title,
            "series": [_series(p) for p in self.panels],
            **({"period": self.extra["period"]} if "period" in self.extra else {}),
        }

    def alt_text(self) -> str:
        """The figures the chart states, in words (an image's alt text, at most 1,000 characters):
        every panel is named; where all of them do not fit, each panel's first few bars are, and
        how many more there are."""
        # Line panels (a campaign's days) are said period by period, or, where that is too
        # long, each line's first, last, lowest and highest.
        briefs = (False, True) if any(p.style == "line" for p in self.panels) else (False,)
        for brief in briefs:
            for most in (None, 4, 3, 2, 1):
                text = self._alt(most, brief)
                if len(text) <= ALT_MAX:
                    return text
        return text[: ALT_MAX - 1] + "…"

    def _alt(self, most: int | None, brief: bool = False) -> str:
        parts = []
        for p in self.panels:
            if p.style == "line":
                parts.append(_line_alt(p, brief=brief))
                continue
            if p.style == "columns":
                shown = [f"{pt.label} {_said(pt.value, p.unit)}" for pt in p.points]
            elif p.style == "against":
                shown = []
                for b in p.bars:
                    text = f"{b.label} {_said(b.value, p.unit)}"
                    if b.low is not None and b.high is not None:
                        text += f" (published {_said(b.low, p.unit)}–{_said(b.high, p.unit)})"
                    shown.append(text)
            else:
                shown = []
                for b in p.bars:
                    typical = _said(b.value, p.unit)
                    if b.low is not None and b.high is not None and b.low != b.high:
                        typical += f" ({_said(b.low, p.unit)}–{_said(b.high, p.unit)})"
                    shown.append(f"{b.label} {typical}")
            if most is not None and len(shown) > most:
                shown = [*shown[:most], f"and {len(shown) - most} more"]
            parts.append(f"{p.title}: " + ", ".join(shown))
        return f"{self.title}. " + "; ".join(parts) + "."


ALT_MAX = 1000  # characters of an image's alt text


def shown_value(p: Panel, value: float) -> str:
    """A value of a panel as its chart says it: `$8.10`, `1.25%`, `1,200`."""
    return _said(value, p.unit)


def _line_alt(p: Panel, *, brief: bool = False) -> str:
    known = [q for q in p.points if q.value is not None]
    if brief and known:
        low = min(known, key=lambda q: q.value)  # type: ignore[arg-type,return-value]
        high = max(known, key=lambda q: q.value)  # type: ignore[arg-type,return-value]
        said = (
            f"{len(known)} of {len(p.points)} periods with a figure, "
            f"{known[0].label} {_said(known[0].value, p.unit)} to "
            f"{known[-1].label} {_said(known[-1].value, p.unit)}, "
            f"lowest {_said(low.value, p.unit)} ({low.label}), "
            f"highest {_said(high.value, p.unit)} ({high.label})"
        )
    else:
        said = ", ".join(f"{q.label} {_said(q.value, p.unit)}" for q in p.points)
    out = f"{p.title}: {said}"
    if p.band is not None:
        out += f"; published range {_said(p.band[0], p.unit)}–{_said(p.band[1], p.unit)}"
        if p.typical is not None:
            out += f", typical {_said(p.typical, p.unit)}"
    elif p.typical is not None:
        out += f"; published {_said(p.typical, p.unit)}"
    if p.target is not None:
        out += f"; {p.target_label or 'target ' + _said(p.target, p.unit)}"
    return out


def _said(value: float | None, unit: str) -> str:
    """A figure in words for alt text: money with its sign, a rate as a percentage."""
    from bot import units

    if value is None:
        return "none"
    if unit == "%":
        return units.format_rate(value)
    if unit in units.CURRENCY_SYMBOLS:
        return units.format_money(value, unit)
    return units.format_count(value)


def _series(p: Panel) -> dict[str, Any]:
    out: dict[str, Any] = {"metric": p.metric, "unit": p.unit, "style": p.style}
    if p.style == "line":
        out["title"] = p.title
        out["points"] = [{"label": pt.label, "value": pt.value} for pt in p.points]
        out["band"] = list(p.band) if p.band is not None else None
        out["typical"], out["target"], out["target_label"] = p.typical, p.target, p.target_label
    elif p.style == "columns":
        out["points"] = [{"label": pt.label, "value": pt.value} for pt in p.points]
    else:
        out["bars"] = [
            {"label": b.label, "value": b.value, "low": b.low, "high": b.high}
            | ({"typical": b.typical} if p.style == "against" else {})
            for b in p.bars
        ]
    return out


def chart_for(data: dict[str, Any], title: str | None = None) -> Chart | None:
    """The chart of an answer, from its `data`; None when the answer has none to draw."""
    if "campaign_series" in data:  # bot/notes/series.py KEY
        from bot.charts.campaign import campaign_chart

        return campaign_chart(data)
    if "digest" in data:
        from bot.charts.digest import digest_chart

        return digest_chart(data, title)
    if "platforms" in data:
        return _platforms(data, title)
    if "routes" in data:
        return _routes(data, title)
    if "derived" in data and "formulas" in data:
        return _estimate(data, title)
    return None


def _range(data: dict[str, Any], key: str) -> tuple[float | None, float | None]:
    found = (data.get("ranges") or {}).get(key)
    return (found[0], found[1]) if found else (None, None)


def _estimate(data: dict[str, Any], title: str | None) -> Chart | None:
    panels = []
    name = PLATFORM_NAME.get(data.get("platform") or "", "")
    for key in SHOWN:
        if key not in data.get("derived", []) or key not in data:
            continue
        low, high = _range(data, key)
        label = name or "Estimate"
        panels.append(Panel(key, LABEL[key], key, [Bar(label, float(data[key]), low, high)]))
    if not panels:
        return None
    return Chart("estimate", title or "What the budget reaches", panels, caption=_caption(data))


def _platforms(data: dict[str, Any], title: str | None) -> Chart | None:
    panels = []
    by_platform = data["platforms"]
    for key in SHOWN:
        bars = [
            Bar(PLATFORM_NAME.get(p, p), float(v[key][1]), float(v[key][0]), float(v[key][2]))
            for p, v in by_platform.items()
            if key in v
        ]
        if bars:
            panels.append(Panel(key, LABEL[key], key, bars))
    if not panels:
        return None
    names = " vs ".join(PLATFORM_NAME.get(p, p) for p in by_platform)
    return Chart(
        "platforms",
        title or f"{names}: what the same budget reaches",
        panels,
        caption="Bars: typical published figures; whiskers: the published low–high range.",
    )


# Paid against organic (`compare KEY=VALUE`): what each route reaches, and what people do.
ROUTE_PANELS = (
    ("reach", "Seen: paid impressions, organic reach", (("paid", "impressions", "Paid (SMM): impressions"),
                                        ("organic", "organic_reach", "Organic (SMO): reach"))),
    ("actions", "What they do", (("paid", "clicks", "Paid (SMM): clicks"),
                                 ("organic", "organic_engagements", "Organic (SMO): engagements"))),
)  # fmt: skip


def _routes(data: dict[str, Any], title: str | None) -> Chart | None:
    routes = data["routes"]
    panels = []
    for metric, heading, rows in ROUTE_PANELS:
        bars = []
        for route, key, label in rows:
            if key in routes.get(route, {}):
                low, high = _range(data, key)
                bars.append(Bar(label, float(routes[route][key]), low, high))
        if bars:
            panels.append(Panel(metric, heading, metric, bars))
    if not panels:
        return None
    return Chart(
        "routes", title or "Paid and organic, side by side", panels, caption=_caption(data)
    )


def _caption(data: dict[str, Any]) -> str:
    sources = sorted(
        {s for a in (data.get("assumed") or {}).values() for s in a.get("sources", [])}
    )
    text = "Bar: typical; whisker: the published low–high range."
    return f"{text} Sources: {'; '.join(sources)}." if sources else text
