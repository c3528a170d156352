"""Logging an export's rows as notes, and what the answer says about it."""

from __future__ import annotations

from datetime import UTC, datetime, time

from bot.context import Context
from bot.imports.preview import SIGN, data_of, money, platform_name
from bot.imports.read import Export, Row
from bot.reply import Fact, Notice, Reply
from bot.store import NewNote
from bot.text import clip

MAX_TEXT = 4000


def note_of(ctx: Context, export: Export, row: Row) -> tuple[NewNote, str]:
    """The note a row becomes, and the key that makes it the same row in any later export."""
    parts = [f"{export.layout.name} import"]
    if row.ad_set:
        parts.append(f"ad set {row.ad_set}")
    if row.ad:
        parts.append(f"ad {row.ad}")
    days = row.start.isoformat() if row.start == row.end else f"{row.start} to {row.end}"
    parts.append(days)
    text = ", ".join(parts)
    if row.text:
        text = f"{row.text} ({text})"
    if row.campaign != row.slug:
        text += f" [{row.campaign}]"
    figures = row.figures
    note = NewNote(
        team=ctx.owner,
        workspace=ctx.team,
        channel=ctx.channel,
        channel_kind=ctx.channel_kind,
        author=ctx.user,
        campaign=row.slug,
        text=clip(text, MAX_TEXT),
        platform=row.platform,
        spend=figures.get("spend"),
        currency=(SIGN.get(row.currency or "", row.currency) if "spend" in figures else None),
        impressions=figures.get("impressions"),
        clicks=figures.get("clicks"),
        conversions=figures.get("conversions"),
        metrics={k: figures[k] for k in ("reach", "revenue") if k in figures},
        # Dated by the row's last reporting day (noon UTC, the same date in every zone's week).
        created_at=datetime.combine(row.end, time(12), tzinfo=UTC),
    )
    return note, row.key


async def _overlapping(ctx: Context, export: Export) -> dict[str, int]:
    """For each campaign of the file: how many notes imported here before, from other rows,
    are dated within the file's days (a report of the same days at another level, campaign
    against ad set, or with a breakdown, would count them twice)."""
    from datetime import timedelta

    keys = {row.key for row in export.rows}
    out: dict[str, int] = {}
    for campaign in export.campaigns:
        days = [r for r in export.rows if r.slug == campaign]
        since = datetime.combine(min(r.start for r in days), time(0), tzinfo=UTC)
        until = datetime.combine(max(r.end for r in days), time(0), tzinfo=UTC) + timedelta(days=1)
        found = await ctx.services.store.imported_keys(
            ctx.owner, ctx.channel, campaign, since, until
        )
        other = sum(1 for k in found if k not in keys)
        if other:
            out[campaign] = other
    return out


def _overlap_notice(campaign: str, count: int) -> Notice:
    return Notice(
        level="warning",
        text=f"`{campaign}` already had {count} imported note{'s' * (count != 1)} dated within "
        "these days from other rows. If they are the same report at another level (by campaign "
        "against by ad set, or with a breakdown), the figures now count twice: check "
        f"`notes {campaign}` and delete the notes of one level.",
    )


async def log_export(ctx: Context, export: Export, name: str) -> Reply:
    """Log every row of `export` in one transaction; the answer says what was logged."""
    rows = [note_of(ctx, export, row) for row in export.rows]
    store = ctx.services.store
    earlier = await _overlapping(ctx, export)
    done = await store.import_notes(rows)
    data = data_of(export, name)
    data["imported"] = len(done.ids)
    data["skipped_duplicates"] = done.skipped
    data["note_ids"] = list(done.ids)
    spend = " + ".join(money(v, code) for code, v in data["totals"]["spend"].items()) or "none"
    skipped = (
        f" {done.skipped:,} row{'s' if done.skipped != 1 else ''} had been logged before and "
        f"{'were' if done.skipped != 1 else 'was'} skipped."
        if done.skipped
        else ""
    )
    campaigns = export.campaigns
    from bot.target_commands import crossing_notices, crossings

    crossed = await crossings(ctx, campaigns) if done.ids else []
    told, counted = crossing_notices(ctx, crossed)
    if crossed:
        data["crossed"] = crossed
    shown = ", ".join(f"`{c}`" for c in campaigns[:12]) + (
        f" and {len(campaigns) - 12} more" if len(campaigns) > 12 else ""
    )
    return Reply(
        title=f"Imported {clip(name, 60)}",
        intro=f"Logged {len(done.ids):,} note{'s' if len(done.ids) != 1 else ''} from "
        f"{len(export.rows):,} rows.{skipped} Type `notes CAMPAIGN` to see a campaign's figures.",
        facts=[
            Fact(label="Source", value=export.layout.name),
            Fact(
                label="Platform",
                value=", ".join(dict.fromkeys(platform_name(r.platform) for r in export.rows)),
            ),
            Fact(label="Campaigns", value=shown),
            Fact(label="Spend in the file", value=spend),
        ],
        notices=[
            *(Notice(level="warning", text=w) for w in export.warnings),
            *(_overlap_notice(c, n) for c, n in earlier.items()),
            *told,
        ],
        sources=counted,
        data=data,
    )
