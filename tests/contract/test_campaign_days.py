"""A campaign's figures per UTC day, platform and currency (the campaign chart's read), on every
backend: one row per group, ratios paired within notes, the listing's privacy rule."""

from __future__ import annotations

from datetime import timedelta

from bot.store import Origin, Viewer
from tests.support.contract import T0, note


async def test_days_are_summed_per_platform_and_currency_with_paired_ratios(store) -> None:
    day2 = T0 + timedelta(days=1)
    for n in (
        note(spend=100.0, currency="$", impressions=10_000.0, clicks=100.0, platform="instagram"),
        note(spend=50.0, currency="$", platform="instagram", created_at=T0 + timedelta(hours=3)),
        note(clicks=40.0, impressions=2_000.0, platform="instagram"),
        note(spend=80.0, currency="€", impressions=8_000.0, platform="facebook"),
        note(spend=30.0, currency="$", conversions=3.0, created_at=day2),
        note(spend=999.0, currency="$", campaign="other-one"),
    ):
        if n.created_at is None:
            n = note(**{**n.__dict__, "created_at": T0})
        await store.add_note(n)
    days = await store.campaign_days(Viewer("T1", "C1"), campaign="spring-launch")
    keys = [(d.day, d.platform, d.currency) for d in days]
    assert keys == [
        ("2025-03-03", "facebook", "€"),
        ("2025-03-03", "instagram", None),
        ("2025-03-03", "instagram", "$"),
        ("2025-03-04", None, "$"),
    ]
    fb, ig_none, ig_usd, day_two = days
    assert fb.spend == 80.0 and fb.spend_per_impression == (80.0, 8_000.0) and fb.notes == 1
    assert ig_none.spend is None and ig_none.clicks_per_impression == (40.0, 2_000.0)
    # The $50 with no impressions is spend, but no part of the CPM's pair.
    assert ig_usd.spend == 150.0 and ig_usd.notes == 2
    assert ig_usd.spend_per_impression == (100.0, 10_000.0)
    assert ig_usd.spend_per_click == (100.0, 100.0) and ig_usd.spend_per_conversion is None
    assert day_two.spend_per_conversion == (30.0, 3.0)
    assert all(d.origins == (Origin("T1", "C1", "public", "U1"),) for d in days)


async def test_days_hold_only_the_notes_the_viewer_may_read(store) -> None:
    await store.add_note(note(spend=10.0, currency="$", created_at=T0))
    await store.add_note(
        note(spend=20.0, currency="$", created_at=T0, channel="G1", channel_kind="private",
             author="U2")
    )  # fmt: skip
    await store.add_note(
        note(spend=40.0, currency="$", created_at=T0, channel="D9", channel_kind="im", author="U1")
    )
    await store.add_note(note(spend=80.0, currency="$", created_at=T0, team="T2", workspace="T2"))

    async def spend(viewer: Viewer) -> float:
        days = await store.campaign_days(viewer, campaign="spring-launch")
        return sum(d.spend or 0 for d in days)

    assert await spend(Viewer("T1", "C1")) == 10.0  # the channel: public notes only
    assert await spend(Viewer("T1", "G1")) == 30.0  # the private channel: its own too
    assert await spend(Viewer("T1", "C1", "U1")) == 50.0  # U1 alone: their DM note too
    assert await spend(Viewer("T1", "G1", confined=True)) == 20.0  # shared: its own only
    assert await spend(Viewer("T2", "C1")) == 80.0
    (day,) = await store.campaign_days(Viewer("T1", "G1"), campaign="spring-launch")
    assert set(day.origins) == {
        Origin("T1", "C1", "public", "U1"),
        Origin("T1", "G1", "private", "U2"),
    }


async def test_a_campaign_with_no_notes_has_no_days_and_a_window_narrows_them(store) -> None:
    assert await store.campaign_days(Viewer("T1", "C1"), campaign="spring-launch") == []
    for d in range(3):
        await store.add_note(note(spend=1.0, currency="$", created_at=T0 + timedelta(days=d)))
    days = await store.campaign_days(
        Viewer("T1", "C1"), campaign="spring-launch", since=T0 + timedelta(days=1)
    )
    assert [d.day for d in days] == ["2025-03-04", "2025-03-05"]
