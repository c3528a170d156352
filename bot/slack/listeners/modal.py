"""The estimate form: opened from `/smx estimate` or the Home tab, validated field by field."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import units
from bot.context import Services
from bot.errors import UserError
from bot.slack.answer import answer, audience, checked, message_args, slack_error
from bot.slack.inflight import tracked
from bot.slack.payloads import action_context
from bot.slack.views import ESTIMATE_CALLBACK, ESTIMATE_FIELDS, PLATFORM_BLOCK, submitted_values
from bot.store.base import Audience
from bot.text import clean

log = logging.getLogger("smx.slack")
FIRST_FIELD = ESTIMATE_FIELDS[0][0]


def field_errors(values: dict[str, str]) -> dict[str, str]:
    """Per-block messages for fields that do not parse; empty when every field is fine."""
    errors: dict[str, str] = {}
    for key, raw in values.items():
        if key == PLATFORM_BLOCK:
            continue
        try:
            units.parse_metric(key, clean(raw))
        except UserError as err:
            errors[key] = err.message[:1900]
    if not values:
        errors[FIRST_FIELD] = "Fill in at least two fields, for example a budget and a CPM."
    return errors


def command_text(values: dict[str, str]) -> str:
    return "estimate " + " ".join(f"{k}={v.replace(' ', '')}" for k, v in values.items())


def register(app: AsyncApp, services: Services) -> None:
    async def ack_estimate(ack, body: dict[str, Any]) -> None:
        values = submitted_values(body["view"])
        errors = field_errors(values)
        if not errors:
            # Fields can be fine one by one and still not be enough together. Only checked here:
            # the answer after the ack is the submission's one request.
            reply = await checked(action_context(body, services), command_text(values))
            if reply.is_error:
                errors[FIRST_FIELD] = (reply.intro or "These values are not enough.")[:1900]
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()

    async def post_estimate(body: dict[str, Any], client: AsyncWebClient) -> None:
        values = submitted_values(body["view"])
        if field_errors(values):
            return
        meta = json.loads(body["view"].get("private_metadata") or "{}")
        channel = meta.get("channel")
        ctx = action_context(body, services, channel=channel)
        reply = await answer(ctx, command_text(values))
        if reply.is_error:
            return
        # Only the person sees either answer (an ephemeral message, their DM with the bot).
        if channel:
            try:
                await client.chat_postEphemeral(
                    channel=channel,
                    user=ctx.user,
                    **message_args(reply, audience(ctx, private=True), path="chat.postEphemeral"),
                )
                return
            except SlackApiError as err:
                log.info("ephemeral answer failed, sending a DM", extra={"error": slack_error(err)})
        their_dm = Audience(ctx.owner, ctx.user, "im", user=ctx.user)  # posting to a user id
        await client.chat_postMessage(
            channel=ctx.user, **message_args(reply, their_dm, path="chat.postMessage")
        )

    app.view(ESTIMATE_CALLBACK)(ack=ack_estimate, lazy=[tracked(post_estimate)])
