"""Reply -> Block Kit, as plain dicts. Pure: no Slack SDK import, so `smx ask --json` stays fast.

Every string that reaches Slack, in the blocks and in the fallback `text`, is escaped (`&`, `<`,
`>`) and defused (bot/notes/render.py), so nothing in a Reply, whoever wrote it, can become a
mention, a channel link or a URL. Each piece is defused after it is cut, since a cut can end a
piece in a bare mention ("x@here|sy").

Long content is split to stay inside Slack's per-block limits (reference/slack.md), and the whole
message is held to a block count and to a size in characters of blocks JSON: Slack refuses
`msg_blocks_too_long` well below 50 full blocks. What does not fit is cut from the end, never
silently: one line says what was left out and what to type to see it. Notices, footnotes and
buttons are kept ahead of the body when they are small, since a warning or "Next: `page=2`"
matters more than the tenth note of a listing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from bot.notes.render import defuse
from bot.reply import Button, Fact, Reply, Section, render_text

MAX_BLOCKS = 50
VIEW_BLOCKS = 100
# Characters of json.dumps(blocks), non-ASCII escaped as it is sent; the digest's own measure
# (bot/slack/digest_post.py MAX_BLOCKS_JSON), well under where Slack answered msg_blocks_too_long.
MAX_BLOCKS_JSON = 12_000
VIEW_BLOCKS_JSON = 100_000  # Slack allows a whole view 250 kB
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ID = 255
MAX_FALLBACK_TEXT = 3900
# No block's texts may take more than this much of the JSON budget, so text that JSON escapes
# six times over (anything outside ASCII) becomes more blocks rather than one block too large.
BLOCK_JSON = 3000
FIELD_JSON = 2000
LEFT_OUT_JSON = 1200  # the "left out" line's block, with the names it gives
MAX_HEADING = 300
NOTICE_ICON = {"info": ":information_source:", "warning": ":warning:", "error": ":x:"}
LEFT_OUT = ":scissors: *Left out to fit one Slack message:*"
# What to type to see the rest; a feature may give its own in `reply.data["see_more"]`.
SEE_MORE = (
    "To see the rest, ask for less at once (for notes: more search words, a campaign or "
    "`since=`), or type `/smx notes export` for every note in full."
)

_SURROGATE = re.compile("[\ud800-\udfff]")


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clean(text: str) -> str:
    # A lone surrogate cannot be encoded to send; show that something was there.
    return _SURROGATE.sub("\ufffd", text)


def _mrkdwn_source(text: str) -> str:
    return escape(_clean(text))


def _json_len(value: object) -> int:
    return len(json.dumps(value))


def _text_json(text: str) -> int:
    return _json_len(text) - 2


def _fitting_prefix(text: str, limit: int, max_json: int | None) -> int:
    """The longest n <= limit with text[:n] within max_json characters of JSON."""
    n = min(len(text), limit)
    if max_json is None or _text_json(text[:n]) <= max_json:
        return n
    low, high = 0, n  # text[:low] fits, text[:high] does not
    while high - low > 1:
        mid = (low + high) // 2
        if _text_json(text[:mid]) <= max_json:
            low = mid
        else:
            high = mid
    return low


def _outside_entity(text: str, cut: int) -> int:
    # In escaped text every "&" starts an entity; never cut one in two ("&am" + "p;").
    amp = text.rfind("&", max(0, cut - 4), cut)
    return amp if amp > 0 and ";" not in text[amp:cut] else cut


def _fits(text: str, limit: int, max_json: int | None) -> bool:
    return len(text) <= limit and (max_json is None or _text_json(text) <= max_json)


def _fit_text(text: str, limit: int, max_json: int | None = None) -> tuple[str, bool]:
    """`text` defused and, when too long, clipped with "…"; and whether it was clipped."""
    if "<" not in text and len(text) > 2 * limit + 16:
        # Escaped text only grows when defused, and a mention is decided within a few characters
        # of it: what is past this cannot change what is shown.
        text = text[: 2 * limit + 16]
    shown = defuse(text)
    if _fits(shown, limit, max_json):
        return shown, False
    cut = _fitting_prefix(shown, limit - 1, None if max_json is None else max_json - 6)
    while True:
        cut = max(1, _outside_entity(shown, cut))
        piece = defuse(shown[:cut].rstrip() + "…")
        if _fits(piece, limit, max_json) or cut == 1:
            return piece, True
        cut -= 1


def _pieces(text: str, limit: int, max_json: int) -> list[str]:
    """Escaped `text` in defused pieces of at most `limit` characters and `max_json` characters
    of JSON, cut at line ends where possible; whitespace-only pieces are dropped."""
    rest = defuse(text)
    out: list[str] = []
    while rest:
        n = _fitting_prefix(rest, limit, max_json)
        if n >= len(rest):
            cut, skip = len(rest), 0
        elif (newline := rest.rfind("\n", 0, n + 1)) >= 0:
            cut, skip = newline, 1  # the line break becomes the break between blocks
        else:
            cut, skip = _outside_entity(rest, n), 0
        piece = defuse(rest[:cut])
        while not _fits(piece, limit, max_json) and cut > 1:
            # Defusing at the new edge added a character; take a little less.
            cut, skip = cut - 1, 0
            piece = defuse(rest[:cut])
        if piece.strip():
            out.append(piece)
        rest = rest[cut + skip :]
    return out


def _mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


def _plain(text: str, limit: int) -> tuple[dict, bool]:
    shown, clipped = _fit_text(_clean(text), limit)
    return {"type": "plain_text", "text": shown if shown.strip() else "(no label)"}, clipped


def _sections(source: str) -> list[dict]:
    return [
        {"type": "section", "text": _mrkdwn(p)}
        for p in _pieces(source, MAX_SECTION_TEXT, BLOCK_JSON)
    ]


def _packed(elements: list[dict], per_block: int, make: str) -> list[dict]:
    """Elements (fields, context texts) grouped into blocks of at most `per_block` and
    BLOCK_JSON characters of JSON each."""
    blocks: list[dict] = []
    group: list[dict] = []
    size = 0
    for element in elements:
        cost = _json_len(element) + 2
        if group and (len(group) == per_block or size + cost > BLOCK_JSON):
            blocks.append(_group_block(make, group))
            group, size = [], 0
        group.append(element)
        size += cost
    if group:
        blocks.append(_group_block(make, group))
    return blocks


def _group_block(make: str, group: list[dict]) -> dict:
    if make == "fields":
        return {"type": "section", "fields": group}
    return {"type": "context", "elements": group}


# -- the layout: a reply as parts, before anything is cut ------------------------------------


@dataclass
class _Part:
    kind: str  # title, intro, facts, section, notice, footnotes, buttons
    blocks: list[dict]
    label: str = ""  # a section's heading, to name it when it is left out
    tail: bool = False  # notices, footnotes, buttons: kept ahead of the body when small


@dataclass
class _Layout:
    parts: list[_Part] = field(default_factory=list)
    clipped: int = 0  # texts cut short at a per-element limit
    buttons_over: int = 0  # buttons beyond Slack's 25

    def fact_blocks(self, facts: list[Fact]) -> list[dict]:
        fields = []
        for f in facts:
            source = f"*{_mrkdwn_source(f.label)}*\n{_mrkdwn_source(f.value)}"
            text, clipped = _fit_text(source, MAX_FIELD_TEXT, FIELD_JSON)
            self.clipped += clipped
            fields.append(_mrkdwn(text))
        return _packed(fields, MAX_FIELDS, "fields")

    def section(self, section: Section, *, after_others: bool) -> _Part:
        blocks: list[dict] = [{"type": "divider"}] if after_others else []
        label = ""
        if section.heading:
            label, clipped = _fit_text(_mrkdwn_source(section.heading), MAX_HEADING)
            self.clipped += clipped
        head = f"*{label}*" if label else ""
        body = _mrkdwn_source(section.text) if section.text else ""
        blocks += _sections("\n".join(p for p in (head, body) if p))
        if section.facts:
            blocks += self.fact_blocks(section.facts)
        return _Part("section", blocks, label=label)

    def buttons(self, buttons: list[Button]) -> list[dict]:
        self.buttons_over = max(0, len(buttons) - MAX_ACTIONS)
        elements = []
        for b in buttons[:MAX_ACTIONS]:
            text, clipped = _plain(b.label, MAX_BUTTON_TEXT)
            self.clipped += clipped
            element = {
                "type": "button",
                "text": text,
                "action_id": b.action_id[:MAX_ID],
                "value": b.value[:MAX_BUTTON_VALUE],
            }
            if b.style:
                element["style"] = b.style
            elements.append(element)
        # Buttons carry no long text; one block, however long their values.
        return [{"type": "actions", "elements": elements}] if elements else []


def _layout(reply: Reply) -> _Layout:
    layout = _Layout()
    parts = layout.parts
    if reply.title and reply.title.strip():
        text, clipped = _plain(reply.title, MAX_HEADER)
        layout.clipped += clipped
        parts.append(_Part("title", [{"type": "header", "text": text}]))
    if reply.intro:
        parts.append(_Part("intro", _sections(_mrkdwn_source(reply.intro))))
    if reply.facts:
        parts.append(_Part("facts", layout.fact_blocks(reply.facts)))
    for section in reply.sections:
        after_others = any(p.blocks for p in parts)
        parts.append(layout.section(section, after_others=after_others))
    for notice in reply.notices:
        source = f"{NOTICE_ICON[notice.level]} {_mrkdwn_source(notice.text)}"
        parts.append(_Part("notice", _sections(source), tail=True))
    if any(f.strip() for f in reply.footnotes):
        notes = []
        for f in reply.footnotes:
            if not f.strip():
                continue  # Slack refuses an empty text, and it says nothing
            text, clipped = _fit_text(_mrkdwn_source(f), MAX_SECTION_TEXT, BLOCK_JSON - 40)
            layout.clipped += clipped
            notes.append(_mrkdwn(text))
        parts.append(_Part("footnotes", _packed(notes, MAX_CONTEXT_ELEMENTS, "context"), tail=True))
    if reply.buttons:
        parts.append(_Part("buttons", layout.buttons(reply.buttons), tail=True))
    return layout


# -- fitting: what one message (or view) holds ------------------------------------------------


def _cost(block: dict) -> int:
    # json.dumps(list) is "[" + ", ".join(...) + "]": each block costs its JSON and 2 more.
    return _json_len(block) + 2


def _budget(max_blocks: int, max_json: int | None) -> int | None:
    if max_json is not None:
        return max_json
    if max_blocks <= MAX_BLOCKS:
        return MAX_BLOCKS_JSON
    if max_blocks <= VIEW_BLOCKS:
        return VIEW_BLOCKS_JSON
    return None  # a caller measuring a reply's whole size (bot/slack/digest_post.fits)


def render_blocks(
    reply: Reply, *, max_blocks: int = MAX_BLOCKS, max_json: int | None = None
) -> list[dict]:
    """The Block Kit blocks for a reply: at most `max_blocks` (50 for messages, 100 for views)
    and `max_json` characters of JSON (by default 12,000 for a message, 100,000 for a view, and
    no size cut for more blocks than any view holds, so a caller can measure a whole reply)."""
    layout = _layout(reply)
    budget = _budget(max_blocks, max_json)
    every = [b for p in layout.parts for b in p.blocks]
    whole = len(every) <= max_blocks and (budget is None or sum(map(_cost, every)) + 2 <= budget)
    if whole and not layout.clipped and not layout.buttons_over:
        return every
    return _cut(reply, layout, max_blocks, budget)


def _cut(reply: Reply, layout: _Layout, max_blocks: int, budget: int | None) -> list[dict]:
    room_blocks = max_blocks - 1  # one for the "left out" line
    room_json = (budget if budget is not None else 10**12) - LEFT_OUT_JSON - 2
    kept = [0] * len(layout.parts)  # blocks kept from the start of each part
    used_blocks = used_json = 0

    def take(i: int) -> bool:
        """Keep part i's blocks in order while they fit; whether all of them did."""
        nonlocal used_blocks, used_json
        for block in layout.parts[i].blocks:
            cost = _cost(block)
            if used_blocks + 1 > room_blocks or used_json + cost > room_json:
                return False
            kept[i] += 1
            used_blocks += 1
            used_json += cost
        return True

    order = list(range(len(layout.parts)))
    titles = [i for i in order if layout.parts[i].kind == "title"]
    tail = [i for i in order if layout.parts[i].tail]
    body = [i for i in order if i not in titles and i not in tail]
    for i in titles:
        take(i)
    tail_blocks = sum(len(layout.parts[i].blocks) for i in tail)
    tail_json = sum(_cost(b) for i in tail for b in layout.parts[i].blocks)
    reserve_tail = tail_blocks <= room_blocks // 2 and tail_json <= room_json // 2
    if reserve_tail:
        for i in tail:
            take(i)
    for i in body:
        if not take(i):
            break  # the body is cut in one place: everything after it is left out
    if not reserve_tail:
        for i in tail:
            take(i)
    for i, part in enumerate(layout.parts):
        if part.kind == "section" and kept[i] == 1 and part.blocks[0]["type"] == "divider":
            kept[i] = 0  # a divider with nothing under it

    head: list[dict] = []
    rest: list[dict] = []
    for i, part in enumerate(layout.parts):
        (rest if part.tail else head).extend(part.blocks[: kept[i]])
    line = _left_out_line(reply, layout, kept)
    return [*head, line, *rest]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def _left_out_line(reply: Reply, layout: _Layout, kept: list[int]) -> dict:
    sections: list[str] = []
    ends: list[str] = []
    facts = notices = footnotes = 0
    buttons = layout.buttons_over
    for part, k in zip(layout.parts, kept, strict=True):
        dropped = part.blocks[k:]
        if not dropped:
            continue
        shown = any(b["type"] != "divider" for b in part.blocks[:k])
        if part.kind == "section" and not shown:
            sections.append(part.label)
            continue
        if part.kind == "notice" and not shown:
            notices += 1
            continue
        facts += sum(len(b.get("fields", [])) for b in dropped)
        footnotes += sum(len(b["elements"]) for b in dropped if b["type"] == "context")
        buttons += sum(len(b["elements"]) for b in dropped if b["type"] == "actions")
        if any(b["type"] == "section" and "text" in b for b in dropped):
            ends.append({"intro": "the introduction", "notice": "a notice"}.get(part.kind, "")
                        or (f"“{part.label}”" if part.label else "a section"))  # fmt: skip
    what: list[str] = []
    if sections:
        named = ", ".join(f"“{label}”" for label in sections[:2] if label)
        named += ", …" if named and len(sections) > 2 else ""
        named, _ = _fit_text(named, 300, 500)
        what.append(f"{_plural(len(sections), 'more section')}" + (f" ({named})" if named else ""))
    what += [f"the end of {e}" for e in ends]
    what += [_plural(n, w) for n, w in ((facts, "fact"), (notices, "notice"),
             (footnotes, "footnote"), (buttons, "button")) if n]  # fmt: skip
    if layout.clipped:
        what.append(f"the end of {_plural(layout.clipped, 'long text')}")
    hint = reply.data.get("see_more")
    hint, _ = _fit_text(_mrkdwn_source(hint) if isinstance(hint, str) else SEE_MORE, 400, 500)
    text = f"{LEFT_OUT} {'; '.join(what) or 'some parts'}. {hint}"
    shown, _ = _fit_text(text, MAX_SECTION_TEXT, LEFT_OUT_JSON - 80)
    return {"type": "context", "elements": [_mrkdwn(shown)]}


def fallback_text(reply: Reply) -> str:
    """The message `text` (notifications, screen readers): plain, short, escaped, defused."""
    text, _ = _fit_text(_mrkdwn_source(render_text(reply)), MAX_FALLBACK_TEXT)
    return text


def inline_text(text: str, limit: int = MAX_FALLBACK_TEXT) -> str:
    """Any other mrkdwn text smx sends (a file's initial comment): escaped, defused, clipped."""
    shown, _ = _fit_text(_mrkdwn_source(text), limit)
    return shown


def plain_text(text: str, limit: int) -> dict:
    """A plain_text object (a modal's title) that cannot ping, clipped to `limit`."""
    obj, _ = _plain(text, limit)
    return obj
