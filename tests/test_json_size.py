"""The size of a block's JSON is measured without writing the JSON (bot/slack/blocks.py
_json_len); it must be exactly what json.dumps would write, for anything a block holds."""

from __future__ import annotations

import json

from hypothesis import given, settings
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


@given(st.text() | st.text(alphabet=st.characters(max_codepoint=0x7F)))
def test_a_mrkdwn_elements_size_is_what_json_dumps_writes(text):
    from bot.slack.blocks import _element_json_len

    element = {"type": "mrkdwn", "text": text}
    assert _element_json_len(element) == len(json.dumps(element))
    other = {"type": "plain_text", "text": text, "emoji": True}
    assert _element_json_len(other) == len(json.dumps(other))


# -- the blocks' JSON, written once ------------------------------------------------------------

texts = (
    st.text(max_size=300)
    | st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=300)
    | st.builds(
        lambda c, n: c * n, st.sampled_from(["x", "é", "<@U1> ", "\n"]), st.integers(0, 4000)
    )
)


def replies():
    from bot.reply import Button, Fact, Notice, Reply, Section

    facts = st.lists(st.builds(Fact, label=texts, value=texts), max_size=12)
    return st.builds(
        Reply,
        title=st.none() | texts,
        intro=st.none() | texts,
        facts=facts,
        sections=st.lists(
            st.builds(Section, heading=st.none() | texts, text=texts, facts=facts), max_size=4
        ),
        notices=st.lists(st.builds(Notice, text=texts), max_size=3),
        footnotes=st.lists(texts, max_size=3),
        buttons=st.lists(
            st.builds(Button, label=texts, action_id=st.just("a"), value=texts), max_size=3
        ),
    )


@settings(max_examples=300, deadline=None)
@given(replies(), st.sampled_from(["ephemeral", "in_channel", None]))
def test_an_acks_body_is_json_dumps_of_it_whoever_wrote_the_blocks_json(reply, response_type):
    """The renderer keeps the JSON it measured (RenderedBlocks.json) and the ack's body reuses
    it: the body is byte for byte what json.dumps of the answer writes, cut or not."""
    from bot.slack.blocks import RenderedBlocks, fallback_text, render_blocks
    from bot.slack.listeners.commands import ack_json

    blocks = render_blocks(reply)
    if isinstance(blocks, RenderedBlocks) and blocks.json is not None:
        assert blocks.json == json.dumps(blocks)
    args = {"text": fallback_text(reply), "blocks": blocks}
    if response_type:
        args["response_type"] = response_type
    expected = {"text": args["text"]}
    if response_type:
        expected["response_type"] = response_type
    if blocks:
        expected["blocks"] = list(blocks)
    assert ack_json(args) == json.dumps(expected).encode()
    assert (
        ack_json({"text": "Working on it", "response_type": "ephemeral"})
        == json.dumps({"text": "Working on it", "response_type": "ephemeral"}).encode()
    )


def test_most_replies_keep_the_json_they_were_measured_by():
    from bot.reply import Fact, Reply
    from bot.slack.blocks import render_blocks

    blocks = render_blocks(Reply(title="Estimate", facts=[Fact(label="CPM", value="$8")]))
    assert blocks.json == json.dumps(blocks)
    assert render_blocks(Reply(intro="x"), max_blocks=10**9).json is None  # measured by nobody
