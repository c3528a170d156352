"""The plain-question corpus (tests/data/phrasings.txt): every phrasing becomes its command, the
command routes, and asking the phrasing gives the same answer as typing the command."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.phrasing import read, to_command
from bot.router import as_command, find

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
OFFERED = [(s, c.removeprefix("offer: ")) for s, c in ROWS if c.startswith("offer: ")]
READABLE = [(s, c) for s, c in ROWS if c != "-" and not c.startswith("offer: ")]
UNREADABLE = [s for s, c in ROWS if c == "-"]
# The commands whose answer depends only on the words (no store, no person): asked both ways,
# they must give the same reply.
PURE = ("compare", "explain", "estimate", "help")
# What plain words may become (the grammar typed is another matter): commands that only read.
WRITERS = ("note ", "note delete", "digest on", "digest off", "digest pause", "digest resume",
           "digest now")  # fmt: skip


def _got(said: str) -> str:
    reading = read(said)
    if reading.command is not None:
        return reading.command
    return f"offer: {reading.closest}" if reading.writes else "-"


def test_the_corpus_has_at_least_150_phrasings_and_none_twice():
    said = [s for s, _ in ROWS]
    assert len(said) >= 150
    assert len(set(said)) == len(said)


@pytest.mark.parametrize(("said", "command"), ROWS, ids=[s[:60] for s, _ in ROWS])
def test_each_phrasing_becomes_its_command(said, command):
    assert _got(said) == command
    if command != "-" and not command.startswith("offer: "):
        assert to_command(said) == command
        assert find(command.split()) is not None, "the command it becomes must route"
        # Every face routes through the router's own reading: the same command there.
        assert as_command(said) == command


@pytest.mark.parametrize(("said", "command"), OFFERED, ids=[s[:60] for s, _ in OFFERED])
async def test_a_question_that_would_change_something_is_offered_not_run(ask, said, command):
    before = (await ask("notes")).data
    reply = await ask(said, "dm")
    assert reply.is_error and command in reply.intro and "never from a question" in reply.intro
    assert reply.data["suggestions"] == [command]
    assert (await ask("notes")).data == before  # nothing was logged, deleted or changed


def test_no_plain_phrasing_of_the_corpus_becomes_a_command_that_writes():
    for said, command in READABLE:
        if said.split()[0].lower() in ("note", "notes", "digest") or said.lower().startswith(
            ("log a note", "add a note", "please log a note")
        ):
            continue  # typed as the grammar, or an explicit "note for CAMPAIGN: ..."
        assert not command.startswith(WRITERS), (said, command)


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
        assert find(reading.command.split()) is not None
    else:
        assert reading.command in (None, "")
        assert all(isinstance(u, str) for u in reading.understood)
