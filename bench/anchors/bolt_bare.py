"""Anchor: the Bolt app a user would write for `/smx` that only acks. AsyncApp with its
defaults (process_before_response=False: the listener runs as a task, the HTTP answer goes out
when it calls ack()), served through Bolt's own aiohttp application (`app.web_app()`)."""

from __future__ import annotations

import sys
from pathlib import Path

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

sys.path.insert(0, str(Path(__file__).resolve().parent))


def make_app(secret: str, api_url: str) -> web.Application:
    # The token is checked once with auth.test on the first request: against the bench's stub.
    client = AsyncWebClient(token="xoxb-bench", base_url=api_url)
    app = AsyncApp(signing_secret=secret, client=client)

    @app.command("/smx")
    async def smx(ack) -> None:
        await ack()

    return app.web_app()


if __name__ == "__main__":
    from serve import run

    run(make_app)
