"""The scheduler's claims and windows for a page of subscriptions, worked out once per distinct
slot (or due moment and zone), say exactly what they say worked out one subscription at a time."""

from __future__ import annotations

import random
from datetime import timedelta

from bot.digest.scheduler import _claims_of, _digests_of
from bot.store import DigestRun
from tests.support.digest_support import subscription, utc

ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "UTC")


def _page(now, count=120):
    rng = random.Random(5)
    return [
        subscription(
            f"C{i}",
            now - timedelta(days=rng.randint(0, 8), hours=rng.randint(0, 23)),
            team=f"T{i % 7}",
            weekday=rng.randrange(7),
            hour=rng.choice([0, 2, 9, 23]),
            minute=rng.choice([0, 30, 45]),
            tz=rng.choice(ZONES),
        )
        for i in range(count)
    ]


def test_claims_of_a_page_equal_each_subscription_claimed_alone():
    # Across a daylight-saving change (Europe, 25 Oct 2026) and at ordinary moments.
    for now in (utc(2026, 10, 25, 1, 30), utc(2026, 11, 30, 8, 0, 30), utc(2026, 3, 8, 7)):
        subs = _page(now)
        together = _claims_of(subs, now)
        assert together == [_claims_of([s], now)[0] for s in subs]
        assert len({c.sub.channel for c in together}) == len(subs)  # each its own claim


def test_windows_of_a_page_equal_each_run_alone():
    now = utc(2026, 11, 30, 8, 0, 30)
    subs = _page(now)
    claims = _claims_of(subs, now)
    claimed = [
        (
            DigestRun(
                team=c.sub.team, channel=c.sub.channel, week=c.week, due=c.due,
                state="claimed", late=c.late, claimed_by="A", claimed_at=now, attempts=1,
            ),
            c.sub,
        )
        for c in claims
    ]  # fmt: skip
    together = _digests_of(claimed)
    assert together == [_digests_of([pair])[0] for pair in claimed]
    # Runs due at one moment in one zone share their Window; other zones have their own.
    by_key = {(run.due, sub.tz): d.window for (run, sub), d in zip(claimed, together, strict=True)}
    for (run, sub), d in zip(claimed, together, strict=True):
        assert d.window is by_key[(run.due, sub.tz)] and d.window.tz == sub.tz
