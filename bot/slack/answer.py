"""Running a query for Slack: the router, with unexpected failures turned into an error id."""

from __future__ import annotations

import logging

from bot import metrics
from bot.context import Context
from bot.logs import new_error_id
from bot.reply import Button, Reply
from bot.router import dispatch, find

log = logging.getLogger("smx.slack")

SHARE_ACTION = "smx_share"


async def answer(ctx: Context, text: str) -> Reply:
    """The reply to `text`; never raises. A bug gets a short message the user can quote to us."""
    try:
        reply = await dispatch(ctx, text)
    except Exception:
        metrics.UNEXPECTED_ERRORS.labels(ctx.surface).inc()
        error_id = new_error_id()
        log.exception(
            "query failed",
            extra={
                "error_id": error_id,
                "surface": ctx.surface,
                "team": ctx.team,
                "command": _name(text),
            },
        )
        return Reply.error(
            f"Sorry, something went wrong on my side (error id `{error_id}`). Please try again; "
            "if it keeps happening, tell whoever runs smx that id."
        )
    command = _name(text)
    metrics.REQUESTS.labels(ctx.surface, command).inc()
    if reply.is_error:
        metrics.USER_ERRORS.labels(ctx.surface, command).inc()
    log.info(
        "query answered",
        extra={
            "surface": ctx.surface,
            "team": ctx.team,
            "command": command,
            "user_error": reply.is_error,
        },
    )
    return reply


def _name(text: str) -> str:
    found = find(text.split())
    return found[0].name if found else "unknown"


def shareable(text: str) -> bool:
    found = find(text.split())
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
    else:
        code = f"http_{status}" if status else type(err).__name__
    url = str(getattr(response, "api_url", "") or "")
    metrics.SLACK_API_ERRORS.labels(url.rsplit("/", 1)[-1] or "unknown", code).inc()
    return code
