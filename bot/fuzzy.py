"""Fuzzy matching of what people type against known names (commands, aspects, terms, keys)."""

from __future__ import annotations

from collections.abc import Iterable

# rapidfuzz is imported on the first comparison, not with this module: a query that names what
# it means exactly (`explain cpm`, `help`) never loads it.

# Below this score a guess is more likely noise than help.
CUTOFF = 60.0
# Every name matched here is a few words long; a longer query resembles none of them, and not
# comparing it keeps a 40,000-character message from costing a comparison per name.
MAX_QUERY = 100


def _score(query: str, choice: str, **kwargs) -> float:
    from rapidfuzz import fuzz

    # WRatio scores partial matches, so a two-letter name ("er") would match any query that
    # contains those letters; short names must resemble the whole query instead.
    if len(choice) <= 3:
        return fuzz.ratio(query, choice, **kwargs)
    return fuzz.WRatio(query, choice, **kwargs)


def closest(
    query: str, choices: Iterable[str], *, limit: int = 3, cutoff: float = CUTOFF
) -> list[str]:
    """Up to `limit` choices that look like `query`, best first, without duplicates."""
    options = list(dict.fromkeys(choices))
    if not query.strip() or not options or len(query) > MAX_QUERY:
        return []
    from rapidfuzz import process, utils

    found = process.extract(
        query,
        options,
        scorer=_score,
        processor=utils.default_process,
        limit=limit,
        score_cutoff=cutoff,
    )
    return [choice for choice, _score, _index in found]


def best(query: str, choices: Iterable[str], *, cutoff: float = 80.0) -> str | None:
    """The single choice `query` most plausibly means, or None when nothing is close enough."""
    found = closest(query, choices, limit=1, cutoff=cutoff)
    return found[0] if found else None
