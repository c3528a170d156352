"""The real app served by aiohttp on 127.0.0.1, driven with requests signed exactly as Slack signs."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import sys
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from bot.config import Settings
from bot.context import Services
from bot.slack.server import WatchedSite, build_web_app, serve_http
from tests.support.fake_slack import FakeSlack, slash_command_form
from tests.support.waits import WAIT

SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-test-token-abcdef"


def free_port() -> int:
    """A port nothing listens on right now, on 127.0.0.1 (for servers started as processes)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_argv(port: int) -> list[str]:
    """`smx serve` on 127.0.0.1:port as a process runs it (`python -m bot`, this interpreter)."""
    return [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]


async def after_acks(within: float = WAIT) -> None:
    """Wait until the work smx does after its acks in this event loop (lazy listeners, tracked by
    bot/slack/inflight.py) has ended, including work that work started: a wait on the work itself,
    not a quiet period, so a slow machine only waits longer. (A slash command's answer that
    overran ACK_BUDGET is untracked until it is ready; wait for its response_url call instead.)"""
    from bot.slack import inflight

    # Yields, no time passes: a listener an in-process dispatch has just started registers itself
    # in its first step. (Over HTTP it already has: it was started before the ack was sent.)
    for _ in range(5):
        await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while mine := [t for t in inflight._running if not t.done() and t.get_loop() is loop]:
        left = deadline - loop.time()
        assert left > 0, f"work after the ack still running after {within} s: {mine}"
        await asyncio.wait(mine, timeout=left)
        for _ in range(5):  # as above, for work the finished work started
            await asyncio.sleep(0)


def mention_of(text: str, channel: str = "C1", user: str = "U1") -> dict:
    """The `app_mention` event of `user` saying `text` to smx in `channel`."""
    return {
        "type": "app_mention",
        "user": user,
        "text": f"<@UBOT> {text}",
        "ts": "1700000000.000100",
        "channel": channel,
        "event_ts": "1700000000.000100",
    }


def sign(body: bytes, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Answer:
    status: int
    body: Any
    seconds: float


class RunningBot:
    """The app under test, its fake Slack, and helpers that send what Slack sends."""

    def __init__(self, slack: FakeSlack, settings: Settings) -> None:
        self.slack = slack
        self.settings = settings
        self.services = Services(settings)
        self._runner: web.AppRunner | None = None
        self.site: WatchedSite | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self) -> RunningBot:
        self.services.store.migrate()
        self.web_app = build_web_app(self.settings, self.services)
        # The same serving code as `smx serve`: its connection limits are under test too.
        self._runner, self.site = await serve_http(self.web_app, self.settings, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.site.port}"
        self._session = aiohttp.ClientSession()
        return self

    async def idle(self) -> None:
        """Wait until the work after every ack so far has ended (`after_acks`), and every digest
        chart queued so far."""
        from bot.slack.digest_chart import settled

        await after_acks()
        await settled()

    async def stop(self) -> None:
        if self._session:
            await self._session.close()
        if self._runner:
            await self._runner.cleanup()
        await self.services.store.close()

    async def post(
        self,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        signed: dict[str, str] | None = None,
    ) -> Answer:
        assert self._session is not None
        all_headers = {
            "Content-Type": content_type,
            **(signed if signed is not None else sign(body)),
            **(headers or {}),
        }
        started = time.monotonic()
        async with self._session.post(
            f"{self.url}/slack/events", data=body, headers=all_headers
        ) as resp:
            raw = await resp.read()
            seconds = time.monotonic() - started
            try:
                parsed: Any = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode()
            return Answer(resp.status, parsed, seconds)

    async def get(self, path: str) -> Answer:
        assert self._session is not None
        started = time.monotonic()
        async with self._session.get(f"{self.url}{path}", allow_redirects=False) as resp:
            text = await resp.text()
            return Answer(resp.status, text, time.monotonic() - started)

    async def command(
        self,
        text: str,
        *,
        user: str = "U1",
        channel: str = "C1",
        channel_name: str = "general",
        team: str = "T1",
        **signing,
    ) -> Answer:
        form = slash_command_form(
            text,
            response_url=self.slack.response_url("cmd"),
            user=user,
            channel=channel,
            channel_name=channel_name,
            team=team,
        )
        body = urlencode(form).encode()
        return await self.post(body, "application/x-www-form-urlencoded", **signing)

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str = "Ev1",
        team: str = "T1",
        retry: int | None = None,
    ) -> Answer:
        envelope = {
            "token": "legacy",
            "team_id": team,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [
                {"team_id": team, "user_id": self.slack.bot_user_id, "is_bot": True}
            ],
        }
        headers = (
            {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
            if retry
            else None
        )
        return await self.post(json.dumps(envelope).encode(), "application/json", headers=headers)

    async def interact(self, payload: dict[str, Any]) -> Answer:
        payload = {
            "team": {"id": "T1", "domain": "acme"},
            "user": {"id": "U1", "team_id": "T1"},
            "api_app_id": "A1",
            "token": "legacy",
            "trigger_id": "1337.42.abcd",
            **payload,
        }
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post(body, "application/x-www-form-urlencoded")


def single_workspace_settings(slack: FakeSlack, db: str) -> Settings:
    return Settings(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.api_url,
        SMX_DB=db,
    )


def oauth_settings(slack: FakeSlack, db: str) -> Settings:
    """Many workspaces: the app's OAuth credentials, no bot token of its own."""
    return Settings(
        SLACK_CLIENT_ID="111.222",
        SLACK_CLIENT_SECRET="client-secret-xyz",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.api_url,
        SMX_DB=db,
    )
