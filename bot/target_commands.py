"""`target CAMPAIGN KEY<=VALUE ...`, `target CAMPAIGN off`, `targets [CAMPAIGN]`, and the check a
note or an import makes against a campaign's targets.

Who sees a target: it is set in a conversation, like a note. A target set in a public channel
is the team's; one set in a private channel or a DM is seen only there. Its realised figure is
always worked out from the notes the reader may see (a Viewer), so a listing never shows a figure
built from notes the reader may not read. The check after a note or an import works the figure
out as the conversation where the target was set would see it, because that is where a move off
track is posted.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot import targets as logic
from bot.context import Context
from bot.errors import UserError
from bot.notes import parse
from bot.reply import Notice, Reply, Section, Source
from bot.slash import cmd
from bot.store import CampaignTotals, Store, Viewer
from bot.store.imports import TargetRecord
from bot.text import and_list

PUBLIC = ("public", "console")


def _store(ctx: Context) -> Store:
    if ctx.services is None:
        raise RuntimeError("targets need ctx.services to reach the store")
    return ctx.services.store


def _viewer(ctx: Context) -> Viewer:
    mine = ctx.answer_is_private
    return Viewer(ctx.owner, ctx.channel, ctx.user if mine else None, confined=ctx.confined)


def visible(ctx: Context, record: TargetRecord) -> bool:
    """Whether the asker, here, may see a target: the team's (set in a public channel) or set
    in this very conversation."""
    if ctx.confined:
        return record.channel == ctx.channel
    return record.channel_kind in PUBLIC or record.channel == ctx.channel


def _target_of(record: TargetRecord) -> logic.Target:
    return logic.Target(record.key, record.op, record.value, record.currency)  # type: ignore[arg-type]


async def _totals(store: Store, viewer: Viewer, campaign: str) -> CampaignTotals | None:
    found = await store.campaign_totals(viewer, campaign=campaign)
    return found[0] if found else None


def _sources(totals: CampaignTotals | None) -> list[Source]:
    from bot.notes.commands import sources

    return sources(origins=totals.origins) if totals else []


# -- target CAMPAIGN ... ----------------------------------------------------------------------


async def set_targets(ctx: Context, args: list[str]) -> Reply:
    if not args:
        raise UserError(
            f"Say which campaign and its targets, e.g. "
            f"{cmd(ctx, 'target spring-launch cpa<=20 ctr>=1% spend<=$5k')}."
        )
    campaign = parse.campaign(args[0])
    store = _store(ctx)
    if [a.lower() for a in args[1:]] == ["off"]:
        # Only the targets this conversation may see: the team's, and its own.
        here = [r for r in await store.list_targets(ctx.owner, campaign) if visible(ctx, r)]
        dropped = await store.drop_targets(ctx.owner, campaign, sorted({r.channel for r in here}))
        if not dropped:
            return Reply(intro=f"`{campaign}` has no targets here, so there was nothing to remove.")
        return Reply(
            intro=f"Removed {dropped} target{'s' if dropped != 1 else ''} of `{campaign}`.",
            data={"campaign": campaign, "removed": dropped},
        )
    wanted = logic.parse(args[1:])
    now = datetime.now(UTC)
    # Judged as the conversation sees the campaign (never with the asker's private notes from
    # elsewhere): the same view every later check of it takes, so only a note can move it.
    totals = await _totals(
        store, Viewer(ctx.owner, ctx.channel, None, confined=ctx.confined), campaign
    )
    checks = [logic.check(t, totals) for t in wanted]
    # A target of the same figure that this conversation may see is replaced: the team's (when
    # set from a team-wide conversation) and its own. Another conversation's private one stays.
    replaced = [
        r
        for r in await store.list_targets(ctx.owner, campaign)
        if r.key in {t.key for t in wanted}
        and (r.channel == ctx.channel or (r.channel_kind in PUBLIC and ctx.channel_kind in PUBLIC))
    ]
    for channel in {r.channel for r in replaced if r.channel != ctx.channel}:
        keys = [r.key for r in replaced if r.channel == channel]
        await store.drop_targets(ctx.owner, campaign, [channel], keys)
    records = [
        TargetRecord(
            team=ctx.owner,
            workspace=ctx.team,
            campaign=campaign,
            key=t.key,
            op=t.op,
            value=t.value,
            currency=t.currency,
            channel=ctx.channel,
            channel_kind=ctx.channel_kind,
            author=ctx.user,
            set_at=now,
            status=c.status,
        )
        for t, c in zip(wanted, checks, strict=True)
    ]
    await store.set_targets(records)
    where = (
        "Everyone in the team can see them"
        if ctx.channel_kind in PUBLIC
        else "Only this conversation can see them"
    )
    return Reply(
        title=f"Targets for {campaign}",
        intro=f"Set {len(records)} target{'s' if len(records) != 1 else ''}. {where}; when a "
        "note or an import moves one off track, I say so here, once.",
        sections=[Section(text="\n".join(f"• {c.line}" for c in checks))],
        sources=_sources(totals),
        footnotes=[
            f"See them with {cmd(ctx, 'targets ' + campaign)}; remove them with "
            f"{cmd(ctx, 'target ' + campaign + ' off')}."
        ],  # fmt: skip
        data={"campaign": campaign, "targets": [_check_data(c) for c in checks]},
    )


def _check_data(c: logic.Check) -> dict:
    return {
        "key": c.target.key,
        "op": c.target.op,
        "value": c.target.value,
        "currency": c.target.currency,
        "realised": c.realised,
        "status": c.status,
    }


# -- targets [CAMPAIGN] -----------------------------------------------------------------------


async def list_targets(ctx: Context, args: list[str]) -> Reply:
    campaign = parse.campaign(args[0]) if args else None
    if len(args) > 1:
        raise UserError(
            f"`targets` takes one campaign at most, e.g. {cmd(ctx, 'targets spring-launch')}."
        )
    store = _store(ctx)
    records = [r for r in await store.list_targets(ctx.owner, campaign) if visible(ctx, r)]
    if not records:
        scope = f"`{campaign}` has" if campaign else "No campaign here has"
        return Reply(
            intro=f"{scope} no targets yet. Set some with "
            f"{cmd(ctx, 'target ' + (campaign or 'spring-launch') + ' cpa<=20 ctr>=1%')}.",
            data={"targets": {}},
        )
    sections, data, origins = await checked_sections(ctx, records)
    return Reply(
        title="Targets" + (f" for {campaign}" if campaign else ""),
        sections=sections,
        sources=origins,
        data={"targets": data},
    )


async def checked_sections(
    ctx: Context, records: list[TargetRecord]
) -> tuple[list[Section], dict[str, list[dict]], list[Source]]:
    """Each campaign's targets with the realised figures the asker may see."""
    store = _store(ctx)
    by_campaign: dict[str, list[TargetRecord]] = {}
    for r in records:
        by_campaign.setdefault(r.campaign, []).append(r)
    sections, data, origins = [], {}, []
    for campaign, mine in by_campaign.items():
        totals = await _totals(store, _viewer(ctx), campaign)
        checks = [logic.check(_target_of(r), totals) for r in mine]
        off = sum(c.status == "off track" for c in checks)
        on = sum(c.status == "on track" for c in checks)
        heading = f"{campaign}: " + (
            f"{off} off track"
            if off
            else "on track"
            if on == len(checks)
            else "no verdict yet"
            if not on
            else f"{on} on track, the rest no verdict yet"
        )
        sections.append(Section(heading=heading, text="\n".join(f"• {c.line}" for c in checks)))
        data[campaign] = [_check_data(c) for c in checks]
        origins += _sources(totals)
    return sections, data, origins


# -- after a note or an import ----------------------------------------------------------------


async def crossings(ctx: Context, campaigns: list[str]) -> list[dict]:
    """Check the targets of `campaigns` against their notes and record each verdict; the
    messages to post for the targets this call moved off track: {channel, text, sources}."""
    store = _store(ctx)
    out = []
    for campaign in dict.fromkeys(campaigns):
        records = await store.list_targets(ctx.owner, campaign)
        if not records:
            continue
        by_channel: dict[str, list[TargetRecord]] = {}
        for r in records:
            by_channel.setdefault(r.channel, []).append(r)
        for channel, mine in by_channel.items():
            # The figure as the conversation where the target was set sees it (the post there is
            # checked again against who reads it then, shared with another organisation or not),
            # read and judged in the same transaction as the status moves.
            checks: dict[str, logic.Check] = {}

            def judge(records, totals, checks=checks):
                for r in records:
                    checks[r.key] = logic.check(_target_of(r), totals)
                return {k: c.status for k, c in checks.items()}

            moved, totals = await store.settle_targets(ctx.owner, campaign, channel, judge)
            if not moved:
                continue
            lines = [_crossing_line(checks[k]) for k in moved]
            out.append(
                {
                    "channel": channel,
                    "channel_kind": mine[0].channel_kind,
                    "campaign": campaign,
                    "text": f"*{campaign}* is off track: {and_list(lines, 'and')}.",
                    "keys": moved,
                    "sources": [s.model_dump() for s in _sources(totals)],
                }
            )
    return out


def _crossing_line(c: logic.Check) -> str:
    return f"{c.target.text} ({c.realised_text} realised)"


def crossing_notices(ctx: Context, crossed: list[dict]) -> tuple[list[Notice], list[Source]]:
    """What the person who logged it is told, beside the message posted where the target was
    set (in a terminal nothing is posted: this is all there is), and the notes it counts. A
    target set in a private conversation elsewhere is not told here at all: its figure counts
    notes this conversation may not read, and even its existence is that conversation's."""
    notices, counted = [], []
    for c in crossed:
        here = c["channel"] == ctx.channel
        if here or c["channel_kind"] in PUBLIC:
            where = "" if here else " (said in the conversation where the target was set)"
            notices.append(Notice(level="warning", text=f"{c['text']}{where}"))
            counted += [Source(**s) for s in c["sources"]]
        # A target set in another, private conversation: not even that it exists is told here.
    return notices, counted
