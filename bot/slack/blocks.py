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
from collections.abc import Iterator

from bot.notes.render import defuse
from bot.reply import Button, Fact, Notice, Reply, Section, plain

MAX_BLOCKS = 50
VIEW_BLOCKS = 100
# Characters of json.dumps(blocks), non-ASCII escaped as it is sent; the digest's own measure
# (bot/slack/digest_post.py uses this one too), well under where Slack answered msg_blocks_too_long.
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
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


def _mrkdwn_source(text: str) -> str:
    return escape(_clean(text))


# What json.dumps writes as an escape (ensure_ascii, as its own ESCAPE_ASCII): a quote, a
# backslash, or anything outside printable ASCII. A string without any is its length plus quotes.
_ESCAPED = re.compile(r'["\\]|[^ -~]')
# The function json.dumps itself hands a lone string to (ensure_ascii, its C version where built):
# the same characters as json.dumps(text), without setting up an encoder for each call.
_quoted = json.encoder.encode_basestring_ascii


def _json_len(value: object) -> int:
    """len(json.dumps(value)). A block's texts are measured one by one, several times each while
    they are fitted: a string without anything to escape is its length plus the quotes, with no
    JSON written; any other string is quoted by json's own string encoder, and anything else goes
    to json.dumps in one call (its encoder is in C)."""
    if isinstance(value, str):
        return len(value) + 2 if _ESCAPED.search(value) is None else len(_quoted(value))
    return len(json.dumps(value))


# A mrkdwn text object, {"type": "mrkdwn", "text": ...}, is this much JSON around its text's own.
_MRKDWN_JSON = len(json.dumps({"type": "mrkdwn", "text": ""})) - 2


def _element_json_len(element: dict) -> int:
    """_json_len(element), for the mrkdwn texts fields and context blocks are made of without
    writing their JSON."""
    text = element.get("text")
    if len(element) == 2 and element.get("type") == "mrkdwn" and isinstance(text, str):
        return _MRKDWN_JSON + _json_len(text)
    return _json_len(element)


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


def _overflow(text: str, limit: int, max_json: int | None) -> int:
    # Dropping n characters of source shortens the text, and its JSON, by at least n.
    over = len(text) - limit
    if max_json is not None:
        over = max(over, _text_json(text) - max_json)
    return max(1, over)


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
        cut -= _overflow(piece, limit, max_json)


def _pieces(text: str, limit: int, max_json: int) -> Iterator[str]:
    """Escaped `text` in defused pieces of at most `limit` characters and `max_json` characters
    of JSON, cut at line ends where possible; whitespace-only pieces are dropped. Lazy: a cut
    message never pays for the pieces it leaves out."""
    # No defusing of the whole first: escaped text has no markup, so defusing only inserts, and
    # each piece is defused as it is cut.
    rest = text
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
            # Defusing added characters; take that much less.
            cut, skip = max(1, cut - _overflow(piece, limit, max_json)), 0
            piece = defuse(rest[:cut])
        if piece.strip():
            yield piece
        rest = rest[cut + skip :]


def _mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


def _plain(text: str, limit: int) -> tuple[dict, bool]:
    shown, clipped = _fit_text(_clean(text), limit)
    return {"type": "plain_text", "text": shown if shown.strip() else "(no label)"}, clipped


# A block, and how many of its texts were clipped at a per-element limit.
Built = tuple[dict, int]


def _sections(source: str) -> Iterator[Built]:
    for piece in _pieces(source, MAX_SECTION_TEXT, BLOCK_JSON):
        yield {"type": "section", "text": _mrkdwn(piece)}, 0


def _fields(facts: list[Fact]) -> Iterator[tuple[dict, bool]]:
    for f in facts:
        source = f"*{_mrkdwn_source(f.label)}*\n{_mrkdwn_source(f.value)}"
        text, clipped = _fit_text(source, MAX_FIELD_TEXT, FIELD_JSON)
        yield _mrkdwn(text), clipped


def _footnotes(footnotes: list[str]) -> Iterator[tuple[dict, bool]]:
    for f in footnotes:
        if f.strip():  # Slack refuses an empty text, and it says nothing
            text, clipped = _fit_text(_mrkdwn_source(f), MAX_SECTION_TEXT, BLOCK_JSON - 40)
            yield _mrkdwn(text), clipped


def _packed(elements: Iterator[tuple[dict, bool]], per_block: int, key: str) -> Iterator[Built]:
    """Elements (fields, context texts) grouped into blocks of at most `per_block` of them and
    BLOCK_JSON characters of JSON each."""
    group: list[dict] = []
    size = clips = 0
    for element, clipped in elements:
        cost = _element_json_len(element) + 2
        if group and (len(group) == per_block or size + cost > BLOCK_JSON):
            yield _group_block(key, group), clips
            group, size, clips = [], 0, 0
        group.append(element)
        size += cost
        clips += clipped
    if group:
        yield _group_block(key, group), clips


def _group_block(key: str, group: list[dict]) -> dict:
    if key == "fields":
        return {"type": "section", "fields": group}
    return {"type": "context", "elements": group}


def _buttons(buttons: list[Button]) -> Iterator[Built]:
    elements = []
    clips = 0
    for b in buttons[:MAX_ACTIONS]:
        text, clipped = _plain(b.label, MAX_BUTTON_TEXT)
        clips += clipped
        element = {
            "type": "button",
            "text": text,
            "action_id": b.action_id[:MAX_ID],
            "value": b.value[:MAX_BUTTON_VALUE],
        }
        if b.style:
            element["style"] = b.style
        elements.append(element)
    if elements:  # buttons carry no long text: one block, however long their values
        yield {"type": "actions", "elements": elements}, clips


# -- the layout: a reply as parts, each built only as far as it is read ----------------------


class _Part:
    def __init__(
        self, kind: str, source: Iterator[Built], *, label: str = "", tail: bool = False,
        units: int = 0,
    ) -> None:  # fmt: skip
        self.kind = kind  # title, intro, facts, section, notice, footnotes, buttons
        self.label = label  # a section's heading, to name it when it is left out
        self.tail = tail  # notices, footnotes, buttons: kept ahead of the body when small
        self.units = units  # facts, footnotes or buttons in it, to count what is left out
        self._source = source
        self.built: list[dict] = []
        self.clips: list[int] = []

    def block(self, j: int) -> dict | None:
        """The part's j-th block, built now if it was not yet; None past its end."""
        while len(self.built) <= j:
            nxt = next(self._source, None)
            if nxt is None:
                return None
            self.built.append(nxt[0])
            self.clips.append(nxt[1])
        return self.built[j]


def _section_part(section: Section, *, after_others: bool) -> _Part:
    label, clipped = ("", False)
    if section.heading:
        label, clipped = _fit_text(_mrkdwn_source(section.heading), MAX_HEADING)
    head = f"*{label}*" if label else ""
    body = _mrkdwn_source(section.text) if section.text else ""

    def source() -> Iterator[Built]:
        if after_others:
            yield {"type": "divider"}, 0
        first = True
        for block, clips in _sections("\n".join(p for p in (head, body) if p)):
            yield block, clips + (clipped if first else 0)
            first = False
        if section.facts:
            yield from _packed(_fields(section.facts), MAX_FIELDS, "fields")

    return _Part("section", source(), label=label)


def _notice_part(notice: Notice) -> _Part:
    source = f"{NOTICE_ICON[notice.level]} {_mrkdwn_source(notice.text)}"
    return _Part("notice", _sections(source), tail=True)


def _layout(reply: Reply) -> list[_Part]:
    parts: list[_Part] = []
    if reply.title and reply.title.strip():
        text, clipped = _plain(reply.title, MAX_HEADER)
        parts.append(_Part("title", iter([({"type": "header", "text": text}, int(clipped))])))
    if reply.intro:
        parts.append(_Part("intro", _sections(_mrkdwn_source(reply.intro))))
    if reply.facts:
        fields = _packed(_fields(reply.facts), MAX_FIELDS, "fields")
        parts.append(_Part("facts", fields, units=len(reply.facts)))
    above = bool(parts) and any(
        p.kind != "intro" or (reply.intro or "").strip() for p in parts
    )  # whether a section has something above it to be divided from
    for section in reply.sections:
        parts.append(_section_part(section, after_others=above))
        above = above or bool(section.heading or section.text.strip() or section.facts)
    parts += [_notice_part(n) for n in reply.notices]
    footnotes = sum(1 for f in reply.footnotes if f.strip())
    if footnotes:
        notes = _packed(_footnotes(reply.footnotes), MAX_CONTEXT_ELEMENTS, "context")
        parts.append(_Part("footnotes", notes, tail=True, units=footnotes))
    if reply.buttons:
        units = min(len(reply.buttons), MAX_ACTIONS)
        parts.append(_Part("buttons", _buttons(reply.buttons), tail=True, units=units))
    return parts


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


class RenderedBlocks(list):
    """The blocks render_blocks made, as a list, and `json`: json.dumps of them, when measuring
    them wrote it (most replies fit, and are measured whole). For a face that sends them as JSON
    straight away (the ack, bot/slack/listeners/commands.py), so they are encoded once; whoever
    changes them after must not send `json`."""

    json: str | None = None


def render_blocks(
    reply: Reply, *, max_blocks: int = MAX_BLOCKS, max_json: int | None = None
) -> list[dict]:
    """The Block Kit blocks for a reply: at most `max_blocks` (50 for messages, 100 for views)
    and `max_json` characters of JSON (by default 12,000 for a message, 100,000 for a view, and
    no size cut for more blocks than any view holds, so a caller can measure a whole reply).

    What does not fit is named in one "left out" line, with what to type to see it: by default
    SEE_MORE, or the reply's own sentence in `reply.data["see_more"]`."""
    parts = _layout(reply)
    budget = _budget(max_blocks, max_json)
    # Most replies fit: their blocks are built (never more than max_blocks + 1 of them) and their
    # JSON measured in one json.dumps, which is what the blocks' costs add up to. Only a reply
    # over the budget is measured block by block to find where it stops fitting.
    blocks: list[dict] = []
    for part in parts:
        j = 0
        while (block := part.block(j)) is not None:
            blocks.append(block)
            j += 1
            if len(blocks) > max_blocks:
                return _cut(reply, parts, max_blocks, budget)
    encoded = None
    if budget is not None:
        encoded = json.dumps(blocks)
        if len(encoded) > budget:
            return _cut(reply, parts, max_blocks, budget)
    if any(sum(p.clips) for p in parts) or len(reply.buttons) > MAX_ACTIONS:
        return _cut(reply, parts, max_blocks, budget)
    rendered = RenderedBlocks(blocks)
    rendered.json = encoded
    return rendered


def _cut(reply: Reply, parts: list[_Part], max_blocks: int, budget: int | None) -> list[dict]:
    room_blocks = max_blocks - 1  # one for the "left out" line
    room_json = (budget if budget is not None else 10**12) - LEFT_OUT_JSON - 2
    kept = [0] * len(parts)  # blocks kept from the start of each part
    used_blocks = used_json = 0

    def take(i: int) -> bool:
        """Keep part i's blocks in order while they fit; whether all of them did."""
        nonlocal used_blocks, used_json
        while (block := parts[i].block(kept[i])) is not None:
            cost = _cost(block)
            if used_blocks + 1 > room_blocks or used_json + cost > room_json:
                return False
            kept[i] += 1
            used_blocks += 1
            used_json += cost
        return True

    def small(indexes: list[int]) -> bool:
        """Whether these parts together take at most half the room."""
        n = size = 0
        for i in indexes:
            j = 0
            while (block := parts[i].block(j)) is not None:
                n, size, j = n + 1, size + _cost(block), j + 1
                if n > room_blocks // 2 or size > room_json // 2:
                    return False
        return True

    titles = [i for i, p in enumerate(parts) if p.kind == "title"]
    tail = [i for i, p in enumerate(parts) if p.tail]
    body = [i for i, p in enumerate(parts) if p.kind != "title" and not p.tail]
    for i in titles:
        take(i)
    reserve_tail = small(tail)
    if reserve_tail:
        for i in tail:
            take(i)
    for i in body:
        if not take(i):
            break  # the body is cut in one place: everything after it is left out
    if not reserve_tail:
        for i in tail:
            take(i)
    for i, part in enumerate(parts):
        if kept[i] == 1 and part.built[0]["type"] == "divider":
            kept[i] = 0  # a divider with nothing under it
    head: list[dict] = []
    rest: list[dict] = []
    for i, part in enumerate(parts):
        (rest if part.tail else head).extend(part.built[: kept[i]])
    return [*head, _left_out_line(reply, parts, kept), *rest]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def _name(label: str) -> str:
    shown, _ = _fit_text(label, 60, 150)
    return f"“{shown}”"


def _left_out_line(reply: Reply, parts: list[_Part], kept: list[int]) -> dict:
    sections: list[str] = []
    ends: list[str] = []
    facts = notices = footnotes = 0
    buttons = max(0, len(reply.buttons) - MAX_ACTIONS)
    for part, k in zip(parts, kept, strict=True):
        if part.block(k) is None:
            continue  # all of it is shown
        shown = part.built[:k]
        inside = sum(len(b.get("fields") or b.get("elements") or []) for b in shown)
        if part.kind == "facts":
            facts += part.units - inside
        elif part.kind == "footnotes":
            footnotes += part.units - inside
        elif part.kind == "buttons":
            buttons += part.units - inside
        elif not any(b["type"] != "divider" for b in shown):
            if part.kind == "notice":
                notices += 1
            else:
                sections.append(part.label)
        else:
            named = {"intro": "the introduction", "notice": "a notice"}.get(part.kind)
            ends.append(named or (_name(part.label) if part.label else "a section"))
    what: list[str] = []
    if sections:
        named = ", ".join(_name(label) for label in sections[:2] if label)
        named += ", …" if named and len(sections) > 2 else ""
        what.append(_plural(len(sections), "more section") + (f" ({named})" if named else ""))
    what += [f"the end of {e}" for e in ends]
    counts = ((facts, "fact"), (notices, "notice"), (footnotes, "footnote"), (buttons, "button"))
    what += [_plural(n, word) for n, word in counts if n]
    clipped = sum(sum(p.clips[:k]) for p, k in zip(parts, kept, strict=True))
    if clipped:
        what.append(f"the end of {_plural(clipped, 'long text')}")
    hint = reply.data.get("see_more")
    hint, _ = _fit_text(_mrkdwn_source(hint) if isinstance(hint, str) else SEE_MORE, 400, 400)
    # The hint is never cut: what to type matters more than the list of what is missing.
    said, _ = _fit_text(f"{LEFT_OUT} {'; '.join(what) or 'some parts'}.", 1000, 600)
    return {"type": "context", "elements": [_mrkdwn(f"{said} {hint}")]}


# -- the message `text`: a short notification headline -------------------------------------------
#
# With blocks, Slack shows a message's `text` only where the blocks cannot be: "If attachments or
# blocks are included, text will be used as fallback text for notifications only"
# (docs.slack.dev/reference/methods/chat.postMessage). Mobile notifications read only `text`;
# desktop ones read the blocks first and `text` only when they find none there
# (docs.slack.dev/changelog/2026/07/13/notification-changes). Slack does not require `text` with
# blocks, but slack_sdk warns when it is missing or blank, since notifications and screen readers
# use it: so it is never blank. The whole answer is in the blocks; `text` says what it is, in
# about what a phone's lock screen shows, and costs the same whatever the answer's size.
MAX_NOTIFICATION_TEXT = 200  # a 150-character header (Slack's limit) and the start of a sentence
_JOIN = " — "
_NO_TEXT = "An answer from smx."  # a reply with nothing to show (never sent in practice)
# A sentence ends at ".", "!" or "?" before a space and anything but a lowercase letter
# ("i.e. the price" goes on), or at the end of its line.
_SENTENCE_END = re.compile(r"[.!?](?=\s+(?![a-z]))")
_NOT_SPACE = re.compile(r"\S")


def _opening(text: str, *, sentence: bool) -> str:
    """The first line of `text` (its first sentence when `sentence`), from a bounded prefix:
    what lies past what a notification can show is never read."""
    start = _NOT_SPACE.search(text)
    if start is None:
        return ""
    head = text[start.start() : start.start() + 2 * MAX_NOTIFICATION_TEXT]
    line = head.split("\n", 1)[0].rstrip()
    if sentence and (end := _SENTENCE_END.search(line)):
        line = line[: end.end()]
    return line


def _headline_pieces(reply: Reply) -> Iterator[tuple[str, bool]]:
    """What a person sees first, in the blocks' order, as (text, whether it is a heading), each
    only the opening a headline can use."""
    yield _opening(reply.title or "", sentence=False), True
    yield _opening(reply.intro or "", sentence=True), False
    for f in reply.facts:
        yield _opening(f"{f.label}: {f.value}", sentence=True), False
    for section in reply.sections:
        yield _opening(section.heading or "", sentence=False), True
        yield _opening(section.text, sentence=True), False
        for f in section.facts:
            yield _opening(f"{f.label}: {f.value}", sentence=True), False
    for notice in reply.notices:
        yield _opening(notice.text, sentence=True), False
    for footnote in reply.footnotes:
        yield _opening(footnote, sentence=True), False
    for button in reply.buttons:
        yield _opening(button.label, sentence=False), False
    for file in reply.files:
        yield _opening(file.title or file.filename, sentence=False), False


def fallback_text(reply: Reply) -> str:
    """The message `text`, a notification's headline: the first thing the reply shows (its title,
    or the first sentence of its intro: an error's sentence) and, after a title or a heading,
    the first sentence of what follows it. Plain (no bold or italic markers), escaped and
    defused as every block text is, at most MAX_NOTIFICATION_TEXT characters, never blank."""
    said: list[str] = []
    for text, heading in _headline_pieces(reply):
        if text and not (said and heading):  # after a heading, the text under it
            said.append(plain(text))
            if not heading:
                break
    source = _mrkdwn_source(_JOIN.join(said)) if said else _NO_TEXT
    text, _ = _fit_text(source, MAX_NOTIFICATION_TEXT)
    return text if text.strip() else _NO_TEXT


def inline_text(text: str, limit: int = MAX_FALLBACK_TEXT) -> str:
    """Any other mrkdwn text smx sends (a file's initial comment): escaped, defused, clipped."""
    shown, _ = _fit_text(_mrkdwn_source(text), limit)
    return shown


def plain_text(text: str, limit: int) -> dict:
    """A plain_text object (a modal's title) that cannot ping, clipped to `limit`."""
    obj, _ = _plain(text, limit)
    return obj
