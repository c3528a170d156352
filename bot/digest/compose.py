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

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot import units
from bot.digest.slots import local_day_text, local_text
from bot.notes import realised
from bot.notes.realised import Figure, figures
from bot.notes.render import defuse
from bot.reply import Fact, Reply, Section, Source
from bot.slash import SLACK
from bot.store import CampaignTotals, Note, Origin, Store, Viewer, WeekActivity
from bot.text import clip
from knowledge import Benchmark

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
    digest = Digest(team, channel, window, week, late_due)
    (activity,) = await with_extras(store, [digest], [activity])
    return build(activity, window=window, week=week, late_due=late_due, prefix=prefix)


@dataclass(frozen=True)
class Digest:
    """One digest to compose: whose, over which window, and how it is labelled."""

    team: str
    channel: str
    window: Window
    week: str | None = None
    late_due: datetime | None = None


async def off_loop(fn: Callable[..., list[Reply]], *args: object) -> list[Reply]:
    """Where compose_many builds its Replies: a worker thread, so the event loop (the HTTP acks
    served beside the scheduler) is never held by the CPU work of thousands of digests."""
    return await asyncio.to_thread(fn, *args)


async def read_weeks(
    store: Store, digests: Sequence[Digest], *, apart: bool = False
) -> list[WeekActivity]:
    """Every digest's week from the store's batch read: one read per distinct window (channels
    due at the same moment share one), never one per channel. `apart`: Store.week_activities'
    hint (the scheduler reads a page while it builds another)."""
    windows: dict[tuple[datetime, datetime], list[int]] = {}
    for i, d in enumerate(digests):
        windows.setdefault((d.window.since, d.window.until), []).append(i)
    found: list[WeekActivity | None] = [None] * len(digests)
    for (since, until), places in windows.items():
        weeks = await store.week_activities(
            [Viewer(digests[i].team, digests[i].channel) for i in places],
            since=since,
            until=until,
            per_campaign=PER_CAMPAIGN,
            apart=apart,
        )
        for i, week in zip(places, weeks, strict=True):
            found[i] = week
    return await with_extras(store, digests, found)  # type: ignore[arg-type]


async def with_extras(
    store: Store, digests: Sequence[Digest], weeks: list[WeekActivity]
) -> list[WeekActivity]:
    """Each week with what the batch read does not carry: the spend of a campaign in several
    currencies, by currency (only for the weeks that have one: a few queries, not one a
    channel), and the targets its channel may see (one query for the batch's teams)."""
    from dataclasses import replace

    from bot.target_commands import PUBLIC

    records = await store.targets_of(sorted({d.team for d in digests}))
    by_team: dict[str, list] = {}
    for r in records:
        by_team.setdefault(r.team, []).append(r)
    out = []
    for d, week in zip(digests, weeks, strict=True):
        extras: dict = {}
        if any(len(t.currencies) > 1 for t in week.totals):
            extras["currency_parts"] = tuple(
                await store.currency_parts(
                    Viewer(d.team, d.channel), since=d.window.since, until=d.window.until
                )
            )
        if by_team.get(d.team):
            campaigns = {t.campaign for t in week.totals}
            extras["targets"] = tuple(
                r
                for r in by_team[d.team]
                if r.campaign in campaigns and (r.channel_kind in PUBLIC or r.channel == d.channel)
            )
        out.append(replace(week, **extras) if extras else week)
    return out


def build_all(
    activities: Sequence[WeekActivity], digests: Sequence[Digest], prefix: str = SLACK
) -> list[Reply]:
    """build() for each digest, sharing what channels of one team share (the quoted notes, each
    campaign's figures and sections): pure and CPU-bound, so it runs off the loop."""
    memo = Memo()
    return [
        build(a, window=d.window, week=d.week, late_due=d.late_due, prefix=prefix, memo=memo)
        for a, d in zip(activities, digests, strict=True)
    ]


async def compose_many(
    store: Store, digests: Sequence[Digest], *, prefix: str = SLACK
) -> list[Reply]:
    """compose() for many digests at once, in the order given: the week read in a few queries
    for all of them, the Replies built off the event loop (`off_loop`)."""
    if not digests:
        return []
    activities = await read_weeks(store, digests)
    return await off_loop(build_all, activities, list(digests), prefix)


# Source(**fields), validated the same, without BaseModel.__init__'s frame: a week has about
# twenty Sources for each of its digests (and a digest four Facts and a Section a campaign).
_source = Source.__pydantic_validator__.validate_python
_fact = Fact.__pydantic_validator__.validate_python
_section_of = Section.__pydantic_validator__.validate_python


@dataclass
class Memo:
    """What build() works out once per object and may reuse: a team's campaigns and quoted notes
    are the same objects in each of its channels' weeks (bot/store/digests.py). Keyed by id(),
    with the object kept alive beside it, so an id is never reused while the memo lives."""

    lines: dict[int, tuple[Note, str]] = field(default_factory=dict)
    made: dict[int, Made] = field(default_factory=dict)  # each campaign's figures, line, data
    sections: dict[tuple[int, int, str], tuple[object, Section]] = field(default_factory=dict)
    origins: dict[Origin, Source] = field(default_factory=dict)  # one Source per origin value
    origin_ids: dict[int, tuple[Origin, Source]] = field(default_factory=dict)
    origin_lists: dict[int, tuple[CampaignTotals, list[Source]]] = field(default_factory=dict)
    notes: dict[int, tuple[Note, Source]] = field(default_factory=dict)
    groups: dict[int, tuple[tuple[Origin, ...], list[Source]]] = field(default_factory=dict)
    published: dict[tuple[str, int], tuple[Benchmark, str]] = field(default_factory=dict)
    platforms: dict[str, dict[str, Benchmark]] = field(default_factory=dict)
    windows: dict[Window, tuple[str, str]] = field(default_factory=dict)

    def published_of(self, metric: str, b: Benchmark) -> str:
        """A platform's published figure as the digest names it: the same few in every digest."""
        found = self.published.get((metric, id(b)))
        if found is None:
            found = self.published[(metric, id(b))] = (b, _published(metric, b))
        return found[1]

    def campaign(self, t: CampaignTotals) -> Made:
        """What a digest says of one campaign's totals, worked out once per totals object: the
        campaigns a channel adds no notes to are the same object in each of its team's weeks."""
        found = self.made.get(id(t))
        if found is None:
            found = self.made[id(t)] = _made(t, self)
        return found

    def published_for(self, platform: str) -> dict[str, Benchmark]:
        found = self.platforms.get(platform)
        if found is None:
            found = self.platforms[platform] = realised.benchmarks_for(platform)
        return found

    def window_texts(self, window: Window) -> tuple[str, str]:
        """The digest's title and its window as text: the same for every channel due together."""
        found = self.windows.get(window)
        if found is None:
            found = self.windows[window] = (
                f"Weekly digest · {local_day_text(window.since, window.tz)} – "
                f"{local_day_text(window.until, window.tz)}",
                window.text(),
            )
        return found

    def line(self, n: Note) -> str:
        found = self.lines.get(id(n))
        if found is None:
            # Whitespace folded first, then defused: nothing joined afterwards can form a mention.
            text = f"• {clip(defuse(' '.join(n.text.split())), SHOWN_TEXT)}"
            found = self.lines[id(n)] = (n, text)
        return found[1]

    def sources(
        self,
        quoted: list[Note],
        totals: list[CampaignTotals],
        groups: tuple[tuple[Origin, ...], ...] | None = None,
    ) -> list[Source]:
        """What bot/notes/commands.py `sources` makes (the quoted notes, then each origin once),
        each Source made once: by identity, since one Origin has one Source here. `groups`: the
        week's origins, each once, in groups that share none (WeekActivity.origin_groups), each
        group's Sources made once for every digest it is part of."""
        out = []
        for n in quoted:
            found = self.notes.get(id(n))
            if found is None:
                made = _source(
                    {
                        "note": n.id,
                        "team": n.team,
                        "channel": n.channel,
                        "channel_kind": n.channel_kind,
                        "author": n.author,
                    }
                )
                found = self.notes[id(n)] = (n, made)
            out.append(found[1])
        if groups is not None:
            for group in groups:
                out.extend(self.group(group))
            return out
        counted: dict[int, Source] = {}
        for t in totals:
            for made in self.counted(t):
                counted.setdefault(id(made), made)
        out.extend(counted.values())
        return out

    def group(self, origins: tuple[Origin, ...]) -> list[Source]:
        """A group's Sources, made once: an origin is in one group only, and once only (the
        batch read made one Origin per value), so each is made as is, not looked up first."""
        found = self.groups.get(id(origins))
        if found is None:
            made = [
                _source(
                    {
                        "team": o.team,
                        "channel": o.channel,
                        "channel_kind": o.channel_kind,
                        "author": o.author,
                    }
                )
                for o in origins
            ]
            found = self.groups[id(origins)] = (origins, made)
        return found[1]

    def counted(self, t: CampaignTotals) -> list[Source]:
        found = self.origin_lists.get(id(t))
        if found is None:
            found = self.origin_lists[id(t)] = (t, self.of_origins(t.origins))
        return found[1]

    def of_origins(self, origins: tuple[Origin, ...]) -> list[Source]:
        """One Source per origin, in order (one Source per Origin value)."""
        made = []
        for o in origins:
            seen = self.origin_ids.get(id(o))  # the same Origin object: no hashing it again
            if seen is None:
                source = self.origins.get(o)
                if source is None:
                    source = self.origins[o] = Source(
                        team=o.team,
                        channel=o.channel,
                        channel_kind=o.channel_kind,
                        author=o.author,
                    )
                seen = self.origin_ids[id(o)] = (o, source)
            made.append(seen[1])
        return made


def build(
    activity: WeekActivity,
    *,
    window: Window,
    week: str | None = None,
    late_due: datetime | None = None,
    prefix: str = SLACK,
    memo: Memo | None = None,
) -> Reply:
    """The Reply for an already-read week (pure: the benchmark and tests call it directly).
    `memo`: shared by the builds of one batch (build_all)."""
    memo = memo or Memo()
    totals = activity.totals
    count = activity.notes
    title, window_text = memo.window_texts(window)
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
                f"No notes were logged here from {window_text}. Log one with "
                f"`{prefix}note CAMPAIGN TEXT`.{late}"
            ),
            data={"digest": info},
        )
    spend, mixed = _spend(totals, activity.currency_parts)
    info["spend"] = spend
    facts = [
        _fact({"label": "Notes", "value": f"{count:,}"}),
        _fact({"label": "Campaigns", "value": f"{len(totals):,}"}),
        _fact({"label": "Contributors", "value": f"{activity.contributors:,}"}),
    ]
    if spend:
        shown = " + ".join(units.format_money(v, c) for c, v in sorted(spend.items()))
        facts.append(
            _fact({"label": "Spend", "value": shown + " (and more in mixed currencies)" * mixed})
        )
    sections = []
    made = [memo.campaign(t) for t in totals]
    realised = [m.line for m in made if m.line is not None]
    if realised:
        lines = realised[:SUMMARY_CAMPAIGNS]
        if len(realised) > SUMMARY_CAMPAIGNS:
            lines.append(f"…and {len(realised) - SUMMARY_CAMPAIGNS} more campaigns with figures.")
        sections.append(
            _section_of(
                {"heading": "Realised, against each platform's range", "text": "\n".join(lines)}
            )
        )
    if activity.targets:
        sections.append(_targets_section(totals, activity.targets))
        info["targets"] = len(activity.targets)
    info["summary_sections"] = len(sections)
    for t in totals[:HIGHLIGHT_CAMPAIGNS]:
        sections.append(_highlights(t, activity.highlights.get(t.campaign, []), prefix, memo))
    footnotes = []
    if len(totals) > HIGHLIGHT_CAMPAIGNS:
        footnotes.append(
            f"{len(totals) - HIGHLIGHT_CAMPAIGNS} more campaigns had notes: `{prefix}notes since=7d`."
        )
    # Each Reply its own dicts: its data may be changed by whoever gets it.
    info["campaign_data"] = [dict(m.data) for m in made]
    quoted = [n for notes in activity.highlights.values() for n in notes]
    return Reply(
        title=title + (" (late)" if late_due else ""),
        intro=(
            f"*{count:,} note{'s' * (count != 1)}* on *{len(totals)} "
            f"campaign{'s' * (len(totals) != 1)}* from *{activity.contributors} "
            f"contributor{'s' * (activity.contributors != 1)}*, {window_text}.{late}"
        ),
        facts=facts,
        sections=sections,
        footnotes=footnotes,
        data={"digest": info},
        # Everything it quotes and counts, checked against the channel before it is posted.
        sources=memo.sources(quoted, totals, activity.origin_groups),
    )


def _targets_section(totals: list[CampaignTotals], records: tuple) -> Section:
    """Each target of a campaign with notes this week: its verdict on all the campaign's notes
    (as the last note or import settled it; a spend cap is about the whole campaign, not a
    week), and this week's figure beside it."""
    from bot import targets as logic

    of = {t.campaign: t for t in totals}
    lines = []
    for r in records:
        target = logic.Target(r.key, r.op, r.value, r.currency)
        week = logic.check(target, of.get(r.campaign)).realised_text
        this_week = f"{week} this week" if week else "no figure this week"
        overall = {"no figures": "no verdict yet"}.get(r.status, r.status)
        lines.append(f"• *{r.campaign}*: {target.text}: {overall} · {this_week}")
    return Section(heading="Targets", text="\n".join(lines))


def _spend(totals: list[CampaignTotals], parts: tuple = ()) -> tuple[dict[str, float], bool]:
    """Spend summed per currency; True when some campaign mixed currencies and its spend by
    currency was not read (then it is not added up)."""
    out: dict[str, float] = {}
    mixed = False
    split: dict[str, list] = {}
    for p in parts:
        split.setdefault(p.campaign, []).append(p)
    for t in totals:
        if t.spend is None:
            continue
        if len(t.currencies) == 1:
            out[t.currencies[0]] = out.get(t.currencies[0], 0.0) + t.spend
        elif t.campaign in split:
            for p in split[t.campaign]:  # `$750 + €300`: each currency summed on its own
                out[p.currency] = out.get(p.currency, 0.0) + p.spend
        else:
            mixed = True
    return out, mixed


def _currency(t: CampaignTotals) -> str:
    return t.currencies[0] if len(t.currencies) == 1 else "$"


@dataclass(slots=True)
class Made:
    """One campaign's totals as a digest states them (Memo.campaign)."""

    totals: CampaignTotals  # kept alive beside its id
    figures: list[Figure]
    line: str | None  # its realised line in the summary; None without figures
    data: dict  # its campaign_data entry (copied into each Reply)


def _made(t: CampaignTotals, memo: Memo) -> Made:
    found = figures(t, memo.published_for)
    line = None
    if found:
        where = f" ({', '.join(t.platforms)})" if t.platforms else ""
        currency = _currency(t)
        parts = [_figure_text(f, currency, memo) for f in found]
        line = f"• *{t.campaign}*{where}: " + "; ".join(parts)
    return Made(t, found, line, _campaign_data(t, found))


def _value(metric: str, value: float, currency: str) -> str:
    return units.format_rate(value) if metric == "ctr" else units.format_money(value, currency)


def _figure_text(f: Figure, currency: str, memo: Memo) -> str:
    text = f"{f.metric.upper()} {_value(f.metric, f.value, currency)}"
    b = f.benchmark
    if b is None:  # no published figure to hold it against (`notes` says why)
        return text
    return f"{text}, {f.verdict} the {memo.published_of(f.metric, b)}"


def _published(metric: str, b: Benchmark) -> str:
    """As `notes` says it: "published range $25–$44 USD, typical $34.50", and the campaign type
    a figure was measured on when it was only one (Facebook's CPA: lead-ad campaigns)."""
    usd = " USD" if b.currency else ""
    only = f" ({b.objective} campaigns only)" if b.objective else ""
    if b.low == b.high:
        return f"published {_value(metric, b.typical, '$')}{usd}{only}"
    band = f"{_value(metric, b.low, '$')}–{_value(metric, b.high, '$')}{usd}"
    return f"published range {band}, typical {_value(metric, b.typical, '$')}{only}"


def _highlights(t: CampaignTotals, notes: list[Note], prefix: str, memo: Memo) -> Section:
    key = (id(t), id(notes), prefix)
    found = memo.sections.get(key)
    if found is None:
        found = memo.sections[key] = ((t, notes), _section(t, notes, prefix, memo))
    return found[1]


def _section(t: CampaignTotals, notes: list[Note], prefix: str, memo: Memo) -> Section:
    head = [t.campaign]
    if t.platforms:
        head.append(", ".join(t.platforms))
    head.append(f"{t.notes} note{'s' * (t.notes != 1)}")
    if t.spend is not None and len(t.currencies) == 1:
        head.append(f"spend {units.format_money(t.spend, t.currencies[0])}")
    lines = [memo.line(n) for n in notes]
    if t.notes > len(notes):
        lines.append(f"_…and {t.notes - len(notes)} more: `{prefix}notes {t.campaign} since=7d`_")
    return _section_of({"heading": " · ".join(head), "text": "\n".join(lines)})


def _campaign_data(t: CampaignTotals, found: list[Figure]) -> dict:
    data: dict = {
        "campaign": t.campaign,
        "notes": t.notes,
        "spend": t.spend,
        # The spend's currency when it is in one (a chart draws money on one axis).
        "currency": t.currencies[0] if len(t.currencies) == 1 else None,
        "platforms": list(t.platforms),
    }
    for f in found:
        data[f.metric] = f.value
        if f.verdict:
            data[f"{f.metric}_verdict"] = f.verdict
        if f.benchmark is not None:  # what it was held against: [low, typical, high]
            b = f.benchmark
            data[f"{f.metric}_published"] = [b.low, b.typical, b.high]
            data[f"{f.metric}_sources"] = [f"{s.name} {s.year}" for s in b.sources]
    return data
