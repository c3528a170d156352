"""Buttons: share an answer in the channel, open the estimate form or the comparison."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.context import Context, Services
from bot.reply import Reply
from bot.router import entry
from bot.slack.answer import SHARE_ACTION, answer, audience, cleared, message_args
from bot.slack.channels import Facts, conversation, settle
from bot.slack.charts import chart_later
from bot.slack.file_import import CANCEL_ACTION, IMPORT_ACTION
from bot.slack.inflight import tracked
from bot.slack.payloads import action_context, event_kind, team_of
from bot.slack.views import OPEN_COMPARE_ACTION, OPEN_ESTIMATE_ACTION, estimate_modal, reply_modal
from bot.slack.welcome import ASK_ACTION

# What the share button may run: commands that only read. Its value comes back from Slack as the
# person's client sent it, so it is treated as typed by them, never as smx's own.
SHAREABLE_READS = frozenset({"compare", "explain", "estimate", "notes", "notes search", "help"})
NOT_SHAREABLE = (
    "That button only shares an answer (a comparison, an explanation, an estimate or a notes "
    "listing); it can't run `{text}`. Type `/smx {text}` instead."
)


NOT_ASKABLE = (
    "That button only asks a question (a comparison, an explanation, an estimate); it can't "
    "run `{text}`. Type it yourself if that is what you mean."
)


async def _ack(ack) -> None:
    await ack()


def _reads_only(text: str) -> bool:
    """Whether `text` (typed or in plain words, read as the router reads it) only reads."""
    found = entry(text)
    return bool(found and found[0].name in SHAREABLE_READS)


def share_context(body: dict[str, Any], services: Services, facts: Facts) -> Context:
    """Whom the share button's answer is read as: the whole channel (surface `share`: a Viewer
    without the person, so none of their private notes from elsewhere), as Slack describes it."""
    channel = (body.get("channel") or {}).get("id") or ""
    ctx = action_context(body, services, channel=channel, surface="share")
    settle(ctx, facts)
    return ctx


def register(app: AsyncApp, services: Services) -> None:
    async def share(body: dict[str, Any], respond, client: AsyncWebClient) -> None:
        text = (body.get("actions") or [{}])[0].get("value") or ""
        channel = (body.get("channel") or {}).get("id") or ""
        team, _ = team_of(body)
        # Slack says what the channel is now; the payload's value and channel name prove nothing.
        facts = await conversation(client, team, channel, event_kind(None, channel) or "private")
        ctx = share_context(body, services, facts)
        if not _reads_only(text):
            refusal = Reply.error(NOT_SHAREABLE.format(text=" ".join(text.split())[:80]))
            await respond(
                response_type="ephemeral",
                replace_original=False,
                **message_args(refusal, audience(ctx, private=True), path="share"),
            )
            return
        reply = cleared(await answer(ctx, text), audience(ctx, private=False), path="share")
        if reply.is_error:
            await respond(
                response_type="ephemeral",
                replace_original=False,
                **message_args(reply, audience(ctx, private=True), path="share"),
            )
            return
        # Shared, the answer's chart goes to the channel too (its asker had it in their DM).
        reply = chart_later(client, ctx, reply, shared=True)
        await respond(
            response_type="in_channel",
            delete_original=True,
            **message_args(reply, audience(ctx, private=False), path="share"),
        )

    async def open_estimate(body: dict[str, Any], client: AsyncWebClient) -> None:
        channel = (body.get("channel") or {}).get("id") or ""
        await client.views_open(trigger_id=body["trigger_id"], view=estimate_modal(channel))

    async def open_compare(body: dict[str, Any], client: AsyncWebClient) -> None:
        ctx = action_context(body, services)
        reply = cleared(
            await answer(ctx, "compare"), audience(ctx, private=True), path="views.open"
        )
        await client.views_open(
            trigger_id=body["trigger_id"], view=reply_modal("SMO vs SMM", reply)
        )

    async def ask_suggested(body: dict[str, Any], client: AsyncWebClient) -> None:
        """A welcome's suggested question: answered in the conversation the button is in, read
        as Slack says that conversation is (the person's DM: by them alone)."""
        text = (body.get("actions") or [{}])[0].get("value") or ""
        channel = (body.get("channel") or {}).get("id") or ""
        if not channel:
            return
        team, _ = team_of(body)
        facts = await conversation(client, team, channel, event_kind(None, channel) or "private")
        ctx = action_context(body, services, channel=channel, surface="dm")
        settle(ctx, facts)
        private = ctx.channel_kind == "im"
        reader = audience(ctx, private=private)
        if not _reads_only(text):
            reply = Reply.error(NOT_ASKABLE.format(text=" ".join(text.split())[:80]))
        else:
            reply = cleared(await answer(ctx, text), reader, path="chat.postMessage")
        await client.chat_postMessage(
            channel=channel, **message_args(reply, reader, path="chat.postMessage")
        )

    async def import_file(body: dict[str, Any], respond, client: AsyncWebClient) -> None:
        """*Import* under a shared export's preview: logged, and the preview replaced by what
        was logged (to the person alone, as the preview was)."""
        from bot.slack.crossings import announce_later
        from bot.slack.file_import import import_pressed

        value = (body.get("actions") or [{}])[0].get("value") or ""
        channel = (body.get("channel") or {}).get("id") or ""
        team, _ = team_of(body)
        facts = await conversation(client, team, channel, event_kind(None, channel) or "private")
        ctx = action_context(body, services, channel=channel, surface="command")
        settle(ctx, facts)
        reply = await import_pressed(client, ctx, value)
        announce_later(client, ctx, reply)
        await respond(
            response_type="ephemeral",
            replace_original=True,
            **message_args(reply, audience(ctx, private=True), path="import"),
        )

    async def cancel_import(respond) -> None:
        await respond(
            response_type="ephemeral",
            replace_original=True,
            text="Nothing was imported. Share the file again to import it.",
        )

    app.action(IMPORT_ACTION)(ack=_ack, lazy=[tracked(import_file)])
    app.action(CANCEL_ACTION)(ack=_ack, lazy=[tracked(cancel_import)])
    app.action(SHARE_ACTION)(ack=_ack, lazy=[tracked(share)])
    app.action(re.compile(rf"^{ASK_ACTION}_\d$"))(ack=_ack, lazy=[tracked(ask_suggested)])
    app.action(OPEN_ESTIMATE_ACTION)(ack=_ack, lazy=[tracked(open_estimate)])
    app.action(OPEN_COMPARE_ACTION)(ack=_ack, lazy=[tracked(open_compare)])
