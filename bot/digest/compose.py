"""A channel's weekly digest as a Reply: the summary first, then one section per campaign.

The summary (notes logged, campaigns, contributors, spend, and each campaign's realised
CPM/CPC/CTR/CPA against its platform's published range) is the first `summary_sections` sections;
the per-campaign highlights follow. The Slack face posts the summary and continues long digests in
a thread (bot/slack/digest_post.py); the console and `preview` show it whole.

The digest is read as the whole channel will see it (Viewer with no user): team-wide notes and
notes logged in this channel, never someone's private notes from elsewhere. Every note's text goes
through `defuse`, so a digest cannot ping anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot import units
from bot.digest.slots import local_day_text, local_text
from bot.notes.commands import sources
from bot.notes.realised import Figure, figures
from bot.notes.render import defuse
from bot.reply import Fact, Reply, Section
from bot.slash import SLACK
from bot.store import CampaignTotals, Note, Store, Viewer, WeekActivity
from bot.text import clip

PER_CAMPAIGN = 3  # notes quoted per campaign
SHOWN_TEXT = 280  # characters of each quoted note
SUMMARY_CAMPAIGNS = 10  # campaigns with realised figures listed in the summary
HIGHLIGHT_CAMPAIGNS = 60  # campaigns given a highlights section (the rest are counted)


@dataclass(frozen=True)
class Window:
    since: datetime  # inclusive, UTC
    until: datetime  # exclusive, UTC
    tz: str  # for the dates the digest prints

    def text(self) -> str:
        return f"{local_text(self.since, self.tz)} – {local_text(self.until, self.tz)}"


async def compose(
    store: Store,
    *,
    team: str,
    channel: str,
    window: Window,
    week: str | None = None,
    late_due: datetime | None = None,
    prefix: str = SLACK,
) -> Reply:
    """The digest of `channel`'s notes in `window`. `late_due`: it is posted after its slot."""
    activity = await store.week_activity(
        Viewer(team, channel), since=window.since, until=window.until, per_campaign=PER_CAMPAIGN
    )
    return build(activity, window=window, week=week, late_due=late_due, prefix=prefix)


def build(
    activity: WeekActivity,
    *,
    window: Window,
    week: str | None = None,
    late_due: datetime | None = None,
    prefix: str = SLACK,
) -> Reply:
    """The Reply for an already-read week (pure: the benchmark and tests call it directly)."""
    totals = activity.totals
    count = activity.notes
    title = (
        f"Weekly digest · {local_day_text(window.since, window.tz)} – "
        f"{local_day_text(window.until, window.tz)}"
    )
    late = (
        f"\n_Posted late: it was due {local_text(late_due, window.tz)}; smx could not post it then._"
        if late_due is not None
        else ""
    )
    info: dict = {
        "week": week,
        "since": window.since.isoformat(),
        "until": window.until.isoformat(),
        "tz": window.tz,
        "late": late_due is not None,
        "notes": count,
        "campaigns": len(totals),
        "contributors": activity.contributors,
        "empty": count == 0,
        "summary_sections": 0,
    }
    if count == 0:
        return Reply(
            title=title + (" (late)" if late_due else ""),
            intro=(
                f"No notes were logged here from {window.text()}. Log one with "
                f"`{prefix}note CAMPAIGN TEXT`.{late}"
            ),
            data={"digest": info},
        )
    spend, mixed = _spend(totals)
    info["spend"] = spend
    facts = [
        Fact(label="Notes", value=f"{count:,}"),
        Fact(label="Campaigns", value=f"{len(totals):,}"),
        Fact(label="Contributors", value=f"{activity.contributors:,}"),
    ]
    if spend:
        shown = " + ".join(units.format_money(v, c) for c, v in sorted(spend.items()))
        facts.append(Fact(label="Spend", value=shown + (" (and more in mixed currencies)" * mixed)))
    sections = []
    realised = [t for t in totals if figures(t)]
    if realised:
        lines = [_realised_line(t) for t in realised[:SUMMARY_CAMPAIGNS]]
        if len(realised) > SUMMARY_CAMPAIGNS:
            lines.append(f"…and {len(realised) - SUMMARY_CAMPAIGNS} more campaigns with figures.")
        sections.append(
            Section(heading="Realised, against each platform's range", text="\n".join(lines))
        )
    info["summary_sections"] = len(sections)
    for t in totals[:HIGHLIGHT_CAMPAIGNS]:
        sections.append(_highlights(t, activity.highlights.get(t.campaign, []), prefix))
    footnotes = []
    if len(totals) > HIGHLIGHT_CAMPAIGNS:
        footnotes.append(
            f"{len(totals) - HIGHLIGHT_CAMPAIGNS} more campaigns had notes: `{prefix}notes since=7d`."
        )
    info["campaign_data"] = [_campaign_data(t) for t in totals]
    quoted = [n for notes in activity.highlights.values() for n in notes]
    return Reply(
        title=title + (" (late)" if late_due else ""),
        intro=(
            f"*{count:,} note{'s' * (count != 1)}* on *{len(totals)} "
            f"campaign{'s' * (len(totals) != 1)}* from *{activity.contributors} "
            f"contributor{'s' * (activity.contributors != 1)}*, {window.text()}.{late}"
        ),
        facts=facts,
        sections=sections,
        footnotes=footnotes,
        data={"digest": info},
        # Everything it quotes and counts, checked against the channel before it is posted.
        sources=sources(quoted, (o for t in totals for o in t.origins)),
    )


def _spend(totals: list[CampaignTotals]) -> tuple[dict[str, float], bool]:
    """Spend summed per currency; True when some campaign mixed currencies (not added up)."""
    out: dict[str, float] = {}
    mixed = False
    for t in totals:
        if t.spend is None:
            continue
        if len(t.currencies) == 1:
            out[t.currencies[0]] = out.get(t.currencies[0], 0.0) + t.spend
        else:
            mixed = True
    return out, mixed


def _currency(t: CampaignTotals) -> str:
    return t.currencies[0] if len(t.currencies) == 1 else "$"


def _realised_line(t: CampaignTotals) -> str:
    where = f" ({', '.join(t.platforms)})" if t.platforms else ""
    parts = [_figure_text(f, _currency(t)) for f in figures(t)]
    return f"• *{t.campaign}*{where}: " + "; ".join(parts)


def _value(metric: str, value: float, currency: str) -> str:
    return units.format_rate(value) if metric == "ctr" else units.format_money(value, currency)


def _figure_text(f: Figure, currency: str) -> str:
    text = f"{f.metric.upper()} {_value(f.metric, f.value, currency)}"
    b = f.benchmark
    if b is None:  # no published figure to hold it against (`notes` says why)
        return text
    usd = " USD" if b.currency else ""
    if b.low == b.high:
        return f"{text}, {f.verdict} the published {_value(f.metric, b.typical, '$')}{usd}"
    band = f"{_value(f.metric, b.low, '$')}–{_value(f.metric, b.high, '$')}{usd}"
    return f"{text}, {f.verdict} the typical {band}"


def _highlights(t: CampaignTotals, notes: list[Note], prefix: str) -> Section:
    head = [t.campaign]
    if t.platforms:
        head.append(", ".join(t.platforms))
    head.append(f"{t.notes} note{'s' * (t.notes != 1)}")
    if t.spend is not None and len(t.currencies) == 1:
        head.append(f"spend {units.format_money(t.spend, t.currencies[0])}")
    # Whitespace folded first, then defused: nothing joined afterwards can form a mention.
    lines = [f"• {clip(defuse(' '.join(n.text.split())), SHOWN_TEXT)}" for n in notes]
    if t.notes > len(notes):
        lines.append(f"_…and {t.notes - len(notes)} more: `{prefix}notes {t.campaign} since=7d`_")
    return Section(heading=" · ".join(head), text="\n".join(lines))


def _campaign_data(t: CampaignTotals) -> dict:
    data: dict = {"campaign": t.campaign, "notes": t.notes, "spend": t.spend}
    for f in figures(t):
        data[f.metric] = f.value
        if f.verdict:
            data[f"{f.metric}_verdict"] = f.verdict
    return data
