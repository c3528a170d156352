"""Time to the HTTP answer for signed `/smx` requests against a real `smx serve` process.

    .venv/bin/python bench/bench_ack.py [REQUESTS] [CONCURRENCY]

The server runs in its own process (as in production); this process signs and sends the requests.
Web API calls go to a stub on 127.0.0.1 (slash commands answered in the ack make none).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import socket
import statistics
import sys
import tempfile
import time
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

SECRET = "bench-signing-secret"
QUERIES = ("help", "explain cpm", "compare cost", "estimate budget=$2k cpm=8 ctr=1.2%")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed(text: str) -> tuple[bytes, dict[str, str]]:
    body = urlencode(
        {
            "command": "/smx",
            "text": text,
            "team_id": "T1",
            "user_id": "U1",
            "channel_id": "C1",
            "channel_name": "general",
            "response_url": "http://127.0.0.1:9/x",
        }
    ).encode()
    ts = str(int(time.time()))
    sig = hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={sig}",
    }


async def stub_api() -> tuple[web.AppRunner, int]:
    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "team_id": "T1", "user_id": "UBOT", "bot_id": "B1"})

    app = web.Application()
    app.router.add_route("*", "/api/{method}", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, port


async def main(total: int, concurrency: int) -> None:
    runner, api_port = await stub_api()
    port = free_port()
    tmp = tempfile.mkdtemp()
    env = {
        **os.environ,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_API_URL": f"http://127.0.0.1:{api_port}/api/",
        "SMX_DB": os.path.join(tmp, "b.db"),
        "SMX_LOG_LEVEL": "WARNING",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        env=env,
        cwd=tmp,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency)
        ) as session:
            for _ in range(200):
                try:
                    async with session.get(f"{url}/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            for query in QUERIES:
                latencies: list[float] = []

                async def one(text: str = query, latencies: list[float] = latencies) -> None:
                    body, headers = signed(text)
                    started = time.perf_counter()
                    async with session.post(f"{url}/slack/events", data=body, headers=headers) as r:
                        await r.read()
                        assert r.status == 200, r.status
                    latencies.append(time.perf_counter() - started)

                for _ in range(20):  # warm-up
                    await one()
                latencies.clear()
                started = time.perf_counter()
                queue = iter(range(total))

                async def worker(queue=queue) -> None:
                    for _ in queue:
                        await one()

                await asyncio.gather(*(worker() for _ in range(concurrency)))
                elapsed = time.perf_counter() - started
                q = statistics.quantiles(latencies, n=100)
                print(
                    f"/smx {query:<38} p50 {q[49] * 1000:6.2f} ms  p99 {q[98] * 1000:6.2f} ms  "
                    f"max {max(latencies) * 1000:6.1f} ms  {total / elapsed:7.0f} req/s  (concurrency {concurrency})"
                )
    finally:
        proc.terminate()
        await proc.wait()
        await runner.cleanup()


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    c = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    asyncio.run(main(n, c))
