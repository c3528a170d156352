import pytest

from bot.phrasing import MAX_QUESTION, read, to_command


@pytest.mark.parametrize(
    "said,command",
    [
        ("what's the difference between smo and smm?", "compare"),
        (
            "What is the difference between social media optimization and social media marketing",
            "compare",
        ),
        ("smo vs smm", "compare"),
        ("How does SMO compare to SMM on cost?", "compare cost"),
        (
            "how many impressions does $500 buy at $8 cpm?",
            "estimate budget=$500 cpm=$8 want=impressions",
        ),
        (
            "how many clicks do I get for $2k with a cpc of $1.50",
            "estimate budget=$2k cpc=$1.50 want=clicks",
        ),
        ("explain roas", "explain roas"),
        ("what is roas?", "explain roas"),
        ("What does CTR mean?", "explain ctr"),
        ("what is a lookalike audience", "explain lookalike audience"),
        (
            "note for spring-launch: Reel got 3x saves spend=$400",
            "note spring-launch Reel got 3x saves spend=$400",
        ),
        ("log a note on summer-sale - boosted the reel", "note summer-sale boosted the reel"),
        ("compare timeline", "compare timeline"),
        ("notes search reel", "notes search reel"),
        ("  ", ""),
    ],
)
def test_plain_questions_become_commands(said, command):
    assert to_command(said) == command


def test_text_that_is_neither_is_left_for_the_router_to_answer():
    assert to_command("frobnicate the widgets") == "frobnicate the widgets"
    assert to_command("hello there") == "help"  # a greeting gets the list of what to ask


@pytest.mark.parametrize(
    "said,command",
    [
        # `.5%` is one value: it was dropped, and `$.03` was read as 3 (100 times the CPV).
        ("how many clicks at a ctr of .5% for $500", "estimate budget=$500 ctr=.5% want=clicks"),
        ("how many views at $.03 cpv for $300", "estimate budget=$300 cpv=$.03 want=views"),
        # A value never starts inside another number (this was read as cpm=2.3).
        # What only looks like a number is kept as typed, for the grammar to say what is wrong.
        ("how much is 1.2.3 cpm", "estimate cpm=1.2.3"),
        ("what is ?", "explain"),  # `explain` then says how to ask
        ("what does roas stand for?", "explain roas"),
        ("what is mean mean", "explain mean"),
    ],
)
def test_values_and_terms_are_read_from_where_they_start(said, command):
    assert to_command(said) == command


def test_plain_questions_are_cleaned_like_every_command():
    assert to_command("no\u200bte for spring-launch: Reel\x00 up \ud800") == (
        "note spring-launch Reel up \ufffd"
    )


# -- 40,000 characters (Slack's limit), each parsed in one linear pass (issue 10, defect 8) -------

DIGITS = "1" * (40_000 - len("how many impressions "))
SMO = " ".join(["smo"] * 9_000)  # 35,999 characters, as measured in the issue


@pytest.mark.parametrize(
    "said",
    [
        # Measured before the fix of issue 10: 78 s, 40 s, 4.5 s and 4.6 s in the old parser.
        "how many impressions " + DIGITS,
        "how many impressions " + "1," * 19_989,
        SMO,
        "what is " + SMO,
        "how many " + "1 cpm " * 6_665,
        " ".join(["smo smm"] * 5_000),
        "how much " + "$1" * 19_995,
    ],
)
def test_40000_character_questions_are_not_read_word_by_word(said):
    # Longer than any question: left as typed and marked too long, for the router to say so.
    reading = read(said)
    assert reading.command is None and reading.too_long
    assert to_command(said) == " ".join(said.split())


def test_a_long_note_and_a_long_command_are_still_what_they_are():
    text = "x" * 30_000
    assert to_command(f"note for launch: {text}") == f"note launch {text}"
    assert to_command(f"notes search {text}") == f"notes search {text}"
    assert read(f"estimate budget={'1' * 2_000}").command == f"estimate budget={'1' * 2_000}"


def test_a_question_of_up_to_600_characters_is_read():
    padding = " please" * ((MAX_QUESTION - 60) // 7)
    said = f"how many clicks will $500 get me on instagram{padding}"
    assert len(said) <= MAX_QUESTION
    assert to_command(said) == "estimate budget=$500 platform=instagram want=clicks"


def test_text_over_slacks_limit_is_left_for_the_router_to_refuse():
    said = "how many impressions " + "1" * 40_000
    assert to_command(said) == said
