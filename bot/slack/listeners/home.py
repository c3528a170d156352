"""The App Home tab: what smx does, the two forms, the team's recent notes."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.context import Context, Services
from bot.slack.answer import answer
from bot.slack.inflight import tracked
from bot.slack.payloads import team_of
from bot.slack.views import home_view


async def _ack(ack) -> None:
    await ack()


def register(app: AsyncApp, services: Services) -> None:
    async def publish_home(
        event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if event.get("tab", "home") != "home":
            return
        team, enterprise = team_of(body)
        # The Home tab is the person's own view: their private notes may show there, to them only.
        ctx = Context(
            team=team,
            enterprise=enterprise,
            user=event["user"],
            channel=event.get("channel", ""),
            channel_kind="im",
            surface="home",
            services=services,
        )
        notes = await answer(ctx, "notes")
        await client.views_publish(user_id=event["user"], view=home_view(notes))

    app.event("app_home_opened")(ack=_ack, lazy=[tracked(publish_home)])
