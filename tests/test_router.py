import pytest

from bot.context import Context
from bot.router import COMMANDS, dispatch, find, help_handler
from bot.slack.blocks import render_blocks
from tests.support.blockkit import assert_message_ok


def test_help_lists_every_command_in_the_table():
    reply = help_handler(Context(surface="command"), [])
    text = reply.sections[0].text
    for command in COMMANDS:
        assert f"`/smx {command.usage}`" in text
        assert command.summary in text
    assert reply.data["commands"] == [c.usage for c in COMMANDS]


async def test_empty_text_is_help():
    reply = await dispatch(Context(), "   ")
    assert not reply.is_error
    assert reply.data["commands"] == [c.usage for c in COMMANDS]


async def test_unknown_command_suggests_the_closest():
    reply = await dispatch(Context(), "explian roas")
    assert reply.is_error
    assert "“explian roas”" in reply.intro
    assert "I understood ROAS" in reply.intro  # what it made of the words it knows
    assert "Did you mean `explain roas`?" in reply.intro
    assert reply.data["suggestions"] == ["explain roas"]
    assert "I don't know the command" not in reply.intro


async def test_unknown_command_without_a_near_name_still_says_what_to_type():
    reply = await dispatch(Context(), "zzzzzz")
    assert reply.is_error
    assert "The closest I can answer: `help`" in reply.intro
    assert "type `help` for every command" in reply.intro
    assert "Did you mean" not in reply.intro


def test_longest_name_wins_and_case_is_ignored():
    names = {c.name for c in COMMANDS}
    two_word = [c for c in COMMANDS if len(c.words) == 2]
    for command in two_word:
        found, args = find([*command.name.upper().split(), "x"])
        assert found is command and args == ["x"]
    assert find(["HELP"])[0].name == "help"
    assert "help" in names


def test_every_handler_resolves():
    for command in COMMANDS:
        assert callable(command.resolve()), command.name


def test_command_names_are_unique():
    names = [c.name for c in COMMANDS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("surface,prefix", [("console", ""), ("ask", ""), ("command", "/smx ")])
def test_help_speaks_the_grammar_of_its_surface(surface, prefix):
    text = help_handler(Context(surface=surface), []).sections[0].text
    assert text.startswith(f"• `{prefix}help`")


def test_help_fits_block_kit():
    assert_message_ok(render_blocks(help_handler(Context(), [])))


async def test_handlers_get_the_arguments_as_typed():
    ctx = Context()
    await dispatch(ctx, "explain  cost per\nmille share")
    assert ctx.args_text == "cost per\nmille"


async def test_a_note_keeps_its_line_breaks_and_drops_control_characters(tmp_path):
    from bot.config import Settings
    from bot.context import Services
    from bot.store import Viewer

    ctx = Context(services=Services(Settings(SMX_DB=str(tmp_path / "n.db"))))
    logged = await dispatch(ctx, "note spring-launch Day 1:\n  reel up\x00\nDay 2: boost")
    assert not logged.is_error
    notes = await ctx.services.store.export_notes(Viewer(ctx.owner, ctx.channel))
    assert notes[0].text == "Day 1:\n  reel up\nDay 2: boost"
    await ctx.services.store.close()


def test_short_names_are_not_guessed_from_letters_inside_a_longer_query():
    from bot.fuzzy import closest

    assert closest("cost per mile", ["er", "cpm", "cost per mille"]) == ["cost per mille"]
    assert closest("viz", ["visibility", "er"]) == ["visibility"]


# -- hostile text, cleaned once at the one entry every face goes through (issue 10) -------------


@pytest.mark.parametrize(
    ("typed", "seen"),
    [
        ("explain a\ud800b", "a\ufffdb"),  # a lone surrogate: SQLite and Slack need valid Unicode
        ("explain caf\udce9", "caf\ufffd"),  # invalid UTF-8 from argv, as a surrogate escape
        ("explain \ud83d\ude00", "\U0001f600"),  # the two halves of one character, joined
        ("explain a\x00b\x1bc\x7f\x9fd", "abcd"),  # control characters dropped
        ("explain one\r\ntwo\rthree", "one\ntwo\nthree"),  # line breaks kept, as \n
        ("expl\u200bain cost\u2060 per\u00admille", "cost permille"),  # invisible: ignored
        ("\ufeffexplain \u202ecost", "cost"),  # a BOM and a right-to-left override
        ("explain\u200d e\u0301te\u0301", "été"),  # a joiner after ASCII; NFC
        ("explain 👨\u200d👩\u200d👧 می\u200cخواهم", "👨\u200d👩\u200d👧 می\u200cخواهم"),
    ],
)
async def test_every_line_is_cleaned_before_its_handler_sees_it(typed, seen):
    ctx = Context()
    reply = await dispatch(ctx, typed)
    assert ctx.args_text == seen
    assert reply.is_error is False or "Traceback" not in (reply.intro or "")


async def test_a_line_longer_than_a_slack_message_is_refused_before_any_handler():
    from bot.text import MAX_MESSAGE

    ctx = Context()
    reply = await dispatch(ctx, "explain " + "x" * MAX_MESSAGE)
    assert reply.is_error
    assert reply.intro.startswith("That is 40,008 characters; smx reads at most 40,000")
    assert ctx.args_text == ""  # the handler never ran
    ok = await dispatch(ctx, "explain " + "x" * (MAX_MESSAGE - len("explain ")))
    assert "I don't have" in ok.intro


async def test_an_unknown_40000_character_word_is_quoted_short_and_not_fuzzy_matched():
    reply = await dispatch(Context(), "x" * 40_000)
    assert reply.is_error
    assert reply.intro.startswith(f"“{'x' * 59}…” is 40,000 characters, too long for me to read")
    assert "Did you mean" not in reply.intro and len(reply.intro) < 400


def test_arguments_after_the_command_words_are_found_in_one_pass():
    from bot.router import _after_words

    assert _after_words("notes  search   a b", 2) == "a b"
    assert _after_words("  note x", 1) == "x"
    assert _after_words("ab", 2) == ""  # two words are not made out of one
    assert _after_words("note " + "x" * 40_000, 1) == "x" * 40_000


def test_entry_gives_each_caller_its_own_arguments_and_reads_long_lines_too():
    from bot.router import entry

    first = entry("explain cpm")
    first[1].append("changed")  # a caller's list is its own...
    assert entry("explain cpm")[1] == ["cpm"]  # ...not what the next caller reads
    long = "note spring " + "x" * 5000
    command, args = entry(long)
    assert command.name == "note" and args == ["spring", "x" * 5000]


class _NoStore:
    """A store that fails on any use: a pure entry must never touch one."""

    def __getattr__(self, name):
        raise AssertionError(f"a pure entry used the store ({name})")


PURE_LINES = (
    "help",
    "compare",
    "compare timeline",
    "explain roas",
    "explain no-such-term",
    "estimate budget=500 cpm=8",
    "estimate budget=$2k platform=instagram",
    "estimate budget=$2k cpm=8 ctr=1.2% cvr=3%",
    "estimate budget=abc",
)


@pytest.mark.parametrize("line", PURE_LINES)
def test_a_pure_entry_is_answered_without_awaiting_anything(line, tmp_path):
    """The Slack face answers a pure entry in line, not raced against Slack's 3 s
    (bot/slack/listeners/commands.acked): so its answer must complete on the first step of the
    coroutine, with no store and no network behind it."""
    from bot.config import Settings
    from bot.context import Services
    from bot.router import entry

    found = entry(line)
    assert found is not None and found[0].is_pure(found[1])
    services = Services(Settings(_env_file=None, db=str(tmp_path / "x.db")), store=_NoStore())
    work = dispatch(Context(surface="command", services=services), line)
    try:
        work.send(None)
    except StopIteration as done:
        reply = done.value
    else:
        work.close()
        pytest.fail(f"{line!r} awaited something")
    assert reply.title or reply.intro or reply.sections  # an answer, worked out in that step


def test_entries_that_read_or_write_are_not_pure():
    from bot.router import entry

    for line in ("note spring x", "notes", "notes search x", "digest status", "compare budget=1"):
        found = entry(line)
        assert found is not None and not found[0].is_pure(found[1]), line
