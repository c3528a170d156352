"""What an export holds, as an answer: the preview before anything is logged."""

from __future__ import annotations

from typing import Any

from bot import units
from bot.imports.read import Export
from bot.platforms import PLATFORM_NAME
from bot.reply import Fact, Notice, Reply, Section
from bot.text import and_list, clip

MAX_CAMPAIGNS_SHOWN = 12
# ISO code -> the sign smx writes amounts with (others are written with their code).
SIGN = {code: sign for code, sign in (("USD", "$"), ("EUR", "€"), ("GBP", "£"), ("JPY", "¥"),
                                     ("INR", "₹"))}  # fmt: skip


def money(amount: float, code: str) -> str:
    sign = SIGN.get(code)
    if sign is None:
        return f"{units.format_metric('budget', amount, '$')[1:]} {code}"
    return units.format_metric("budget", amount, sign)


def platform_name(key: str | None) -> str:
    if key is None:
        return "not named"
    return PLATFORM_NAME.get(key) or {"google": "Google Ads"}.get(key, key)


def data_of(export: Export, name: str) -> dict[str, Any]:
    """The preview's figures, as `smx import --json` prints them."""
    dates = export.dates
    platforms = list(dict.fromkeys(r.platform for r in export.rows if r.platform))
    return {
        "file": name,
        "layout": export.layout.key,
        "source": export.layout.name,
        "platform": platforms[0] if len(platforms) == 1 else platforms,
        "rows": len(export.rows),
        "campaigns": export.campaigns,
        "dates": [dates[0].isoformat(), dates[1].isoformat()] if dates else None,
        "totals": export.totals(),
        "total_rows_left_out": export.totals_skipped,
        "title_rows": export.title_rows,
        "warnings": list(export.warnings),
        "imported": 0,
        "skipped_duplicates": 0,
    }


def preview(export: Export, name: str, *, then: str | None = None) -> Reply:
    """The preview of `export` (read from the file `name`); `then` says how to log it."""
    data = data_of(export, name)
    totals = data["totals"]
    campaigns = export.campaigns
    counts = {c: 0 for c in campaigns}
    for r in export.rows:
        counts[r.slug] += 1
    shown = [f"`{c}` ({counts[c]} row{'s' if counts[c] != 1 else ''})" for c in campaigns]
    if len(shown) > MAX_CAMPAIGNS_SHOWN:
        shown = [*shown[:MAX_CAMPAIGNS_SHOWN], f"and {len(campaigns) - MAX_CAMPAIGNS_SHOWN} more"]
    start, end = export.dates or (None, None)
    spend = " + ".join(money(v, code) for code, v in totals["spend"].items()) or "none"
    platforms = list(dict.fromkeys(platform_name(r.platform) for r in export.rows))
    facts = [
        Fact(label="Source", value=export.layout.name),
        Fact(label="Platform", value=and_list(platforms)),
        Fact(label="Rows", value=f"{len(export.rows):,}"),
        Fact(label="Dates", value=f"{start} to {end}" if start != end else str(start)),
        Fact(label="Spend", value=spend),
    ]
    for key, label in (("impressions", "Impressions"), ("clicks", "Clicks"),
                       ("conversions", "Conversions")):  # fmt: skip
        present = any(key in r.figures for r in export.rows)
        value = units.format_count(totals[key]) if present else "not in the file"
        facts.append(Fact(label=label, value=value))
    left_out = []
    if export.title_rows:
        left_out.append(f"{export.title_rows} title row{'s' if export.title_rows != 1 else ''}")
    if export.totals_skipped:
        n = export.totals_skipped
        left_out.append(f"{n} total row{'s' if n != 1 else ''}")
    notices = [Notice(level="warning", text=w) for w in export.warnings]
    if left_out:
        notices.append(
            Notice(text=f"Left out: {and_list(left_out)}, which are no campaign's figures.")
        )
    footnotes = [
        "Each row becomes a note on its campaign, dated by its reporting day, with its spend, "
        "impressions, reach, clicks, conversions and revenue as numbers. Derived columns (CPM, "
        "CPC, CTR, cost per result) are checked, not stored."
    ]
    if then:
        footnotes.append(then)
    return Reply(
        title=f"Import preview: {clip(name, 60)}",
        intro=f"{len(export.rows):,} row{'s' if len(export.rows) != 1 else ''} for "
        f"{len(campaigns)} campaign{'s' if len(campaigns) != 1 else ''}, nothing logged yet.",
        facts=facts,
        sections=[Section(heading="Campaigns", text=", ".join(shown))],
        notices=notices,
        footnotes=footnotes,
        data=data,
    )
