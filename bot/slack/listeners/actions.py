"""Buttons: share an answer in the channel, open the estimate form or the comparison."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.context import Services
from bot.slack.answer import SHARE_ACTION, answer
from bot.slack.inflight import tracked
from bot.slack.listeners.commands import message_args
from bot.slack.payloads import action_context, event_kind
from bot.slack.views import OPEN_COMPARE_ACTION, OPEN_ESTIMATE_ACTION, estimate_modal, reply_modal


async def _ack(ack) -> None:
    await ack()


def register(app: AsyncApp, services: Services) -> None:
    async def share(body: dict[str, Any], respond) -> None:
        text = body["actions"][0].get("value") or ""
        channel = (body.get("channel") or {}).get("id")
        # Unknown privacy is treated as private: it can only hide, never show, a note.
        ctx = action_context(
            body, services, channel=channel, kind=event_kind(None, channel or "") or "private"
        )
        reply = await answer(ctx, text)
        if reply.is_error:
            await respond(response_type="ephemeral", replace_original=False, **message_args(reply))
            return
        await respond(response_type="in_channel", delete_original=True, **message_args(reply))

    async def open_estimate(body: dict[str, Any], client: AsyncWebClient) -> None:
        channel = (body.get("channel") or {}).get("id") or ""
        await client.views_open(trigger_id=body["trigger_id"], view=estimate_modal(channel))

    async def open_compare(body: dict[str, Any], client: AsyncWebClient) -> None:
        reply = await answer(action_context(body, services), "compare")
        await client.views_open(
            trigger_id=body["trigger_id"], view=reply_modal("SMO vs SMM", reply)
        )

    app.action(SHARE_ACTION)(ack=_ack, lazy=[tracked(share)])
    app.action(OPEN_ESTIMATE_ACTION)(ack=_ack, lazy=[tracked(open_estimate)])
    app.action(OPEN_COMPARE_ACTION)(ack=_ack, lazy=[tracked(open_compare)])
