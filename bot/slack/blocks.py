"""Reply -> Block Kit, as plain dicts. Pure: no Slack SDK import, so `smx ask --json` stays fast.

Every string that reaches Slack is escaped (`&`, `<`, `>`), so nothing a person wrote can become a
mention, a channel link or a URL. Long content is split to stay inside Slack's limits
(reference/slack.md) rather than being rejected by the API.
"""

from __future__ import annotations

from bot.reply import Fact, Reply, render_text

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS = 25
MAX_FALLBACK_TEXT = 3900
NOTICE_ICON = {"info": ":information_source:", "warning": ":warning:", "error": ":x:"}


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chunks(text: str, limit: int) -> list[str]:
    """Split at line ends where possible so each piece fits one section."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single line longer than the limit: hard split
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


def _mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


def _text_sections(text: str) -> list[dict]:
    return [
        {"type": "section", "text": _mrkdwn(c)}
        for c in _chunks(escape(text), MAX_SECTION_TEXT)
        if c.strip()
    ]


def _fact_sections(facts: list[Fact]) -> list[dict]:
    fields = [
        _mrkdwn(_clip(f"*{escape(f.label)}*\n{escape(f.value)}", MAX_FIELD_TEXT)) for f in facts
    ]
    return [
        {"type": "section", "fields": fields[i : i + MAX_FIELDS]}
        for i in range(0, len(fields), MAX_FIELDS)
    ]


def render_blocks(reply: Reply, *, max_blocks: int = MAX_BLOCKS) -> list[dict]:
    """The Block Kit blocks for a reply; at most `max_blocks` (50 for messages, 100 for views)."""
    blocks: list[dict] = []
    if reply.title:
        blocks.append(
            {
                "type": "header",
                "text": {"type": "plain_text", "text": _clip(reply.title, MAX_HEADER)},
            }
        )
    if reply.intro:
        blocks += _text_sections(reply.intro)
    if reply.facts:
        blocks += _fact_sections(reply.facts)
    for section in reply.sections:
        if blocks:
            blocks.append({"type": "divider"})
        head = f"*{escape(section.heading)}*" if section.heading else ""
        body = escape(section.text) if section.text else ""
        text = "\n".join(p for p in (head, body) if p)
        blocks += [
            {"type": "section", "text": _mrkdwn(c)}
            for c in _chunks(text, MAX_SECTION_TEXT)
            if c.strip()
        ]
        if section.facts:
            blocks += _fact_sections(section.facts)
    for notice in reply.notices:
        blocks += _text_sections(f"{NOTICE_ICON[notice.level]} {notice.text}")
    if reply.footnotes:
        notes = [_mrkdwn(_clip(escape(f), MAX_SECTION_TEXT)) for f in reply.footnotes]
        for i in range(0, len(notes), MAX_CONTEXT_ELEMENTS):
            blocks.append({"type": "context", "elements": notes[i : i + MAX_CONTEXT_ELEMENTS]})
    if reply.buttons:
        elements = []
        for b in reply.buttons[:MAX_ACTIONS]:
            element = {
                "type": "button",
                "text": {"type": "plain_text", "text": _clip(b.label, 75)},
                "action_id": b.action_id[:255],
                "value": b.value[:2000],
            }
            if b.style:
                element["style"] = b.style
            elements.append(element)
        blocks.append({"type": "actions", "elements": elements})
    return _fit(blocks, max_blocks)


def _fit(blocks: list[dict], max_blocks: int) -> list[dict]:
    if len(blocks) <= max_blocks:
        return blocks
    kept = blocks[: max_blocks - 1]
    hidden = len(blocks) - len(kept)
    note = f"… {hidden} more parts were left out to fit Slack's limit of {max_blocks} blocks."
    return [*kept, {"type": "context", "elements": [_mrkdwn(note)]}]


def fallback_text(reply: Reply) -> str:
    """The message `text` (notifications, screen readers): plain, short, escaped."""
    return _clip(escape(render_text(reply)), MAX_FALLBACK_TEXT)
