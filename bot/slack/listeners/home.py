"""The App Home tab: what smx does, the two forms, the team's recent notes."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.context import Context, Services
from bot.slack.answer import answer, audience, cleared
from bot.slack.inflight import tracked
from bot.slack.payloads import team_of
from bot.slack.views import home_view


async def _ack(ack) -> None:
    await ack()


async def digest_line(services: Services, team: str, user: str) -> str:
    """The weekly digests this person set up, with their next run in the channel's own zone."""
    from bot.digest.slots import local_text

    subs = await services.store.subscriptions_set_up_by(team, user)
    if not subs:
        return "Weekly digest: none set up by you. Type `/smx digest on` in a channel to start one."
    parts = [
        f"channel {s.channel}: next {local_text(s.next_run, s.tz)}"
        if s.state == "active"
        else f"channel {s.channel}: paused"
        for s in subs[:8]
    ]
    more = f" and {len(subs) - 8} more" if len(subs) > 8 else ""
    return (
        "Weekly digests you set up: "
        + "; ".join(parts)
        + more
        + ". `/smx digest status` in a channel says more."
    )


def register(app: AsyncApp, services: Services) -> None:
    async def publish_home(
        event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        team, enterprise = team_of(body)
        if event.get("tab", "home") == "messages":
            from bot.slack.welcome import welcome_if_new

            await welcome_if_new(client, team, event["user"], event.get("channel", ""))
            return
        if event.get("tab", "home") != "home":
            return
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
        # Only the person sees their Home tab: the last-step check holds it against them alone.
        notes = cleared(
            await answer(ctx, "notes"), audience(ctx, private=True), path="views.publish"
        )
        digest = await digest_line(services, ctx.owner, ctx.user)
        await client.views_publish(user_id=event["user"], view=home_view(notes, digest))

    app.event("app_home_opened")(ack=_ack, lazy=[tracked(publish_home)])
