"""Showing text people wrote without letting it ping anyone, and notes as CSV.

`defuse` is the one gate every note passes on its way out (listings, search, export, digests).
It is safe on its own: the CSV, the plain-text rendering and a message's fallback `text` get no
other escaping, so it must not rely on the Block Kit renderer's `&`, `<`, `>` escaping.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable

from bot.store import Note

# A zero-width space after the at-sign: the text reads the same, but Slack no longer sees a
# mention in `<!here>`-style markup nor, with link_names, in a bare `@here` or `@team-handle`.
ZWSP = "\u200b"
AT = "@" + ZWSP

_MENTION = re.compile(
    r"<!(?P<special>channel|here|everyone|group)(?:\|[^<>]*)?>"
    r"|<!subteam\^(?P<group>[^|<>]*)(?:\|(?P<group_label>[^<>]*))?>"
    r"|<@(?P<user>[^|<>]*)(?:\|(?P<user_label>[^<>]*))?>"
    # Anything else that opens Slack markup with ! or @ (a half mention, a cut snippet).
    r"|<(?P<opener>[!@])"
    # Bare @channel/@here/@everyone anywhere, and @handles that start a word (not emails).
    r"|@(?=(?:channel|here|everyone)\b)|(?<!\w)@(?=\w)",
    re.IGNORECASE,
)


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


def defuse(text: str) -> str:
    """`text` with every mention made inert: `<!here>` and `@here` become "@\u200bhere",
    `<@U1|jane>` "@\u200bjane", `<!subteam^S1|@team>` "@\u200bteam". Idempotent."""
    # Until nothing changes: removing one mention can join a "<" before it to the "@" it leaves
    # (`<<!here>>` -> `<@\u200bhere>`), which the next pass defuses. Each pass only shrinks
    # markup or inserts a space after an opener it will not match again, so this ends quickly.
    while (done := _MENTION.sub(_harmless, text)) != text:
        text = done
    return done


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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
