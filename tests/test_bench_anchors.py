"""The benchmark's anchors (bench/anchors/) are honest servers: each answers a signed `/smx`
slash command with 200 and refuses a forged or stale one with 401, as smx does. No timing here."""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

ANCHORS = Path(__file__).resolve().parent.parent / "bench" / "anchors"
SECRET = "anchor-test-secret"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_anchor_{name}", ANCHORS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def request(secret: str = SECRET, age: int = 0) -> tuple[bytes, dict[str, str]]:
    body = urlencode(
        {"command": "/smx", "text": "compare", "team_id": "T1", "user_id": "U1", "channel_id": "C1"}
    ).encode()
    ts = str(int(time.time()) - age)
    sig = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={sig}",
    }


@pytest.fixture
async def slack_api():
    """A stub Web API for the Bolt anchors' auth.test."""

    async def ok(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "team_id": "T1", "user_id": "UBOT", "bot_id": "B1"})

    app = web.Application()
    app.router.add_route("*", "/api/{method}", ok)
    async with TestServer(app) as server:
        yield str(server.make_url("/api/"))


@pytest.mark.parametrize("name", ["bolt_bare", "bolt_inline", "ceiling"])
async def test_anchor_answers_signed_and_refuses_forged(name: str, slack_api: str) -> None:
    app = load(name).make_app(SECRET, slack_api)
    async with TestClient(TestServer(app)) as client:
        body, headers = request()
        response = await client.post("/slack/events", data=body, headers=headers)
        assert response.status == 200, await response.text()

        body, headers = request(secret="not-the-secret")
        response = await client.post("/slack/events", data=body, headers=headers)
        assert response.status == 401

        body, headers = request(age=600)  # a replay from ten minutes ago
        response = await client.post("/slack/events", data=body, headers=headers)
        assert response.status == 401

        body, headers = request()
        response = await client.post("/slack/events", data=body + b"&x=1", headers=headers)
        assert response.status == 401  # the body was changed after signing
