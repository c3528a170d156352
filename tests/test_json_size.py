"""The size of a block's JSON is measured without writing the JSON (bot/slack/blocks.py
_json_len); it must be exactly what json.dumps would write, for anything a block holds."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from bot.slack.blocks import _json_len

scalars = st.one_of(
    st.text(),  # any code point, lone surrogates included
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x7F)),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(), inner, max_size=6),
    max_leaves=30,
)


@given(values)
def test_the_size_is_what_json_dumps_writes(value):
    assert _json_len(value) == len(json.dumps(value))


def test_the_characters_json_escapes_are_counted():
    for text in ('"', "\\", "\x00", "\x1f", "\x7f", "é", "\u2028", "\ud83d", "😀", " ~"):
        assert _json_len(text) == len(json.dumps(text)), repr(text)


def test_keys_that_are_not_text_are_measured_as_json_writes_them():
    assert _json_len({1: "a", None: [1]}) == len(json.dumps({1: "a", None: [1]}))
