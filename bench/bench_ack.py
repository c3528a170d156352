"""smx's HTTP ack against three anchors, side by side in one run: one command per figure.

    .venv/bin/python bench/bench_ack.py closed [--mix read|note] [--backend sqlite|postgresql|both]
    .venv/bin/python bench/bench_ack.py open [--rate 300] [--mix read]

Every server is its own process, started here and served by aiohttp on 127.0.0.1:
  smx             `smx serve` (through bench/stall_probe.py, which times the event loop's stalls),
                  on a SQLite file, or on a throwaway PostgreSQL (tests/support/postgres.py)
  bare Bolt       bench/anchors/bolt_bare.py: AsyncApp with its defaults, a listener that only acks
  inline Bolt     bench/anchors/bolt_inline.py: the same with process_before_response=True
  ceiling         bench/anchors/ceiling.py: plain aiohttp that checks the signature and answers 200

The load comes from bench/loadgen.py, a process of its own per measurement, which reports its own
CPU use. Servers take turns (the order rotates each round), so each figure compares them under
the same conditions; the table gives the median round. Ratios are the headline: absolute times
differ several-fold from one machine to the next. Web API calls (Bolt's auth.test) go to a stub.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import web

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

SECRET = "bench-signing-secret"
CLK_TCK = os.sysconf("SC_CLK_TCK")
LOADGEN_BUSY = 0.85  # of one core: above this the load generator may be what limits the figure
CEILING_MARGIN = 1.2  # the ceiling should beat smx by at least this much, or the rig is the limit
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, all its threads, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


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


@dataclasses.dataclass
class Server:
    name: str
    role: str  # "smx", "bare", "inline", "ceiling"
    argv: list[str]
    env: dict[str, str]
    port: int
    cwd: str
    stalls_file: str | None = None
    proc: asyncio.subprocess.Process | None = None
    results: list[dict] = dataclasses.field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, env=self.env, cwd=self.cwd, stdin=asyncio.subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.returncode is not None:
                raise SystemExit(f"{self.name} exited with {self.proc.returncode} at start")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.05)
        raise SystemExit(f"{self.name} did not listen on {self.port} within 60 s")

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()

    def stalls(self, kind: str = "worst") -> list[float]:
        """The longest loop stall (or GC pause: kind "gc") inside each measured window, in ms."""
        if not self.stalls_file or not os.path.exists(self.stalls_file):
            return []
        seen = json.loads(Path(self.stalls_file).read_text())[kind]
        worst = {float(k): v if isinstance(v, list) else [v, None] for k, v in seen.items()}
        found = []
        for r in self.results:
            lo, hi = r["window"]
            inside = [(v, t - lo, gen) for t, (v, gen) in worst.items() if lo - 0.1 <= t <= hi]
            v, at, gen = max(inside, default=(0.0, 0.0, None))
            found.append(v * 1000)
            r[f"{kind}_at_s"], r[f"{kind}_gen"] = at, gen
        return found


def servers(tmp: str, api_url: str, backends: list[tuple[str, dict[str, str]]]) -> list[Server]:
    base = {
        **os.environ,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api_url,
        "PYTHONUNBUFFERED": "1",
    }
    for key in ("SMX_DB", "SMX_DATABASE_URL"):
        base.pop(key, None)
    found = []
    for label, db_env in backends:
        port = free_port()
        stalls = os.path.join(tmp, f"stalls-{label}.json")
        found.append(
            Server(
                name=f"smx serve ({label})" if len(backends) > 1 else "smx serve",
                role="smx",
                argv=[
                    sys.executable,
                    str(HERE / "stall_probe.py"),
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                env={
                    **base,
                    **db_env,
                    "SLACK_BOT_TOKEN": "xoxb-bench",
                    "SMX_LOG_LEVEL": "WARNING",
                    "SMX_BENCH_STALLS": stalls,
                    # The anchors ack and draw nothing: smx's charts (a worker process drawing
                    # an estimate's after its ack, up to a core) are timed in bench_charts.py.
                    # SMX_BENCH_CHARTS=true serves with them on.
                    "SMX_CHARTS": os.environ.get("SMX_BENCH_CHARTS", "false"),
                },
                port=port,
                cwd=tmp,
                stalls_file=stalls,
            )
        )
    for role, name, script in (
        ("bare", "bare Bolt (acks, defaults)", "bolt_bare.py"),
        ("inline", "inline Bolt (process_before_response)", "bolt_inline.py"),
        ("ceiling", "ceiling (aiohttp + signature)", "ceiling.py"),
    ):
        port = free_port()
        found.append(
            Server(
                name=name,
                role=role,
                argv=[sys.executable, str(HERE / "anchors" / script), "--port", str(port)],
                env=base,
                port=port,
                cwd=tmp,
            )
        )
    return found


async def measure(server: Server, load: list[str]) -> dict:
    assert server.proc is not None
    cpu0 = cpu_seconds(server.proc.pid)
    gen = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / "loadgen.py"),
        "--url",
        server.url,
        *load,
        env={**os.environ, "SLACK_SIGNING_SECRET": SECRET},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await gen.communicate()
    if gen.returncode != 0:
        raise SystemExit(f"the load generator failed against {server.name}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    # The server's CPU over warm-up and run; per answered request, the warm-up included.
    cpu = cpu_seconds(server.proc.pid) - cpu0
    result["server_cpu_ms_per_req"] = (
        cpu / max(1, result["answered"] + int(load[load.index("--warmup") + 1])) * 1000
    )
    result["server_cpu_s"] = cpu
    server.results.append(result)
    return result


def median_round(results: list[dict], key: str) -> dict:
    ordered = sorted(results, key=lambda r: r[key])
    return ordered[(len(ordered) - 1) // 2]


def fmt(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:,.{digits}f}"


def report(title: str, fleet: list[Server], mode: str) -> None:
    key = "rps" if mode == "closed" else "p99_ms"
    rows = {s.name: (s, median_round(s.results, key)) for s in fleet}
    inline = next(r for s, r in rows.values() if s.role == "inline")
    ceiling = next(r for s, r in rows.values() if s.role == "ceiling")
    print(f"\n## {title}\n")
    if mode == "closed":
        print(
            "| server | req/s (rounds) | p50 ms | p99 ms | x inline req/s | x ceiling req/s | server CPU ms/req | loadgen CPU |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    else:
        print(
            "| server | answered/s | p50 ms | p99 ms | max ms | p50 x inline | p99 x inline | server CPU ms/req | loadgen CPU |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for s, r in rows.values():
        spread = "-".join(
            fmt(x, 0) for x in (min(q["rps"] for q in s.results), max(q["rps"] for q in s.results))
        )
        cpu = f"{r['loadgen_cpu_frac'] * 100:.0f}%"
        if mode == "closed":
            print(
                f"| {s.name} | {fmt(r['rps'], 0)} ({spread}) | {fmt(r['p50_ms'], 2)} | {fmt(r['p99_ms'], 2)} "
                f"| {r['rps'] / inline['rps']:.2f}x | {r['rps'] / ceiling['rps']:.2f}x "
                f"| {fmt(r['server_cpu_ms_per_req'], 3)} | {cpu} |"
            )
        else:
            print(
                f"| {s.name} | {fmt(r['rps'], 0)} | {fmt(r['p50_ms'], 2)} | {fmt(r['p99_ms'], 2)} | {fmt(r['max_ms'], 1)} "
                f"| {r['p50_ms'] / inline['p50_ms']:.2f}x | {r['p99_ms'] / inline['p99_ms']:.2f}x "
                f"| {fmt(r['server_cpu_ms_per_req'], 3)} | {cpu} |"
            )
    print()
    # What the run says about itself: errors, the load generator, the rig's ceiling, loop stalls.
    for s in fleet:
        bad = sum(r["errors"] for r in s.results)
        non200 = sum(v for r in s.results for k, v in r["statuses"].items() if k != "200")
        if bad or non200:
            kinds: dict[str, int] = {}
            for r in s.results:
                for k, v in r.get("error_kinds", {}).items():
                    kinds[k] = kinds.get(k, 0) + v
            why = "; ".join(f"{v} x {k}" for k, v in kinds.items())
            print(
                f"- WARNING {s.name}: {bad} requests failed and {non200} were not answered 200"
                + (f" ({why})." if why else ".")
            )
        if s.role == "smx" and s.results:
            said = " | ".join(a.replace("\n", " ")[:70] for a in s.results[0]["samples"])
            print(f"- {s.name} answered, e.g.: {said}")
    lag = max(r["send_lag_p99_ms"] for s in fleet for r in s.results)
    busy = [(s.name, max(r["loadgen_cpu_frac"] for r in s.results)) for s in fleet]
    limited = [(n, f) for n, f in busy if f > LOADGEN_BUSY]
    for name, frac in limited:
        print(
            f"- Against {name} the load generator used up to {frac * 100:.0f}% of a core: it may be "
            "what limits that figure (a lower bound for that server)."
        )
    calm = [f for n, f in busy if f <= LOADGEN_BUSY]
    if calm:
        per_req = statistics.median(r["loadgen_cpu_us_per_req"] for s in fleet for r in s.results)
        print(
            f"- Against the {'other ' if limited else ''}servers the load generator used at most "
            f"{max(calm) * 100:.0f}% of a core ({per_req:.0f} us CPU per request): not the bottleneck."
        )
    if mode == "open":
        verdict = "late enough to matter" if lag > 2.0 else "on time"
        print(
            f"- Open loop: the generator's own send lag, p99 of the worst run: {lag:.2f} ms ({verdict})."
        )
    for s, r in rows.values():
        if s.role != "smx":
            continue
        if mode == "closed" and ceiling["rps"] < CEILING_MARGIN * r["rps"]:
            print(
                f"- The ceiling is not clearly faster than {s.name} ({ceiling['rps'] / r['rps']:.2f}x): "
                "the rig (load generator or machine), not the server, may be what limits these figures."
            )
        stalls, pauses = s.stalls(), s.stalls("gc")
        gens = "/".join(
            sorted({str(r["gc_gen"]) for r in s.results if r.get("gc_gen") is not None})
        )
        if stalls:
            print(
                f"- {s.name}: longest event-loop stall while measured {max(stalls):.1f} ms "
                f"(median round {statistics.median(stalls):.1f} ms; a 5 ms probe tick, so add up to 5 ms); "
                f"longest garbage-collector pause {max(pauses):.1f} ms (generation {gens or '-'}). Each "
                "round's longest stall, and GC pause (ms @ seconds into the run): "
                + ", ".join(
                    f"{v:.1f} @ {r['worst_at_s']:.1f} and {g:.1f} @ {r['gc_at_s']:.1f}"
                    for v, g, r in zip(stalls, pauses, s.results, strict=True)
                )
            )


def goals(fleet: list[Server], mode: str, mix: str, rate: float) -> None:
    def met(ok: bool) -> str:
        return "met" if ok else "MISSED"

    inline = median_round(
        next(s for s in fleet if s.role == "inline").results,
        "rps" if mode == "closed" else "p99_ms",
    )
    bare = median_round(next(s for s in fleet if s.role == "bare").results, "rps")
    for s in fleet:
        if s.role != "smx":
            continue
        if mode == "closed":
            r = median_round(s.results, "rps")
            ratio = r["rps"] / inline["rps"]
            if mix == "read":
                print(
                    f"- Goal, {s.name}, read mix at 16 in flight >= 0.8x inline Bolt: {ratio:.2f}x, {met(ratio >= 0.8)}."
                )
                print(
                    f"- Goal, {s.name}, ahead of bare Bolt: {r['rps'] / bare['rps']:.2f}x, {met(r['rps'] > bare['rps'])}."
                )
            else:
                print(
                    f"- Goal, {s.name}, note >= 0.5x inline Bolt: {ratio:.2f}x, {met(ratio >= 0.5)}."
                )
        elif rate == 300 and mix == "read":
            r = median_round(s.results, "p99_ms")
            ratio = r["p50_ms"] / inline["p50_ms"]
            print(
                f"- Goal, {s.name}, p50 within 1.5x of inline Bolt at 300/s: {ratio:.2f}x, {met(ratio <= 1.5)}."
            )
            print(
                f"- Goal, {s.name}, p99 at most 10 ms at 300/s: {r['p99_ms']:.1f} ms, {met(r['p99_ms'] <= 10)}."
            )


def sweep_report(fleet: list[Server], args: argparse.Namespace) -> None:
    print(
        f"\n## Ack latency against offered load, `{args.mix}` mix, open loop, "
        f"{args.seconds:g} s per rate and server\n"
    )
    print("| offered/s | " + " | ".join(f"{s.name} p50 / p99 ms" for s in fleet) + " |")
    print("| ---: | " + " | ".join("---:" for _ in fleet) + " |")
    rows = []
    for rate in args.rates:
        cells = []
        for s in fleet:
            r = next(q for q in s.results if q["rate"] == rate)
            cells.append(f"{fmt(r['p50_ms'], 2)} / {fmt(r['p99_ms'], 2)}")
            rows.append((rate, s.role, s.name, r))
        print(f"| {rate:g} | " + " | ".join(cells) + " |")
    print()
    for rate, _role, name, r in rows:
        if r["errors"] or r["send_lag_p99_ms"] > 2.0 or r["loadgen_cpu_frac"] > LOADGEN_BUSY:
            print(
                f"- {name} at {rate:g}/s: {r['errors']} failed, generator send lag p99 "
                f"{r['send_lag_p99_ms']:.1f} ms, generator CPU {r['loadgen_cpu_frac'] * 100:.0f}%."
            )
    if args.csv:
        import csv

        with open(args.csv, "w", newline="") as out:
            table = csv.writer(out)  # quoted where a server's name holds a comma
            table.writerow(
                ["offered_per_s", "server", "role", "answered_per_s", "p50_ms", "p99_ms"]
                + ["max_ms", "errors"]
            )
            for rate, role, name, r in rows:
                table.writerow(
                    [f"{rate:g}", name, role, f"{r['rps']:.1f}", f"{r['p50_ms']:.3f}"]
                    + [f"{r['p99_ms']:.3f}", f"{r['max_ms']:.3f}", r["errors"]]
                )
        print(f"- Written to {args.csv} (one row per rate and server).")


async def run(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    stub, api_port = await stub_api()
    api_url = f"http://127.0.0.1:{api_port}/api/"
    with tempfile.TemporaryDirectory(prefix="bench-ack-") as tmp, contextlib.ExitStack() as stack:
        backends: list[tuple[str, dict[str, str]]] = []
        if args.backend in ("sqlite", "both"):
            backends.append(("SQLite", {"SMX_DB": os.path.join(tmp, "smx.db")}))
        if args.backend in ("postgresql", "both"):
            from tests.support.postgres import PostgresNotInstalled, PostgresServer

            try:
                pg = stack.enter_context(PostgresServer(settings=DURABLE))
                backends.append(("PostgreSQL", {"SMX_DATABASE_URL": pg.create_database("bench")}))
            except PostgresNotInstalled as err:
                print(f"(PostgreSQL skipped: {err})")
        fleet = servers(tmp, api_url, backends)
        try:
            await asyncio.gather(*(s.start() for s in fleet))
            if args.mode == "closed":
                load = [
                    "--mix",
                    args.mix,
                    "--closed",
                    str(args.concurrency),
                    "--count",
                    str(args.count),
                ]
            elif args.mode == "open":
                load = ["--mix", args.mix, "--rate", str(args.rate), "--count", str(args.count)]
            else:
                load = []
            load += ["--warmup", str(args.warmup)]
            if args.mode == "sweep":
                for rate in args.rates:
                    count = max(300, int(rate * args.seconds))
                    for s in fleet:
                        load = ["--mix", args.mix, "--rate", str(rate), "--count", str(count)]
                        (await measure(s, [*load, "--warmup", str(args.warmup)]))["rate"] = rate
            else:
                for i in range(args.rounds):
                    for s in fleet[i % len(fleet) :] + fleet[: i % len(fleet)]:
                        await measure(s, load)
        finally:
            for s in fleet:
                await s.stop()
            await stub.cleanup()
        if args.mode == "sweep":
            sweep_report(fleet, args)
            print(
                f"\n({os.cpu_count()} CPUs; this figure took {time.perf_counter() - started:.0f} s)"
            )
            return
        if args.mode == "closed":
            title = f"`{args.mix}` mix, closed loop, {args.concurrency} in flight, {args.count} requests x {args.rounds} rounds"
        else:
            title = f"`{args.mix}` mix, open loop at {args.rate:g} requests/s offered, {args.count} requests x {args.rounds} rounds"
        report(title, fleet, args.mode)
        goals(fleet, args.mode, args.mix, getattr(args, "rate", 0.0))
        print(
            f"\n({os.cpu_count()} CPUs, Python {sys.version.split()[0]}; this figure took {time.perf_counter() - started:.0f} s)"
        )


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    closed = sub.add_parser("closed", help="N requests in flight: requests/s, p50, p99")
    closed.add_argument("--concurrency", type=int, default=16)
    opened = sub.add_parser(
        "open", help="a fixed offered rate: p50, p99 of the ack from when it was due"
    )
    opened.add_argument("--rate", type=float, default=300.0)
    sweep = sub.add_parser("sweep", help="open loop at rising rates: p50, p99 against offered load")
    sweep.add_argument(
        "--rates",
        type=lambda v: [float(x) for x in v.split(",")],
        default=[100.0, 200.0, 300.0, 500.0, 700.0, 1000.0],
        help="comma-separated requests/s",
    )
    sweep.add_argument("--seconds", type=float, default=3.0, help="per rate and server")
    sweep.add_argument("--csv", help="also write the figures to this CSV file")
    for p in (closed, opened, sweep):
        p.add_argument(
            "--mix",
            choices=("read", "note"),
            default="read",
            help="read: compare, explain cpm, estimate",
        )
        p.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
        p.add_argument("--count", type=int, default=3000, help="requests per server and round")
        p.add_argument("--rounds", type=int, default=3)
        p.add_argument("--warmup", type=int, default=300)
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(run(parse(sys.argv[1:])))
