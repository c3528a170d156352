"""Plain questions -> the command grammar, for mentions and DMs.

"what's the difference between smo and smm?"          -> compare
"how does smo compare to smm on cost?"                -> compare cost
"how many impressions does $500 buy at $8 cpm?"       -> estimate budget=$500 cpm=$8
"what is roas?" / "explain roas" / "what does ctr mean" -> explain roas / explain ctr
"note for spring-launch: Reel got 3x saves"           -> note spring-launch Reel got 3x saves

Anything that already starts with a command word is left alone; anything else is returned as is
and the router answers it (with a "did you mean" when it is not a command).

Every pattern here does work linear in the text's length, since a DM can carry 40,000 characters
and this runs on the event loop: each pattern is anchored, bounded, or written so that a match
can start only at the beginning of a number or a word and never backtracks into a run of digits
(possessive `*+` and `?+`); nothing is tried at every position of a long run.
"""

from __future__ import annotations

import re

from bot.metric_table import WORDS
from bot.router import COMMANDS
from bot.text import MAX_MESSAGE, clean

_COMMAND_WORDS = {c.words[0] for c in COMMANDS}

_NOTE = re.compile(
    r"^(?:log\s+(?:a\s+)?)?note\s+(?:for|on|about|to)\s+([\w\-]++)\s*[:\-–]?\s+(.+)$", re.I | re.S
)
# The question's lead-in; the term is what follows it, less a trailing "mean"/"stand for" and "?".
_EXPLAIN = re.compile(
    r"(?:what(?:'s|’s| is| are| does)|define|meaning of|explain|whats)\s+(?:an?\s+|the\s+)?(?=.)",
    re.I,
)
_EXPLAIN_TAIL = (" mean", " stand for")
# Both names anywhere, in either order: two searches, where `smo.*smm` tried every smo to the end.
_SMO = re.compile(r"\b(?:smo|social media optimi[sz]ation)\b", re.I)
_SMM = re.compile(r"\b(?:smm|social media marketing)\b", re.I)
_SMO_VS_SMM = re.compile(r"\bsmo\s+(?:vs\.?|versus|or)\s+smm\b", re.I)
_ASPECT_HINT = re.compile(
    r"\b(?:on|in terms of|for|about|regarding)\s+([a-z][a-z ]{1,30}?)\s*\??$", re.I
)

# "<number> <metric>" or "<metric> of <number>" pairs, e.g. "$8 cpm", "ctr of 1.2%", "cpm $8".
# A value starts only where a number starts (not after a digit, `.`, `,` or, for the digit of
# "$8", after its currency sign; `.5%` is one value, not `5%`), and its digits are taken possessively: a run of 40,000 digits
# is read once, not once from each of its positions.
_VALUE = (
    r"(?<![\d.,])(?:[$€£](?=\.?\d)|(?<![$€£]))(?:\d[\d,]*+(?:\.\d+)?+|\.\d++)"
    r"\s?(?:[kmb]\b)?%?x?"
)
# The metric words of bot/metric_table.py, longest first.
_METRICS = "|".join(re.escape(word) for word in WORDS)
_VALUE_THEN_KEY = re.compile(rf"({_VALUE})\s+(?:an?\s+|of\s+)?({_METRICS})\b", re.I)
_KEY_THEN_VALUE = re.compile(rf"\b({_METRICS})\s+(?:of\s+|at\s+|is\s+|=\s*)?({_VALUE})", re.I)
_MONEY = re.compile(r"(?<![\d.,])[$€£]\d[\d,]*+(?:\.\d+)?+\s?(?:[kmb]\b)?", re.I)
_ESTIMATE_HINT = re.compile(r"\bhow (?:many|much)\b|\bbuy\b|\bget\b|\bestimate\b", re.I)


def to_command(text: str) -> str:
    """The command-grammar line for a plain question (or the text unchanged)."""
    text = clean(text)
    if len(text) > MAX_MESSAGE:
        return text  # the router refuses it with a sentence; no need to read it
    line = " ".join(text.strip().split())
    if not line:
        return ""
    note = _NOTE.match(line)
    if note:
        return f"note {note.group(1)} {note.group(2).strip()}"
    first = line.split(maxsplit=1)[0].lower()
    if first in _COMMAND_WORDS:
        return line
    if (_SMO.search(line) and _SMM.search(line)) or _SMO_VS_SMM.search(line):
        aspect = _ASPECT_HINT.search(_tail(line))
        return f"compare {aspect.group(1).strip()}" if aspect else "compare"
    if _ESTIMATE_HINT.search(line):
        estimate = _estimate(line)
        if estimate:
            return estimate
    explain = _EXPLAIN.match(line)
    if explain:
        # Even an empty term goes to `explain`, which then says how to ask.
        return f"explain {_explained_term(line[explain.end() :])}"
    return line


def _tail(line: str, size: int = 64) -> str:
    """The last words of `line`, whole, within `size` characters: an aspect hint ends the line
    and is at most about 45 characters ("regarding" and 31), so searching the rest for one would
    try 30 characters at every "on" of a long message for nothing."""
    if len(line) <= size:
        return line
    tail = line[-size:]
    return tail[tail.find(" ") + 1 :]


def _explained_term(rest: str) -> str:
    """`roas?` -> roas, `ctr mean?` -> ctr, `roas stand for` -> roas."""
    term = rest.rstrip()
    term = term[:-1].rstrip() if term.endswith("?") else term
    lowered = term.lower()
    for tail in _EXPLAIN_TAIL:
        if lowered.endswith(tail) and len(term) > len(tail):
            term = term[: -len(tail)]
            break
    return term.strip(" ?.!")


def _key(name: str) -> str:
    return name.lower().replace(" ", "_")


def _estimate(line: str) -> str | None:
    pairs: dict[str, str] = {}
    # Characters already read as a value: a flag per character, so that each check is one look
    # (a list of spans scanned for every match grew with the square of the number of matches).
    taken = bytearray(len(line))

    def take(span: tuple[int, int]) -> None:
        taken[span[0] : span[1]] = b"\x01" * (span[1] - span[0])

    for match in _VALUE_THEN_KEY.finditer(line):
        pairs.setdefault(_key(match.group(2)), match.group(1).replace(" ", ""))
        take(match.span(1))
    for match in _KEY_THEN_VALUE.finditer(line):
        if taken[match.start(2)]:
            continue
        pairs.setdefault(_key(match.group(1)), match.group(2).replace(" ", ""))
        take(match.span(2))
    # A sum of money not tied to a metric ("does $500 buy") is the budget.
    if "budget" not in pairs and "spend" not in pairs:
        for money in _MONEY.finditer(line):
            if not taken[money.start()]:
                pairs["budget"] = money.group(0).replace(" ", "")
                break
    if not pairs:
        return None
    return "estimate " + " ".join(f"{k}={v}" for k, v in pairs.items())
