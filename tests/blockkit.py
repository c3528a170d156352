"""Slack's Block Kit limits (../shared/reference/slack.md), checked on what the bot produces."""

from __future__ import annotations

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100


def _text_len(obj: dict | None) -> int:
    return len(obj["text"]) if obj else 0


def check_blocks(blocks: list[dict], *, max_blocks: int = MESSAGE_BLOCKS) -> list[str]:
    """Every limit the blocks break, as readable strings (empty when all is well)."""
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"{len(blocks)} blocks > {max_blocks}")
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
            if "text" in block and not 0 < _text_len(block["text"]) <= 3000:
                problems.append(f"{where}: section text length {_text_len(block['text'])}")
            fields = block.get("fields", [])
            if len(fields) > 10:
                problems.append(f"{where}: {len(fields)} fields > 10")
            problems += [f"{where}: field > 2000" for f in fields if not 0 < len(f["text"]) <= 2000]
        elif kind == "context":
            if not 0 < len(block["elements"]) <= 10:
                problems.append(f"{where}: {len(block['elements'])} context elements")
        elif kind == "actions":
            if not 0 < len(block["elements"]) <= 25:
                problems.append(f"{where}: {len(block['elements'])} action elements")
            for el in block["elements"]:
                if len(el.get("action_id", "")) > 255:
                    problems.append(f"{where}: action_id > 255")
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
    return problems


def assert_message_ok(blocks: list[dict], text: str | None = None) -> None:
    problems = check_blocks(blocks)
    if text is not None and len(text) > 4000:
        problems.append(f"fallback text length {len(text)} > 4000")
    assert not problems, problems


def assert_view_ok(view: dict) -> None:
    problems = check_view(view)
    assert not problems, problems
