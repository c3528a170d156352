"""The welcome in a person's DM with smx: the first time they open its Messages tab, a short
message with four suggested questions as buttons. The same four are the agent surface's
suggested prompts in manifest.yml (tests/test_manifest.py keeps them in step).

"The first time" is read from Slack itself: the DM has no message yet (conversations.history,
`im:history`). Nothing is stored, so every replica agrees, and a person who has talked to smx
before is never welcomed again. Two openings of the tab at the same moment in one process are
one welcome (a lock per person); across replicas Slack sends one event per opening.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("smx.slack")

ASK_ACTION = "smx_ask"  # each button's action_id is this and its place: smx_ask_0 ... smx_ask_3
# (button title, the question it asks): each one reads as a plain question (bot/phrasing.py).
SUGGESTED: tuple[tuple[str, str], ...] = (
    ("SMO or SMM for us?", "smo or smm for a small bakery?"),
    ("What does $2k buy?", "what does $2k get me on instagram vs tiktok?"),
    ("Budget for 50 sign-ups", "budget for 50 sign-ups on facebook"),
    ("What is ROAS?", "what is roas?"),
)
TEXT = (
    "Hi, I'm smx. Ask me in plain words how organic (SMO) and paid (SMM) social differ, what a "
    "metric means, what a budget buys on each platform, or what a goal costs. I also keep your "
    "team's campaign notes and post a weekly digest. Try one of these, or type `help`:"
)

_welcoming: set[tuple[str, str]] = set()  # people being welcomed now, in this process


def welcome_message() -> dict[str, Any]:
    """chat.postMessage arguments (less the channel) of the welcome."""
    buttons = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": title},
            "action_id": f"{ASK_ACTION}_{i}",
            "value": question,
        }
        for i, (title, question) in enumerate(SUGGESTED)
    ]
    listed = "\n".join(f"• {question}" for _, question in SUGGESTED)
    return {
        "text": f"{TEXT}\n{listed}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": TEXT}},
            {"type": "actions", "block_id": "smx_welcome", "elements": buttons},
        ],
    }


async def welcome_if_new(client: Any, team: str, user: str, channel: str) -> bool:
    """Post the welcome in `channel` (the person's DM with smx) if nothing was ever said there;
    whether it was posted. A Web API failure is logged and costs nothing else."""
    from slack_sdk.errors import SlackApiError

    if not channel.startswith("D"):
        return False  # only ever a DM: the event names the person's own
    if (team, user) in _welcoming:
        return False  # the same person opened the tab twice at once: one welcome
    _welcoming.add((team, user))
    try:
        history = await client.conversations_history(channel=channel, limit=1)
        if history.get("messages"):
            return False
        await client.chat_postMessage(channel=channel, **welcome_message())
    except SlackApiError as err:
        log.warning(
            "no welcome posted", extra={"error": err.response.get("error"), "channel": channel}
        )
        return False
    finally:
        _welcoming.discard((team, user))
    return True
