"""Every Slack surface registers its listeners here, one module per surface."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.context import Services


def register_all(app: AsyncApp, services: Services) -> None:
    from bot.slack.listeners import actions, commands, events, home, modal

    commands.register(app, services)
    events.register(app, services)
    home.register(app, services)
    modal.register(app, services)
    actions.register(app, services)
