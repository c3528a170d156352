"""The plain-question corpus (tests/data/phrasings.txt): every phrasing becomes its command, the
command routes, and asking the phrasing gives the same answer as typing the command."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.phrasing import read, to_command
from bot.router import find

CORPUS = Path(__file__).parent / "data" / "phrasings.txt"


def _corpus() -> list[tuple[str, str]]:
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        said, sep, command = line.partition("  =>  ")
        assert sep, f"a corpus line needs `  =>  `: {line!r}"
        rows.append((said, command))
    return rows


ROWS = _corpus()
READABLE = [(s, c) for s, c in ROWS if c != "-"]
UNREADABLE = [s for s, c in ROWS if c == "-"]
# The commands whose answer depends only on the words (no store, no person): asked both ways,
# they must give the same reply.
PURE = ("compare", "explain", "estimate", "help")


def test_the_corpus_has_at_least_150_phrasings_and_none_twice():
    said = [s for s, _ in ROWS]
    assert len(said) >= 150
    assert len(set(said)) == len(said)


@pytest.mark.parametrize(("said", "command"), ROWS, ids=[s[:60] for s, _ in ROWS])
def test_each_phrasing_becomes_its_command(said, command):
    reading = read(said)
    assert (reading.command if reading.command is not None else "-") == command
    if command != "-":
        assert to_command(said) == command
        assert find(command.split()) is not None, "the command it becomes must route"


@pytest.mark.parametrize(
    ("said", "command"),
    [(s, c) for s, c in READABLE if c.split()[0] in PURE],
    ids=[s[:60] for s, c in READABLE if c.split()[0] in PURE],
)
async def test_asking_in_plain_words_answers_as_the_command_does(ask, said, command):
    plain = await ask(said, "dm")
    typed = await ask(command, "dm")
    assert plain.intro == typed.intro and plain.title == typed.title
    assert plain.data == typed.data
    assert "I don't know the command" not in (plain.intro or "")


@pytest.mark.parametrize("said", UNREADABLE)
async def test_what_cannot_be_read_says_what_was_understood_and_what_to_type(ask, said):
    reply = await ask(said, "dm")
    assert reply.is_error
    assert reply.intro.startswith("I couldn't read “")
    assert reply.data["suggestions"] and "`" in reply.intro
    assert "I don't know the command" not in reply.intro


# -- fuzz: any text at all is read without an exception, as a command that routes or as nothing --


_PIECES = st.sampled_from(
    [
        "how many",
        "clicks",
        "$500",
        "2,5k",
        "1.200",
        "per click",
        "a day",
        "for two weeks",
        "on",
        "instagram",
        "vs",
        "x",
        "ig",
        "smo",
        "smm",
        "or",
        "what is",
        "roas",
        "note for",
        "spring-launch:",
        "notes",
        "digest",
        "at",
        "16:00",
        "#general",
        "budget=$2k",
        "=",
        "%",
        "3x",
        "€",
        "2026-12-01",
        "to",
        "help",
        "estimate",
        "compare",
        "?",
        "  ",
        "\u200b",
        "-",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=12)), max_size=25))
def test_any_text_reads_as_a_routable_command_or_as_nothing(parts):
    text = " ".join(parts)
    reading = read(text)
    if reading.command:
        assert find(reading.command.split()) is not None or reading.command == " ".join(
            text.split()
        )
    else:
        assert reading.command in (None, "")
        assert all(isinstance(u, str) for u in reading.understood)
