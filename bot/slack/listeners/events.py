"""Mentions and DMs (the router without `/smx`, plus plain questions) and uninstalls.

Events are acknowledged at once; the work and the Web API calls follow in lazy listeners, so Slack
never waits on Slack. A re-delivered event (same event_id) is answered once and logs a note once.
"""

from __future__ import annotations

import contextlib
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.context import Services
from bot.slack.answer import audience, message_args, slack_error
from bot.slack.channels import conversation, settle
from bot.slack.failure import log_failure
from bot.slack.inflight import tracked
from bot.slack.listeners.commands import with_web_api
from bot.slack.payloads import event_context, event_kind, team_of
from bot.store.base import StoreError

log = logging.getLogger("smx.slack")
LEADING_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(?:\|[^>]*)?>[\s:,]*")


async def _ack(ack) -> None:
    await ack()


def is_from_a_bot(event: dict[str, Any], context: dict[str, Any]) -> bool:
    return bool(
        event.get("bot_id")
        # A person's message that shares a file has the subtype file_share; any other subtype
        # (edits, joins, bot messages) is no one asking anything.
        or (event.get("subtype") and event.get("subtype") != "file_share")
        or (event.get("user") and event.get("user") == context.get("bot_user_id"))
    )


async def _preview_import(client: AsyncWebClient, ctx, event: dict[str, Any]) -> None:
    """A shared export's preview, to the person alone: a message in their DM with smx, an
    ephemeral one in a channel."""
    from bot.slack.file_import import preview_reply

    reply = await preview_reply(client, ctx, event)
    reader = audience(ctx, private=True)
    args = message_args(reply, reader, path="import preview")
    try:
        if ctx.channel_kind == "im":
            await client.chat_postMessage(channel=event["channel"], **args)
        else:
            await client.chat_postEphemeral(channel=event["channel"], user=ctx.user, **args)
    except SlackApiError as err:
        log.warning("could not show an import preview", extra={"error": slack_error(err)})


def register(app: AsyncApp, services: Services) -> None:
    async def first_delivery(body: dict[str, Any]) -> bool:
        event_id = body.get("event_id")
        if not event_id:
            return True
        team, _ = team_of(body)
        # The reply has its own claim; a note logged by the query claims the plain event_id.
        return await services.store.claim_event(f"reply:{event_id}", team)

    async def reply_to(
        event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, text: str
    ) -> None:
        try:
            first = await first_delivery(body)
        except StoreError:
            # The database cannot say whether this event was answered before: say why there is
            # no answer, where it was asked (a sentence with no notes in it).
            sentence = log_failure(log, "event not answered", event_id=body.get("event_id"))
            im = event.get("channel_type") == "im"
            thread = event.get("thread_ts") or (event.get("ts") if not im else None)
            with contextlib.suppress(SlackApiError):
                await client.chat_postMessage(
                    channel=event["channel"], thread_ts=thread, text=sentence
                )
            return
        if not first:
            log.info("duplicate event ignored", extra={"event_id": body.get("event_id")})
            return
        team, _ = team_of(body)
        hint = event_kind(event.get("channel_type"), event.get("channel", "")) or "public"
        # conversations.info decides (cached); anything unclear counts as private.
        facts = await conversation(client, team, event.get("channel", ""), hint)
        ctx = event_context(body, event, facts.kind, services)
        settle(ctx, facts)
        ctx.event_id = body.get("event_id")
        if ctx.channel_kind != "im" or event.get("thread_ts"):
            ctx.thread_ts = event.get("thread_ts") or event.get("ts")  # where the answer goes
        from bot.slack.file_import import wants_import

        if wants_import(text, event):
            await _preview_import(client, ctx, event)
            return
        query = text  # plain words are read by the router, as on every face
        # No form from a message: `estimate` alone explains its usage.
        reply = await with_web_api(ctx, query, client, services.settings)
        if reply is None:  # the answer was a file, already in the conversation
            return
        im = ctx.channel_kind == "im"
        thread = event.get("thread_ts") or (event.get("ts") if not im else None)
        # The person's own DM with the bot is read by them alone; anywhere else, by everyone there.
        reader = audience(ctx, private=im)
        try:
            await client.chat_postMessage(
                channel=event["channel"],
                thread_ts=thread,
                **message_args(reply, reader, path="chat.postMessage"),
            )
        except SlackApiError as err:
            log.warning(
                "could not answer",
                extra={"error": slack_error(err), "channel": event.get("channel")},
            )

    async def on_mention(
        event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context
    ) -> None:
        if is_from_a_bot(event, context):
            return
        await reply_to(event, body, client, LEADING_MENTION.sub("", event.get("text") or ""))

    async def on_message(
        event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context
    ) -> None:
        if event.get("channel_type") != "im" or is_from_a_bot(event, context):
            return
        await reply_to(event, body, client, LEADING_MENTION.sub("", event.get("text") or ""))

    app.event("app_mention")(ack=_ack, lazy=[tracked(on_mention)])
    app.event("message")(ack=_ack, lazy=[tracked(on_message)])
    installations = app.installation_store if services.settings.mode == "oauth" else None

    def scope(context) -> dict[str, Any]:
        # Bolt's own revocation listeners leave out is_enterprise_install, so an org-wide
        # (Enterprise Grid) install would never be found to delete; pass it on.
        return {
            "enterprise_id": context.enterprise_id,
            "team_id": context.team_id,
            "is_enterprise_install": bool(context.is_enterprise_install),
        }

    async def on_uninstall(body: dict[str, Any], context) -> None:
        team, _ = team_of(body)
        log.warning("app uninstalled", extra={"team": team, "enterprise": context.enterprise_id})
        if installations is not None:
            await installations.async_delete_all(**scope(context))

    async def on_tokens_revoked(event: dict[str, Any], body: dict[str, Any], context) -> None:
        team, _ = team_of(body)
        tokens = event.get("tokens") or {}
        log.warning("tokens revoked", extra={"team": team, "enterprise": context.enterprise_id})
        if installations is None:
            return
        for user_id in tokens.get("oauth") or []:
            await installations.async_delete_installation(user_id=user_id, **scope(context))
        if tokens.get("bot"):
            await installations.async_delete_bot(**scope(context))

    app.event("app_uninstalled")(ack=_ack, lazy=[tracked(on_uninstall)])
    app.event("tokens_revoked")(ack=_ack, lazy=[tracked(on_tokens_revoked)])
