"""The batch read of many channels' weeks (`week_activities`) against one `week_activity` per
channel, on every backend: the same totals, contributors and highlights, and the same privacy.

The data mixes three teams (one with nothing in the window), team-wide notes (public and
console), private channels, DMs and group DMs, notes just outside the window, mixed currencies,
a platform name holding a comma, and channels with nothing of their own. The readers are every
channel as a digest reads it, the same channels confined (Slack Connect: their own notes only),
a person's own view (their private notes from elsewhere too), and channels nobody wrote in.

Every figure is a multiple of 1/4, so sums are exact whatever order they are added in; every
note has its own time, so no two campaigns tie on spend and newest note (the one order the
per-channel SQL leaves to the database).
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

from bot.store import Viewer
from bot.store.base import PUBLIC_KINDS
from tests.support.contract import T0, note

SINCE = T0
UNTIL = T0 + timedelta(days=7)
TEAMS = ("T1", "T2")
CHANNELS = {  # channel -> kind, per team
    "C1": "public",
    "C2": "public",
    "G1": "private",
    "G2": "private",
    "D1": "im",
    "M1": "mpim",
    "console": "console",
}
CAMPAIGNS = ("spring", "summer", "brand", "q3")
PEOPLE = ("U1", "U2", "U3")
PLATFORMS = ("instagram", "tiktok", "meta, ads", None)


def dataset(seed: int = 7, count: int = 300):
    rng = random.Random(seed)
    out = []
    for i in range(count):
        team = rng.choice(TEAMS)
        channel = rng.choice(sorted(CHANNELS))
        money = rng.random() < 0.7
        # Inside the window mostly; some just before it and some at its (exclusive) end.
        offset = rng.choice([-1, 0, 0, 0, 0, 0, 1]) * timedelta(days=7)
        at = SINCE + offset + timedelta(seconds=600 * i + 1)
        out.append(
            note(
                f"{team}-{channel}-nt{i} @here <!channel>",
                team=team,
                workspace=team,
                channel=channel,
                channel_kind=CHANNELS[channel],
                author=rng.choice(PEOPLE),
                campaign=rng.choice(CAMPAIGNS),
                created_at=at,
                platform=rng.choice(PLATFORMS),
                spend=rng.randint(1, 4000) / 4 if money else None,
                currency=rng.choice(["$", "$", "$", "€"]) if money else None,
                impressions=float(rng.randint(0, 90_000)) if money else None,
                clicks=float(rng.randint(0, 900)) if rng.random() < 0.8 else None,
                conversions=float(rng.randint(0, 30)) if rng.random() < 0.5 else None,
                # Other metrics on some: the quoted notes carry them as week_activity reads them.
                metrics={"revenue": i / 4, "reach": 10.0} if i % 5 == 0 else {},
            )
        )
    # The window's edges: the first instant is in, the last is out.
    out.append(note("T1-C1-edge-in", created_at=SINCE, campaign="edge"))
    out.append(note("T1-C1-edge-out", created_at=UNTIL, campaign="edge"))
    return out


def readers() -> list[Viewer]:
    found = []
    for team in (*TEAMS, "T3"):
        for channel in (*sorted(CHANNELS), "C-empty"):
            found.append(Viewer(team, channel))
            found.append(Viewer(team, channel, confined=True))
        found.append(Viewer(team, "C1", user="U2"))
    return found


def comparable(activity):
    """A WeekActivity with its origins as sets (their order is the database's)."""
    return (
        [(*_fields(t), frozenset(t.origins)) for t in activity.totals],
        activity.contributors,
        activity.highlights,
    )


def _fields(t):
    return (
        t.campaign, t.notes, t.platforms, t.currencies, t.spend, t.impressions, t.clicks,
        t.conversions, t.spend_per_impression, t.spend_per_click, t.clicks_per_impression,
        t.spend_per_conversion,
    )  # fmt: skip


def may_see(viewer: Viewer, team: str, channel: str, kind: str, author: str) -> bool:
    if team != viewer.team:
        return False
    if viewer.confined:
        return channel == viewer.channel
    return kind in PUBLIC_KINDS or channel == viewer.channel or author == viewer.user


async def filled(store):
    notes = dataset()
    for n in notes:
        await store.add_note(n)
    return notes


async def test_the_batch_read_equals_one_read_per_channel(store) -> None:
    await filled(store)
    viewers = readers()
    one_by_one = [
        await store.week_activity(v, since=SINCE, until=UNTIL, per_campaign=3) for v in viewers
    ]
    batch = await store.week_activities(viewers, since=SINCE, until=UNTIL, per_campaign=3)
    assert len(batch) == len(viewers)
    for viewer, alone, together in zip(viewers, one_by_one, batch, strict=True):
        assert comparable(together) == comparable(alone), viewer
    # The data reached every case: channels with notes of their own, empty ones, other teams.
    by = dict(zip(viewers, batch, strict=True))
    assert by[Viewer("T1", "G1")].notes > by[Viewer("T1", "C-empty")].notes > 0
    assert by[Viewer("T3", "C1")].notes == 0 and by[Viewer("T3", "C1")].totals == []
    assert by[Viewer("T1", "C-empty", confined=True)].notes == 0
    assert 0 < by[Viewer("T1", "G1", confined=True)].notes < by[Viewer("T1", "G1")].notes
    # The platform with a comma in its name (SQLite's reading splits it, PostgreSQL's keeps it).
    assert any("ads" in p for t in by[Viewer("T1", "C1")].totals for p in t.platforms)


async def test_the_batch_read_shows_each_channel_only_what_it_may_see(store) -> None:
    notes = await filled(store)
    viewers = readers()
    batch = await store.week_activities(viewers, since=SINCE, until=UNTIL, per_campaign=50)
    for viewer, activity in zip(viewers, batch, strict=True):
        visible = [
            n
            for n in notes
            if SINCE <= n.created_at < UNTIL
            and may_see(viewer, n.team, n.channel, n.channel_kind, n.author)
        ]
        assert activity.notes == len(visible), viewer
        for t in activity.totals:
            for o in t.origins:
                assert may_see(viewer, o.team, o.channel, o.channel_kind, o.author), (viewer, o)
        shown = [n for ns in activity.highlights.values() for n in ns]
        for n in shown:
            assert may_see(viewer, n.team, n.channel, n.channel_kind, n.author), (viewer, n)
            assert n.text.startswith(f"{viewer.team}-")
        # per_campaign=50 is more than any campaign has: every visible note is quoted.
        assert sorted(n.id for n in shown) == sorted(
            n.id for n in await _ids(store, viewer, visible)
        )


async def _ids(store, viewer, visible):
    page = await store.list_notes(viewer, since=SINCE, until=UNTIL, limit=10_000)
    assert len(page.notes) == len(visible)
    return page.notes


async def test_the_batch_read_names_every_origin_of_a_week_once(store) -> None:
    """origin_groups, what a digest's sources count (bot/digest/compose.py): every origin of
    its totals once, in groups that share none; a team's channels share its group's object."""
    await filled(store)
    viewers = readers()
    batch = await store.week_activities(viewers, since=SINCE, until=UNTIL, per_campaign=3)
    for viewer, week in zip(viewers, batch, strict=True):
        if viewer.user is not None:
            continue  # read one by one (week_activity's SQL): no groups, its totals are gone through
        assert week.origin_groups is not None, viewer
        listed = [o for group in week.origin_groups for o in group]
        assert len(listed) == len(set(listed)), viewer
        assert set(listed) == {o for t in week.totals for o in t.origins}, viewer
        assert week.contributors == len({o.author for o in listed}), viewer
    by = dict(zip(viewers, batch, strict=True))
    first, second = by[Viewer("T1", "C1")], by[Viewer("T1", "G1")]
    assert first.origin_groups[0] is second.origin_groups[0]  # the team's team-wide notes
    assert len(second.origin_groups) == 2 and second.origin_groups[1]  # and G1's own


async def test_the_batch_read_of_nobody_and_of_repeated_channels(store) -> None:
    await filled(store)
    assert await store.week_activities([], since=SINCE, until=UNTIL) == []
    twice = [Viewer("T1", "G1"), Viewer("T2", "C1"), Viewer("T1", "G1")]
    first, other, again = await store.week_activities(twice, since=SINCE, until=UNTIL)
    assert comparable(first) == comparable(again) and first.notes > 0
    assert comparable(other) == comparable(
        await store.week_activity(Viewer("T2", "C1"), since=SINCE, until=UNTIL)
    )
    nothing = await store.week_activities(
        [Viewer("T1", "C1")], since=UNTIL + timedelta(days=30), until=UNTIL + timedelta(days=37)
    )
    assert nothing[0].notes == 0 and nothing[0].contributors == 0 and not nothing[0].highlights


async def test_the_batch_read_in_chunks_equals_one_read(store, monkeypatch) -> None:
    from bot.store import digests

    await filled(store)
    viewers = readers()
    whole = await store.week_activities(viewers, since=SINCE, until=UNTIL)
    monkeypatch.setattr(digests, "TEAM_CHUNK", 1)  # a query per team: chunks meet nowhere
    chunked = await store.week_activities(viewers, since=SINCE, until=UNTIL)
    assert [comparable(a) for a in chunked] == [comparable(a) for a in whole]


# -- the scheduler's pass over many due subscriptions, and its batched claims and moves ----------


async def test_a_pass_over_many_due_channels_posts_each_once_with_what_its_channel_may_see(
    store, monkeypatch
) -> None:
    from bot.digest import scheduler as module
    from bot.digest.compose import Window, compose
    from bot.digest.slots import week_before
    from tests.support.digest_support import Clock, Recorder, subscription, utc
    from tests.support.digest_support import note as digest_note

    monkeypatch.setattr(module, "DUE_PAGE", 16)  # several pages, a team's channels across two
    clock = Clock(utc(2026, 11, 25, 12))
    post = Recorder(clock)
    channels = [(f"T{t}", f"C{t}x{c}") for t in range(3) for c in range(12)]
    for t in range(3):
        await store.add_note(digest_note("C-any", clock.now, f"team-wide-of-T{t}", team=f"T{t}"))
    for i, (team, channel) in enumerate(channels):
        if i % 5 == 4:
            continue  # nothing of its own: the team's week only
        await store.add_note(
            digest_note(
                channel,
                clock.now + timedelta(minutes=i),
                f"private-{channel} <!here>",
                team=team,
                kind="private",
                campaign=f"c{i % 3}",
                spend=float(i),
                impressions=1000.0 * (i + 1),
            )
        )
    for team, channel in channels:
        await store.save_subscription(subscription(channel, clock.now, team=team))
    await store.save_subscription(subscription("C-none", clock.now, team="T9"))  # empty: skipped
    clock.set(utc(2026, 11, 30, 8, 0, 30))  # Monday 09:00:30 in Berlin
    report = await module.Scheduler(store, post, clock=clock).tick()

    assert report.claimed == len(channels) + 1
    assert report.outcomes == {"posted": len(channels), "skipped": 1}
    posted = post.digests()
    assert sorted(p.channel for p in posted) == sorted(c for _t, c in channels)  # each once
    due = utc(2026, 11, 30, 8)
    window = Window(week_before(due, "Europe/Berlin"), due, "Europe/Berlin")
    for p in posted:
        assert f"team-wide-of-{p.team}" in p.text
        assert [w for w in p.text.split() if w.startswith("private-")] in (
            [],
            [f"private-{p.channel}"],
        )
        assert "<!here>" not in p.text  # defused
        # What one compose() of that channel alone would have posted, to the figure.
        alone = await compose(store, team=p.team, channel=p.channel, window=window, week=p.week)
        assert p.text == render(alone)
        assert p.reply.data == alone.data
        assert sorted(map(repr, p.reply.sources)) == sorted(map(repr, alone.sources))
    runs = await store.list_runs()
    assert sorted(r.state for r in runs) == ["posted"] * len(channels) + ["skipped"]


def render(reply) -> str:
    from bot.reply import render_text

    return render_text(reply)


async def test_claims_in_one_batch_claim_each_subscription_once(backend) -> None:
    from bot.store.base import RunClaim
    from tests.support.digest_support import subscription, utc

    first, second = await backend.open(), await backend.open()
    now = utc(2026, 11, 30, 8, 0, 30)
    subs = []
    for i in range(30):
        await first.save_subscription(subscription(f"C{i}", utc(2026, 11, 25), team=f"T{i % 4}"))
        subs.append(await first.get_subscription(f"T{i % 4}", f"C{i}"))
    due = subs[0].next_run

    def claims(owner_subs):
        return [RunClaim(s, "2026-W49", due, False, due + timedelta(weeks=1)) for s in owner_subs]

    # C0's cadence moved since it was read (a stale copy); C1's week already has a run.
    await first.set_subscription_state("T0", "C0", "active", next_run=due + timedelta(hours=1))
    [pre] = await first.claim_runs(claims([subs[1]]), owner="X", now=now)
    assert pre is not None and pre.claimed_by == "X"
    a, b = await asyncio.gather(
        first.claim_runs(claims(subs), owner="A", now=now),
        second.claim_runs(claims(list(reversed(subs))), owner="B", now=now),
    )
    b.reverse()
    assert a[0] is None and b[0] is None and a[1] is None and b[1] is None
    for i in range(2, 30):
        got = [r for r in (a[i], b[i]) if r is not None]
        assert len(got) == 1, i  # exactly one of the two claimed it
        assert (got[0].team, got[0].channel, got[0].state) == (subs[i].team, f"C{i}", "claimed")
    runs = await first.list_runs()
    assert len(runs) == 29 and len({(r.channel, r.week) for r in runs}) == 29
    for s in subs[1:]:
        moved = await first.get_subscription(s.team, s.channel)
        assert moved.next_run == due + timedelta(weeks=1)
    assert await first.claim_runs([], owner="A", now=now) == []


async def test_run_moves_in_one_batch_are_each_a_compare_and_set_in_order(store) -> None:
    from bot.store.base import RunClaim, RunUpdate
    from tests.support.digest_support import subscription, utc

    now = utc(2026, 11, 30, 8, 0, 30)
    subs = []
    for i in range(3):
        await store.save_subscription(subscription(f"C{i}", utc(2026, 11, 25)))
        subs.append(await store.get_subscription("T1", f"C{i}"))
    due = subs[0].next_run
    runs = await store.claim_runs(
        [RunClaim(s, "2026-W49", due, False, due + timedelta(weeks=1)) for s in subs],
        owner="A",
        now=now,
    )
    r0, r1, r2 = runs
    done = await store.update_runs(
        [
            RunUpdate(r0, "A", ("claimed",), "sending", now, notes=4),
            RunUpdate(r0, "A", ("sending",), "posted", now, ts="1.0"),  # sees the move before it
            RunUpdate(r1, "B", ("claimed",), "sending", now),  # not its holder: refused
            RunUpdate(r2, "A", ("sending",), "posted", now),  # not in that state: refused
            RunUpdate(r2, "A", ("claimed",), "retry", now, error="x", retry_at=now),
        ]
    )
    assert done == [True, True, False, False, True]
    states = {r.channel: (r.state, r.ts, r.notes) for r in await store.list_runs()}
    assert states == {
        "C0": ("posted", "1.0", 4),
        "C1": ("claimed", None, None),
        "C2": ("retry", None, None),
    }
    assert await store.update_runs([]) == []
