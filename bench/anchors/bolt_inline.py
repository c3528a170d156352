"""Anchor: a Bolt app that only acks, inside the request (process_before_response=True: the
listener is awaited before the HTTP answer, as smx answers in the ack). No Bolt app can answer
faster; served through Bolt's own aiohttp application (`app.web_app()`)."""

from __future__ import annotations

import sys
from pathlib import Path

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

sys.path.insert(0, str(Path(__file__).resolve().parent))


def make_app(secret: str, api_url: str) -> web.Application:
    client = AsyncWebClient(token="xoxb-bench", base_url=api_url)
    app = AsyncApp(signing_secret=secret, client=client, process_before_response=True)

    @app.command("/smx")
    async def smx(ack) -> None:
        await ack()

    return app.web_app()


if __name__ == "__main__":
    from serve import run

    run(make_app)
