import pytest

from bot.phrasing import to_command


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
        ("how many impressions does $500 buy at $8 cpm?", "estimate cpm=$8 budget=$500"),
        ("how many clicks do I get for $2k with a cpc of $1.50", "estimate cpc=$1.50 budget=$2k"),
        ("explain roas", "explain roas"),
        ("what is roas?", "explain roas"),
        ("What does CTR mean?", "explain CTR"),
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
    assert to_command("hello there") == "hello there"
