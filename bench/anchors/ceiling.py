"""Anchor, the ceiling: plain aiohttp that reads the body, checks Slack's signature and the
timestamp's age as Slack asks (v0 HMAC-SHA256, at most 5 minutes old), and answers 200 with an
empty body, or 401. Any server that verifies Slack's requests in Python does at least this."""

from __future__ import annotations

import hashlib
import hmac
import sys
import time
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))

MAX_AGE = 300


def make_app(secret: str, api_url: str = "") -> web.Application:
    key = secret.encode()

    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        ts = request.headers.get("X-Slack-Request-Timestamp", "")
        given = request.headers.get("X-Slack-Signature", "")
        if not ts.isdigit() or abs(time.time() - int(ts)) > MAX_AGE:
            return web.Response(status=401)
        digest = hmac.new(key, b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(f"v0={digest}", given):
            return web.Response(status=401)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/slack/events", events)
    return app


if __name__ == "__main__":
    from serve import run

    run(make_app)
