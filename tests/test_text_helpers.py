"""The small text helpers every feature shares (bot/text.py): one clip, one list joiner."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.text import and_list, clip, or_list


def test_clip_keeps_short_text_and_marks_a_cut():
    assert clip("budget", 40) == "budget"
    assert clip("x" * 40, 40) == "x" * 40
    assert clip("x" * 41, 40) == "x" * 39 + "…"
    # No space before the ellipsis: the cut does not read as a word that ended there.
    assert clip("ab cd", 4) == "ab…"


@given(st.text(), st.integers(min_value=1, max_value=80))
def test_clip_never_exceeds_its_limit(text, limit):
    out = clip(text, limit)
    assert len(out) <= limit
    assert out == text or (out.endswith("…") and text.startswith(out[:-1]))


def test_lists_read_as_a_sentence():
    assert and_list([]) == ""
    assert and_list(["cpm"]) == "cpm"
    assert and_list(["cpm", "ctr"]) == "cpm and ctr"
    assert and_list(k for k in ("cpm", "ctr", "cvr")) == "cpm, ctr and cvr"
    assert or_list(["cpm"]) == "cpm"
    assert or_list(["cpm", "ctr"]) == "cpm or ctr"
    assert or_list(["cpm", "ctr", "cvr"]) == "cpm, ctr or cvr"
