"""The digest chart's four-week trend on every backend: each week's notes and spend by currency,
in the weeks given, read as the channel may see them, with every place counted named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.store import Viewer
from tests.support.contract import note

START = datetime(2026, 11, 2, 8, tzinfo=UTC)
EDGES = [START + timedelta(days=7 * i) for i in range(5)]


async def test_each_week_has_its_own_notes_and_spend_by_currency(store) -> None:
    at = [e + timedelta(hours=5) for e in EDGES[:4]]
    await store.add_note(note("w1", spend=100.0, currency="$", created_at=at[0]))
    await store.add_note(note("w1 too", spend=50.5, currency="$", created_at=at[0]))
    await store.add_note(note("w1 euro", spend=20.0, currency="€", created_at=at[0]))
    await store.add_note(note("w3, no spend", created_at=at[2]))
    await store.add_note(
        note("w4", spend=7.0, currency="$", created_at=EDGES[4] - timedelta(seconds=1))
    )
    # Outside the four weeks, each side: never counted.
    await store.add_note(
        note("before", spend=999.0, currency="$", created_at=EDGES[0] - timedelta(seconds=1))
    )
    await store.add_note(note("after", spend=999.0, currency="$", created_at=EDGES[4]))
    trend = await store.week_trend(Viewer("T1", "C1"), EDGES)
    assert [(w.since, w.until) for w in trend.weeks] == list(zip(EDGES, EDGES[1:], strict=False))
    assert [w.notes for w in trend.weeks] == [3, 0, 1, 1]
    assert [w.spend for w in trend.weeks] == [{"$": 150.5, "€": 20.0}, {}, {}, {"$": 7.0}]
    assert trend.origins == (("T1", "C1", "public", "U1"),)


async def test_only_what_the_channel_may_read_is_counted(store) -> None:
    at = EDGES[1] + timedelta(days=1)
    await store.add_note(
        note("here", channel="C1", channel_kind="private", created_at=at, spend=1.0, currency="$")
    )
    await store.add_note(note("team-wide", channel="C2", author="U2", created_at=at))
    await store.add_note(
        note(
            "elsewhere, private",
            channel="G9",
            channel_kind="private",
            created_at=at,
            spend=500.0,
            currency="$",
        )
    )
    await store.add_note(note("another team", team="T2", created_at=at, spend=500.0, currency="$"))
    trend = await store.week_trend(Viewer("T1", "C1"), EDGES)
    assert [w.notes for w in trend.weeks] == [0, 2, 0, 0]
    assert trend.weeks[1].spend == {"$": 1.0}
    assert sorted(trend.origins) == [("T1", "C1", "private", "U1"), ("T1", "C2", "public", "U2")]
    # The same channel read by a person: their private note elsewhere is theirs to see, but a
    # digest's chart is read as the whole channel (no user), as the digest is.
    assert [w.notes for w in (await store.week_trend(Viewer("T1", "C1", "U1"), EDGES)).weeks] == [
        0,
        3,
        0,
        0,
    ]
