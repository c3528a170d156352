"""Text people send, made safe to parse, store and show: the one cleaning every face goes through.

The router cleans each line once (bot/router.py `dispatch`), so Slack messages, slash commands,
`smx ask` arguments and console lines all obey the same rules:

- A lone UTF-16 surrogate (JSON can carry `\\ud800`; `smx ask` turns invalid UTF-8 in argv into
  surrogate escapes) becomes U+FFFD, the replacement character: SQLite and Slack's JSON both need
  valid Unicode. A surrogate pair that arrived as two halves is joined into its character.
- Control characters are dropped, except tab and line feed; `\\r\\n`, a lone `\\r` and the Unicode
  line and paragraph separators become `\\n`. NUL above all must go: SQLite ends a string there.
- Invisible formatting characters are dropped: zero-width space, word joiner, BOM, soft hyphen,
  invisible operators and the bidirectional embeddings, overrides and isolates (which can make
  text posted to a channel read differently from what it says). They change nothing a reader
  sees, yet would split `no\\u200bte` or `budget\\u200b=5` into words smx does not know.
- Joiners and direction marks (ZWJ, ZWNJ, LRM, RLM, ALM) and emoji tag characters shape emoji,
  flags and right-to-left or Indic scripts, so they are kept after a non-ASCII character; after
  an ASCII character (inside a command word, a key or a number) they shape nothing and are dropped.
- The result is in NFC, so the same word typed on two keyboards (`é` as one character or as `e`
  and a combining accent) is the same campaign name and the same search word.

Everything here is a linear pass over the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Slack's own limit on a message's text; nothing smx reads is longer (a note is at most 4,000).
MAX_MESSAGE = 40_000

_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAK = re.compile("\r\n?|[\u2028\u2029]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_INVISIBLE = re.compile(
    "[\u00ad\u180e\u200b\u2060-\u2064\u206a-\u206f\ufeff\ufff9-\ufffb\u202a-\u202e\u2066-\u2069]"
)
# Kept only right after a non-ASCII character (an emoji, a letter of another script).
_SHAPING = re.compile("(?<![^\x00-\x7f])[\u200c-\u200f\u061c\U000e0001\U000e0020-\U000e007f]+")


def clean(text: str) -> str:
    """`text` with the rules above applied; clean(clean(t)) == clean(t)."""
    if text.isascii():
        # No surrogate, Unicode break, invisible or shaping character can be in it, and NFC
        # leaves ASCII as it is: only carriage returns and control characters are left to do.
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        return _CONTROL.sub("", text)
    if _SURROGATE.search(text):
        # UTF-16 pairs the halves that belong together; what is left alone becomes U+FFFD.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    text = _LINE_BREAK.sub("\n", text)
    text = _CONTROL.sub("", text)
    text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFC", text)
    cleaned = _SHAPING.sub("", text)
    if cleaned != text:
        # Dropping a joiner can bring a letter and a combining accent together.
        cleaned = unicodedata.normalize("NFC", cleaned)
    return cleaned


def ascii_digits(text: str) -> str:
    """Every decimal digit as its ASCII digit: `١٢٣` (Arabic-Indic), `१२३` (Devanagari) and
    `１２３` (full-width) all read as 123. Only Unicode's decimal digits (category Nd) count:
    `²`, `½` and `Ⅻ` are not digits a number is written with, so they stay and are refused."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def without_format_characters(text: str) -> str:
    """`text` without any invisible format character (Unicode category Cf), for reading a short
    token such as a number, where even a joiner kept after a non-ASCII digit means nothing."""
    if text.isascii():
        return text
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def clip(text: str, limit: int = 40) -> str:
    """`text` in at most `limit` characters: cut, with "…" to show it was, where it is longer.
    Whitespace before the "…" goes, so the cut never reads as a word that ends there."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def and_list(items: Iterable[str], word: str = "and") -> str:
    """`a`, `a and b`, `a, b and c`: items as a sentence reads them (`word` may be "or")."""
    items = list(items)
    if len(items) <= 2:
        return f" {word} ".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def or_list(items: Iterable[str]) -> str:
    """`a`, `a or b`, `a, b or c`."""
    return and_list(items, "or")
