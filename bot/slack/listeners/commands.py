"""`/smx`: every subcommand through the router.

Most answers are computed in well under a millisecond and leave in the ack itself. Commands that
need the Web API (opening a modal, uploading a file, asking users.info who is an admin) ack at once
and finish in a lazy listener, answering through `respond()` or the Web API.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.context import Context, Services
from bot.reply import Reply
from bot.slack.answer import answer, slack_error, with_share_button
from bot.slack.blocks import fallback_text, render_blocks
from bot.slack.payloads import command_context
from bot.slack.views import estimate_modal

log = logging.getLogger("smx.slack")


def route_kind(text: str) -> str:
    """'modal', 'export', 'admin' (needs users.info) or 'inline'."""
    words = [w.lower() for w in text.split()]
    if words == ["estimate"]:
        return "modal"
    if words[:2] == ["notes", "export"]:
        return "export"
    if words[:2] == ["note", "delete"]:
        return "admin"
    return "inline"


def message_args(reply: Reply) -> dict[str, Any]:
    return {"text": fallback_text(reply), "blocks": render_blocks(reply)}


async def is_admin(client: AsyncWebClient, user: str) -> bool:
    try:
        info = await client.users_info(user=user)
    except SlackApiError as err:
        log.warning("users.info failed", extra={"error": slack_error(err)})
        return False
    person = info.get("user") or {}
    return bool(person.get("is_admin") or person.get("is_owner") or person.get("is_primary_owner"))


async def upload(client: AsyncWebClient, ctx: Context, reply: Reply) -> str | None:
    """Upload the reply's files to the conversation; the Slack error code when that fails."""
    for f in reply.files:
        try:
            await client.files_upload_v2(
                channel=ctx.channel,
                content=f.content,
                filename=f.filename,
                title=f.title or f.filename,
                initial_comment=reply.intro or None,
            )
        except SlackApiError as err:
            return slack_error(err)
    return None


UPLOAD_FAILED = {
    "not_in_channel": "I can't upload files here because I'm not in this conversation. "
    "Invite me with `/invite @smx`, or run `/smx notes export` in a DM with me.",
    "channel_not_found": "I can't upload files to this conversation. "
    "Run `/smx notes export` in a DM with me instead.",
}


def register(app: AsyncApp, services: Services) -> None:
    async def ack_smx(ack, body: dict[str, Any]) -> None:
        text = body.get("text") or ""
        if route_kind(text) != "inline":
            await ack()
            return
        ctx = command_context(body, services)
        reply = await answer(ctx, text)
        if not reply.share:
            reply = with_share_button(reply, text)
        await ack(response_type="in_channel" if reply.share else "ephemeral", **message_args(reply))

    async def finish_smx(body: dict[str, Any], client: AsyncWebClient, respond) -> None:
        text = body.get("text") or ""
        kind = route_kind(text)
        if kind == "inline":
            return
        ctx = command_context(body, services)
        if kind == "modal":
            await client.views_open(trigger_id=body["trigger_id"], view=estimate_modal(ctx.channel))
            return
        if kind == "admin":
            ctx.is_admin = await is_admin(client, ctx.user)
        reply = await answer(ctx, text)
        if kind == "export" and reply.files and not reply.is_error:
            failed = await upload(client, ctx, reply)
            if failed:
                message = UPLOAD_FAILED.get(
                    failed, f"The upload failed (Slack said `{failed}`). Try again shortly."
                )
                await respond(response_type="ephemeral", **message_args(Reply.error(message)))
            return
        await respond(response_type="ephemeral", **message_args(reply))

    app.command("/smx")(ack=ack_smx, lazy=[finish_smx])
