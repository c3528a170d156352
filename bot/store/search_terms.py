"""The terms SQLite's full-text index keyed by team holds (schema v8), made in Python for smx's
own writes and searches: the same terms, byte for byte, as the schema's triggers make in SQL.

A note's words are read by SQLite's own tokenizer, never an imitation of it: SEARCH_TOKENIZER
(stemming, case and accents folded, every character that is not a letter or digit a separator),
run on a small in-memory table. What is cached is what it said for each piece of
text, a piece being what lies between characters that are separators whatever comes around them
(ASCII punctuation and spaces, Unicode whitespace): the tokenizer never makes a term across one,
and stems each term alone, so a note's terms are its pieces' terms in order. Most notes are made
of pieces seen before, so most of a note's terms cost a dict lookup, not a tokenizer's run
(tests/test_search_index.py checks the two against each other on any text).

Each term is then put after the team's key (search_key): one team's terms are never another's.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from functools import lru_cache

# What schema v8's search_words tokenises notes with (and v2's notes_fts did before it).
SEARCH_TOKENIZER = "porter unicode61 remove_diacritics 2"

# Runs of anything but ASCII punctuation, ASCII control characters and whitespace: unicode61 (its
# default categories: letters, numbers, private use) reads none of those as part of a term.
_PIECE = re.compile(r"[^\s\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+")
_lock = threading.Lock()
_conn: sqlite3.Connection | None = None


def tokenize(text: str) -> tuple[str, ...]:
    """The terms SQLite's tokenizer makes of `text`, in order, asked of SQLite itself: `Reels`
    is ("reel",), `v2.1` ("v2", "1"), `!!` none. One in-memory table for the process, under a
    lock (tens of microseconds a call; terms() calls it once per new piece of text)."""
    global _conn
    with _lock:
        if _conn is None:
            _conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            _conn.execute(
                "CREATE VIRTUAL TABLE words USING fts5(word, content='', columnsize=0,"
                f" tokenize='{SEARCH_TOKENIZER}')"
            )
            _conn.execute("CREATE VIRTUAL TABLE words_terms USING fts5vocab(words, instance)")
        _conn.execute("BEGIN")  # rolled back: the table is empty again after
        try:
            _conn.execute("INSERT INTO words (rowid, word) VALUES (1, ?)", [text])
            rows = _conn.execute("SELECT term FROM words_terms ORDER BY offset").fetchall()
        finally:
            _conn.execute("ROLLBACK")
    return tuple(r[0] for r in rows)


@lru_cache(maxsize=32_768)
def _piece_terms(piece: str) -> tuple[str, ...]:
    return tokenize(piece)


def terms(text: str) -> list[str]:
    """tokenize(text), a piece at a time and cached (see the module's docstring)."""
    out: list[str] = []
    for piece in _PIECE.findall(text):
        if piece.isascii():
            if piece.isdigit():  # a number is its own term: no stem ends in a digit
                out.append(piece)
                continue
            piece = piece.lower()  # what unicode61 does to ASCII: shares the cache's entry
        out.extend(_piece_terms(piece))
    return out


def search_key(team: str) -> str:
    """What schema v8 puts before every term of a team's notes: the team id's UTF-8 in hex, and
    `_`, which no term holds (the triggers: `lower(hex(team)) || '_'`). So no term of one team's
    is another's, nor begins another's."""
    return team.encode("utf-8").hex() + "_"


def keyed(team: str, text: str) -> str | None:
    """A column of a note as notes_search is given it: its terms after the team's key, a space
    between; None when it has no term (as the triggers' group_concat of nothing)."""
    key = search_key(team)
    return " ".join(key + t for t in terms(text)) or None
