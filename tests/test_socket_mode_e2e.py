"""`smx socket` as an operator starts it: a real process that opens Socket Mode against a fake Slack.

Nothing leaves 127.0.0.1: apps.connections.open and every Web API call go to SLACK_API_URL (a
FakeSlack), and the websocket it hands out is FakeSocketMode. The tests speak Slack's side of the
socket: hello, slash command, event and interaction envelopes, a re-delivered event, a
`disconnect`, a dropped connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from tests.support.blockkit import shown
from tests.support.fake_socket_mode import FakeSocketMode, SocketModeSlack
from tests.support.slack_harness import free_port

BOT_TOKEN = "xoxb-socket-test-token-abcdef"
APP_TOKEN = "xapp-1-A1-socket-test-token-123456"


@pytest.fixture
async def socket_mode():
    fake = await FakeSocketMode().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def slack(socket_mode):
    fake = await SocketModeSlack(socket_mode).start()
    yield fake
    await fake.stop()


@dataclass
class SmxSocket:
    proc: asyncio.subprocess.Process
    port: int
    session: aiohttp.ClientSession
    log: str = ""  # the process's stderr, filled in once it has stopped

    async def healthz(self) -> tuple[int, dict[str, Any]]:
        async with self.session.get(f"http://127.0.0.1:{self.port}/healthz") as resp:
            return resp.status, await resp.json()

    async def health_until(self, socket_up: bool, within: float = 30.0) -> tuple[int, dict]:
        """Poll /healthz until its "socket" is `socket_up`; the last answer either way."""
        deadline = time.monotonic() + within
        answer: tuple[int, dict] = (0, {})
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientConnectionError):
                answer = await self.healthz()
                if answer[1].get("socket") is socket_up:
                    return answer
            await asyncio.sleep(0.05)  # polling interval; `within` is the wait
        return answer


async def start_smx_socket(
    slack: SocketModeSlack, tmp_path, port: int
) -> asyncio.subprocess.Process:
    """`python -m bot socket` pointed at the fakes, its output piped."""
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "SMX_DB": str(tmp_path / "smx.db"),
        "PORT": str(port),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "socket",
        env=env,
        cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@contextlib.asynccontextmanager
async def smx_socket(slack: SocketModeSlack, tmp_path) -> AsyncIterator[SmxSocket]:
    """`python -m bot socket` against the fakes; always stopped, its log kept in `.log`."""
    port = free_port()
    proc = await start_smx_socket(slack, tmp_path, port)
    running = None
    try:
        async with aiohttp.ClientSession() as session:
            running = SmxSocket(proc, port, session)
            yield running
    finally:
        if proc.returncode is None:
            proc.terminate()
        try:
            _, err = await asyncio.wait_for(proc.communicate(), 5)
        except TimeoutError:
            proc.kill()
            _, err = await proc.communicate()
        if running is not None:
            running.log = err.decode(errors="replace")


async def connected(app: SmxSocket, socket_mode: FakeSocketMode, count: int = 1) -> None:
    try:
        await socket_mode.wait_connected(count=count, within=10)
    except TimeoutError:
        raise AssertionError(
            f"smx socket did not open Socket Mode connection #{count} within 10 s "
            f"(exit code {app.proc.returncode})"
        ) from None


def assert_clean_json_log(log: str) -> None:
    assert BOT_TOKEN not in log, "the bot token reached the log"
    assert APP_TOKEN not in log, "the app token reached the log"
    lines = [line for line in log.splitlines() if line.strip()]
    assert lines, "smx socket logged nothing"
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            raise AssertionError(f"a log line is not JSON: {line!r}") from None
        assert isinstance(entry, dict) and "event" in entry and "level" in entry, line


def share_button(payload: dict[str, Any]) -> dict[str, Any]:
    for block in payload.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == "smx_share":
                return element
    raise AssertionError(f"no share button in the answer: {payload}")


async def test_smx_socket_answers_commands_mentions_and_buttons_over_the_socket(
    slack, socket_mode, tmp_path
):
    async with smx_socket(slack, tmp_path) as app:
        # It asks for a socket URL with the app-level token, connects, and Slack says hello.
        await connected(app, socket_mode)
        opened = slack.calls_to("apps.connections.open")
        assert opened and opened[-1].headers["Authorization"] == f"Bearer {APP_TOKEN}", (
            "apps.connections.open must be called with the app-level token"
        )

        # /healthz on PORT reports the socket as connected.
        status, body = await app.health_until(socket_up=True)
        assert (status, body) == (200, {"ok": True, "database": True, "socket": True}), body

        # A slash command: the answer travels back in the envelope's ack, within 3 s.
        ack = await socket_mode.request(
            "slash_commands",
            socket_mode.slash_command("explain cpm", response_url=slack.response_url("cmd")),
            within=3.0,
        )
        assert ack.seconds < 3
        assert ack.payload, f"the ack of /smx explain cpm carries no answer: {ack.raw}"
        text = ack.payload.get("text", "")
        assert "CPM" in text and (
            "per thousand impressions" in text.lower() or "per mille" in text.lower()
        ), text
        assert ack.payload.get("blocks"), "the command's answer has no blocks"
        assert "CPM" in json.dumps(ack.payload["blocks"])
        assert ack.payload.get("response_type") == "ephemeral"

        # Its "Share in channel" button, clicked: an `interactive` envelope, acked empty, then
        # the answer replaces the ephemeral one in the channel through the response_url.
        button = share_button(ack.payload)
        click = {
            "type": "block_actions",
            "team": {"id": "T1", "domain": "acme"},
            "user": {"id": "U1", "username": "pat", "team_id": "T1"},
            "api_app_id": "A1",
            "token": "legacy",
            "trigger_id": "1337.42.abcd",
            "channel": {"id": "C1", "name": "general"},
            "container": {"type": "message", "is_ephemeral": True},
            "response_url": slack.response_url("share"),
            "actions": [
                {
                    "type": "button",
                    "action_id": button["action_id"],
                    "block_id": "b1",
                    "value": button["value"],
                    "action_ts": "1700000000.000300",
                }
            ],
        }
        click_ack = await socket_mode.request("interactive", click, within=3.0)
        assert not click_ack.payload, click_ack.raw
        shared = await slack.wait_for("response_url", within=5)
        assert shared[0].args.get("response_type") == "in_channel", shared[0].args
        assert "CPM" in shared[0].args.get("text", "")

        # An app_mention: acked with no payload, then answered with chat.postMessage.
        mention = {
            "type": "app_mention",
            "user": "U1",
            "text": "<@UBOT> explain ctr",
            "ts": "1700000000.000200",
            "channel": "C1",
            "event_ts": "1700000000.000200",
        }
        payload = socket_mode.event_callback(mention, event_id="EvSocket1")
        event_ack = await socket_mode.request("events_api", payload, within=3.0)
        assert not event_ack.payload, event_ack.raw
        posted = await slack.wait_for("chat.postMessage", within=5)
        assert posted[0].headers["Authorization"] == f"Bearer {BOT_TOKEN}"
        assert posted[0].args["channel"] == "C1"
        assert posted[0].args.get("thread_ts") == mention["ts"]
        assert "CTR" in shown(posted[0].args), shown(posted[0].args)

        # Slack re-delivers the same event (same event_id): acked, but not answered again.
        retry_ack = await socket_mode.request(
            "events_api", payload, within=3.0, retry_attempt=1, retry_reason="timeout"
        )
        assert not retry_ack.payload, retry_ack.raw
        # Whether its work after the ack answers again is checked once the process has stopped:
        # a graceful stop lets that work finish first (bot/slack/server.py), so no quiet period.

        # Slack asks for a fresh connection: the app opens a new one and keeps answering on it.
        await socket_mode.disconnect()
        await connected(app, socket_mode, count=2)
        assert len(slack.calls_to("apps.connections.open")) >= 2
        ack = await socket_mode.request(
            "slash_commands",
            socket_mode.slash_command("explain ctr", response_url=slack.response_url("cmd")),
            within=3.0,
        )
        assert ack.payload and "CTR" in ack.payload.get("text", ""), ack.raw
        status, body = await app.health_until(socket_up=True)
        assert status == 200 and body.get("socket") is True, f"/healthz after reconnecting: {body}"

        # Every ack the app sent names an envelope Slack sent, once.
        sent = [m["envelope_id"] for m in socket_mode.sent if "envelope_id" in m]
        acked = [m.get("envelope_id") for m in socket_mode.received if isinstance(m, dict)]
        assert sorted(acked) == sorted(sent), (sent, acked)

    assert_clean_json_log(app.log)
    assert "stopped with replies still running" not in app.log  # none was cut short
    assert len(slack.calls_to("chat.postMessage")) == 1, "a re-delivered event was answered twice"


async def test_smx_socket_health_check_fails_while_the_socket_is_down(slack, socket_mode, tmp_path):
    async with smx_socket(slack, tmp_path) as app:
        await connected(app, socket_mode)
        status, body = await app.health_until(socket_up=True)
        assert status == 200, body
        # Slack drops the connection and, for now, hands out no new one.
        slack.fail("apps.connections.open", error="internal_error", times=50)
        await socket_mode.connections[-1].close()
        status, body = await app.health_until(socket_up=False, within=3.0)
        assert (status, body.get("socket"), body.get("ok")) == (503, False, False), (
            f"/healthz must fail while the Socket Mode connection is down: {status} {body}"
        )
        assert body.get("database") is True
    assert_clean_json_log(app.log)


async def test_sigterm_finishes_replies_already_acknowledged_then_closes_the_socket(
    slack, socket_mode, tmp_path
):
    async with smx_socket(slack, tmp_path) as app:
        await connected(app, socket_mode)
        slack.fail("conversations.info", delay=1.0)  # the reply is still being worked on at SIGTERM
        mention = {
            "type": "app_mention",
            "user": "U1",
            "text": "<@UBOT> explain cpc",
            "ts": "1700000000.9",
            "channel": "C1",
            "event_ts": "1700000000.9",
        }
        await socket_mode.request(
            "events_api", socket_mode.event_callback(mention, event_id="EvTerm"), within=3.0
        )
        await slack.wait_for("conversations.info", within=5)
        app.proc.terminate()
        code = await asyncio.wait_for(app.proc.wait(), 8)
        assert code == 0, f"smx socket exited with {code} on SIGTERM"
        posted = slack.calls_to("chat.postMessage")
        assert len(posted) == 1 and "CPC" in shown(posted[0].args), (
            "the acknowledged reply was lost"
        )
        assert socket_mode.connections[-1].close_code == 1000, "the socket was not closed cleanly"
    assert_clean_json_log(app.log)


async def run_socket_expecting_failure(slack, tmp_path, port: int) -> tuple[int, str]:
    proc = await start_smx_socket(slack, tmp_path, port)
    try:
        _, err = await asyncio.wait_for(proc.communicate(), 15)
    except TimeoutError:
        proc.kill()
        await proc.communicate()
        raise AssertionError("smx socket kept running with a setting that cannot work") from None
    return proc.returncode, err.decode()


async def test_a_busy_port_fails_with_one_line(slack, tmp_path):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        code, err = await run_socket_expecting_failure(slack, tmp_path, taken.getsockname()[1])
    last = err.strip().splitlines()[-1]
    assert code == 1 and last.startswith("smx: PORT ") and "Traceback" not in err, err


async def test_a_refused_app_token_fails_with_one_line(slack, tmp_path):
    slack.fail("apps.connections.open", error="invalid_auth")
    code, err = await run_socket_expecting_failure(slack, tmp_path, free_port())
    last = err.strip().splitlines()[-1]
    assert code == 1 and last == "smx: SLACK_APP_TOKEN was refused by Slack (invalid_auth).", err
    assert APP_TOKEN not in err
