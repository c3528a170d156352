"""Slack's Block Kit limits (Slack's documented limits for messages, blocks and views), checked on what the bot produces, and a
finder for mentions a rendered message or view would make."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
# Slack refuses a message with `msg_blocks_too_long` well below 50 full blocks; the project holds
# every message to this many characters of blocks JSON (measured as json.dumps sends it, with
# non-ASCII escaped: the conservative reading), as bot/slack/digest_post.py does for digests.
MESSAGE_BLOCKS_JSON = 12_000
VIEW_BLOCKS_JSON = 100_000
VIEW_BYTES = 250_000  # a whole view, as Slack documents it
FALLBACK_TEXT = 4_000
TEXT_OBJECT = 3_000  # any mrkdwn text object outside fields (section text, context elements)


def _text_len(obj: dict | None) -> int:
    return len(obj["text"]) if obj else 0


def blocks_json_size(blocks: list[dict]) -> int:
    return len(json.dumps(blocks))


def check_blocks(
    blocks: list[dict],
    *,
    max_blocks: int = MESSAGE_BLOCKS,
    max_json: int | None = None,
) -> list[str]:
    """Every limit the blocks break, as readable strings (empty when all is well).

    `max_json` is the budget for the blocks' JSON; by default the message budget, or the view
    budget when `max_blocks` is a view's.
    """
    if max_json is None:
        max_json = MESSAGE_BLOCKS_JSON if max_blocks <= MESSAGE_BLOCKS else VIEW_BLOCKS_JSON
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"{len(blocks)} blocks > {max_blocks}")
    size = blocks_json_size(blocks)
    if size > max_json:
        problems.append(f"blocks JSON {size} characters > {max_json}")
    for i, block in enumerate(blocks):
        kind = block.get("type")
        where = f"block {i} ({kind})"
        if len(block.get("block_id", "")) > 255:
            problems.append(f"{where}: block_id > 255")
        if kind == "header":
            if block["text"]["type"] != "plain_text":
                problems.append(f"{where}: header must be plain_text")
            if not 0 < _text_len(block["text"]) <= 150:
                problems.append(f"{where}: header text length {_text_len(block['text'])}")
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"{where}: section needs text or fields")
            if "text" in block and not 0 < _text_len(block["text"]) <= TEXT_OBJECT:
                problems.append(f"{where}: section text length {_text_len(block['text'])}")
            fields = block.get("fields", [])
            if len(fields) > 10:
                problems.append(f"{where}: {len(fields)} fields > 10")
            problems += [f"{where}: field > 2000" for f in fields if not 0 < len(f["text"]) <= 2000]
        elif kind == "context":
            if not 0 < len(block["elements"]) <= 10:
                problems.append(f"{where}: {len(block['elements'])} context elements")
            for el in block["elements"]:
                if "text" in el and not 0 < len(el["text"]) <= TEXT_OBJECT:
                    problems.append(f"{where}: context text length {len(el['text'])}")
        elif kind == "actions":
            if not 0 < len(block["elements"]) <= 25:
                problems.append(f"{where}: {len(block['elements'])} action elements")
            for el in block["elements"]:
                if len(el.get("action_id", "")) > 255:
                    problems.append(f"{where}: action_id > 255")
                if len(el.get("value", "")) > 2000:
                    problems.append(f"{where}: button value > 2000")
                if el.get("type") == "button" and not 0 < _text_len(el["text"]) <= 75:
                    problems.append(f"{where}: button text length")
        elif kind == "input":
            if not 0 < _text_len(block["label"]) <= 2000:
                problems.append(f"{where}: input label length")
        elif kind not in ("divider",):
            problems.append(f"{where}: unexpected block type")
    return problems


def check_view(view: dict) -> list[str]:
    problems = check_blocks(view.get("blocks", []), max_blocks=VIEW_BLOCKS)
    for key in ("title", "submit", "close"):
        if key in view and not 0 < _text_len(view[key]) <= 24:
            problems.append(f"view {key} length {_text_len(view[key])} not in 1..24")
    if len(view.get("private_metadata", "")) > 3000:
        problems.append("private_metadata > 3000")
    if len(view.get("callback_id", "")) > 255:
        problems.append("callback_id > 255")
    size = len(json.dumps(view, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    if size > VIEW_BYTES:
        problems.append(f"view {size} bytes > {VIEW_BYTES}")
    return problems


# -- live mentions --------------------------------------------------------------------------------

# Markup Slack turns into a mention or a link: `<!here>`, `<!subteam^S1>`, `<@U1>`, `<#C1>`.
_MARKUP = re.compile(r"<(?:!(?:channel|here|everyone|group|subteam\^)|@|#)", re.IGNORECASE)
# A bare @here/@channel/@everyone (Slack links them with link_names), whatever precedes it and
# whatever non-alphanumeric follows: `_@here_`, `@here's`, `x@channel:`.
_BARE_SPECIAL = re.compile(r"@(?:channel|here|everyone)(?![^\W_])", re.IGNORECASE)
# A bare @handle starting a word (a user group with link_names), outside inline code.
_BARE_HANDLE = re.compile(r"(?<![^\W_])@\w[\w.-]*")
_CODE = re.compile(r"`[^`\n]+`")
# Keys whose strings are never shown as message text.
_NOT_SHOWN = frozenset(
    {"type", "action_id", "block_id", "callback_id", "value", "style", "private_metadata", "url"}
)


def _shown_strings(obj: Any) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, list):
        for item in obj:
            yield from _shown_strings(item)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            if key not in _NOT_SHOWN:
                yield from _shown_strings(value)


def _text_objects(obj: Any) -> Iterator[str]:
    if isinstance(obj, list):
        for item in obj:
            yield from _text_objects(item)
    elif isinstance(obj, dict):
        if obj.get("type") in ("plain_text", "mrkdwn") and isinstance(obj.get("text"), str):
            yield obj["text"]
            return
        for key, value in obj.items():
            if key not in _NOT_SHOWN:
                yield from _text_objects(value)


def shown(message: Any) -> str:
    """Every text a person sees in a message (`{"text": ..., "blocks": [...]}`, as the bot acks
    it or sends it to the Web API), a view, a list of blocks or a string, one per line, in order:
    the message's `text`, then each block's text objects (headers, section texts and fields,
    context elements, button labels). A message's `text` is only its notification headline
    (bot/slack/blocks.py `fallback_text`); what an answer says is in its blocks, so a test that
    looks for an answer's words, or makes sure some are absent, reads this."""
    if isinstance(message, str):
        return message
    said: list[str] = []
    if isinstance(message, dict) and isinstance(message.get("text"), str):
        said.append(message["text"])
        message = {k: v for k, v in message.items() if k != "text"}
    said += _text_objects(message)
    return "\n".join(said)


def live_mentions(payload: Any) -> list[str]:
    """Every mention a rendered message (`{"text": ..., "blocks": [...]}`), view, list of blocks
    or string would make, as the snippets that make it (empty when nothing can ping).

    Each string is read on its own, as Slack reads each text object.
    """
    found: list[str] = []
    for text in _shown_strings(payload):
        found += [m.group(0) for m in _MARKUP.finditer(text)]
        found += [m.group(0) for m in _BARE_SPECIAL.finditer(text)]
        outside_code = _CODE.sub(lambda m: " " * len(m.group(0)), text)
        found += [m.group(0) for m in _BARE_HANDLE.finditer(outside_code)]
    return found


def assert_message_ok(blocks: list[dict], text: str | None = None) -> None:
    problems = check_blocks(blocks)
    if text is not None and len(text) > FALLBACK_TEXT:
        problems.append(f"fallback text length {len(text)} > {FALLBACK_TEXT}")
    if mentions := live_mentions({"text": text or "", "blocks": blocks}):
        problems.append(f"live mentions {mentions[:5]}")
    assert not problems, problems


def assert_view_ok(view: dict) -> None:
    problems = check_view(view)
    if mentions := live_mentions(view):
        problems.append(f"live mentions {mentions[:5]}")
    assert not problems, problems
