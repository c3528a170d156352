"""Running a query for Slack (the router, with unexpected failures turned into an error id), and
the last step before any answer leaves: `cleared`, which every posting path calls.

Privacy is enforced twice. The store reads notes for a Viewer (bot/store/notes.py); then, right
before a message, an ephemeral reply, a response_url delivery, a file or a view is sent, the
answer's sources (every note it shows or counts, bot/reply.py) are held against who will read it
there (an Audience, from what Slack said about the conversation) with `may_read`, a separate
statement of the same rule. An answer holding a note its audience may not read is not sent: it is
logged and replaced by a short sentence. So a path that reads with the wrong Viewer, or a new path
that forgets a check, still cannot post someone's notes where they must not be seen.
"""

from __future__ import annotations

import logging
from typing import Any

from bot import telemetry
from bot.context import Context
from bot.reply import Button, Reply
from bot.router import Post, dispatch, entry
from bot.slack.blocks import fallback_text, render_blocks
from bot.slack.failure import log_failure
from bot.store.base import Audience, may_read

log = logging.getLogger("smx.slack")

SHARE_ACTION = "smx_share"


async def answer(ctx: Context, text: str, *, post: Post | None = None) -> Reply:
    """The reply to `text`, counted and logged as one request; never raises. A bug gets a short
    message the user can quote to us. `post`: how the entry's `post` handler posts, where it has
    one (bot/router.py)."""
    reply, failed = await _run(ctx, text, post)
    if not failed:
        counted(ctx, _name(text), reply.is_error)
    return reply


def counted(ctx: Context, command: str, is_error: bool) -> None:
    """Count and log one answered request of `command` (`answer` does it; so does a face that
    answers the same words from what it rendered before)."""
    telemetry.child(telemetry.REQUESTS, ctx.surface, command).inc()
    if is_error:
        telemetry.child(telemetry.USER_ERRORS, ctx.surface, command).inc()
    log.info(
        "query answered",
        extra={
            "surface": ctx.surface,
            "team": ctx.team,
            "command": command,
            "user_error": is_error,
        },
    )


async def checked(ctx: Context, text: str, *, post: Post | None = None) -> Reply:
    """The reply to `text`, not counted as a request: for checking a form's values before it
    closes, whose answer (`answer`) is the one request a submission makes. Never raises."""
    return (await _run(ctx, text, post))[0]


async def _run(ctx: Context, text: str, post: Post | None) -> tuple[Reply, bool]:
    """The reply, and whether it is the error-id sentence of a failure of smx's own."""
    try:
        return await dispatch(ctx, text, post=post), False
    except Exception as err:
        telemetry.count_failure(ctx.surface, err)
        sentence = log_failure(
            log, "query failed", surface=ctx.surface, team=ctx.team, command=_name(text)
        )
        return Reply.error(sentence), True


WITHHELD = (
    "I didn't send that answer here: it holds notes that not everyone who reads this "
    "conversation may see. Ask in the conversation where they were logged, or type `/smx notes` "
    "there so only you see the answer."
)


def audience(ctx: Context, *, private: bool) -> Audience:
    """Who reads a message sent to ctx's conversation: the asker alone (`private`: an ephemeral
    reply, their own DM with the bot, App Home) or everyone in it. A conversation Slack has not
    described (ctx.facts_known False) might be shared with another organisation and is treated as
    one, so only its own notes may go there."""
    confined = ctx.confined
    return Audience(
        team=ctx.owner,
        channel=ctx.channel,
        channel_kind=ctx.channel_kind,
        shared_externally=confined,
        user=ctx.user if private and not confined else None,
    )


def cleared(reply: Reply, reader: Audience, *, path: str) -> Reply:
    """The last step before sending: `reply` itself when every note it shows or counts may be read
    by `reader`, else (logged) a sentence that says so and nothing of the notes."""
    withheld = [s for s in reply.sources if not may_read(s, reader)]
    if not withheld:
        return reply
    telemetry.UNEXPECTED_ERRORS.labels("privacy_check").inc()
    log.error(
        "privacy check withheld an answer",
        extra={
            "path": path,
            "team": reader.team,
            "channel": reader.channel,
            "shared_externally": reader.shared_externally,
            "private": reader.user is not None,
            "withheld": len(withheld),
            "notes": [s.note for s in withheld if s.note is not None][:20],
            "from_channels": sorted({s.channel for s in withheld})[:20],
        },
    )
    return Reply.error(WITHHELD)


def message_args(reply: Reply, reader: Audience, *, path: str) -> dict[str, Any]:
    """The text and blocks to send `reader`, after the last-step check (`cleared`)."""
    sent = cleared(reply, reader, path=path)
    return {"text": fallback_text(sent), "blocks": render_blocks(sent)}


def _name(text: str) -> str:
    found = entry(text)
    return found[0].name if found else "unknown"


def shareable(text: str) -> bool:
    found = entry(text)
    return bool(found and found[0].shareable)


def with_share_button(reply: Reply, text: str) -> Reply:
    """Ephemeral answers to shareable commands carry a button that posts them in the channel."""
    if reply.is_error or reply.share or not shareable(text) or len(text) > 1900:
        return reply
    buttons = [*reply.buttons, Button(label="Share in channel", action_id=SHARE_ACTION, value=text)]
    return reply.model_copy(update={"buttons": buttons})


def slack_error(err: Exception) -> str:
    """The error code of a failed Web API call (whatever shape the failed response had), counted."""
    response = getattr(err, "response", None)
    data = getattr(response, "data", None)
    status = getattr(response, "status_code", None)
    if isinstance(data, dict) and data.get("error"):
        code = str(data["error"])
    elif type(err).__name__ == "SlackRequestError":  # the upload URL refused a file's bytes
        code = "upload_failed"
    else:
        code = f"http_{status}" if status else type(err).__name__
    url = str(getattr(response, "api_url", "") or "")
    telemetry.SLACK_API_ERRORS.labels(url.rsplit("/", 1)[-1] or "unknown", code).inc()
    return code
