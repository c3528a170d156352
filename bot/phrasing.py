"""Plain questions -> the command grammar, for mentions and DMs.

"what's the difference between smo and smm?"          -> compare
"how does smo compare to smm on cost?"                -> compare cost
"how many impressions does $500 buy at $8 cpm?"       -> estimate budget=$500 cpm=$8
"what is roas?" / "explain roas" / "what does ctr mean" -> explain roas / explain ctr
"note for spring-launch: Reel got 3x saves"           -> note spring-launch Reel got 3x saves

Anything that already starts with a command word is left alone; anything else is returned as is
and the router answers it (with a "did you mean" when it is not a command).
"""

from __future__ import annotations

import re

from bot.router import COMMANDS

_COMMAND_WORDS = {c.words[0] for c in COMMANDS}

_NOTE = re.compile(
    r"^(?:log\s+(?:a\s+)?)?note\s+(?:for|on|about|to)\s+([\w\-]+)\s*[:\-–]?\s+(.+)$", re.I | re.S
)
_EXPLAIN = re.compile(
    r"^(?:what(?:'s|’s| is| are| does)|define|meaning of|explain|whats)\s+(?:an?\s+|the\s+)?(.+?)"
    r"(?:\s+mean|\s+stand for)?\s*\??$",
    re.I,
)
_DIFFERENCE = re.compile(
    r"\b(smo|social media optimi[sz]ation)\b.*\b(smm|social media marketing)\b|"
    r"\b(smm|social media marketing)\b.*\b(smo|social media optimi[sz]ation)\b",
    re.I,
)
_ASPECT_HINT = re.compile(
    r"\b(?:on|in terms of|for|about|regarding)\s+([a-z][a-z ]{1,30}?)\s*\??$", re.I
)

# "<number> <metric>" or "<metric> of <number>" pairs, e.g. "$8 cpm", "ctr of 1.2%", "cpm $8".
_VALUE = r"[$€£]?\d[\d,]*(?:\.\d+)?\s?(?:[kmb]\b)?%?x?"
_METRICS = (
    "cpm|cpc|cpa|cpv|cpe|ctr|cvr|roas|frequency|followers|posts|reach rate|engagement rate|"
    "impressions|clicks|conversions|budget|spend|views|audience"
)
_VALUE_THEN_KEY = re.compile(rf"({_VALUE})\s+(?:an?\s+|of\s+)?({_METRICS})\b", re.I)
_KEY_THEN_VALUE = re.compile(rf"\b({_METRICS})\s+(?:of\s+|at\s+|is\s+|=\s*)?({_VALUE})", re.I)
_MONEY = re.compile(r"[$€£]\d[\d,]*(?:\.\d+)?\s?(?:[kmb]\b)?", re.I)
_ESTIMATE_HINT = re.compile(r"\bhow (?:many|much)\b|\bbuy\b|\bget\b|\bestimate\b", re.I)


def to_command(text: str) -> str:
    """The command-grammar line for a plain question (or the text unchanged)."""
    line = " ".join(text.strip().split())
    if not line:
        return ""
    note = _NOTE.match(line)
    if note:
        return f"note {note.group(1)} {note.group(2).strip()}"
    first = line.split()[0].lower()
    if first in _COMMAND_WORDS:
        return line
    if _DIFFERENCE.search(line) or re.search(r"\bsmo\s+(?:vs\.?|versus|or)\s+smm\b", line, re.I):
        aspect = _ASPECT_HINT.search(line)
        return f"compare {aspect.group(1).strip()}" if aspect else "compare"
    if _ESTIMATE_HINT.search(line):
        estimate = _estimate(line)
        if estimate:
            return estimate
    explain = _EXPLAIN.match(line)
    if explain:
        term = explain.group(1).strip(" ?.!")
        return f"explain {term}"
    return line


def _key(name: str) -> str:
    return name.lower().replace(" ", "_")


def _estimate(line: str) -> str | None:
    pairs: dict[str, str] = {}
    spans: list[tuple[int, int]] = []
    for match in _VALUE_THEN_KEY.finditer(line):
        pairs.setdefault(_key(match.group(2)), match.group(1).replace(" ", ""))
        spans.append(match.span(1))
    for match in _KEY_THEN_VALUE.finditer(line):
        if any(s[0] <= match.start(2) < s[1] for s in spans):
            continue
        pairs.setdefault(_key(match.group(1)), match.group(2).replace(" ", ""))
        spans.append(match.span(2))
    # A sum of money not tied to a metric ("does $500 buy") is the budget.
    if "budget" not in pairs and "spend" not in pairs:
        for money in _MONEY.finditer(line):
            if not any(s[0] <= money.start() < s[1] for s in spans):
                pairs["budget"] = money.group(0).replace(" ", "")
                break
    if not pairs:
        return None
    return "estimate " + " ".join(f"{k}={v}" for k, v in pairs.items())
