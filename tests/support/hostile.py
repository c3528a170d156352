"""Hypothesis strategies for hostile text, shared by every test that feeds smx what people (or an
attacker) might type, and the one way those tests size their runs.

Strategies:
- `hostile_text(max_size)`: short texts built from pieces known to hurt: lone surrogates, C0/C1
  controls, zero-width and bidirectional characters, combining marks, emoji (with joiners),
  right-to-left and CJK scripts, full-width and other non-ASCII digits, Slack mention and mrkdwn
  syntax (`<!channel>`, `<@U1>`, `*_~```), FTS5 and SQL syntax (`"`, `NEAR(`, `*`, `' OR 1=1 --`),
  odd numbers, plus arbitrary Unicode characters.
- `odd_numbers()`: number-like tokens: overflowing, underflowing, not-a-number, signed zero,
  underscores, non-ASCII digits, huge digit strings and near-misses.
- `long_texts(size)`: texts of exactly `size` characters (40,000 by default, Slack's message limit)
  made by repeating one adversarial unit (digits, `smo `, `=` runs, `*`/`_` runs, spaces, `$`/`%`/
  `k` runs, unicode, ...), behind an optional prefix that sends them down a particular parser.
- `metric_tokens()`: `KEY=VALUE` tokens with real metric keys and hostile values.

Sizing (`fuzz_settings`): CI runs a fixed, derandomized number of examples so it is fast and
repeatable; `SMX_FUZZ_EXAMPLES=100000 .venv/bin/pytest tests/test_fuzz_text.py` runs that many per
test with a random seed instead (Hypothesis prints a failing example and how to reproduce it).
The variable is read when the module is imported, before the test environment is cleared.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ_EXAMPLES_VARIABLE = "SMX_FUZZ_EXAMPLES"
_REQUESTED = os.environ.get(FUZZ_EXAMPLES_VARIABLE, "").strip()
BIG_RUN = int(_REQUESTED) if _REQUESTED.isdigit() and int(_REQUESTED) > 0 else 0

SLACK_MESSAGE_LIMIT = 40_000


def fuzz_settings(ci_examples: int) -> settings:
    """`ci_examples` derandomized examples in CI; SMX_FUZZ_EXAMPLES random ones when it is set."""
    return settings(
        max_examples=BIG_RUN or ci_examples,
        derandomize=not BIG_RUN,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
            HealthCheck.large_base_example,
        ],
    )


# -- pieces -----------------------------------------------------------------------------------------

LONE_SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff", "\udce9", "\ud83d"]
CONTROLS = [chr(c) for c in (*range(0x00, 0x20), 0x7F, 0x80, 0x85, 0x9B, 0x9F)]
INVISIBLE = [
    "\u200b",  # zero-width space
    "\u200c",  # zero-width non-joiner
    "\u200d",  # zero-width joiner
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    "\u2060",  # word joiner
    "\ufeff",  # byte order mark
    "\u00ad",  # soft hyphen
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\u2069",  # pop directional isolate
    "\u061c",  # Arabic letter mark
    "\U000e0041",  # tag latin capital letter A
]
UNICODE_WORDS = [
    "été",
    "e\u0301te\u0301",  # the same word, decomposed
    "naïve",
    "Straße",
    "ﬁ",
    "İstanbul",
    "ǅ",
    "中文",
    "春キャンペーン",
    "한국어",
    "עברית",
    "العربية",
    "हिंदी",
    "می\u200cخواهم",
    "😀",
    "👨\u200d👩\u200d👧",
    "🏳️\u200d🌈",
    "1️⃣",
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
    "\U0001f600" * 3,
    "Z\u0351\u0360\u0336a\u0352\u0335l\u0363g\u0367o",  # combining marks stacked
    "\ufffd",
    "\uffff",
    "\U0010ffff",
]
DIGITS = ["١٢٣", "١٬٢٣٤٫٥", "１２３", "१२३", "๑๒๓", "²", "½", "Ⅻ", "𝟙𝟚𝟛", "٣"]
MENTIONS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!here|here>",
    "<@U1>",
    "<@U123|jane>",
    "<!subteam^S1|@team>",
    "<#C1|general>",
    "<#CAEXT|partners>",
    "<https://example.com|click>",
    "<mailto:a@b.c>",
    "@channel",
    "@here",
    "@everyone",
    "_@channel_",
    "*@here*",
    "@here's",
    "<<!here>>",
    "<!date^1|today>",
    "<",
    ">",
    "&",
    "&lt;",
    "&amp;",
]
MRKDWN = ["*", "_", "~", "`", "```", "*bold*", "_it_", "~s~", "`code`", ">", "> quote", "\\", "|"]
QUERY_SYNTAX = [
    '"',
    "'",
    "NEAR(",
    "NEAR(a b, 2)",
    "*",
    "a*",
    "^",
    ":",
    "(",
    ")",
    "AND",
    "OR",
    "NOT",
    "-",
    "+",
    "' OR 1=1 --",
    '" OR ""="',
    "; DROP TABLE notes; --",
    "%",
    "_",
    "\\",
    "/*",
    "*/",
    "{col}",
    "notes:",
    "text:x",
]
ODD_NUMBERS = [
    "1e309",
    "1e400",
    "-1e309",
    "1e999",
    "1e-400",
    "1e-999",
    "0e999",
    "inf",
    "-inf",
    "Infinity",
    "nan",
    "NaN",
    "-0",
    "+0",
    "0.0",
    "-0.0",
    "1_000",
    "_1",
    "1__0",
    "1e3",
    "1E3",
    "1e+3",
    "0x10",
    "0b1",
    "1,2,3",
    "1,,000",
    "1.2.3",
    ".",
    "..5",
    "5.",
    "1e",
    "e5",
    "99999999999999999999",
    "9" * 64,
    "9" * 400,
    "0." + "0" * 400 + "1",
    "$1e309",
    "1e309%",
    "1e309x",
    "1e309k",
    "€-0",
    "$$5",
    "5%%",
    "3:1:1",
    "1/2",
    "2**10",
    "1e309d",
    "1000000000d",
    "99999999999999999999999999999999999999999d",
    "0.0000000000000000000000001h",
    "-7d",
    "99999:00",
    "24:00",
    "23:99",
    "9999-12-31",
    "0001-01-01",
    "10000-01-01",
    "2024-02-30",
    *DIGITS,
]
WORDS = [
    "smo",
    "smm",
    "vs",
    "how many",
    "how much",
    "impressions",
    "cpm",
    "ctr",
    "budget",
    "spend",
    "roas",
    "what is",
    "explain",
    "note for",
    "on",
    "cost",
    "share",
    "since=",
    "page=",
    "platform=",
    "period=",
    "empty=yes",
    "mon",
    "fri",
    "09:00",
    "Europe/Berlin",
    "UTC",
    "#marketing",
    "=",
    "==",
    "x",
    "a",
    "spring-launch",
]
SPACES = [" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2028", "\u202f"]

# Units whose repetition up to 40,000 characters has made regular-expression parsers go quadratic.
LONG_UNITS = [
    "1",
    "9",
    "1,",
    "1.",
    "$1",
    "1 cpm ",
    "$",
    "%",
    "k",
    "=",
    "=1",
    "a=1 ",
    "*",
    "_",
    "*a ",
    "_a ",
    "~",
    "`",
    " ",
    "smo ",
    "smm ",
    "smo smm ",
    "on ",
    "what is ",
    "note for ",
    "budget ",
    "cpm ",
    "-",
    ":",
    "a1=_*$%k ",
    "١٢٣ é中😀 ",
    "\u200b",
    "\ud800",
    "\x00",
    "<!here>",
    "@here ",
    '"',
    "NEAR(",
]
LONG_PREFIXES = [
    "",
    "how many impressions ",
    "how much ",
    "what is ",
    "what's the difference between smo and smm ",
    "how does smo compare to smm on ",
    "note for x ",
    "estimate ",
    "estimate budget=",
    "compare ",
    "compare budget=",
    "explain ",
    "note c ",
    "note c x budget=",
    "notes ",
    "notes since=",
    "notes page=",
    "notes search ",
    "note delete ",
    "digest on ",
    "help ",
]

_PIECES = st.sampled_from(
    [
        *LONE_SURROGATES,
        *CONTROLS,
        *INVISIBLE,
        *UNICODE_WORDS,
        *MENTIONS,
        *MRKDWN,
        *QUERY_SYNTAX,
        *ODD_NUMBERS,
        *WORDS,
        *SPACES,
    ]
)
_ANY_CHARACTER = st.characters(exclude_categories=())  # every code point, surrogates too


def hostile_piece() -> st.SearchStrategy[str]:
    """One hostile piece, or a few arbitrary characters."""
    return _PIECES | st.text(_ANY_CHARACTER, min_size=1, max_size=4)


def hostile_text(max_size: int = 12) -> st.SearchStrategy[str]:
    """Up to `max_size` hostile pieces, each joined to the next by a space or by nothing."""
    joiner = st.sampled_from([" ", "", " ", "=", "\n"])
    return st.lists(st.tuples(hostile_piece(), joiner), max_size=max_size).map(
        lambda parts: "".join(piece + glue for piece, glue in parts)
    )


def odd_numbers() -> st.SearchStrategy[str]:
    """A number-like token that has crashed or fooled number parsers."""
    return st.sampled_from(ODD_NUMBERS) | st.builds(
        lambda sign, digits, exp, suffix: f"{sign}{digits}{exp}{suffix}",
        st.sampled_from(["", "-", "+", "$", "€", "-$"]),
        st.sampled_from(["1", "0", "9" * 20, "1.5", ".5", "1,000", "١٢", "１２"]),
        st.sampled_from(["", "e308", "e309", "e-308", "e-324", "e-400", "e999"]),
        st.sampled_from(["", "k", "m", "b", "%", "x", ":1", "d", "h", "w", "mo"]),
    )


def metric_tokens() -> st.SearchStrategy[str]:
    """`KEY=VALUE` with a real key (or a near one) and a hostile value."""
    keys = st.sampled_from(
        ["budget", "spend", "cpm", "ctr", "roas", "roi", "frequency", "impressions", "clicks"]
        + ["posts", "followers", "engagement_rate", "platform", "period", "since", "page"]
        + ["spedn", "BUDGET", "budget\u200b", "bud\u200dget", "ｂｕｄｇｅｔ"]
    )
    values = odd_numbers() | hostile_piece()
    return st.builds(lambda k, v: f"{k}={v}", keys, values)


def long_texts(size: int = SLACK_MESSAGE_LIMIT) -> st.SearchStrategy[str]:
    """A text of exactly `size` characters: a prefix, then one unit repeated to fill it."""
    return st.builds(
        lambda prefix, unit: repeat_to(prefix, unit, size),
        st.sampled_from(LONG_PREFIXES),
        st.sampled_from(LONG_UNITS),
    )


def repeat_to(prefix: str, unit: str, size: int = SLACK_MESSAGE_LIMIT) -> str:
    """`prefix` followed by `unit` repeated, cut to exactly `size` characters."""
    body = unit * ((size - len(prefix)) // len(unit) + 1)
    return (prefix + body)[:size]
