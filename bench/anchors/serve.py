"""How every anchor is served: aiohttp's AppRunner and a TCP site on 127.0.0.1, no access log,
until SIGTERM or SIGINT. `python bench/anchors/NAME.py --port PORT` calls `run(make_app)`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
from collections.abc import Callable

from aiohttp import web


async def _serve(app: web.Application, host: str, port: int) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def run(make_app: Callable[[str, str], web.Application]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    secret = os.environ["SLACK_SIGNING_SECRET"]
    api_url = os.environ.get("SLACK_API_URL", "https://slack.com/api/")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(make_app(secret, api_url), args.host, args.port))
