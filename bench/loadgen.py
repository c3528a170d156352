"""The load generator bench_ack.py runs in a process of its own: signed `/smx` slash commands
over keep-alive HTTP/1.1, and one JSON line on stdout with what it measured and what it cost.

    python bench/loadgen.py --url http://127.0.0.1:PORT --mix read --closed 16 --count 3000
    python bench/loadgen.py --url http://127.0.0.1:PORT --mix read --rate 300 --count 3000

Closed loop (--closed N): N connections, each sending its next request when the last is answered.
Open loop (--rate R): request i is due at start + i/R whatever the server does (a new connection
is opened when none is free); its latency counts from when it was due, so a late send is latency.

The client is a bare asyncio protocol (no aiohttp client) so that it costs far less CPU per request
than any server it measures; it reports its own CPU time so the caller can say when it may be the
bottleneck. Every request is signed with the current timestamp, as Slack does.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import sys
import time
from urllib.parse import urlencode, urlsplit

READ_MIX = ("compare", "explain cpm", "estimate budget=500 cpm=8")
TOPICS = ("spring", "launch", "retargeting", "brand", "q3")


def note_texts(n: int = 500) -> list[str]:
    """Distinct notes, so none is a repeat of the last (smx stores each)."""
    return [
        f"note {TOPICS[i % len(TOPICS)]} CPM 8.{i % 10} on the {i}th test, CTR 1.{i % 7}%"
        for i in range(n)
    ]


def texts_for(mix: str) -> list[str]:
    return list(READ_MIX) if mix == "read" else note_texts()


def body_for(text: str, i: int) -> bytes:
    return urlencode(
        {
            "token": "unused",
            "team_id": "T1",
            "team_domain": "bench",
            "channel_id": "C1",
            "channel_name": "general",
            "user_id": f"U{i % 8}",
            "user_name": "bench",
            "command": "/smx",
            "text": text,
            "api_app_id": "A1",
            "response_url": "http://127.0.0.1:9/x",
            "trigger_id": f"1.{i}.abc",
        }
    ).encode()


class Signer:
    """Whole requests (head and body), signed with the current second."""

    def __init__(self, secret: str, host: str, texts: list[str]) -> None:
        self.key = secret.encode()
        self.host = host
        self.bodies = [body_for(t, i) for i, t in enumerate(texts)]
        self.i = 0

    def next(self, forged: bool = False) -> bytes:
        body = self.bodies[self.i % len(self.bodies)]
        self.i += 1
        ts = str(int(time.time())).encode()
        sig = hmac.new(self.key, b"v0:" + ts + b":" + body, hashlib.sha256).hexdigest()
        if forged:
            sig = "0" * len(sig)
        return (
            b"POST /slack/events HTTP/1.1\r\nHost: "
            + self.host.encode()
            + b"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\nX-Slack-Request-Timestamp: "
            + ts
            + b"\r\nX-Slack-Signature: v0="
            + sig.encode()
            + b"\r\n\r\n"
            + body
        )


class Conn(asyncio.Protocol):
    """One keep-alive connection: one request at a time, answers framed by Content-Length."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future | None = None
        self.closed = False
        self.keep_body = False
        self.answers = 0
        self.last_answer = 0.0
        self.body = b""

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection lost: {exc}"))

    def data_received(self, data: bytes) -> None:
        self.buf += data
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buf[:end]).lower()
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            waiter.set_exception(RuntimeError("an answer without Content-Length"))
            return
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : stop if stop > 0 else None])
        total = end + 4 + length
        if len(self.buf) < total:
            return
        if self.keep_body:
            self.body = bytes(self.buf[end + 4 : total])
        del self.buf[:total]
        status = int(head[9:12])
        if b"\r\nconnection: close" in head:
            self.closed = True
        self.answers += 1
        self.last_answer = time.perf_counter()
        waiter.set_result(status)

    async def send(self, request: bytes) -> int:
        if self.closed:  # e.g. the server closed a connection left unused too long
            raise ConnectionError("connection closed before the request")
        self.waiter = asyncio.get_running_loop().create_future()
        assert self.transport is not None
        self.transport.write(request)
        return await self.waiter


async def connect(host: str, port: int) -> Conn:
    _, conn = await asyncio.get_running_loop().create_connection(Conn, host, port)
    return conn


def quantile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        url = urlsplit(args.url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.signer = Signer(
            args.secret, f"{self.host}:{self.port}", args.text or texts_for(args.mix)
        )
        self.timeout = args.timeout
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.errors = 0
        self.error_kinds: dict[str, int] = {}
        self.connections_opened = 0

    async def one(self, conn: Conn, since: float) -> None:
        try:
            status = await asyncio.wait_for(conn.send(self.signer.next()), self.timeout)
        except (OSError, RuntimeError, TimeoutError) as err:
            self.errors += 1
            kind = f"{type(err).__name__}: {err}"[:100]
            if isinstance(err, TimeoutError):  # what the connection looked like: idle how long
                idle = since - conn.last_answer if conn.last_answer else -1.0
                kind += f"after {conn.answers} answers, idle {idle:.1f} s, {len(conn.buf)} B unread"
            self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
            conn.closed = True
            if conn.transport is not None:
                conn.transport.close()
            return
        self.latencies.append(time.perf_counter() - since)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    async def fresh(self) -> Conn:
        self.connections_opened += 1
        return await connect(self.host, self.port)

    async def closed_loop(self, concurrency: int, count: int) -> float:
        left = iter(range(count))

        async def worker() -> None:
            conn = await self.fresh()
            for _ in left:
                if conn.closed:
                    conn = await self.fresh()
                await self.one(conn, time.perf_counter())
            if conn.transport is not None:
                conn.transport.close()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started

    async def open_loop(self, rate: float, count: int, pool: int) -> tuple[float, list[float]]:
        idle = [await self.fresh() for _ in range(pool)]
        lags: list[float] = []  # how late each request left, by the generator's own doing
        tasks = set()

        async def send(conn: Conn | None, due: float) -> None:
            if conn is None:
                conn = await self.fresh()
            await self.one(conn, due)
            if not conn.closed:
                idle.append(conn)

        started = time.perf_counter() + 0.01
        for i in range(count):
            due = started + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            lags.append(time.perf_counter() - due)
            while idle and idle[-1].closed:  # smx closes a connection silent for its timeout
                idle.pop()
            task = asyncio.create_task(send(idle.pop() if idle else None, due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        for conn in idle:
            if conn.transport is not None:
                conn.transport.close()
        return elapsed, lags


async def samples(run: Run, n: int) -> list[str]:
    """The first answers, to show what the server said (an answer, not an error page)."""
    conn = await run.fresh()
    conn.keep_body = True
    found = []
    for _ in range(n):
        await run.one(conn, time.perf_counter())
        found.append(conn.body.decode(errors="replace")[:160])
    if conn.transport is not None:
        conn.transport.close()
    return found


async def main(args: argparse.Namespace) -> dict:
    run = Run(args)
    answers = await samples(run, len(READ_MIX))
    # Warm-up, not counted: the server's first requests (Bolt's auth.test, caches, the JIT-less
    # first paths through the code) should not be part of what is measured.
    await run.closed_loop(min(args.closed or 16, 16), args.warmup)
    run.latencies.clear()
    run.statuses.clear()
    run.errors = run.connections_opened = 0
    run.error_kinds.clear()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    lags: list[float] = []
    if args.rate:
        elapsed, lags = await run.open_loop(args.rate, args.count, args.pool)
    else:
        elapsed = await run.closed_loop(args.closed, args.count)
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0
    lat = sorted(run.latencies)
    lags.sort()
    return {
        "mode": "open" if args.rate else "closed",
        "count": args.count,
        "answered": len(lat),
        "errors": run.errors,
        "error_kinds": run.error_kinds,
        "statuses": {str(k): v for k, v in run.statuses.items()},
        "elapsed_s": elapsed,
        "rps": len(lat) / elapsed if elapsed else 0.0,
        "p50_ms": quantile(lat, 0.50) * 1000,
        "p90_ms": quantile(lat, 0.90) * 1000,
        "p99_ms": quantile(lat, 0.99) * 1000,
        "max_ms": (lat[-1] if lat else float("nan")) * 1000,
        "loadgen_cpu_s": cpu,
        "loadgen_cpu_frac": cpu / wall if wall else 0.0,  # of one core
        "loadgen_cpu_us_per_req": cpu / max(1, len(lat)) * 1e6,
        "send_lag_p99_ms": quantile(lags, 0.99) * 1000 if lags else 0.0,
        "send_lag_max_ms": lags[-1] * 1000 if lags else 0.0,
        "connections_opened": run.connections_opened,
        "samples": answers,
        "window": [time.time() - wall, time.time()],
    }


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--secret", default=os.environ.get("SLACK_SIGNING_SECRET", ""))
    parser.add_argument("--mix", choices=("read", "note"), default="read")
    parser.add_argument(
        "--text", action="append", help="a command text to send instead of the mix (repeatable)"
    )
    parser.add_argument("--closed", type=int, default=0, help="requests in flight (closed loop)")
    parser.add_argument("--rate", type=float, default=0.0, help="offered requests/s (open loop)")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--pool", type=int, default=16, help="open loop: connections opened first")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    if bool(args.closed) == bool(args.rate):
        parser.error("give one of --closed N or --rate R")
    if not args.secret:
        parser.error("--secret or SLACK_SIGNING_SECRET is needed to sign the requests")
    return args


if __name__ == "__main__":
    result = asyncio.run(main(parse(sys.argv[1:])))
    print(json.dumps(result), flush=True)
