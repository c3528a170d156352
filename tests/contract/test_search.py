"""Full-text search means the same on every backend: words are stemmed, `word*` is a prefix, every
word must appear, punctuation is not syntax, and anything a person types is a valid query."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.store import Viewer
from bot.text import clean
from tests.support.contract import note
from tests.support.hostile import fuzz_settings, hostile_text

VIEWER = Viewer("T1", "C1", "U1")


async def ids(store, query: str) -> list[int]:
    return [n.id for n in await store.search_notes(VIEWER, query)]


async def test_search_stems_and_supports_prefixes(store) -> None:
    note_id = await store.add_note(note("Launched three reels for the Spring-Launch"))
    assert await ids(store, "reel launch") == [note_id]  # reels, Launched: stems
    assert await ids(store, "launching") == [note_id]
    assert await ids(store, "spri*") == [note_id]
    assert await ids(store, "SPRI*") == [note_id]
    assert await ids(store, "spri") == []  # a prefix only when asked for
    assert await ids(store, "the") == [note_id]  # no stop words: every word is a word


async def test_every_word_must_appear(store) -> None:
    both = await store.add_note(note("reel plus story"))
    reel = await store.add_note(note("reel only"))
    assert sorted(await ids(store, "reel")) == sorted([both, reel])
    assert await ids(store, "reel story") == [both]
    assert await ids(store, "reel carousel") == []
    # Words FTS engines read as operators are just words here.
    assert await ids(store, "reel AND story") == []  # "and" is not in the note
    assert await ids(store, "reel OR carousel") == []
    assert await ids(store, "reel NOT story") == []


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        ("Été campaign launched", "été"),  # case folds beyond ASCII
        ("ÉTÉ CAMPAIGN", "Été"),
        ("Été campaign launched", "ete"),  # diacritics fold (SQLite: remove_diacritics 2)
        ("naïve approach", "naive"),
        ("Ünïcödé reels", "unicode"),
        ("reel2 v2.1 launch", "v2"),  # punctuation splits words, even between letters and digits
        ("see /promo/page.html now", "promo"),
    ],
    ids=[
        "accented-lowercase", "accented-uppercase", "accent-folded", "diaeresis-folded",
        "all-accents-folded", "dot-splits-version", "slash-splits-path",
    ],
)  # fmt: skip
async def test_words_are_found_whatever_their_case_accents_and_punctuation(
    store, text: str, typed: str
) -> None:
    note_id = await store.add_note(note(text))
    assert await ids(store, typed) == [note_id]


async def test_the_campaign_is_searched_too(store) -> None:
    note_id = await store.add_note(note("nothing about it", campaign="black-friday"))
    assert await ids(store, "friday") == [note_id]


@pytest.mark.parametrize(
    "typed",
    [
        'say "hi',
        "reel)",
        "(reel",
        "NEAR(reel story)",
        "reel & | ! :* <-> ~",
        "text:reel",
        "^reel -story",
        "' OR 1=1 --",
        "reel;",
    ],
)
async def test_punctuation_is_not_query_syntax(store, typed: str) -> None:
    note_id = await store.add_note(note("reel story say hi text"))
    found = await ids(store, typed)
    assert found in ([], [note_id])  # never an error, whatever it matches


async def test_punctuation_around_words_still_finds_them(store) -> None:
    note_id = await store.add_note(note("reel story"))
    assert await ids(store, '"reel"') == [note_id]
    assert await ids(store, "(reel) story!") == [note_id]
    assert await ids(store, "reel,story") == [note_id]


async def test_a_query_of_no_words_finds_nothing(store) -> None:
    await store.add_note(note("reel"))
    for typed in ("", "   ", '* ** " ( )', "!!!", "*"):
        assert await ids(store, typed) == [], typed


async def test_search_keeps_to_its_limit_and_follows_deletes(store) -> None:
    written = [await store.add_note(note(f"reel {i}")) for i in range(5)]
    found = await store.search_notes(VIEWER, "reel", limit=3)
    assert len(found) == 3 and set(n.id for n in found) <= set(written)
    assert await store.delete_note(VIEWER, written[0], is_admin=False) == "deleted"
    assert written[0] not in await ids(store, "reel")


async def test_search_keeps_to_what_the_viewer_may_read(store) -> None:
    public = await store.add_note(note("reel public"))
    private = await store.add_note(note("reel private", channel="G1", channel_kind="private"))
    other_team = await store.add_note(note("reel elsewhere", team="T2", workspace="T2"))
    assert await ids(store, "reel") in ([public, private], [private, public])  # U1's own
    shown = [n.id for n in await store.search_notes(Viewer("T1", "C1"), "reel")]
    assert shown == [public]
    assert other_team not in shown


@pytest.fixture
async def seeded(store):
    await store.add_note(note('some words "and" AND near NEAR stars * reel:story'))
    return store


@fuzz_settings(100)
@given(typed=st.one_of(st.text(max_size=60), hostile_text(60)))
async def test_any_typed_text_is_a_valid_query(seeded, typed: str) -> None:
    """Whatever a person types, search answers (maybe nothing) and never raises. The store is
    handed text as every face hands it, cleaned by the router (bot/text.py: valid Unicode, no
    control characters), which is what a backend can be asked to take."""
    found = await seeded.search_notes(VIEWER, clean(typed))
    assert isinstance(found, list) and len(found) <= 1
