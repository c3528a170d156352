"""`note`, `notes`, `notes search`, `notes export`, `note delete`: the handlers the router calls.

Who may see what is decided by the store from a Viewer (bot/store/base.py). Answers only the asker
sees (ephemeral replies, the console) include the asker's own private notes; an export is uploaded
to the conversation, so it holds only what everyone there may see.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import units
from bot.context import Context
from bot.errors import UserError
from bot.notes import parse
from bot.notes.realised import Figure, figures
from bot.notes.render import defuse, to_csv
from bot.reply import Attachment, Fact, Notice, Reply, Section, Source
from bot.slash import cmd
from bot.store import CampaignTotals, NewNote, Note, Origin, Store, Viewer
from bot.text import clip

PAGE_SIZE = 10
SHOWN_TEXT = 500  # of a note in a listing; the export has it whole
SHOWN_CAMPAIGNS = 8
SEARCH_LIMIT = 20
MAX_QUERY = 200
PRIVATE_KINDS = {"private": "this private channel", "im": "this DM", "mpim": "this group DM"}


def _store(ctx: Context) -> Store:
    if ctx.services is None:
        raise RuntimeError("notes need ctx.services to reach the store")
    return ctx.services.store


def _viewer(ctx: Context, *, personal: bool = True) -> Viewer:
    # The asker's private notes from other conversations only in answers nobody else sees.
    mine = personal and ctx.answer_is_private
    return Viewer(ctx.owner, ctx.channel, ctx.user if mine else None, confined=ctx.confined)


def sources(notes: Iterable[Note] = (), origins: Iterable[Origin] = ()) -> list[Source]:
    """What an answer shows (`notes`, by id) and counts (`origins`), for the check its face makes
    before sending it (bot/slack/answer.py). Each origin is kept once."""
    out = [
        Source(
            note=n.id, team=n.team, channel=n.channel, channel_kind=n.channel_kind, author=n.author
        )
        for n in notes
    ]
    for o in dict.fromkeys(origins):
        out.append(
            Source(team=o.team, channel=o.channel, channel_kind=o.channel_kind, author=o.author)
        )
    return out


def _unsure(ctx: Context) -> list[Notice]:
    """Why an answer holds only this conversation's notes when Slack would not describe it."""
    if ctx.facts_known or ctx.shared_externally:
        return []
    return [
        Notice(
            level="warning",
            text="Slack didn't say whether this conversation is shared with another "
            "organisation, so this shows only the notes logged here. Try again in a moment "
            "for the rest.",
        )
    ]


# -- note CAMPAIGN TEXT -------------------------------------------------------------------------


async def add(ctx: Context, args: list[str]) -> Reply:
    if not args:
        raise UserError(
            f"Say which campaign and what happened, e.g. "
            f"{cmd(ctx, 'note spring-launch Reel got 3x saves spend=$400 clicks=1.2k')}."
        )
    raw = ctx.args_text.strip()
    quoted = parse.quoted_campaign(raw)
    if quoted is not None:
        # `note "spring launch" ...`: the quoted name, as the slug it files under
        campaign, typed = quoted
        args = [campaign, *typed.split()]
    else:
        campaign = parse.campaign(args[0])
        # The text as typed, line breaks kept; the words after the campaign name otherwise.
        typed = raw[len(args[0]) :].strip() if raw.startswith(args[0]) else ""
    dated, words = parse.note_date(args[1:])
    if dated is not None:
        typed = parse.without_token(typed, "date")
    text = parse.note_text(words, typed or None)
    found = parse.metrics(words)
    if "_" in campaign:
        await _same_campaign_check(ctx, campaign)
    note_id = await _store(ctx).add_note(
        NewNote(
            team=ctx.owner,
            workspace=ctx.team,
            channel=ctx.channel,
            channel_kind=ctx.channel_kind,
            author=ctx.user,
            campaign=campaign,
            text=text,
            platform=found.platform,
            spend=found.spend,
            currency=found.currency,
            impressions=found.impressions,
            clicks=found.clicks,
            conversions=found.conversions,
            metrics=found.other,
            created_at=dated,
        ),
        event_id=ctx.event_id,
    )
    if note_id is None:
        # Slack delivered the same message again; the first delivery already stored the note.
        return Reply(intro="That message was already logged as a note.", data={"duplicate": True})
    where = PRIVATE_KINDS.get(ctx.channel_kind)
    visibility = (
        f"Only {where} and you can see it." if where else "Everyone in the team can see it."
    )
    stored = found.shown()
    logged = Origin(ctx.owner, ctx.channel, ctx.channel_kind, ctx.user)
    crossed: list[dict] = []
    crossing_notices: list[Notice] = []
    counted: list[Source] = []
    if stored:  # a note with figures may move a target
        from bot.target_commands import crossing_notices as told
        from bot.target_commands import crossings

        crossed = await crossings(ctx, [campaign])
        crossing_notices, counted = told(ctx, crossed)
    return Reply(
        intro=f"Logged note *#{note_id}* for `{campaign}`. {visibility}",
        sources=[*sources(origins=[logged]), *counted],
        facts=[Fact(label=k, value=_metric_text(k, v, found.currency)) for k, v in stored.items()],
        notices=[*(Notice(text=f"{reading}.") for reading in found.readings), *crossing_notices],
        footnotes=[f"List them with {cmd(ctx, 'notes ' + campaign)}."],
        data={
            "id": note_id,
            "campaign": campaign,
            "metrics": stored,
            "currency": found.currency,
            **({"crossed": crossed} if crossed else {}),
        },
    )


async def _targets_of(ctx: Context, campaign: str | None):
    """`notes CAMPAIGN`'s targets, each against the realised figure (bot/target_commands.py)."""
    if campaign is None:
        return [], {}, []
    from bot.target_commands import checked_sections, visible

    records = [r for r in await _store(ctx).list_targets(ctx.owner, campaign) if visible(ctx, r)]
    if not records:
        return [], {}, []
    found, data, origins = await checked_sections(ctx, records)
    for section in found:
        section.heading = "Targets: " + (section.heading or "").split(": ", 1)[-1]
    # A target is seen where it was set: each is held, as a note is, wherever the answer (or
    # its chart) goes, so one set in a private channel never reaches the person's DM.
    held = [
        Source(team=r.team, channel=r.channel, channel_kind=r.channel_kind, author=r.author)
        for r in records
    ]
    return found, data.get(campaign, []), [*origins, *held]


async def _closest_campaign(ctx: Context, typed: str) -> str | None:
    """The campaign, among those the asker may see, that `typed` most looks like a misspelling of."""
    from bot.fuzzy import closest

    names = [t.campaign for t in await _store(ctx).campaign_totals(_viewer(ctx))]
    found = closest(typed, names, limit=1, cutoff=80)
    return found[0] if found and found[0] != typed else None


async def _same_campaign_check(ctx: Context, campaign: str) -> None:
    """`note spring_launch ...` beside an existing `spring-launch`: asked, not filed apart."""
    hyphened = campaign.replace("_", "-")
    found = await _store(ctx).campaign_totals(_viewer(ctx, personal=False), campaign=hyphened)
    if found:
        raise UserError(
            f"`{campaign}` looks like `{hyphened}`, which has {found[0].notes} note"
            f"{'s' * (found[0].notes != 1)} already. Did you mean {cmd(ctx, 'note ' + hyphened + ' ...')}? "
            "A campaign spelt two ways would split its figures in two.",
            suggestions=[hyphened],
        )


def _metric_text(key: str, value: float | str, currency: str | None) -> str:
    if isinstance(value, str):
        return value
    return units.format_metric("budget" if key == "spend" else key, value, currency or "$")


# -- notes [CAMPAIGN] [since=7d] [page=N] -------------------------------------------------------


async def list_notes(ctx: Context, args: list[str]) -> Reply:
    args, charted = parse.chart_word(args)
    if charted:
        return await chart(ctx, args)
    return await _listing(ctx, args)


async def _listing(ctx: Context, args: list[str], *, then: str = "") -> Reply:
    """`notes [CAMPAIGN] ...`; `then`: words a suggested campaign's command goes on with."""
    options = parse.list_options(args)
    since = datetime.now(UTC) - options.since if options.since else None
    store, viewer = _store(ctx), _viewer(ctx)
    page, totals = await asyncio.gather(
        store.list_notes(
            viewer,
            campaign=options.campaign,
            since=since,
            limit=PAGE_SIZE,
            offset=(options.page - 1) * PAGE_SIZE,
        ),
        store.campaign_totals(viewer, campaign=options.campaign, since=since),
    )
    scope = (f" for `{options.campaign}`" if options.campaign else "") + (
        f" since {_when(ctx, since)}" if since else ""
    )
    pages = max(1, -(-page.total // PAGE_SIZE))
    there = (
        f"the {page.total:,} note{'s' * (page.total != 1)}{scope} "
        f"{'is' if page.total == 1 else 'are'} on {pages} page{'s' * (pages > 1)}"
    )
    pick = "`page=1`" if pages == 1 else f"`page=1` to `page={pages}`"
    if options.bad_page is not None:
        shown_page = parse.shown(options.bad_page, 40)
        if page.total == 0:
            raise UserError(
                f"`page={shown_page}` is not a page number, and there are no notes{scope} yet: "
                f"log one with {cmd(ctx, 'note CAMPAIGN TEXT')}."
            )
        raise UserError(
            f"`page={shown_page}` is not a page number: pages count from 1, and {there}; "
            f"try {pick}."
        )
    if page.total == 0 and options.campaign and not since:
        guess = await _closest_campaign(ctx, options.campaign)
        if guess is not None:
            return Reply.error(
                f"No notes for `{options.campaign}`. Did you mean `{guess}`? Type "
                f"{cmd(ctx, 'notes ' + guess + then)}.",
                suggestions=[guess],
            )
    if page.total == 0:
        return Reply(
            intro=f"No notes{scope} yet. Log one with {cmd(ctx, 'note CAMPAIGN TEXT')}.",
            notices=_unsure(ctx),
            data={"notes": [], "total": 0, "page": 1, "pages": 1, "campaigns": []},
        )
    if options.page > pages:
        raise UserError(f"There is no page {options.page}: {there}; try {pick}.")
    parts = (
        await store.currency_parts(viewer, campaign=options.campaign, since=since)
        if any(len(t.currencies) > 1 for t in totals)
        else []
    )
    sections = [_totals_section(totals, parts)] if any(_has_figures(t) for t in totals) else []
    target_sections, target_data, target_sources = await _targets_of(ctx, options.campaign)
    sections += target_sections
    sections += [_note_section(ctx, n) for n in page.notes]
    footnotes = []
    if options.page < pages:
        footnotes.append(f"Page {options.page} of {pages}. Next: `page={options.page + 1}`.")
    return Reply(
        title=f"Notes{scope}",
        intro=f"{page.total:,} note{'s' * (page.total != 1)}, newest first.",
        sections=sections,
        notices=_unsure(ctx),
        footnotes=footnotes,
        # The page's notes, and where all the notes it counts and sums come from (the totals are
        # read with the same filter as the page's total, so their origins cover it).
        sources=[*sources(page.notes, (o for t in totals for o in t.origins)), *target_sources],
        data={
            "notes": [_note_data(n) for n in page.notes],
            **({"targets": target_data} if target_data else {}),
            "total": page.total,
            "page": options.page,
            "pages": pages,
            "campaigns": [_totals_data(t) for t in totals],
        },
    )


async def chart(ctx: Context, args: list[str]) -> Reply:
    """`notes CAMPAIGN chart`: the listing of `notes CAMPAIGN`, the same notes and errors, with
    the campaign's figures per day or week in data (bot/notes/series.py) for its chart."""
    from bot.notes import series

    options = parse.list_options(args)
    if options.campaign is None:
        raise UserError(
            f"Say which campaign to chart, e.g. {cmd(ctx, 'notes spring-launch chart')}."
        )
    reply = await _listing(ctx, args, then=" chart")
    if reply.is_error or not reply.data.get("total"):
        return reply
    since = datetime.now(UTC) - options.since if options.since else None
    days = await _store(ctx).campaign_days(_viewer(ctx), campaign=options.campaign, since=since)
    targets = reply.data.get("targets", [])
    if since is not None:
        # A spend target caps the whole campaign: a window's spend to date is not measured
        # against it (it would look on track when the whole campaign is not).
        targets = [t for t in targets if t.get("key") != "spend"]
    found = series.build(options.campaign, days, targets)
    if found is None:
        reply.notices.append(
            Notice(
                text=f"No chart: the notes of `{options.campaign}` have no spend, impressions, "
                "clicks or conversions to draw. Log them as `spend=$400 impressions=60k "
                "clicks=1.2k conversions=35`."
            )
        )
        return reply
    span = f"{len(found['periods'])} {found['period']}{'s' * (len(found['periods']) != 1)}"
    drawn = ctx.services is None or getattr(ctx.services.settings, "charts", True)
    if drawn:  # SMX_CHARTS=false: no chart is drawn, so none is promised
        reply.footnotes.insert(
            0, f"Chart: spend and realised figures per {found['period']} ({span}, UTC)."
        )
    # The chart's own notes are checked wherever it goes, with the listing's (bot/slack/charts.py).
    reply.sources = [*reply.sources, *sources(origins=(o for d in days for o in d.origins))]
    if drawn and ctx.surface == "command" and not _may_go_to_dm(ctx, reply.sources):
        reply.footnotes.insert(
            1,
            "The chart is not sent to your DM: it shows this conversation's notes, which stay "
            "here. Mention @smx here with the same words to have it posted in this conversation.",
        )
    reply.data[series.KEY] = found
    return reply


def _may_go_to_dm(ctx: Context, shown: list[Source]) -> bool:
    """Whether an ephemeral answer's chart may go to the person's DM with smx (the Slack face
    decides, bot/slack/charts.py; this says so in the answer): the same rule, for a reader
    alone in a conversation that is not this one."""
    from bot.store.base import Audience, may_read

    dm = Audience(ctx.owner, "", "im", shared_externally=ctx.confined,
                  user=None if ctx.confined else ctx.user)  # fmt: skip
    return all(may_read(s, dm) for s in shown)


def _has_figures(t: CampaignTotals) -> bool:
    return any(v is not None for v in (t.spend, t.impressions, t.clicks, t.conversions))


def _totals_section(totals: list[CampaignTotals], parts: list | None = None) -> Section:
    shown = [t for t in totals if _has_figures(t)]
    by_campaign: dict[str, list] = {}
    for p in parts or []:
        by_campaign.setdefault(p.campaign, []).append(p)
    lines = [_totals_text(t, by_campaign.get(t.campaign, [])) for t in shown[:SHOWN_CAMPAIGNS]]
    if len(shown) > SHOWN_CAMPAIGNS:
        lines.append(f"…and {len(shown) - SHOWN_CAMPAIGNS} more campaigns (`notes CAMPAIGN`).")
    return Section(heading="Realised, per campaign", text="\n".join(lines))


def _totals_text(t: CampaignTotals, parts: list | None = None) -> str:
    head = [f"*{t.campaign}*"]
    if t.platforms:
        head.append(", ".join(t.platforms))
    head.append(f"{t.notes} note{'s' * (t.notes != 1)}")
    if t.spend is not None:
        if len(t.currencies) > 1 and parts:
            # Each currency summed on its own: `$750 + €300`, never one number of both.
            head.append(
                "spend " + " + ".join(units.format_money(p.spend, p.currency) for p in parts)
            )
        elif len(t.currencies) > 1:
            head.append(f"spend in {', '.join(t.currencies)} (not added up)")
        else:
            head.append(f"spend {units.format_money(t.spend, t.currencies[0])}")
    for label, value in (("impr.", t.impressions), ("clicks", t.clicks), ("conv.", t.conversions)):
        if value is not None:
            head.append(f"{units.format_count(value)} {label}")
    currency = t.currencies[0] if len(t.currencies) == 1 else "$"
    lines = [" · ".join(head)]
    lines += [f"   {_figure_text(f, currency)}" for f in figures(t)]
    if len(t.currencies) > 1 and parts:
        lines += [f"   {line}" for line in _rates_by_currency(parts)]
    return "\n".join(lines)


def _rates_by_currency(parts: list) -> list[str]:
    """CPM, CPC and CPA of a campaign in more than one currency, in each currency: `CPM $8.10
    on the dollar notes · €9 on the euro notes`."""
    lines = []
    for metric, field_, scale in (
        ("cpm", "spend_per_impression", 1000.0),
        ("cpc", "spend_per_click", 1.0),
        ("cpa", "spend_per_conversion", 1.0),
    ):
        shown = []
        for p in parts:
            pair = getattr(p, field_)
            if pair is not None:
                shown.append(_value(metric, pair[0] / pair[1] * scale, p.currency))
        if shown:
            lines.append(f"{metric.upper()} " + " · ".join(shown) + ", each currency on its own")
    return lines


def _figure_text(f: Figure, currency: str) -> str:
    text = f"{f.metric.upper()} {_value(f.metric, f.value, currency)}"
    b = f.benchmark
    if b is None:
        return f"{text}, not compared: {f.why_not}" if f.why_not else text
    source = "; ".join(f"{s.name} {s.year}" for s in b.sources[:2])
    if b.objective:  # Facebook's CPA is published for lead-ad campaigns only: said where used
        source += f", {b.objective} campaigns only"
    usd = " USD" if b.currency else ""
    if b.low == b.high:
        published = f"published {_value(f.metric, b.typical, '$')}{usd}"
        return f"{text}: {f.verdict} the {published} ({source})"
    band = f"{_value(f.metric, b.low, '$')}–{_value(f.metric, b.high, '$')}{usd}"
    typical = f"typical {_value(f.metric, b.typical, '$')}"
    return f"{text}: {f.verdict} the range {band}, {typical} ({source})"


def _value(metric: str, value: float, currency: str) -> str:
    return units.format_metric(metric, value, currency)


def _totals_data(t: CampaignTotals) -> dict:
    data: dict = {
        "campaign": t.campaign,
        "notes": t.notes,
        "platforms": list(t.platforms),
        "currencies": list(t.currencies),
        "spend": t.spend,
        "impressions": t.impressions,
        "clicks": t.clicks,
        "conversions": t.conversions,
    }
    for f in figures(t):
        data[f.metric] = f.value
        if f.benchmark is not None:
            b = f.benchmark
            data[f"{f.metric}_typical"] = {"low": b.low, "typical": b.typical, "high": b.high}
            data[f"{f.metric}_verdict"] = f.verdict
    return data


# -- one note, shown ----------------------------------------------------------------------------


def _when(ctx: Context, moment: datetime | None) -> str:
    if moment is None:
        return ""
    try:
        zone = ZoneInfo(ctx.user_tz) if ctx.user_tz else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def note_rates(n: Note) -> dict[str, float]:
    """The note's own realised CPM, CPC, CTR and CPA, where its figures allow."""
    pairs = {
        "cpm": (n.spend, n.impressions, 1000.0),
        "cpc": (n.spend, n.clicks, 1.0),
        "ctr": (n.clicks, n.impressions, 1.0),
        "cpa": (n.spend, n.conversions, 1.0),
    }
    return {
        k: top * scale / bottom
        for k, (top, bottom, scale) in pairs.items()
        if top is not None and bottom
    }


def _note_figures(n: Note) -> str | None:
    """`$412.50 · 51,250 impr. · 615 clicks · 25 conv. — CPM $8.05 · CPC $0.671 · CTR 1.2% · CPA $16.50`"""
    currency = n.currency or "$"
    parts = []
    if n.spend is not None:
        parts.append(units.format_money(n.spend, currency))
    for label, value in (("impr.", n.impressions), ("clicks", n.clicks), ("conv.", n.conversions)):
        if value is not None:
            parts.append(f"{units.format_count(value)} {label}")
    rates = note_rates(n)
    shown = [f"{k.upper()} {_value(k, v, currency)}" for k, v in rates.items()]
    if not parts:
        return None
    return " · ".join(parts) + (f" — {' · '.join(shown)}" if shown else "")


def _note_section(ctx: Context, n: Note) -> Section:
    where = "team-wide" if n.is_public else "private to its conversation and author"
    figures_line = _note_figures(n)
    own = f"\n{figures_line}" if figures_line else ""
    return Section(
        heading=f"#{n.id} · {n.campaign} · {_when(ctx, n.created_at)}",
        text=f"{clip(defuse(n.text), SHOWN_TEXT)}{own}\n_by {n.author} · {where}_",
    )


def _note_data(n: Note) -> dict:
    return {
        "id": n.id,
        "campaign": n.campaign,
        "created_at": n.created_at.isoformat() if n.created_at else None,
        "author": n.author,
        "channel": n.channel,
        "visibility": "team" if n.is_public else "conversation",
        "platform": n.platform,
        "spend": n.spend,
        "currency": n.currency,
        "impressions": n.impressions,
        "clicks": n.clicks,
        "conversions": n.conversions,
        "metrics": dict(n.metrics),
        "realised": note_rates(n),
        "text": defuse(n.text),
    }


# -- notes search QUERY ---------------------------------------------------------------------------


async def search(ctx: Context, args: list[str]) -> Reply:
    query = " ".join(args)
    if not query:
        raise UserError(f"Say what to look for, e.g. {cmd(ctx, 'notes search reel saves')}.")
    if len(query) > MAX_QUERY:
        raise UserError(f"Search for a few words (up to {MAX_QUERY} characters), not a paragraph.")
    found = await _store(ctx).search_notes(_viewer(ctx), query, limit=SEARCH_LIMIT)
    quoted = parse.shown(query)
    if not found:
        return Reply(
            intro=f"No notes match “{quoted}”. Every word must appear; try fewer words or "
            "a prefix such as `launch*`.",
            notices=_unsure(ctx),
            data={"query": query, "notes": []},
        )
    more = f" (the best {SEARCH_LIMIT})" if len(found) == SEARCH_LIMIT else ""
    return Reply(
        title=f"Notes matching “{quoted}”",
        intro=f"{len(found)} note{'s' * (len(found) != 1)}{more}, best match first.",
        sections=[_note_section(ctx, n) for n in found],
        notices=_unsure(ctx),
        data={"query": query, "notes": [_note_data(n) for n in found]},
        sources=sources(found),
    )


# -- notes export [CAMPAIGN] ----------------------------------------------------------------------


async def export(ctx: Context, args: list[str]) -> Reply:
    if len(args) > 1:
        raise UserError(
            f"Export takes at most one campaign, e.g. {cmd(ctx, 'notes export spring-launch')}."
        )
    campaign = parse.campaign(args[0]) if args else None
    # The file is shared with the whole conversation: no one's private notes from elsewhere.
    notes = await _store(ctx).export_notes(_viewer(ctx, personal=False), campaign=campaign)
    scope = f" for `{campaign}`" if campaign else ""
    if not notes:
        return Reply(
            intro=f"No notes{scope} to export here yet.", data={"campaign": campaign, "rows": 0}
        )
    content = await asyncio.to_thread(to_csv, notes)  # 100k notes take a while to format
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    filename = f"smx-notes-{campaign or 'all'}-{stamp}.csv"
    return Reply(
        intro=f"{len(notes):,} note{'s' * (len(notes) != 1)}{scope} as CSV.",
        files=[Attachment(filename=filename, content=content, title=f"Campaign notes{scope}")],
        # Each place and author once: a file of 100,000 notes needs no 100,000 records.
        sources=sources(origins=[n.origin for n in notes]),
        footnotes=[
            "Notes from private channels and DMs are exported only in their own conversation."
        ],
        data={"campaign": campaign, "rows": len(notes), "filename": filename},
    )


# -- note delete ID -------------------------------------------------------------------------------


async def edit(ctx: Context, args: list[str]) -> Reply:
    """`note edit ID TEXT`: the note's text and its figures, replaced; its campaign, place and
    date stay. Its author or a workspace admin."""
    if len(args) < 2:
        raise UserError(
            f"Say which note and its new text, e.g. {cmd(ctx, 'note edit 12 Reel got 4x saves spend=$400')}."
        )
    note_id = parse.note_id(args[:1])
    raw = ctx.args_text.strip()
    typed = raw[len(args[0]) :].strip() if raw.startswith(args[0]) else None
    text = parse.note_text(args[1:], typed)
    found = parse.metrics(args[1:])
    values = {
        "text": text,
        "platform": found.platform,
        "spend": found.spend,
        "currency": found.currency,
        "impressions": found.impressions,
        "clicks": found.clicks,
        "conversions": found.conversions,
        "metrics": found.other,
    }
    # The editor by id: in a mention the Viewer leaves the person out (the channel reads it).
    outcome = await _store(ctx).edit_note(
        _viewer(ctx), note_id, values, is_admin=ctx.is_admin, by=ctx.user
    )
    if outcome == "forbidden":
        raise UserError(f"Only its author or a workspace admin can edit note #{note_id}.")
    if outcome == "missing":
        raise UserError(
            f"There is no note #{note_id} you can see here. {cmd(ctx, 'notes')} lists them "
            "with their numbers."
        )
    stored = found.shown()
    # New figures may move the campaign's targets, as a new note's do.
    from bot.target_commands import crossing_notices, crossings

    edited = await _store(ctx).get_note(_viewer(ctx), note_id)
    crossed = await crossings(ctx, [edited.campaign]) if edited is not None else []
    told, counted = crossing_notices(ctx, crossed)
    return Reply(
        intro=f"Edited note *#{note_id}*.",
        facts=[Fact(label=k, value=_metric_text(k, v, found.currency)) for k, v in stored.items()],
        notices=[*(Notice(text=f"{reading}.") for reading in found.readings), *told],
        sources=counted,
        data={"edited": note_id, "metrics": stored, **({"crossed": crossed} if crossed else {})},
    )


async def delete(ctx: Context, args: list[str]) -> Reply:
    note_id = parse.note_id(args)
    outcome = await _store(ctx).delete_note(
        _viewer(ctx), note_id, is_admin=ctx.is_admin, by=ctx.user
    )
    if outcome == "forbidden":
        raise UserError(f"Only its author or a workspace admin can delete note #{note_id}.")
    if outcome == "missing":
        raise UserError(
            f"There is no note #{note_id} you can see here. {cmd(ctx, 'notes')} lists them "
            "with their numbers."
        )
    return Reply(intro=f"Deleted note #{note_id}.", data={"deleted": note_id})
