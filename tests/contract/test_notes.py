"""Notes on every backend: adding and reading back, paging and time filters, totals that pair
figures from the same notes, team keying, private notes, the delete rules, concurrent adds."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.store import Viewer
from tests.support.contract import T0, note


async def test_a_note_reads_back_as_it_was_written(store) -> None:
    written = note(
        "Reel got 3x saves", platform="instagram", spend=412.5, currency="€",
        impressions=60_000.0, clicks=1_200.0, conversions=31.0,
        metrics={"revenue": 1_999.99, "ctr": 0.02}, created_at=T0,
        team="E1", workspace="W1", channel="G7", channel_kind="private", author="U3",
    )  # fmt: skip
    note_id = await store.add_note(written)
    got = await store.get_note(Viewer("E1", "G7"), note_id)
    assert got is not None and got.id == note_id
    for field in (
        "team", "workspace", "channel", "channel_kind", "author", "campaign", "text", "platform",
        "spend", "currency", "impressions", "clicks", "conversions", "metrics", "created_at",
    ):  # fmt: skip
        assert getattr(got, field) == getattr(written, field), field
    assert got.created_at.tzinfo is not None and got.created_at.utcoffset() == timedelta(0)


async def test_a_note_without_a_time_is_stamped_now_in_utc(store) -> None:
    before = datetime.now(UTC)
    note_id = await store.add_note(note())
    after = datetime.now(UTC)
    got = await store.get_note(Viewer("T1", "C1"), note_id)
    assert before - timedelta(seconds=1) <= got.created_at <= after + timedelta(seconds=1)
    assert got.metrics == {} and got.spend is None and got.platform is None


async def test_times_in_another_zone_are_stored_as_the_same_instant(store) -> None:
    from zoneinfo import ZoneInfo

    local = datetime(2025, 3, 3, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # 09:00 UTC
    note_id = await store.add_note(note(created_at=local))
    got = await store.get_note(Viewer("T1", "C1"), note_id)
    assert got.created_at == T0 and got.created_at.utcoffset() == timedelta(0)
    window = await store.list_notes(Viewer("T1", "C1"), since=T0, until=T0 + timedelta(seconds=1))
    assert [n.id for n in window.notes] == [note_id]


async def test_text_in_any_script_round_trips(store) -> None:
    text = 'été 中文 🚀‍🔥 e\u0301 <!channel> *bold* \' OR 1=1 -- "quoted" \\ back'
    note_id = await store.add_note(note(text, campaign="日本-launch"))
    got = await store.get_note(Viewer("T1", "C1"), note_id)
    assert got.text == text and got.campaign == "日本-launch"


async def test_listing_pages_newest_first_and_filters_by_time(store) -> None:
    ids = [
        await store.add_note(note(f"day {d}", created_at=T0 + timedelta(days=d))) for d in range(5)
    ]
    viewer = Viewer("T1", "C1")
    first = await store.list_notes(viewer, limit=2)
    second = await store.list_notes(viewer, limit=2, offset=2)
    last = await store.list_notes(viewer, limit=2, offset=4)
    assert first.total == second.total == last.total == 5
    assert [n.id for n in first.notes + second.notes + last.notes] == ids[::-1]
    recent = await store.list_notes(viewer, since=T0 + timedelta(days=3))
    assert [n.id for n in recent.notes] == [ids[4], ids[3]] and recent.total == 2
    window = await store.list_notes(
        viewer, since=T0 + timedelta(days=1), until=T0 + timedelta(days=2)
    )  # since inclusive, until exclusive
    assert [n.id for n in window.notes] == [ids[1]]
    assert [n.id for n in await store.export_notes(viewer)] == ids  # oldest first
    assert (await store.list_notes(viewer, offset=10)).notes == []


async def test_listing_and_export_by_campaign(store) -> None:
    spring = await store.add_note(note("a", created_at=T0))
    summer = await store.add_note(note("b", campaign="summer", created_at=T0 + timedelta(hours=1)))
    viewer = Viewer("T1", "C1")
    page = await store.list_notes(viewer, campaign="summer")
    assert [n.id for n in page.notes] == [summer] and page.total == 1
    assert [n.id for n in await store.export_notes(viewer, campaign="spring-launch")] == [spring]
    assert (await store.list_notes(viewer, campaign="autumn")).total == 0


async def test_campaign_totals_pair_figures_from_the_same_notes(store) -> None:
    await store.add_note(note(spend=400.0, currency="$", impressions=60_000.0, clicks=1_200.0))
    await store.add_note(note(spend=100.0, currency="$", platform="instagram"))  # no impressions
    await store.add_note(note(clicks=300.0, conversions=30.0, campaign="other"))
    spring, other = await store.campaign_totals(Viewer("T1", "C1"))  # most spend first
    assert spring.campaign == "spring-launch" and spring.notes == 2
    assert spring.spend == 500.0 and spring.platforms == ("instagram",)
    assert spring.currencies == ("$",)
    assert spring.spend_per_impression == (400.0, 60_000.0)  # the $100 had no impressions
    assert spring.spend_per_click == (400.0, 1_200.0)
    assert spring.clicks_per_impression == (1_200.0, 60_000.0)
    assert spring.spend_per_conversion is None
    assert other.spend is None and other.conversions == 30.0 and other.clicks == 300.0
    assert {o.author for o in spring.origins} == {"U1"}


async def test_campaign_totals_filter_by_campaign_and_time(store) -> None:
    await store.add_note(note(spend=10.0, created_at=T0))
    await store.add_note(note(spend=20.0, created_at=T0 + timedelta(days=2)))
    await store.add_note(note(spend=40.0, campaign="other", created_at=T0 + timedelta(days=2)))
    viewer = Viewer("T1", "C1")
    [late] = await store.campaign_totals(
        viewer, campaign="spring-launch", since=T0 + timedelta(days=1)
    )
    assert late.spend == 20.0 and late.notes == 1
    assert [t.campaign for t in await store.campaign_totals(viewer)] == ["other", "spring-launch"]
    assert await store.campaign_totals(viewer, until=T0) == []


async def test_week_activity_reads_totals_contributors_and_newest_highlights(store) -> None:
    for i in range(5):
        await store.add_note(
            note(f"spring {i}", author=f"U{i % 2}", spend=1.0, created_at=T0 + timedelta(hours=i))
        )
    await store.add_note(note("summer", campaign="summer", author="U9", created_at=T0))
    await store.add_note(note("outside", created_at=T0 + timedelta(days=8)))
    week = await store.week_activity(
        Viewer("T1", "C1"), since=T0, until=T0 + timedelta(days=7), per_campaign=2
    )
    assert week.notes == 6 and week.contributors == 3
    assert [n.text for n in week.highlights["spring-launch"]] == ["spring 4", "spring 3"]
    assert [n.text for n in week.highlights["summer"]] == ["summer"]


async def test_every_read_is_keyed_by_team(store) -> None:
    mine = await store.add_note(note("team one only"))
    other = Viewer("T2", "C1", "U1")  # same channel and user ids, another tenant
    assert await store.get_note(other, mine) is None
    assert (await store.list_notes(other)).total == 0
    assert await store.search_notes(other, "team") == []
    assert await store.export_notes(other) == []
    assert await store.campaign_totals(other) == []
    activity = await store.week_activity(
        other, since=datetime(2000, 1, 1, tzinfo=UTC), until=datetime(2100, 1, 1, tzinfo=UTC)
    )
    assert activity.notes == 0 and activity.contributors == 0
    assert await store.delete_note(other, mine, is_admin=True) == "missing"
    assert await store.get_note(Viewer("T1", "C9"), mine) is not None


async def test_private_notes_stay_in_their_conversation_and_with_their_author(store) -> None:
    dm = await store.add_note(note("dm idea", channel="D1", channel_kind="im", author="U1"))
    assert await store.get_note(Viewer("T1", "D1"), dm) is not None  # in that DM
    assert await store.get_note(Viewer("T1", "C1", "U1"), dm) is not None  # its author, privately
    assert await store.get_note(Viewer("T1", "C1"), dm) is None  # not in a channel-wide answer
    assert await store.get_note(Viewer("T1", "C1", "U2"), dm) is None  # nor to anyone else
    # A channel shared with another organisation sees only what was logged in it.
    public = await store.add_note(note("team-wide", channel="C2"))
    confined = Viewer("T1", "C1", "U1", confined=True)
    assert await store.get_note(confined, public) is None
    assert await store.get_note(confined, dm) is None
    here = await store.add_note(note("said in C1"))
    assert [n.id for n in (await store.list_notes(confined)).notes] == [here]


async def test_delete_is_for_the_author_or_an_admin_who_can_see_it(store) -> None:
    public = await store.add_note(note(author="U1"))
    assert await store.delete_note(Viewer("T1", "C1", "U2"), public, is_admin=False) == "forbidden"
    assert await store.delete_note(Viewer("T1", "C1", "U2"), public, is_admin=True) == "deleted"
    assert await store.delete_note(Viewer("T1", "C1", "U2"), public, is_admin=True) == "missing"
    assert await store.get_note(Viewer("T1", "C1"), public) is None
    hidden = await store.add_note(note(channel="G1", channel_kind="private", author="U1"))
    assert await store.delete_note(Viewer("T1", "C1", "U9"), hidden, is_admin=True) == "missing"
    assert await store.delete_note(Viewer("T1", "C5", "U1"), hidden, is_admin=False) == "deleted"
    # An answered id is never handed to another note, even after the newest was deleted.
    assert await store.add_note(note()) == hidden + 1


async def test_concurrent_adds_from_one_process_all_land(store) -> None:
    ids = await asyncio.gather(*(store.add_note(note(f"n{i}")) for i in range(200)))
    assert len(set(ids)) == 200
    exported = await store.export_notes(Viewer("T1", "C1"))
    assert sorted(n.id for n in exported) == sorted(ids)
    assert sorted(n.text for n in exported) == sorted(f"n{i}" for i in range(200))


async def test_two_stores_on_one_database_see_each_others_notes_at_once(backend, store) -> None:
    other = await backend.open()
    written = await asyncio.gather(
        *(
            s.add_note(note(f"from {j} {i}"))
            for i in range(50)
            for j, s in enumerate([store, other])
        )
    )
    assert len(set(written)) == 100
    for reader in (store, other):
        assert (await reader.list_notes(Viewer("T1", "C1"))).total == 100
    viewer = Viewer("T1", "C1", "U1")
    assert await other.delete_note(viewer, written[0], is_admin=False) == "deleted"
    assert await store.get_note(viewer, written[0]) is None  # no cache in the way
