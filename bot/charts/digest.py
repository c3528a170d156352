"""The weekly digest's chart (issue 16), from the digest's own `data["digest"]`: spend per
campaign, each campaign's realised CPM/CPC/CTR/CPA against its platform's published range, and
the channel's last four weeks (notes and spend each week).

The week's figures are those the digest states (bot/digest/compose.py `campaign_data`); the trend
is read when the chart is made (Store.week_trend, one query) and kept beside them in
`data["digest"]["trend"]` (`with_trend`), so a test reads exactly what is drawn.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.charts.model import Bar, Chart, Panel, Point
from bot.reply import Source
from bot.store import Viewer

WEEKS = 4  # the trend: this week and the three before it
CAMPAIGNS_SHOWN = 6  # campaigns drawn in each panel (the most spend first): one colour each
FIGURES = (
    ("cpm", "CPM, cost per 1,000 impressions"),
    ("cpc", "CPC, cost per click"),
    ("ctr", "CTR, clicks per impression"),
    ("cpa", "CPA, cost per conversion"),
)


def trend_edges(since: datetime, until: datetime, tz: str, weeks: int = WEEKS) -> list[datetime]:
    """The boundaries of the `weeks` weeks that end with the digest's window, as UTC moments:
    each a week earlier on the channel's clock (a week across a DST change is 167 or 169 hours)."""
    zone = ZoneInfo(tz)
    local = since.astimezone(zone)
    edges = [
        (local - timedelta(days=7 * k)).astimezone(since.tzinfo) for k in range(weeks - 1, 0, -1)
    ]
    return [*edges, since, until]


def trend_sources(trend: Any) -> list[Source]:
    """What the trend counts, as Sources (one per place and author) for the last-step check."""
    return [Source(team=t, channel=c, channel_kind=k, author=a) for t, c, k, a in trend.origins]


async def read_trend(store: Any, team: str, channel: str, info: dict[str, Any]) -> Any:
    """The channel's last four weeks up to the digest's window's end, as the channel sees them."""
    edges = trend_edges(
        datetime.fromisoformat(info["since"]),
        datetime.fromisoformat(info["until"]),
        info.get("tz") or "UTC",
    )
    return await store.week_trend(Viewer(team, channel), edges)


def with_trend(data: dict[str, Any], trend: Any) -> dict[str, Any]:
    """`data` with the trend (bot/store/trend.py Trend) under data["digest"]["trend"]."""
    info = dict(data.get("digest") or {})
    zone = ZoneInfo(info.get("tz") or "UTC")
    info["trend"] = [
        {
            "since": w.since.isoformat(),
            "label": _day(w.since.astimezone(zone)),
            "notes": w.notes,
            "spend": dict(w.spend),
        }
        for w in trend.weeks
    ]
    return {**data, "digest": info}


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%b}"  # "24 Nov", as the digest's title says its days


def main_currency(campaigns: list[dict[str, Any]], spend: dict[str, float]) -> str | None:
    """The currency money is drawn in: the one most campaigns spent in (amounts in different
    currencies cannot be compared), then the most spent, then dollars (the published ranges'
    currency)."""
    counts: dict[str, int] = {}
    for c in campaigns:
        if c.get("spend") and c.get("currency"):
            counts[c["currency"]] = counts.get(c["currency"], 0) + 1
    found = set(counts) | set(spend)
    if not found:
        return None
    return max(sorted(found), key=lambda c: (counts.get(c, 0), spend.get(c, 0.0), c == "$"))


def short_names(names: list[str], width: int = 24) -> dict[str, str]:
    """Each campaign's label, at most `width` characters: a long one keeps its start and its end
    ("q4-2026-holi…tting-us-east"), where names that differ often differ; two that would still
    read the same are told apart by a number."""
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    for name in names:
        if len(name) <= width:
            label = name
        else:
            head = (width - 1) // 2
            label = name[:head] + "…" + name[-(width - 1 - head) :]
        seen[label] = seen.get(label, 0) + 1
        out[name] = label if seen[label] == 1 else f"{label} ({seen[label]})"
    return out


def digest_chart(data: dict[str, Any], title: str | None = None) -> Chart | None:
    info = data.get("digest") or {}
    if not info.get("notes"):
        return None  # an empty week: nothing to draw
    campaigns = list(info.get("campaign_data") or [])
    trend = list(info.get("trend") or [])
    currency = main_currency(campaigns, dict(info.get("spend") or {}))
    if currency is None:  # no spend this week: the trend's currency, if it has one
        currency = main_currency([], _summed(w.get("spend") or {} for w in trend))

    def rank(c: dict[str, Any]) -> tuple:  # in the drawn currency, the most spent first
        mine = c.get("currency") == currency and c.get("spend")
        return (not mine, -(c.get("spend") or 0.0) if mine else 0.0, c["campaign"])

    ranked = sorted(campaigns, key=rank)
    names = short_names([c["campaign"] for c in ranked])
    panels: list[Panel] = []
    left_out = False
    spent = [c for c in ranked if c.get("spend") and c.get("currency") == currency]
    left_out |= any(c.get("spend") and c.get("currency") != currency for c in ranked)
    if spent and currency:
        shown = spent[:CAMPAIGNS_SHOWN]
        panels.append(
            Panel(
                "spend",
                f"Spend by campaign this week{_cut(shown, spent, 'that spent most')}",
                currency,
                [Bar(_name(c, names), float(c["spend"]), key=c["campaign"]) for c in shown],
            )
        )
    sources: set[str] = set()
    banded = False
    for metric, heading in FIGURES:
        money = metric != "ctr"
        having = [c for c in ranked if metric in c and (not money or c.get("currency") == currency)]
        left_out |= money and any(metric in c and c.get("currency") != currency for c in ranked)
        if not having or (money and not currency):
            continue
        bars = []
        for c in having[:CAMPAIGNS_SHOWN]:
            published = c.get(f"{metric}_published")
            low, typical, high = published if published else (None, None, None)
            banded |= published is not None
            bars.append(
                Bar(names[c["campaign"]], float(c[metric]), low, high, typical, key=c["campaign"])
            )
            sources.update(c.get(f"{metric}_sources") or [])
        cut = _cut(bars, having, "that spent most")
        panels.append(
            Panel(metric, heading + cut, currency if money else "%", bars, style="against")
        )
    if len(trend) >= 2:
        panels.append(
            Panel(
                "notes_per_week",
                f"Notes logged, last {len(trend)} weeks",
                "notes",
                style="columns",
                points=[Point(w["label"], float(w["notes"])) for w in trend],
            )
        )
        if currency and any(currency in (w.get("spend") or {}) for w in trend):
            panels.append(
                Panel(
                    "spend_per_week",
                    f"Spend, last {len(trend)} weeks",
                    currency,
                    style="columns",
                    points=[Point(w["label"], (w.get("spend") or {}).get(currency)) for w in trend],
                )
            )
    if not panels:
        return None
    caption = _caption(sources, currency, left_out, banded)
    return Chart("digest", title or "Weekly digest", panels, caption, extra={"two_up": True})


def _cut(shown: list, of: list, how: str) -> str:
    return f" ({len(shown)} {how} of {len(of)})" if len(of) > len(shown) else ""


def _name(campaign: dict[str, Any], names: dict[str, str]) -> str:
    platforms = campaign.get("platforms") or []
    name = names[campaign["campaign"]]
    where = f" ({platforms[0]})" if len(platforms) == 1 else ""
    return name + where if len(name + where) <= 30 else name  # room for the bars


def _summed(spends: Any) -> dict[str, float]:
    out: dict[str, float] = {}
    for s in spends:
        for c, v in s.items():
            out[c] = out.get(c, 0.0) + v
    return out


def _caption(sources: set[str], currency: str | None, left_out: bool, banded: bool) -> str:
    parts = ["Bars: each campaign's spend and realised figures this week, from its notes."]
    if banded:
        parts.append(
            "Shaded: its platform's published low–high range, black tick: the published typical "
            "figure (in US dollars: money is compared only for campaigns that spent in dollars)."
        )
    if left_out and currency:
        parts.append(
            f"Money is drawn in {currency}: campaigns that spent in another currency are in the "
            "digest's text."
        )
    if sources:
        parts.append(f"Published figures: {'; '.join(sorted(sources))}.")
    return " ".join(parts)
