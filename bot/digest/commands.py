"""`digest on|off|pause|resume|status|preview|now`: the handlers the router calls, one an entry.

`digest on` reads its words with bot/digest/parse.py. The zone defaults to the
person's Slack time zone (the Slack face reads it from users.info into ctx.user_tz), else UTC
with a notice. `now` posts through a function the face hands over (`post_now`); without one (the
console, `smx ask`) it shows the digest instead.

Who may do what: anyone in a channel may manage that channel's digest (the command is typed
there). From another channel, managing a digest (`on`, `off`, `pause`, `resume`, `now`) takes
membership of that conversation or a workspace admin (the Slack face asks conversations.members
and users.info into ctx.named and ctx.is_admin; what Slack cannot confirm counts as no), and
changing an existing one also takes its subscriber or an admin. `status` of another channel does
not name the people behind it to anyone else, nor how its last weeks went to non-members; an
answer typed elsewhere never counts that conversation's notes.

No digest is set up, previewed or posted in a channel shared with another organisation (Slack
Connect), nor in one Slack could not describe: it holds the team's notes. The face that posts
asks Slack again at posting time (bot/slack/digest_post.py).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.context import Context, Named
from bot.digest import slots
from bot.digest.compose import Window, compose
from bot.digest.delivery import SHARED_EXTERNALLY, Delivery
from bot.digest.parse import parse_on, split_target, zones
from bot.digest.slots import DAYS, Slot, local_text, week_before
from bot.errors import UserError
from bot.reply import Fact, Notice, Reply
from bot.slash import TERMINAL_SURFACES, cmd, prefix
from bot.store import Store, Subscription

DEFAULT_DAY, DEFAULT_HOUR, DEFAULT_MINUTE = 0, 9, 0
LOCAL = TERMINAL_SURFACES  # the local world: whoever runs it holds the database itself

PostNow = Callable[[str, Reply], Awaitable[Delivery]]


def clock() -> datetime:
    """Now, UTC; tests replace it."""
    return slots.utc_now()


def _store(ctx: Context) -> Store:
    if ctx.services is None:
        raise RuntimeError("digest commands need ctx.services to reach the store")
    return ctx.services.store


def _here(ctx: Context, channel: str) -> str:
    return "this channel" if channel == ctx.channel else f"channel `{channel}`"


def _member(ctx: Context, channel: str) -> bool:
    """In the conversation: the command is typed there, or Slack says the asker is in it."""
    if channel == ctx.channel or ctx.surface in LOCAL:
        return True
    return bool(ctx.named.get(channel, Named()).member)


def _check_may_manage(ctx: Context, channel: str, action: str, doing: str) -> None:
    """From outside a conversation, only its members and admins manage its digest: it is posted
    there, and what it holds (or that it holds nothing) is theirs to know."""
    if _member(ctx, channel) or ctx.is_admin:
        return
    unsure = ctx.named.get(channel, Named()).member is None
    why = (
        f"I couldn't check with Slack whether you are a member of {_here(ctx, channel)}, and "
        "only its members"
        if unsure
        else "Only members of that conversation"
    )
    raise UserError(
        f"{why} or a workspace admin can {doing} the digest of {_here(ctx, channel)} from "
        f"another channel. If you are in it, type {cmd(ctx, 'digest ' + action)} there."
    )


def _insider(ctx: Context, channel: str, sub: Subscription | None) -> bool:
    """Typed in the channel itself, or by its digest's subscriber, or by a workspace admin."""
    return (
        channel == ctx.channel or ctx.is_admin or (sub is not None and sub.subscriber == ctx.user)
    )


def _check_may_change(
    ctx: Context, channel: str, sub: Subscription | None, action: str, doing: str
) -> None:
    if _insider(ctx, channel, sub):
        return
    who = "the person who set it up or a workspace admin" if sub else "a workspace admin"
    raise UserError(
        f"Only {who} can {doing} the digest of {_here(ctx, channel)} from another channel. "
        f"Type {cmd(ctx, 'digest ' + action)} in that channel instead."
    )


def _not_shared(ctx: Context, channel: str) -> None:
    """The digest holds the team's notes: never in a channel another organisation can read, nor
    in one Slack could not describe (it might be such a channel)."""
    if ctx.surface in LOCAL:
        return
    if channel == ctx.channel:
        shared = True if ctx.shared_externally else (None if not ctx.facts_known else False)
    else:
        shared = ctx.named.get(channel, Named()).shared_externally
    if shared:
        where = "This channel is" if channel == ctx.channel else f"Channel `{channel}` is"
        raise UserError(
            f"{where} shared with another organisation, so the team's notes digest can't go "
            f"there. Set it up in one of your own channels, e.g. {cmd(ctx, 'digest on #marketing')}."
        )
    if shared is None:
        raise UserError(
            f"I couldn't check with Slack whether {_here(ctx, channel)} is shared with another "
            "organisation, and the team's notes digest never goes to one. Try again in a moment."
        )


# -- digest on ------------------------------------------------------------------------------------


async def on(ctx: Context, args: list[str]) -> Reply:
    channel, words = split_target(ctx, args)
    _check_may_manage(ctx, channel, "on", "set up")
    _not_shared(ctx, channel)
    asked = parse_on(words, ctx)
    day, hour, minute, zone_name = asked.day, asked.hour, asked.minute, asked.zone
    include_empty = asked.include_empty
    notices: list[Notice] = []
    store = _store(ctx)
    existing = await store.get_subscription(ctx.owner, channel)
    if zone_name is None and existing is not None:
        zone_name = existing.tz  # a new day or time keeps the zone it was set in
    if include_empty is None:
        include_empty = existing.include_empty if existing is not None else False
    if zone_name is None:
        zone_name = _default_zone(ctx)
        if zone_name is None:
            zone_name = "UTC"
            notices.append(
                Notice(
                    level="warning",
                    text="I couldn't read your Slack time zone, so this digest uses UTC. "
                    f"Name a zone to change it, e.g. {cmd(ctx, 'digest on mon 09:00 Europe/Berlin')}.",
                )
            )
    slot = Slot(
        DEFAULT_DAY if day is None else day,
        DEFAULT_HOUR if hour is None else hour,
        DEFAULT_MINUTE if minute is None else minute,
        zone_name,
    )
    if existing is not None:
        _check_may_change(ctx, channel, existing, "on", "change")
    next_run = await _next_free(store, ctx.owner, channel, slot, clock())
    sub = Subscription(
        team=ctx.owner,
        channel=channel,
        workspace=ctx.team,
        enterprise=ctx.enterprise,
        weekday=slot.weekday,
        hour=slot.hour,
        minute=slot.minute,
        tz=slot.tz,
        subscriber=ctx.user,
        next_run=next_run,
        include_empty=include_empty,
    )
    created = await store.save_subscription(sub)
    if not include_empty:
        notices.append(
            Notice(text="Weeks without notes are skipped; add `empty=yes` to post them too.")
        )
    verb = "Weekly digest on" if created else "Weekly digest updated"
    return Reply(
        intro=f"{verb} for {_here(ctx, channel)}: {slot.describe()}. "
        f"Next: {local_text(next_run, slot.tz)}.",
        notices=notices,
        footnotes=[
            f"{cmd(ctx, 'digest preview')} shows it to you now; {cmd(ctx, 'digest pause')} "
            f"or {cmd(ctx, 'digest off')} stop it."
        ],
        data={"subscription": _sub_data(sub), "created": created},
    )


def _default_zone(ctx: Context) -> str | None:
    if not ctx.user_tz:
        return None
    return zones().get(ctx.user_tz.lower())


async def _next_free(store: Store, team: str, channel: str, slot: Slot, now: datetime) -> datetime:
    """The next slot after `now` whose week has no digest yet (a week is never posted twice)."""
    found = slot.next_after(now)
    if await store.get_run(team, channel, slot.week(found)) is not None:
        found = slot.next_after(found)
    return found


# -- digest off|pause|resume|status|preview|now ---------------------------------------------------


def _only_channel(ctx: Context, args: list[str], action: str) -> str:
    channel, rest = split_target(ctx, args)
    if rest:
        raise UserError(
            f"`digest {action}` takes only a channel, not `{' '.join(rest)}`: "
            f"{cmd(ctx, 'digest ' + action)}."
        )
    return channel


async def _existing(
    ctx: Context, args: list[str], action: str, doing: str
) -> tuple[str, Subscription]:
    channel = _only_channel(ctx, args, action)
    _check_may_manage(ctx, channel, action, doing)  # before saying whether it has one
    sub = await _store(ctx).get_subscription(ctx.owner, channel)
    if sub is None:
        raise UserError(
            f"{_here(ctx, channel).capitalize()} has no weekly digest to {doing}. Start one with "
            f"{cmd(ctx, 'digest on')} (Monday 09:00 in your time zone) or e.g. "
            f"{cmd(ctx, 'digest on fri 16:00 Europe/Berlin')}."
        )
    _check_may_change(ctx, channel, sub, action, doing)
    return channel, sub


async def off(ctx: Context, args: list[str]) -> Reply:
    channel, sub = await _existing(ctx, args, "off", "turn off")
    await _store(ctx).delete_subscription(sub.team, sub.channel)
    return Reply(
        intro=f"Weekly digest off for {_here(ctx, channel)}. {cmd(ctx, 'digest on')} starts "
        "a new one.",
        data={"deleted": _sub_data(sub)},
    )


async def pause(ctx: Context, args: list[str]) -> Reply:
    channel, sub = await _existing(ctx, args, "pause", "pause")
    if sub.state == "paused":
        return Reply(
            intro=f"The digest for {_here(ctx, channel)} is already paused "
            f"({sub.paused_reason}). {cmd(ctx, 'digest resume')} restarts it.",
            data={"subscription": _sub_data(sub)},
        )
    reason = f"paused by {ctx.user} on {local_text(clock(), sub.tz)}"
    paused = await _store(ctx).set_subscription_state(
        sub.team, sub.channel, "paused", reason=reason
    )
    assert paused is not None
    return Reply(
        intro=f"Paused the weekly digest for {_here(ctx, channel)}; its settings are kept. "
        f"{cmd(ctx, 'digest resume')} restarts it from the next slot.",
        data={"subscription": _sub_data(paused)},
    )


async def resume(ctx: Context, args: list[str]) -> Reply:
    channel, sub = await _existing(ctx, args, "resume", "resume")
    store = _store(ctx)
    if sub.state == "active":
        return Reply(
            intro=f"The digest for {_here(ctx, channel)} is already running. "
            f"Next: {local_text(sub.next_run, sub.tz)}.",
            data={"subscription": _sub_data(sub)},
        )
    _not_shared(ctx, channel)  # one paused because its channel became shared stays paused
    slot = Slot(sub.weekday, sub.hour, sub.minute, sub.tz)
    # From now: the weeks it was paused through are not posted afterwards.
    next_run = await _next_free(store, sub.team, sub.channel, slot, clock())
    resumed = await store.set_subscription_state(sub.team, sub.channel, "active", next_run=next_run)
    assert resumed is not None
    return Reply(
        intro=f"Resumed the weekly digest for {_here(ctx, channel)}: {slot.describe()}. "
        f"Next: {local_text(next_run, sub.tz)}.",
        data={"subscription": _sub_data(resumed)},
    )


async def status(ctx: Context, args: list[str]) -> Reply:
    channel = _only_channel(ctx, args, "status")
    store = _store(ctx)
    sub = await store.get_subscription(ctx.owner, channel)
    if sub is None:
        return Reply(
            intro=f"{_here(ctx, channel).capitalize()} has no weekly digest. Start one with "
            f"{cmd(ctx, 'digest on')} (Monday 09:00 in your time zone) or e.g. "
            f"{cmd(ctx, 'digest on fri 16:00 Europe/Berlin')}.",
            data={"subscription": None},
        )
    slot = Slot(sub.weekday, sub.hour, sub.minute, sub.tz)
    insider = _insider(ctx, channel, sub)
    if sub.state == "active":
        state = f"next: {local_text(sub.next_run, sub.tz)}"
    else:
        reason = sub.paused_reason if insider else _without_people(sub.paused_reason)
        state = f"paused ({reason}); {cmd(ctx, 'digest resume')} restarts it"
    facts = [
        Fact(label="Schedule", value=slot.describe()),
        Fact(label="Empty weeks", value="posted" if sub.include_empty else "skipped"),
    ]
    if insider:  # who set it up is for the channel, the subscriber and admins to see
        facts.append(Fact(label="Set up by", value=sub.subscriber))
    # How its weeks went (posted, skipped as empty) says whether it holds notes: for its members.
    runs = (
        await store.list_runs(sub.team, sub.channel)
        if _member(ctx, channel) or ctx.is_admin
        else []
    )
    if runs:
        last = runs[0]
        said = {
            "posted": "posted" + (" (late)" if last.late else ""),
            "skipped": "skipped: no notes that week",
            "lost": "may be missing: smx stopped while posting it",
            "failed": f"not posted: {last.error}",
            "dropped": "not posted",
            "retry": f"to be retried ({last.error})",
        }.get(last.state, "being posted")
        facts.append(Fact(label="Last", value=f"{local_text(last.due, sub.tz)}, {said}"))
    return Reply(
        intro=f"Weekly digest for {_here(ctx, channel)}, {slot.describe()}; {state}.",
        facts=facts,
        data={
            "subscription": _sub_data(sub, people=insider),
            "next_local": local_text(sub.next_run, sub.tz) if sub.state == "active" else None,
        },
    )


async def _last_week(ctx: Context, args: list[str], action: str) -> tuple[str, Reply, bool]:
    channel = _only_channel(ctx, args, action)
    _check_may_manage(ctx, channel, action, "post" if action == "now" else "preview")
    _not_shared(ctx, channel)
    store = _store(ctx)
    sub = await store.get_subscription(ctx.owner, channel)
    if action == "now":
        _check_may_change(ctx, channel, sub, "now", "post")
    tz = sub.tz if sub else (_default_zone(ctx) or "UTC")
    until = clock()
    reply = await compose(
        store,
        team=ctx.owner,
        channel=channel,
        window=Window(since=week_before(until, tz), until=until, tz=tz),
        prefix=prefix(ctx),
    )
    if not reply.data["digest"]["empty"]:
        reply = await _with_trend(store, ctx.owner, channel, reply)
    return channel, reply, bool(sub and sub.include_empty)


async def _with_trend(store, team: str, channel: str, reply: Reply) -> Reply:
    """The digest with its chart's last four weeks (bot/charts/digest.py) in its data, and what
    they count among its sources: held against wherever it is sent, as its notes are."""
    from bot.charts.digest import read_trend, trend_sources, with_trend

    trend = await read_trend(store, team, channel, reply.data["digest"])
    return reply.model_copy(
        update={
            "data": with_trend(reply.data, trend),
            "sources": [*reply.sources, *trend_sources(trend)],
        }
    )


async def preview(ctx: Context, args: list[str]) -> Reply:
    if _only_channel(ctx, args, "preview") != ctx.channel:
        # A channel's digest holds notes private to it; only its members may read them.
        raise UserError(
            "A preview shows notes that may be private to that channel, so it works only inside "
            f"it: type {cmd(ctx, 'digest preview')} there."
        )
    channel, reply, include_empty = await _last_week(ctx, args, "preview")
    empty = reply.data["digest"]["empty"]
    note = "Only you can see this preview of the last 7 days."
    if empty and not include_empty:
        note += " A week like this is skipped, not posted (`empty=yes` posts it)."
    return reply.model_copy(update={"footnotes": [*reply.footnotes, note], "share": False})


async def now(ctx: Context, args: list[str]) -> Reply:
    """Without a way to post (the console, `smx ask`) this shows the digest."""
    _channel, reply, _ = await _last_week(ctx, args, "now")
    notes = [*reply.footnotes, "In Slack, `/smx digest now` posts this in the channel."]
    return reply.model_copy(update={"footnotes": notes})


async def post_now(ctx: Context, args: list[str], post: PostNow) -> Reply:
    """`digest now` in Slack: compose the last 7 days and post them with `post(channel, reply)`.
    An extra digest: it is not one of the weekly runs and does not stop the scheduled one."""
    try:
        channel, reply, include_empty = await _last_week(ctx, args, "now")
    except UserError as err:
        return Reply.error(err.message, err.suggestions)
    info = reply.data["digest"]
    if info["empty"] and not include_empty:
        return Reply(
            intro=f"Nothing to post: no notes were logged in {_here(ctx, channel)} in the last "
            f"7 days. Log one with {cmd(ctx, 'note CAMPAIGN TEXT')}.",
            data={"posted": False},
        )
    delivery = await post(channel, reply)
    if delivery.outcome == "posted":
        data = {"posted": True, "ts": delivery.ts, "messages": delivery.messages}
        if channel != ctx.channel:
            # Typed elsewhere: how many notes another conversation holds is not said here.
            return Reply(
                intro=f"Posted the digest of the last 7 days in {_here(ctx, channel)}.", data=data
            )
        return Reply(
            intro=f"Posted the digest of the last 7 days ({info['notes']} "
            f"note{'s' * (info['notes'] != 1)}) in {_here(ctx, channel)}.",
            data=data,
            sources=reply.sources,  # it counts them
        )
    if delivery.outcome == "refused" and delivery.error == SHARED_EXTERNALLY:
        where = "This channel is" if channel == ctx.channel else f"Channel `{channel}` is"
        return Reply.error(
            f"{where} shared with another organisation, so the team's notes digest can't go "
            f"there; nothing was posted. Set it up in one of your own channels, e.g. "
            f"{cmd(ctx, 'digest on #marketing')}."
        )
    if delivery.outcome == "refused":
        return Reply.error(
            f"The digest was not posted: it held notes that {_here(ctx, channel)} may not read. "
            "Nothing was sent; whoever runs smx can find the details in its log."
        )
    if delivery.outcome == "channel_gone":
        message = (
            f"I can't post in {_here(ctx, channel)} (Slack said `{delivery.error}`). "
            "Invite me with `/invite @smx`, then try again."
        )
    else:
        message = f"The digest was not posted (Slack said `{delivery.error}`). Try again shortly."
    return Reply.error(message)


PAUSED_BY = re.compile(r"^paused by \S+ on ")


def _without_people(reason: str | None) -> str | None:
    """A pause reason as shown outside the channel: who paused it left out."""
    return PAUSED_BY.sub("paused on ", reason) if reason else reason


def _sub_data(sub: Subscription, *, people: bool = True) -> dict:
    return {
        "channel": sub.channel,
        "weekday": DAYS[sub.weekday],
        "time": f"{sub.hour:02d}:{sub.minute:02d}",
        "tz": sub.tz,
        "state": sub.state,
        "paused_reason": sub.paused_reason if people else _without_people(sub.paused_reason),
        "include_empty": sub.include_empty,
        "subscriber": sub.subscriber if people else None,
        "next_run": sub.next_run.isoformat(),
    }
