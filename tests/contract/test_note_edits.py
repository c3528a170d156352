"""`note edit` on every backend: the author or an admin, a note the editor can see; the text and
figures replaced, the search index with them, the campaign, place and date kept."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.store import Viewer
from tests.support.contract import note

AT = datetime(2026, 11, 20, 12, tzinfo=UTC)
NEW = {
    "text": "carousel did better spend=$50", "platform": "instagram", "spend": 50.0,
    "currency": "$", "impressions": None, "clicks": 40.0, "conversions": None,
    "metrics": {"reach": 900.0},
}  # fmt: skip


async def test_the_author_edits_and_everything_but_the_text_and_figures_stays(store) -> None:
    note_id = await store.add_note(
        note("reel got 3x saves", author="U1", campaign="spring", spend=10.0, created_at=AT)
    )
    viewer = Viewer("T1", "C1", "U1")
    assert await store.edit_note(viewer, note_id, NEW, is_admin=False) == "edited"
    edited = await store.get_note(viewer, note_id)
    assert edited.text == NEW["text"] and edited.spend == 50.0 and edited.clicks == 40.0
    assert edited.metrics == {"reach": 900.0} and edited.platform == "instagram"
    assert (edited.campaign, edited.created_at, edited.author) == ("spring", AT, "U1")
    assert [n.id for n in await store.search_notes(viewer, "carousel")] == [note_id]
    assert await store.search_notes(viewer, "reel") == []


async def test_only_the_author_or_an_admin_and_only_a_visible_note(store) -> None:
    note_id = await store.add_note(note("mine", author="U1", campaign="spring"))
    other = Viewer("T1", "C1", "U2")
    assert await store.edit_note(other, note_id, NEW, is_admin=False) == "forbidden"
    assert (await store.get_note(other, note_id)).text == "mine"
    assert await store.edit_note(other, note_id, NEW, is_admin=True) == "edited"
    assert await store.edit_note(Viewer("T2", "C1", "U1"), note_id, NEW, is_admin=True) == "missing"
    private = await store.add_note(
        note("private", author="U1", campaign="spring", channel="G1", channel_kind="private")
    )
    assert await store.edit_note(Viewer("T1", "C1", "U2"), private, NEW, is_admin=True) == "missing"


async def test_a_campaign_in_two_currencies_is_summed_in_each(store) -> None:
    for _ in range(3):
        await store.add_note(
            note("usd", campaign="mix", spend=250.0, currency="$", impressions=30_000.0,
                 conversions=10.0)
        )  # fmt: skip
    await store.add_note(
        note("eur", campaign="mix", spend=300.0, currency="€", impressions=20_000.0,
             conversions=5.0)
    )  # fmt: skip
    await store.add_note(note("other", campaign="solo", spend=5.0, currency="$"))
    parts = await store.currency_parts(Viewer("T1", "C1"), campaign="mix")
    assert [(p.currency, p.notes, p.spend) for p in parts] == [("$", 3, 750.0), ("€", 1, 300.0)]
    assert parts[0].spend_per_impression == (750.0, 90_000.0)
    assert parts[1].spend_per_conversion == (300.0, 5.0)
    assert parts[0].spend_per_click is None
    assert await store.currency_parts(Viewer("T2", "C1"), campaign="mix") == []
