"""A fake Slack Web API on 127.0.0.1 (ephemeral port) that records every call and fails on demand.

Point the app at it with SLACK_API_URL=fake.api_url. `response_url`s and file upload URLs point
here too, so every network call the app makes is seen and nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Call:
    method: str  # "chat.postMessage", or "response_url", or "upload"
    args: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)
    answer: dict[str, Any] = field(default_factory=dict)  # what the fake answered, once it has


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    delay: float = 0.0
    drop: bool = False  # close the connection without answering (a dropped connection)


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: dict[str, list[Failure]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        # conversations.members by channel id (nobody, for a channel not listed), answered in
        # pages of `limit` with a cursor, as Slack pages it.
        self.members: dict[str, list[str]] = {}
        # conversations.history by channel id: the messages already there (none, unless listed)
        self.history: dict[str, list[dict[str, Any]]] = {}
        # Files people shared, by id: (name, bytes). files.info describes one, and its
        # url_private_download serves the bytes to a request that carries a bot token.
        self.files: dict[str, tuple[str, bytes]] = {}
        self.file_channels: dict[str, list[str]] = {}  # where each file was shared
        self.file_users: dict[str, str] = {}  # who shared it (U1 unless listed)
        self.team_id = "T1"
        self.bot_user_id = "UBOT"
        self._ts = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.base = ""

    # -- control ---------------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
        drop: bool = False,
        times: int = 1,
    ) -> None:
        """The next `times` calls to `method` answer this way instead of succeeding (`delay`
        longer than the client's timeout is a time-out; `drop` closes the connection unanswered)."""
        self.failures.setdefault(method, []).extend(
            Failure(status, error, retry_after, delay, drop) for _ in range(times)
        )

    @staticmethod
    def sent_ts(call: Call) -> str:
        """The ts the fake gave a message it was asked to post."""
        return call.answer["ts"]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, within: float = 5.0) -> list[Call]:
        """Wait until `method` has been called `count` times (lazy listeners run after the ack)."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.calls_to(method)) >= count), within
            )
        return self.calls_to(method)

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, key: str = "r1") -> str:
        return f"{self.base}/respond/{key}"

    # -- server ----------------------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_post("/upload/{file}", self._upload)
        app.router.add_get("/download/{file}/{name}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _failure(self, method: str, request: web.Request) -> Failure | None:
        """The next failure queued for `method`, its delay already spent and a dropped connection
        already dropped (`failure.drop` then needs no answer); None when the call succeeds."""
        queued = self.failures.get(method)
        if not queued:
            return None
        failure = queued.pop(0)
        if failure.delay:
            await asyncio.sleep(failure.delay)  # a deliberately slow Slack: the thing tested
        if failure.drop:
            assert request.transport is not None
            request.transport.close()
        return failure

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _args(request)
        call = Call(method, args, dict(request.headers))
        await self._record(call)
        failure = await self._failure(method, request)
        if failure is not None:
            if failure.drop:
                return web.Response()
            headers = (
                {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            )
            if failure.status != 200:
                return web.json_response(
                    {"ok": False, "error": failure.error or "fatal_error"},
                    status=failure.status,
                    headers=headers,
                )
            if failure.error:
                return web.json_response({"ok": False, "error": failure.error}, headers=headers)
        call.answer = self._answer(method, args)
        return web.json_response(call.answer)

    async def _respond(self, request: web.Request) -> web.Response:
        await self._record(Call("response_url", await request.json(), dict(request.headers)))
        failure = await self._failure("response_url", request)
        if failure is not None and (failure.drop or failure.status != 200):
            return web.Response(status=failure.status, text=failure.error or "failed")
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            content: str | None = body.decode()
        except UnicodeDecodeError:  # a picture: its bytes, not text
            content = None
        await self._record(
            Call(
                "upload",
                {"file": request.match_info["file"], "content": content, "bytes": body},
                dict(request.headers),
            )
        )
        failure = await self._failure("upload", request)
        if failure is not None and (failure.drop or failure.status != 200):
            return web.Response(status=failure.status, text=failure.error or "failed")
        return web.Response(text="OK")

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file"]
        await self._record(Call("download", {"file": file_id}, dict(request.headers)))
        failure = await self._failure("download", request)
        if failure is not None and (failure.drop or failure.status != 200):
            return web.Response(status=failure.status, text=failure.error or "failed")
        if not request.headers.get("Authorization", "").startswith("Bearer xox"):
            # Slack answers an unauthenticated download with its sign-in page, not the file.
            return web.Response(text="<html>Sign in to Slack</html>", content_type="text/html")
        if file_id not in self.files:
            return web.Response(status=404, text="not found")
        return web.Response(body=self.files[file_id][1], content_type="application/octet-stream")

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        ts = f"{1700000000 + next(self._ts)}.000100"
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://acme.slack.com/",
                "team": "Acme",
                "user": "smx",
                "team_id": self.team_id,
                "user_id": self.bot_user_id,
                "bot_id": "B1",
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": ts,
                "message": {"text": args.get("text"), "ts": ts},
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method in ("views.open", "views.publish", "views.update"):
            return {"ok": True, "view": {"id": "V1", **_json(args.get("view"))}}
        if method == "users.info":
            user = args.get("user", "")
            return {
                "ok": True,
                "user": {
                    "id": user,
                    "tz": "Europe/Berlin",
                    "is_admin": False,
                    **self.users.get(user, {}),
                },
            }
        if method == "conversations.info":
            channel = args.get("channel", "")
            return {
                "ok": True,
                "channel": {"id": channel, "is_private": False, **self.channels.get(channel, {})},
            }
        if method == "conversations.members":
            everyone = self.members.get(args.get("channel", ""), [])
            start = int(args.get("cursor") or 0)
            size = int(args.get("limit") or 100)
            following = start + size if start + size < len(everyone) else None
            return {
                "ok": True,
                "members": everyone[start : start + size],
                "response_metadata": {"next_cursor": str(following) if following else ""},
            }
        if method == "conversations.open":  # the person's DM with the bot
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "U1"))[1:]}}
        if method == "conversations.history":
            limit = int(args.get("limit") or 100)
            return {"ok": True, "messages": self.history.get(args.get("channel", ""), [])[:limit]}
        if method == "files.info":
            file_id = args.get("file", "")
            if file_id not in self.files:
                return {"ok": False, "error": "file_not_found"}
            name, content = self.files[file_id]
            return {
                "ok": True,
                "file": {
                    "id": file_id,
                    "name": name,
                    "size": len(content),
                    "user": self.file_users.get(file_id, "U1"),
                    "channels": [c for c in self.file_channels.get(file_id, []) if c[0] == "C"],
                    "groups": [c for c in self.file_channels.get(file_id, []) if c[0] == "G"],
                    "ims": [c for c in self.file_channels.get(file_id, []) if c[0] == "D"],
                    "url_private_download": f"{self.base}/download/{file_id}/{name}",
                },
            }
        if method == "files.getUploadURLExternal":
            return {"ok": True, "upload_url": f"{self.base}/upload/F1", "file_id": "F1"}
        if method == "files.completeUploadExternal":
            return {"ok": True, "files": [{"id": "F1", "title": "export"}]}
        if method == "oauth.v2.access":
            return {
                "ok": True,
                "app_id": "A1",
                "access_token": "xoxb-installed-token",
                "token_type": "bot",
                "scope": "commands,chat:write",
                "bot_user_id": self.bot_user_id,
                "team": {"id": "T9", "name": "Installed"},
                "enterprise": None,
                "authed_user": {"id": "U9"},
                "is_enterprise_install": False,
            }
        return {"ok": True}


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return {}
    return value or {}


async def _args(request: web.Request) -> dict[str, Any]:
    # The SDK sends some methods' arguments in the query string, others in the body.
    data: dict[str, Any] = dict(request.query)
    if request.method == "GET":
        pass
    elif request.content_type == "application/json":
        data.update(await request.json())
    else:
        data.update(await request.post())
    for key in ("blocks", "view", "files"):
        if isinstance(data.get(key), str):
            with contextlib.suppress(ValueError):
                data[key] = json.loads(data[key])
    return data


def slash_command_form(
    text: str,
    *,
    response_url: str,
    command: str = "/smx",
    user: str = "U1",
    channel: str = "C1",
    channel_name: str = "general",
    team: str = "T1",
    app_id: str = "A1",
) -> dict[str, str]:
    """A slash command's fields as Slack sends them (over HTTP as a form, over the socket as JSON)."""
    return {
        "token": "legacy",
        "team_id": team,
        "team_domain": "acme",
        "channel_id": channel,
        "channel_name": channel_name,
        "user_id": user,
        "user_name": "pat",
        "command": command,
        "text": text,
        "api_app_id": app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": "1337.42.abcd",
    }
