"""A fake Slack Socket Mode server on 127.0.0.1 (ephemeral port) and a Web API that points at it.

Socket Mode as Slack runs it: the app calls `apps.connections.open` with its app-level token
(xapp-...), gets a wss:// URL, opens a websocket there and receives `hello`. Slack then sends
envelopes (`envelope_id`, `type`, `payload`, `accepts_response_payload`, and for events
`retry_attempt` / `retry_reason`); the app acks each with `{"envelope_id": ..., "payload": ...}`
(the payload is the slash command's or the interaction's answer). `disconnect` asks the app to
open a new connection.

`FakeSocketMode` is that websocket server: the test pushes envelopes, awaits their acks, and can
read everything that crossed the socket. `SocketModeSlack` is `FakeSlack` whose
`apps.connections.open` hands out the fake's URL, and only for an app-level token, as Slack does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.support.fake_slack import Call, FakeSlack, slash_command_form


@dataclass
class Ack:
    envelope_id: str
    payload: dict[str, Any] | None
    seconds: float  # from sending the envelope to receiving its ack
    raw: dict[str, Any] = field(default_factory=dict)


class FakeSocketMode:
    def __init__(self, app_id: str = "A1") -> None:
        self.app_id = app_id
        self.sent: list[dict[str, Any]] = []  # every message this server sent, hello included
        self.received: list[Any] = []  # every text message a client sent (parsed when JSON)
        self.connections: list[web.WebSocketResponse] = []  # in the order they were opened
        self._ids = itertools.count(1)
        self._acks: dict[str, asyncio.Future[Ack]] = {}
        self._sent_at: dict[str, float] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.base = ""

    # -- control ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """What apps.connections.open answers (Slack's is wss://wss-primary.slack.com/link/?...)."""
        return f"{self.base}/link/?ticket=fake-ticket&app_id={self.app_id}"

    @property
    def open_connections(self) -> list[web.WebSocketResponse]:
        return [ws for ws in self.connections if not ws.closed]

    async def wait_connected(self, count: int = 1, within: float = 10.0) -> web.WebSocketResponse:
        """Wait until `count` connections have been opened (and greeted); return the newest."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.connections) >= count), within
            )
        return self.connections[-1]

    async def send(self, message: dict[str, Any]) -> None:
        """Send a raw message on the newest open connection."""
        live = self.open_connections
        assert live, "no Socket Mode client is connected"
        self.sent.append(message)
        await live[-1].send_str(json.dumps(message))

    async def push(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        envelope_id: str | None = None,
        accepts_response_payload: bool | None = None,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
    ) -> str:
        """Send one envelope as Slack does; return its envelope_id (await the ack with `ack`)."""
        envelope_id = envelope_id or f"env-{next(self._ids)}-{int(time.time() * 1000)}"
        message: dict[str, Any] = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": kind,
            "accepts_response_payload": (
                kind != "events_api"
                if accepts_response_payload is None
                else accepts_response_payload
            ),
        }
        if kind == "events_api":
            message["retry_attempt"] = retry_attempt or 0
            message["retry_reason"] = retry_reason or ""
        self._acks[envelope_id] = asyncio.get_running_loop().create_future()
        self._sent_at[envelope_id] = time.monotonic()
        await self.send(message)
        return envelope_id

    async def ack(self, envelope_id: str, within: float = 3.0) -> Ack:
        """The client's ack of this envelope; TimeoutError if none arrives `within` seconds."""
        return await asyncio.wait_for(asyncio.shield(self._acks[envelope_id]), within)

    async def request(self, kind: str, payload: dict[str, Any], within: float = 3.0, **kw) -> Ack:
        """Push an envelope and wait for its ack."""
        return await self.ack(await self.push(kind, payload, **kw), within)

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the client to reconnect, as Slack does every few hours and before deploys."""
        await self.send(
            {
                "type": "disconnect",
                "reason": reason,
                "debug_info": {"host": "applink-fake"},
            }
        )

    # -- payloads as Slack sends them ------------------------------------------------------------

    def slash_command(
        self,
        text: str,
        *,
        response_url: str,
        command: str = "/smx",
        user: str = "U1",
        channel: str = "C1",
        channel_name: str = "general",
        team: str = "T1",
    ) -> dict[str, Any]:
        return slash_command_form(
            text,
            response_url=response_url,
            command=command,
            user=user,
            channel=channel,
            channel_name=channel_name,
            team=team,
            app_id=self.app_id,
        )

    def event_callback(
        self,
        event: dict[str, Any],
        *,
        event_id: str,
        team: str = "T1",
        bot_user_id: str = "UBOT",
    ) -> dict[str, Any]:
        return {
            "token": "legacy",
            "team_id": team,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team,
                    "user_id": bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-fake-{event_id}",
        }

    # -- server ----------------------------------------------------------------------------------

    async def start(self) -> FakeSocketMode:
        app = web.Application()
        app.router.add_get("/link/", self._link)
        app.router.add_get("/link", self._link)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"ws://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        for ws in self.connections:
            if not ws.closed:
                await ws.close()
        if self._runner:
            await self._runner.cleanup()

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)  # Slack answers the client's pings
        await ws.prepare(request)
        hello = {
            "type": "hello",
            "num_connections": len(self.open_connections) + 1,
            "debug_info": {
                "host": "applink-fake",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }
        self.sent.append(hello)
        await ws.send_str(json.dumps(hello))
        async with self._changed:
            self.connections.append(ws)
            self._changed.notify_all()
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                data: Any = json.loads(msg.data)
            except ValueError:
                data = msg.data
            self.received.append(data)
            if isinstance(data, dict) and data.get("envelope_id") in self._acks:
                envelope_id = data["envelope_id"]
                future = self._acks[envelope_id]
                if not future.done():
                    seconds = time.monotonic() - self._sent_at[envelope_id]
                    future.set_result(Ack(envelope_id, data.get("payload"), seconds, data))
        return ws


class SocketModeSlack(FakeSlack):
    """FakeSlack whose apps.connections.open answers with the fake Socket Mode server's URL."""

    def __init__(self, socket: FakeSocketMode) -> None:
        super().__init__()
        self.socket = socket

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket.url}
        return super()._answer(method, args)

    async def _api(self, request: web.Request) -> web.Response:
        # Slack refuses apps.connections.open unless the token is an app-level token.
        if request.match_info["method"] == "apps.connections.open":
            auth = request.headers.get("Authorization", "")
            if not auth.startswith("Bearer xapp-"):
                await self._record(Call("apps.connections.open", {}, dict(request.headers)))
                return web.json_response({"ok": False, "error": "not_allowed_token_type"})
        return await super()._api(request)
