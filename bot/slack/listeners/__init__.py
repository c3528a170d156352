"""Every Slack surface registers its listeners here, one module per surface."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp

from bot.context import Services


def register_all(app: AsyncApp, services: Services) -> None:
    from bot.slack.listeners import actions, commands, events, home, modal

    async def on_error(error: Exception, body: dict) -> None:
        # Anything a listener did not handle itself: logged once, with an id, never with a token.
        from bot import telemetry
        from bot.logs import new_error_id

        telemetry.UNEXPECTED_ERRORS.labels("listener").inc()
        logging.getLogger("smx.slack").error(
            "request failed",
            exc_info=error,
            extra={"error_id": new_error_id(), "type": body.get("type")},
        )

    app.error(on_error)
    commands.register(app, services)
    events.register(app, services)
    home.register(app, services)
    modal.register(app, services)
    actions.register(app, services)
