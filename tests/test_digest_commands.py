"""`digest on|off|pause|resume|status|preview|now` through the router, and every bad input's
sentence. The clock is injected (bot.digest.commands.clock)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.context import Context, Named
from bot.digest import commands
from bot.digest.delivery import Delivery
from bot.digest.scheduler import Scheduler
from bot.reply import render_text
from bot.router import dispatch
from bot.slack.blocks import fallback_text, render_blocks
from bot.slack.digest_post import split
from tests.support.asking import Asker
from tests.support.blockkit import assert_message_ok
from tests.support.digest_support import Clock, Recorder, note, utc

NOW = utc(2026, 11, 25, 10)  # Wednesday 25 Nov 2026, 11:00 in Berlin


@pytest.fixture
def clock(monkeypatch):
    fixed = Clock(NOW)
    monkeypatch.setattr(commands, "clock", fixed)
    return fixed


@pytest.fixture
def ctx(store, clock):
    """A slash command in public C1 by U1, whose Slack time zone is Berlin, over the one store
    fixture (tests/conftest.py). Tests shape it further (an admin, named channels) between asks."""
    return Asker(store).context("command", user_tz="Europe/Berlin")


async def ask(ctx, text):
    """The router's reply for this very context (conftest's `ask` builds a fresh one each time)."""
    return await dispatch(ctx, text)


# -- digest on ------------------------------------------------------------------------------------


async def test_on_defaults_to_monday_nine_in_the_persons_zone(ctx):
    ctx.user_tz = "America/New_York"
    reply = await ask(ctx, "digest on")
    assert not reply.is_error
    assert reply.intro == (
        "Weekly digest on for this channel: every Monday at 09:00 America/New_York. "
        "Next: Mon 30 Nov 09:00 America/New_York."
    )
    assert "Weeks without notes are skipped" in render_text(reply)
    sub = await ctx.services.store.get_subscription("T1", "C1")
    assert (sub.weekday, sub.hour, sub.minute, sub.tz, sub.subscriber) == (
        0,
        9,
        0,
        "America/New_York",
        "U1",
    )
    assert sub.next_run == utc(2026, 11, 30, 14)


@pytest.mark.parametrize("slack_tz", [None, "Mars/Olympus_Mons"])
async def test_on_without_a_usable_slack_zone_uses_utc_and_says_so(ctx, slack_tz):
    ctx.user_tz = slack_tz
    reply = await ask(ctx, "digest on")
    assert "every Monday at 09:00 UTC" in reply.intro
    [warning] = [n for n in reply.notices if n.level == "warning"]
    assert "couldn't read your Slack time zone, so this digest uses UTC" in warning.text
    assert "/smx digest on mon 09:00 Europe/Berlin" in warning.text


@pytest.mark.parametrize(
    "text,expected",
    [
        ("digest on fri 16:30 Europe/Berlin", "every Friday at 16:30 Europe/Berlin"),
        ("digest on 16:30 europe/berlin Friday", "every Friday at 16:30 Europe/Berlin"),
        ("digest on every tuesday at 9am", "every Tuesday at 09:00 Europe/Berlin"),
        ("digest on thu 4:30 pm Asia/Kolkata", "every Thursday at 16:30 Asia/Kolkata"),
        ("digest on sun 12am utc", "every Sunday at 00:00 UTC"),
        ("digest on wed 7", "every Wednesday at 07:00 Europe/Berlin"),
    ],
)
async def test_on_reads_its_words_in_any_order(ctx, text, expected):
    reply = await ask(ctx, text)
    assert not reply.is_error, reply.intro
    assert expected in reply.intro


INSIDE = Named(kind="public", shared_externally=False, member=True)  # as the Slack face finds it


async def test_on_for_another_channel_and_with_empty_weeks(ctx):
    ctx.named["C2"] = INSIDE
    reply = await ask(ctx, "digest on <#C2|marketing> fri 16:00 empty=yes")
    assert "for channel `C2`" in reply.intro
    sub = await ctx.services.store.get_subscription("T1", "C2")
    assert sub.include_empty and sub.weekday == 4
    assert "Weeks without notes are skipped" not in render_text(reply)
    status = await ask(ctx, "digest status <#C2|marketing>")
    assert "Empty weeks  posted" in render_text(status)


async def test_on_again_updates_the_schedule_and_keeps_one_subscription(ctx):
    await ask(ctx, "digest on mon 09:00")
    again = await ask(ctx, "digest on fri 17:00")
    assert again.intro.startswith("Weekly digest updated for this channel: every Friday at 17:00")
    assert again.data["created"] is False


async def test_a_new_day_and_time_keep_the_zone_the_digest_was_set_in(ctx):
    ctx.user_tz = "America/New_York"  # the person's own zone is not the digest's
    await ask(ctx, "digest on fri 16:30 Europe/Berlin")
    again = await ask(ctx, "digest on friday 4:30pm")
    assert again.intro.startswith(
        "Weekly digest updated for this channel: every Friday at 16:30 Europe/Berlin."
    )
    sub = await ctx.services.store.get_subscription("T1", "C1")
    assert sub.tz == "Europe/Berlin"
    named = await ask(ctx, "digest on mon 09:00 UTC")
    assert "every Monday at 09:00 UTC" in named.intro


async def test_a_new_day_keeps_empty_weeks_as_they_were_set_unless_said_again(ctx):
    await ask(ctx, "digest on fri 16:30 empty=yes")
    await ask(ctx, "digest on mon")
    assert (await ctx.services.store.get_subscription("T1", "C1")).include_empty
    await ask(ctx, "digest on tue empty=no")
    assert not (await ctx.services.store.get_subscription("T1", "C1")).include_empty


BAD_INPUT = [
    (
        "digest on funday",
        "`funday` is not a day of the week. Did you mean `sunday`? Use mon, tue, wed, thu, fri, "
        "sat or sun, e.g. `/smx digest on sun 09:00`.",
    ),
    (
        "digest on 25:00",
        "`25:00` is not a time of day. Give it as HH:MM on a 24-hour clock, e.g. `09:00` or "
        "`16:30` (or `9am`, `4:30pm`): `/smx digest on fri 16:30`.",
    ),
    ("digest on 9:75", "`9:75` is not a time of day."),
    ("digest on 13pm", "`13pm` is not a time on a 12-hour clock."),
    ("digest on 9h30", "`9h30` is not a time."),
    (
        "digest on Europe/Berln",
        "`Europe/Berln` is not a time zone I know. Did you mean `Europe/Berlin`? Use an IANA "
        "name such as `Europe/Berlin`, `America/New_York` or `UTC`, e.g. "
        "`/smx digest on mon 09:00 Europe/Berlin`.",
    ),
    ("digest on PST", "An abbreviation such as PST or CET does not say when daylight saving"),
    ("digest on mon fri", "Give one day, not `mon` and `fri`: a digest goes out once a week."),
    ("digest on 09:00 10:00", "Give one time, not two (`10:00` is the second)."),
    ("digest on UTC Europe/Berlin", "Give one time zone, not `UTC` and `Europe/Berlin`."),
    ("digest on empty=maybe", "say `empty=yes` to post weeks without notes too, or `empty=no`."),
    ("digest on xyzzy", "I don't understand `xyzzy` in `digest on`."),
    (
        "digest on fri 16:30 Berlin",
        "`Berlin` is a city, not a time zone name. Did you mean `Europe/Berlin`? Type "
        "`/smx digest on fri 16:30 Europe/Berlin`.",
    ),
    (
        "digest on mon 9 am tokyo",
        "Did you mean `Asia/Tokyo`? Type `/smx digest on mon 9am Asia/Tokyo`.",
    ),
    (
        "digest off",
        "This channel has no weekly digest to turn off. Start one with `/smx digest on` "
        "(Monday 09:00 in your time zone) or e.g. `/smx digest on fri 16:00 Europe/Berlin`.",
    ),
    ("digest pause", "This channel has no weekly digest to pause."),
    ("digest resume", "This channel has no weekly digest to resume."),
    ("digest frob", "`digest frob` is not something I can do."),
    ("digest status now", "`digest status` takes only a channel, not `now`"),
]


@pytest.mark.parametrize("text,message", BAD_INPUT, ids=[t for t, _ in BAD_INPUT])
async def test_every_bad_input_gets_a_sentence_that_says_what_to_type(ctx, text, message):
    reply = await ask(ctx, text)
    assert reply.is_error
    assert message in reply.intro
    assert await ctx.services.store.get_subscription("T1", "C1") is None


async def test_an_unresolved_channel_name_in_slack_says_what_to_do(ctx):
    reply = await ask(ctx, "digest on #nowhere")
    assert reply.is_error
    assert "I can't find the channel `#nowhere`" in reply.intro


# -- status, pause, resume, off --------------------------------------------------------------------


async def test_status_says_the_next_run_in_local_time_with_the_zone(ctx):
    await ask(ctx, "digest on")
    reply = await ask(ctx, "digest status")
    assert reply.intro == (
        "Weekly digest for this channel, every Monday at 09:00 Europe/Berlin; "
        "next: Mon 30 Nov 09:00 Europe/Berlin."
    )
    assert reply.data["next_local"] == "Mon 30 Nov 09:00 Europe/Berlin"
    plain = await ask(ctx, "digest")  # alone: the status
    assert plain.intro == reply.intro


async def test_status_without_a_digest_says_how_to_start_one(ctx):
    reply = await ask(ctx, "digest status")
    assert not reply.is_error
    assert "has no weekly digest. Start one with `/smx digest on`" in reply.intro


async def test_status_shows_the_last_run_and_why_it_is_paused(ctx, clock):
    await ctx.services.store.add_note(note("C1", NOW))
    await ask(ctx, "digest on")
    post = Recorder(clock)
    post.outcomes["C1"] = [Delivery("channel_gone", error="is_archived")]
    clock.set(utc(2026, 11, 30, 8, 0, 5))
    await Scheduler(ctx.services.store, post, clock=clock).tick()
    text = render_text(await ask(ctx, "digest status"))
    assert "paused (Slack answered `is_archived` when I posted on Mon 30 Nov" in text
    assert "Last" in text and "not posted: is_archived" in text


async def test_pause_resume_off_round_trip(ctx, clock):
    await ask(ctx, "digest on mon 09:00")
    paused = await ask(ctx, "digest pause")
    assert paused.intro.startswith("Paused the weekly digest for this channel")
    again = await ask(ctx, "digest pause")
    assert "already paused" in again.intro
    clock.advance(days=7)  # Wed 2 Dec: Monday 30 Nov passed while paused
    resumed = await ask(ctx, "digest resume")
    assert "Next: Mon 7 Dec 09:00 Europe/Berlin" in resumed.intro
    running = await ask(ctx, "digest resume")
    assert "already running" in running.intro
    gone = await ask(ctx, "digest off")
    assert gone.intro.startswith("Weekly digest off for this channel.")
    assert await ctx.services.store.get_subscription("T1", "C1") is None


async def test_a_week_already_posted_is_not_offered_again_after_re_subscribing(ctx, clock):
    await ctx.services.store.add_note(note("C1", NOW))
    await ask(ctx, "digest on wed 12:00")  # today, in an hour
    clock.set(utc(2026, 11, 25, 11, 0, 10))
    post = Recorder(clock)
    await Scheduler(ctx.services.store, post, clock=clock).tick()
    assert len(post.digests()) == 1
    await ask(ctx, "digest off")
    reply = await ask(ctx, "digest on fri 09:00")  # same ISO week: already has its digest
    assert "Next: Fri 4 Dec 09:00" in reply.intro


def someone(ctx, user="U2", channel="C9", *, is_admin=False, member_of=("C1",)):
    """The same workspace, another person typing in another channel; a member of `member_of`
    (as the Slack face would have found with conversations.members)."""
    return Context(
        team=ctx.team,
        user=user,
        channel=channel,
        channel_kind="public",
        surface="command",
        user_tz="Europe/Berlin",
        is_admin=is_admin,
        services=ctx.services,
        named={c: INSIDE for c in member_of},
    )


@pytest.mark.parametrize(
    "text,doing",
    [
        ("digest off <#C1|general>", "turn off"),
        ("digest pause <#C1|general>", "pause"),
        ("digest resume <#C1|general>", "resume"),
        ("digest on <#C1|general> fri 10:00", "change"),
    ],
)
async def test_another_channels_digest_is_changed_only_by_its_subscriber_or_an_admin(
    ctx, text, doing
):
    await ask(ctx, "digest on mon 09:00")  # U1 sets up C1's digest
    if "resume" in text:
        await ask(ctx, "digest pause")
    before = await ctx.services.store.get_subscription("T1", "C1")
    stranger = await ask(someone(ctx), text)
    assert stranger.is_error
    action = text.split()[1]
    assert stranger.intro == (
        f"Only the person who set it up or a workspace admin can {doing} the digest of channel "
        f"`C1` from another channel. Type `/smx digest {action}` in that channel instead."
    )
    assert await ctx.services.store.get_subscription("T1", "C1") == before
    # Its subscriber may, from anywhere; so may an admin.
    assert not (await ask(someone(ctx, user="U1"), text)).is_error
    await ask(ctx, "digest on mon 09:00")
    if "resume" in text:
        await ask(ctx, "digest pause")
    assert not (await ask(someone(ctx, user="U3", is_admin=True), text)).is_error


async def test_anyone_in_the_channel_manages_its_digest(ctx):
    await ask(ctx, "digest on mon 09:00")
    neighbour = someone(ctx, channel="C1")
    assert (await ask(neighbour, "digest pause")).intro.startswith("Paused the weekly digest")


async def test_now_for_another_channel_is_refused_to_others(ctx):
    await ctx.services.store.add_note(note("C1", NOW - timedelta(minutes=1)))
    sent = []

    async def post(channel, reply):
        sent.append(channel)
        return Delivery("posted", ts="1.1", messages=1)

    reply = await commands.post_now(someone(ctx), ["<#C1|general>"], post)
    assert reply.is_error and "Only a workspace admin can post the digest of channel `C1`" in (
        reply.intro
    )
    await ask(ctx, "digest on")
    reply = await commands.post_now(someone(ctx), ["<#C1|general>"], post)
    assert reply.is_error and "Only the person who set it up or a workspace admin" in reply.intro
    assert sent == []
    reply = await commands.post_now(someone(ctx, user="U1"), ["<#C1|general>"], post)
    assert not reply.is_error and sent == ["C1"]


async def test_status_of_another_channel_does_not_name_its_people(ctx, clock):
    await ask(ctx, "digest on mon 09:00")
    await ask(ctx, "digest pause")  # "paused by U1 on ..."
    inside = render_text(await ask(someone(ctx, channel="C1"), "digest status"))
    assert re.search(r"Set up by +U1", inside) and "paused by U1 on" in inside
    outside = await ask(someone(ctx), "digest status <#C1|general>")
    text = render_text(outside)
    assert "U1" not in text and "Set up by" not in text
    assert "paused (paused on Wed 25 Nov" in text
    assert outside.data["subscription"]["subscriber"] is None
    assert "U1" not in str(outside.data)
    admin = render_text(await ask(someone(ctx, is_admin=True), "digest status <#C1|general>"))
    assert re.search(r"Set up by +U1", admin)


async def test_status_from_outside_tells_non_members_nothing_of_its_weeks(ctx, clock):
    await ctx.services.store.add_note(note("C1", NOW))
    await ask(ctx, "digest on wed 12:00")
    clock.set(utc(2026, 11, 25, 11, 0, 10))
    await Scheduler(ctx.services.store, Recorder(clock), clock=clock).tick()
    member = render_text(await ask(someone(ctx), "digest status <#C1|general>"))
    assert "Last" in member and "posted" in member
    outsider = render_text(await ask(someone(ctx, member_of=()), "digest status <#C1|general>"))
    assert "every Wednesday at 12:00" in outsider
    assert "Last" not in outsider and "posted" not in outsider and "U1" not in outsider


async def test_a_non_member_may_not_manage_another_channels_digest(ctx):
    await ask(ctx, "digest on mon 09:00")
    before = await ctx.services.store.get_subscription("T1", "C1")
    for text in ("digest pause <#C1|general>", "digest off <#C1|general>"):
        reply = await ask(someone(ctx, user="U1", member_of=()), text)  # its subscriber, left it
        assert reply.is_error and "or a workspace admin can" in reply.intro
        assert "If you are in it, type `/smx digest" in reply.intro
    assert await ctx.services.store.get_subscription("T1", "C1") == before
    new = await ask(someone(ctx, member_of=()), "digest on <#C2|marketing>")
    assert new.is_error and await ctx.services.store.get_subscription("T1", "C2") is None


# -- preview and now ----------------------------------------------------------------------------


async def test_preview_is_only_for_the_asker_and_shows_what_the_channel_may_see(ctx):
    store = ctx.services.store
    await store.add_note(note("C1", NOW - timedelta(days=1), "team news spend=$400"))
    await store.add_note(note("D9", NOW - timedelta(days=1), "my private thought", kind="im"))
    await store.add_note(note("C1", NOW - timedelta(days=9), "too old"))
    reply = await ask(ctx, "digest preview")
    assert reply.share is False and not reply.is_error
    text = render_text(reply)
    assert "team news" in text and "private thought" not in text and "too old" not in text
    assert "Only you can see this preview of the last 7 days." in text


async def test_preview_of_another_channel_is_refused_as_its_notes_may_be_private(ctx):
    await ctx.services.store.add_note(note("G9", NOW - timedelta(days=1), "secret", kind="private"))
    reply = await ask(ctx, "digest preview <#G9|secret-plans>")
    assert reply.is_error
    assert reply.intro == (
        "A preview shows notes that may be private to that channel, so it works only inside it: "
        "type `/smx digest preview` there."
    )


async def test_preview_of_an_empty_week_says_it_would_be_skipped(ctx):
    reply = await ask(ctx, "digest preview")
    assert "No notes were logged here" in reply.intro
    assert "A week like this is skipped, not posted" in render_text(reply)


async def test_now_in_the_console_shows_the_digest(ctx):
    ctx.surface = "console"
    await ctx.services.store.add_note(note("C1", NOW - timedelta(minutes=1)))
    reply = await ask(ctx, "digest now")
    assert "Reel got 3x saves" in render_text(reply)
    assert "In Slack, `/smx digest now` posts this in the channel." in reply.footnotes


async def test_post_now_posts_through_the_function_it_is_given(ctx):
    await ctx.services.store.add_note(note("C1", NOW - timedelta(minutes=1)))
    sent = []

    async def post(channel, reply):
        sent.append((channel, reply))
        return Delivery("posted", ts="1.1", messages=1)

    reply = await commands.post_now(ctx, [], post)
    assert reply.intro == "Posted the digest of the last 7 days (1 note) in this channel."
    assert sent[0][0] == "C1" and "Reel got 3x saves" in render_text(sent[0][1])

    async def refused(channel, reply):
        return Delivery("channel_gone", error="not_in_channel")

    failed = await commands.post_now(ctx, [], refused)
    assert failed.is_error and "Invite me with `/invite @smx`" in failed.intro


async def test_post_now_with_nothing_to_post_posts_nothing(ctx):
    async def post(channel, reply):  # pragma: no cover - must not be called
        raise AssertionError("posted an empty digest")

    reply = await commands.post_now(ctx, [], post)
    assert reply.intro.startswith("Nothing to post: no notes were logged in this channel")


# -- what it looks like -----------------------------------------------------------------------------


async def test_a_long_digest_fits_slacks_limits_message_by_message(ctx):
    store = ctx.services.store
    for i in range(70):  # more campaigns than the digest gives sections to
        for j in range(4):
            await store.add_note(
                note(
                    "C1",
                    NOW - timedelta(hours=i + j, minutes=1),
                    f"<!here> {'x' * 600} take {j} @channel <@U99|boss>",
                    campaign=f"camp-{i:02d}",
                    platform="instagram",
                    spend=100.0 + i,
                    currency="$",
                    impressions=10_000.0 + i,
                    clicks=150.0,
                    conversions=3.0,
                )
            )
    reply = await ask(ctx, "digest preview")
    assert len(render_blocks(reply)) <= 50  # the preview is cut to one message
    parts = split(reply)
    assert len(parts) >= 3
    # The first message holds the summary: the counts and the realised figures vs. the range.
    head = render_text(parts[0])
    assert "280 notes" in head and "70 campaigns" in head
    # Realised figures against the platform's published range (figures from knowledge/).
    assert re.search(r"CPM \$[\d.,]+, (over|under|within) the (published|typical) \$", head)
    assert re.search(
        r"CTR [\d.]+%, (below|within|above) the published range [\d.]+%–[\d.]+%, typical [\d.]+%",
        head,
    )
    assert "Per-campaign highlights are in the thread." in head
    for part in parts:
        blocks = render_blocks(part)
        assert_message_ok(blocks, fallback_text(part))
        flat = str(blocks) + fallback_text(part)
        assert "<!here>" not in flat and "<@U99" not in flat and "@channel" not in flat
    shown = sum(len(p.sections) for p in parts[1:])
    assert shown == 60  # HIGHLIGHT_CAMPAIGNS, the rest counted in a footnote
    assert "10 more campaigns had notes" in render_text(parts[0])


async def test_help_lists_the_digest_commands(ctx):
    text = render_text(await ask(ctx, "help"))
    assert "digest on [#channel] [DAY] [HH:MM] [TZ] [empty=yes]" in text
    assert "digest on|off|pause|resume|status|preview|now [#channel]" in text


def test_the_digest_names_a_published_range_as_the_listing_does():
    from bot.digest.compose import _published
    from knowledge import benchmarks_for

    linkedin = benchmarks_for("linkedin")["cpm"]
    assert _published("cpm", linkedin) == (
        f"published range ${linkedin.low:g}–${linkedin.high:g} USD, typical ${linkedin.typical:.2f}"
    )
    facebook = benchmarks_for("facebook")["cpa"]  # published for lead-ad campaigns only
    assert _published("cpa", facebook).endswith("(lead ads campaigns only)")


async def test_the_digest_sums_a_campaign_in_two_currencies_in_each(ctx):
    store = ctx.services.store
    for _ in range(3):
        await store.add_note(
            note("C1", NOW - timedelta(days=1), "usd", campaign="mix", spend=250.0, currency="$")
        )
    await store.add_note(
        note("C1", NOW - timedelta(days=1), "eur", campaign="mix", spend=300.0, currency="€")
    )
    await store.add_note(
        note("C1", NOW - timedelta(days=1), "other", campaign="solo", spend=1800.0, currency="$")
    )
    reply = await ask(ctx, "digest preview")
    spend = next(f.value for f in reply.facts if f.label == "Spend")
    assert spend == "$2,550 + €300"  # nothing left out as "more in mixed currencies"
    assert reply.data["digest"]["spend"] == {"$": 2550.0, "€": 300.0}


async def test_the_digest_shows_the_targets_the_channel_may_see(ctx):
    store = ctx.services.store
    await store.add_note(
        note("C1", NOW - timedelta(days=1), "week", campaign="spring", spend=300.0, currency="$",
             conversions=10.0)
    )  # fmt: skip
    await ask(ctx, "target spring cpa<=20")
    private = Context(**{**ctx.__dict__, "channel": "G5", "channel_kind": "private"})
    await ask(private, "target spring spend<=$100")  # G5's own: not for C1's digest
    reply = await ask(ctx, "digest preview")
    section = next(s for s in reply.sections if s.heading == "Targets")
    assert section.text == "• *spring*: CPA ≤ $20: off track · $30 this week"
