"""Modals and the App Home, as plain dicts (pure: no Slack SDK import).

A view holds at most 100 blocks and VIEW_BLOCKS_JSON characters of blocks JSON; every text in it
goes through bot/slack/blocks.py, so nothing shown can ping anyone.
"""

from __future__ import annotations

import json

from bot.metric_table import FORM_FIELDS
from bot.reply import Reply
from bot.slack.blocks import (
    MAX_HEADER,
    VIEW_BLOCKS_JSON,
    inline_text,
    plain_text,
    render_blocks,
)
from knowledge import PLATFORMS

ESTIMATE_CALLBACK = "smx_estimate"
OPEN_ESTIMATE_ACTION = "smx_open_estimate"
OPEN_COMPARE_ACTION = "smx_open_compare"
VIEW_BLOCKS = 100
MODAL_TITLE = 24  # characters of a modal's title, submit and close

# (key, label, placeholder): the fields of the estimate form, each optional (the metric table's).
ESTIMATE_FIELDS = FORM_FIELDS
PLATFORM_BLOCK = "platform"


def _input(key: str, label: str, placeholder: str) -> dict:
    return {
        "type": "input",
        "block_id": key,
        "optional": True,
        "label": {"type": "plain_text", "text": label},
        "element": {
            "type": "plain_text_input",
            "action_id": "value",
            "placeholder": {"type": "plain_text", "text": f"e.g. {placeholder}"},
        },
    }


def estimate_modal(channel: str) -> dict:
    """The estimate form; the channel it was opened from rides in private_metadata."""
    options = [
        {
            "text": {"type": "plain_text", "text": "X (Twitter)" if p == "x" else p.title()},
            "value": p,
        }
        for p in PLATFORMS
    ]
    platform = {
        "type": "input",
        "block_id": PLATFORM_BLOCK,
        "optional": True,
        "label": {"type": "plain_text", "text": "Platform (fills typical rates)"},
        "element": {"type": "static_select", "action_id": "value", "options": options},
    }
    intro = {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": "Fill in what you know; smx works out every figure that follows, with its formula. "
            "Two values are often enough, e.g. budget and CPM.",
        },
    }
    return {
        "type": "modal",
        "callback_id": ESTIMATE_CALLBACK,
        "title": {"type": "plain_text", "text": "Estimate"},
        "submit": {"type": "plain_text", "text": "Estimate"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps({"channel": channel}),
        "blocks": [intro, *(_input(*f) for f in ESTIMATE_FIELDS), platform],
    }


def submitted_values(view: dict) -> dict[str, str]:
    """The non-empty fields of a submitted estimate form, by key."""
    values: dict[str, str] = {}
    for block_id, actions in (view.get("state") or {}).get("values", {}).items():
        element = actions.get("value") or {}
        raw = element.get("value")
        if raw is None and element.get("selected_option"):
            raw = element["selected_option"].get("value")
        if raw and raw.strip():
            values[block_id] = raw.strip()
    return values


def reply_modal(title: str, reply: Reply) -> dict:
    """A read-only modal showing a reply (the comparison from the Home tab)."""
    return {
        "type": "modal",
        "title": plain_text(title, MODAL_TITLE),
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": render_blocks(reply.model_copy(update={"buttons": []}), max_blocks=VIEW_BLOCKS),
    }


def home_view(notes: Reply, digest: str | None = None) -> dict:
    """The App Home: what smx does, buttons for the two forms, the team's recent notes."""
    blocks: list[dict] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": "smx for your marketing team"[:MAX_HEADER]},
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "Compare *SMO* (organic) and *SMM* (paid), explain any metric, estimate what a "
                "budget buys, and keep the team's campaign notes. Type `/smx help` anywhere.",
            },
        },
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Estimate a budget"},
                    "action_id": OPEN_ESTIMATE_ACTION,
                    "style": "primary",
                },
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "SMO vs SMM"},
                    "action_id": OPEN_COMPARE_ACTION,
                },
            ],
        },
    ]
    if digest:
        line = inline_text(digest, 2000)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": line}]})
    blocks.append({"type": "divider"})
    # The notes get what the view has left, in blocks and in size.
    room = VIEW_BLOCKS - len(blocks)
    size = len(json.dumps(blocks))
    notes_only = notes.model_copy(update={"buttons": []})
    blocks += render_blocks(notes_only, max_blocks=room, max_json=VIEW_BLOCKS_JSON - size)
    return {"type": "home", "blocks": blocks}
