"""defuse's one-pass path (text with "@" but no "<" and no backtick) says exactly what the
passes-until-nothing-changes path says, and what it returns is defused for good."""

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.notes import render
from bot.notes.render import AT, ZWSP, defuse


def until_settled(text: str) -> str:
    """The general path, whatever the text holds: passes until one changes nothing."""
    while (done := render._defuse_once(text)) != text:
        text = done
    return done


# What the patterns look at around an "@": the words, letters, digits, "_" on both sides,
# other "@"s, a zero-width space, e-mail-like text, non-ASCII letters, and case.
PIECES = st.sampled_from(
    [
        "@", "@@", "here", "HERE", "channel", "everyone", "hereby", "x", "é", "_", "1", " ",
        "\n", ".", "-", ZWSP, AT, "jane", "a@b.co", "@here", "@Channel", "@everyone_", "*", "é@",
    ]
)  # fmt: skip
TEXT = st.lists(PIECES, max_size=14).map("".join).filter(lambda t: "@" in t)


@settings(max_examples=3000, deadline=None)
@given(TEXT)
@example("@here note 7")
@example("x@@here")
@example("a@@here")
@example("@x@y")
@example("@here@here")
@example("@" + ZWSP + "here")
def test_one_pass_equals_the_general_path(text: str) -> None:
    assert "<" not in text and "`" not in text  # the one-pass path is the one taken
    once = defuse(text)
    assert once == until_settled(text)
    assert render._defuse_once(once) == once  # nothing left for another pass


def test_the_one_pass_path_still_defuses() -> None:
    assert defuse("launch @here and @Channel, cc @jane") == (
        f"launch {AT}here and {AT}Channel, cc {AT}jane"
    )
    assert defuse("mail me at jane@example.com") == "mail me at jane@example.com"


def test_text_with_markup_or_code_keeps_the_general_path() -> None:
    # "<<!here>>" needs a second pass (the first leaves "<@\u200bhere>"); code keeps handles.
    for text in ("<<!here>>", "run `/invite @smx` @here", "<@U1|jane> @here"):
        assert defuse(text) == until_settled(text)
    assert "<@" not in defuse("<<!here>>")
    assert defuse("run `/invite @smx`") == "run `/invite @smx`"


# The patterns as written, without the lookahead that lets the engine skip to "<" or "@".
PLAIN = re.compile(render._MARKUP + render._HANDLE, re.IGNORECASE)
PLAIN_IN_CODE = re.compile(render._MARKUP, re.IGNORECASE)
MARKUP_PIECES = st.sampled_from(
    [
        "<", ">", "!", "#", "|", "^", "@", "<!here>", "<!channel|x>", "<!subteam^S1|@team>",
        "<@U1|jane>", "<@U2>", "<#C1>", "subteam", "here", "everyone", "x", "_", "1", " ", "é",
        ZWSP, "`", "@here", "jane", "a@b",
    ]
)  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.lists(MARKUP_PIECES, max_size=14).map("".join))
@example("<<!here>>")
@example("x<@U1|@here>y")
def test_the_lookahead_changes_no_match(text: str) -> None:
    assert render._MENTION.sub(render._harmless, text) == PLAIN.sub(render._harmless, text)
    assert render._MENTION_IN_CODE.sub(render._harmless, text) == PLAIN_IN_CODE.sub(
        render._harmless, text
    )
