"""Showing text people wrote without letting it ping anyone, and notes as CSV.

`defuse` is the one implementation of making mentions inert. Every note passes it on its way out
(listings, search, export, digests), and the Block Kit renderer (bot/slack/blocks.py) passes every
string of every message and view through it, whoever wrote the text. It is safe on its own: the
CSV, the plain-text rendering and a message's fallback `text` get no other escaping, so it must not
rely on the Block Kit renderer's `&`, `<`, `>` escaping.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the renderer imports this module; it must not pay for the store's imports
    from bot.store import Note

# A zero-width space after the at-sign: the text reads the same, but Slack no longer sees a
# mention in `<!here>`-style markup nor, with link_names, in a bare `@here` or `@team-handle`.
ZWSP = "\u200b"
AT = "@" + ZWSP

# "Not a letter or digit": `_` counts as punctuation here, since `_@here_` is italic markup
# around a mention, not a word that happens to contain one.
_NOT_ALNUM_BEFORE = r"(?<![^\W_])"
_NOT_ALNUM_AFTER = r"(?![^\W_])"
_MARKUP = (
    r"<!(?P<special>channel|here|everyone|group)(?:\|[^<>]*)?>"
    r"|<!subteam\^(?P<group>[^|<>]*)(?:\|(?P<group_label>[^<>]*))?>"
    r"|<@(?P<user>[^|<>]*)(?:\|(?P<user_label>[^<>]*))?>"
    # Anything else that opens Slack markup with !, @ or # (a half mention, a channel link).
    r"|<(?P<opener>[!@#])"
    # Bare @channel/@here/@everyone whatever surrounds them, unless a letter or digit follows
    # (`@hereby` is someone's handle, caught below when it starts a word).
    rf"|@(?=(?:channel|here|everyone){_NOT_ALNUM_AFTER})"
)
# ...and @handles that start a word (a user group, with link_names; not an e-mail address).
_HANDLE = rf"|{_NOT_ALNUM_BEFORE}@(?=\w)"
# Every match starts at "<" or "@": the lookahead in front lets the engine skip every other
# position at once (half the time of reading a note's text), matching exactly the same.
_MENTION = re.compile(rf"(?=[<@])(?:{_MARKUP}{_HANDLE})", re.IGNORECASE)
# Inside inline code a handle stays as written, so `/invite @smx` can still be copied and run;
# everything else (markup, @here and the like) is defused there too.
_MENTION_IN_CODE = re.compile(rf"(?=[<@])(?:{_MARKUP})", re.IGNORECASE)
_CODE = re.compile(r"(`[^`\n]+`)")


def _harmless(match: re.Match[str]) -> str:
    if match["special"]:
        return AT + match["special"]
    if match["group"] is not None:
        return AT + ((match["group_label"] or "").lstrip("@") or match["group"])
    if match["user"] is not None:
        return AT + ((match["user_label"] or "").lstrip("@") or match["user"])
    if match["opener"]:
        return "<" + ZWSP + match["opener"]
    return AT


def _defuse_once(text: str) -> str:
    if "`" not in text:
        return _MENTION.sub(_harmless, text)
    # The split gives text, code, text, ...; each piece is read on its own, which can only
    # defuse more at a piece's edge, never less.
    return "".join(
        (_MENTION_IN_CODE if i % 2 else _MENTION).sub(_harmless, piece)
        for i, piece in enumerate(_CODE.split(text))
    )


def defuse(text: str) -> str:
    """`text` with every mention made inert: `<!here>` and `@here` become "@\u200bhere",
    `<@U1|jane>` "@\u200bjane", `<!subteam^S1|@team>` "@\u200bteam", `_@channel_`
    "_@\u200bchannel_". Idempotent."""
    if "<" not in text:
        if "@" not in text:
            return text  # every mention needs "@" or "<": most text is returned as it is, at once
        if "`" not in text:
            # Only bare @channel/@here/@everyone and @handles: one pass defuses them all. Each
            # becomes "@" + ZWSP, which no pattern matches again, and the "@" it keeps changes no
            # other match's context (a second pass finds nothing: tests/test_defuse_fast.py).
            return _MENTION.sub(_harmless, text)
    # Until nothing changes: removing one mention can join a "<" before it to the "@" it leaves
    # (`<<!here>>` -> `<@\u200bhere>`), or move a backtick so a handle leaves inline code, which
    # the next pass defuses. Each pass only shrinks markup or inserts a space after an opener it
    # will not match again, so this ends quickly.
    while (done := _defuse_once(text)) != text:
        text = done
    return done


EXPORT_COLUMNS = (
    "id", "created_at", "campaign", "platform", "spend", "currency", "impressions", "clicks",
    "conversions", "other_metrics", "author", "channel", "visibility", "text",
)  # fmt: skip

# Spreadsheets run a cell that starts with one of these as a formula ("CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(value)


def to_csv(notes: Iterable[Note]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for n in notes:
        writer.writerow(
            [
                n.id,
                n.created_at.isoformat() if n.created_at else "",
                n.campaign,
                n.platform or "",
                _number(n.spend),
                n.currency or "",
                _number(n.impressions),
                _number(n.clicks),
                _number(n.conversions),
                json.dumps(n.metrics, sort_keys=True) if n.metrics else "",
                n.author,
                n.channel,
                "team" if n.is_public else "conversation",
                _cell(defuse(n.text)),
            ]
        )
    return out.getvalue()
