"""Fuzzing what people type (issue 10): hostile command texts after every command word, and as
plain questions, through the router with a real SQLite store, as each surface sends them.

Every answer must be a result or a user-error sentence: no exception, no error-id reply, no
traceback, and what the faces would send must be valid: within Block Kit's limits, without a live
mention, and encodable as UTF-8 (a lone surrogate in an answer breaks `smx ask`'s output).

CI runs about 2,700 derandomized cases; `SMX_FUZZ_EXAMPLES=100000` runs that many per test, with a
random seed (tests/support/hostile.py).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import units
from bot.errors import UserError
from bot.phrasing import to_command
from bot.reply import Reply, render_text
from bot.router import COMMANDS
from bot.slack.blocks import fallback_text, render_blocks
from bot.text import clean
from tests.support.asking import SURFACES
from tests.support.blockkit import assert_message_ok
from tests.support.hostile import (
    CONTROLS,
    INVISIBLE,
    fuzz_settings,
    hostile_piece,
    hostile_text,
    long_texts,
    metric_tokens,
    odd_numbers,
)

ERROR_ID = "something went wrong on my side"
# Every command name, a few near misses, and nothing at all (a plain question).
STARTS = sorted({c.name for c in COMMANDS}) + ["", "notes delete", "Note", "ESTIMATE", "notez"]
# Words that send a question down each of the plain-question parser's paths.
QUESTION_WORDS = [
    "how many impressions",
    "how much",
    "does",
    "buy",
    "get",
    "at",
    "of",
    "cpm",
    "ctr",
    "$500",
    "8",
    "what is",
    "what does",
    "mean",
    "stand for",
    "smo",
    "smm",
    "vs",
    "social media marketing",
    "on cost",
    "note for",
    "log a note on",
    ":",
    "?",
]


@pytest.fixture
async def ask(ask):
    """tests/conftest.py's `ask` (the router over one temp SQLite store, as `surface` sends a
    line; `shared`: a channel shared with another organisation, answered with less, never with a
    crash), with something to list, search, export and delete."""
    await ask("note seed Reel got 3x saves spend=$400 impressions=60k clicks=1.2k", "console")
    return ask


def assert_answer(reply: Reply) -> None:
    """A result or a user-error sentence, in a form every face can send."""
    assert isinstance(reply, Reply)
    shown = render_text(reply)
    shown.encode("utf-8")  # no lone surrogate reaches a terminal or Slack
    blocks = render_blocks(reply)
    json.dumps(blocks, ensure_ascii=False).encode("utf-8")
    assert_message_ok(blocks, fallback_text(reply))
    if reply.is_error:
        sentence = reply.intro or ""
        assert sentence.strip(), "an error with nothing to read"
        assert ERROR_ID not in sentence and "Traceback" not in sentence, sentence
        assert sentence.rstrip()[-1] in ".?!)`”", f"not a sentence: {sentence!r}"
    else:
        assert reply.title or reply.intro or reply.sections or reply.files, "an empty answer"


surfaces = st.sampled_from(list(SURFACES))


@fuzz_settings(ci_examples=900)
@given(start=st.sampled_from(STARTS), rest=hostile_text(), surface=surfaces, shared=st.booleans())
async def test_hostile_text_after_every_command_word(
    ask, start: str, rest: str, surface: str, shared: bool
) -> None:
    assert_answer(await ask(f"{start} {rest}", surface, shared))


@fuzz_settings(ci_examples=400)
@given(
    start=st.sampled_from(["estimate", "compare", "note c", "note c x", "notes", "notes c"]),
    tokens=st.lists(metric_tokens() | odd_numbers() | hostile_piece(), min_size=1, max_size=6),
    surface=surfaces,
)
async def test_hostile_numbers_and_figures(ask, start: str, tokens: list[str], surface) -> None:
    assert_answer(await ask(f"{start} {' '.join(tokens)}", surface))


# The edges of what a figure may be (0, 1e-9, 1e12), and ordinary values, for the solver.
EXTREMES = ["0", "1e-9", "0.000000001", "1e12", "999999999999", "1", "100%", "0.0000001%", "1000"]
EXTREMES += ["1.5", "2.5x", "-100%", "1e11", "3", "1,000", "$0.01", "1e-9%"]
PLATFORMS = ["", "platform=facebook", "platform=linkedin", "platform=youtube", "platform=pinterest"]


@fuzz_settings(ci_examples=200)
@given(
    start=st.sampled_from(["estimate", "compare"]),
    figures=st.dictionaries(st.sampled_from(units.KEYS), st.sampled_from(EXTREMES), max_size=7),
    platform=st.sampled_from(PLATFORMS),
    period=st.sampled_from(["", "period=7d", "period=3650d", "period=0.001h"]),
)
async def test_extreme_figures_for_every_key(ask, start, figures, platform, period) -> None:
    tokens = [f"{k}={v}" for k, v in figures.items()] + [platform]
    tokens += [period] if start == "compare" else []
    assert_answer(await ask(f"{start} {' '.join(tokens)}", "command"))


@fuzz_settings(ci_examples=400)
@given(
    pieces=st.lists(st.sampled_from(QUESTION_WORDS) | hostile_piece() | odd_numbers(), max_size=10),
    surface=st.sampled_from(["mention", "dm"]),
)
async def test_hostile_plain_questions(ask, pieces: list[str], surface) -> None:
    question = to_command(" ".join(pieces))
    assert isinstance(question, str)
    assert_answer(await ask(question, surface))


@fuzz_settings(ci_examples=100)
@given(text=long_texts(), surface=surfaces)
async def test_40000_character_texts(ask, text: str, surface) -> None:
    question = to_command(text) if surface in ("mention", "dm") else text
    assert_answer(await ask(question, surface))


@fuzz_settings(ci_examples=400)
@given(key=st.sampled_from([*units.KEYS, *units.ALIASES]), raw=odd_numbers() | hostile_text(3))
def test_every_metric_value_is_read_or_refused_with_a_sentence(key: str, raw: str) -> None:
    """The modal reads fields with parse_metric directly, without the router's cleaning."""
    try:
        metric = units.parse_metric(key, raw)
    except UserError as err:
        assert err.message.strip() and err.message.rstrip()[-1] in ".?!)`"
        return
    assert metric.value == 0 or units.MIN_MAGNITUDE <= abs(metric.value) <= units.MAX_MAGNITUDE


@fuzz_settings(ci_examples=300)
@given(
    text=st.lists(
        hostile_piece() | st.sampled_from(CONTROLS + INVISIBLE + ["\ud83d", "\ude00"]), max_size=20
    ).map("".join)
)
def test_cleaned_text_is_storable_and_stable(text: str) -> None:
    cleaned = clean(text)
    cleaned.encode("utf-8")  # what SQLite and Slack need
    assert clean(cleaned) == cleaned
    assert not any(c in cleaned for c in CONTROLS if c not in "\t\n")
    assert "\u200b" not in cleaned and "\ufeff" not in cleaned and "\u202e" not in cleaned


def _clean_every_rule(text: str) -> str:
    """bot.text.clean without its ASCII shortcut: every rule, in order, as for any text."""
    import re
    import unicodedata

    from bot import text as t

    text = re.sub("\r\n?|[\u2028\u2029]", "\n", text)
    text = t._CONTROL.sub("", text)
    text = t._INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFC", text)
    return t._SHAPING.sub("", text)


@fuzz_settings(ci_examples=500)
@given(
    text=st.lists(
        st.text(alphabet=st.characters(max_codepoint=127), max_size=3)
        | st.sampled_from(["\r\n", "\r", "\n", "\r\r\n", "\x00", "\x7f", "\t"]),
        max_size=20,
    ).map("".join)
)
def test_the_ascii_shortcut_of_clean_applies_every_rule(text: str) -> None:
    assert clean(text) == _clean_every_rule(text)
