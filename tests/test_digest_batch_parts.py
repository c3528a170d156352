"""The batch read's small steps (bot/store/digests.py) against the plain forms they replace: the
merge of two sides' newest notes against sorting both, and the platforms and currencies read
once per set against reading them each time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.store import digests
from bot.store.base import Note

T0 = datetime(2026, 11, 23, tzinfo=UTC)


def _note(i: int, minutes: int) -> Note:
    return Note(
        team="T1",
        workspace="T1",
        channel="C1",
        channel_kind="public",
        author="U1",
        campaign="spring",
        text=f"n{i}",
        created_at=T0 + timedelta(minutes=minutes),
        id=i,
    )


def _newest_first(notes: list[Note]) -> list[Note]:
    return sorted(notes, key=lambda n: (n.created_at, n.id), reverse=True)


# Times drawn from a few minutes only: many notes share one, so the ids decide.
times = st.lists(st.integers(0, 5), max_size=8)


@given(times, times, st.integers(0, 6))
def test_two_sides_newest_notes_merged_are_both_sorted_and_cut(a, b, keep):
    first = _newest_first([_note(i, m) for i, m in enumerate(a)])
    second = _newest_first([_note(100 + i, m) for i, m in enumerate(b)])
    merged = digests._newest(first[:keep], second[:keep], keep)
    # What the merge replaces (and what week_activity's SQL orders by).
    assert merged == _newest_first([*first[:keep], *second[:keep]])[:keep]


def test_platforms_and_currencies_read_once_per_set_read_as_before(monkeypatch):
    def plain(values, commas):
        if not commas:
            return tuple(sorted(values))
        return tuple(sorted(",".join(values).split(","))) if values else ()

    sets = [frozenset(), frozenset({"tiktok"}), frozenset({"meta, ads", "instagram"})]
    for values in sets * 2:
        for commas in (True, False):
            assert digests._joined(values, commas) == plain(values, commas)
    # SQLite's reading splits a name holding a comma; PostgreSQL's keeps it.
    assert digests._joined(frozenset({"meta, ads"}), True) == (" ads", "meta")
    assert digests._joined(frozenset({"meta, ads"}), False) == ("meta, ads",)
    # Bounded: past the bound it starts again, and still reads right.
    monkeypatch.setattr(digests, "_JOINED_KEPT", 2)
    digests._JOINED.clear()
    for i in range(5):
        assert digests._joined(frozenset({f"p{i}", "x"}), True) == (f"p{i}", "x")
        assert len(digests._JOINED) <= 2


def test_a_reads_values_are_each_made_once():
    interned = digests.Interned()
    row = ("spring", 2, "tiktok\x1e,meta\x1e", "$\x1e", *([None] * 12), None, "t")
    first = digests._part(row, 0, interned)
    second = digests._part(row, 0, interned)
    assert first.platforms == frozenset({"tiktok", "meta"}) and first.currencies == {"$"}
    assert second.platforms is first.platforms and second.currencies is first.currencies
    empty = digests._part(("q3", 1, None, None, *([None] * 12), None, "t"), 0, interned)
    assert empty.platforms == empty.currencies == frozenset()


ranked = st.lists(
    st.tuples(
        st.sampled_from(["T1", "T2"]),
        st.sampled_from([None, "C1", "C2"]),
        st.sampled_from(["spring", "q3"]),
        st.integers(0, 9),
        st.integers(1, 99),
    ),
    max_size=20,
)


@given(ranked, st.booleans())
def test_rows_added_in_one_step_each_make_the_sides_one_call_a_row_makes(rows, public):
    """add_candidates (and add_parts) against add_candidate (add_part) for each row, in
    whatever order the rows come: a run of one side and campaign is only a shortcut."""
    one_by_one: dict = {}
    for team, channel, campaign, at, note_id in rows:
        key = digests.side_key(team, channel, public)
        digests.add_candidate(one_by_one, key, campaign, at, note_id)
    together: dict = {}
    digests.add_candidates(together, rows, public)
    assert {k: s.candidates for k, s in together.items()} == {
        k: s.candidates for k, s in one_by_one.items()
    }
    interned = digests.Interned()
    grouped = [
        (t, c, campaign, i, None, None, *([None] * 13), at) for t, c, campaign, at, i in rows
    ]
    parts_one: dict = {}
    for r in grouped:
        digests.add_part(
            parts_one, digests.side_key(r[0], r[1], public), digests._part(r, 2, interned)
        )
    parts_together: dict = {}
    digests.add_parts(parts_together, grouped, public, digests._part, interned)
    assert {k: s.parts for k, s in parts_together.items()} == {
        k: s.parts for k, s in parts_one.items()
    }
