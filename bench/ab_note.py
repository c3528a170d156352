"""Two or more trees of smx, `note` mix, rounds alternated in one run: what a change does to SQLite's
note path when the machine is too busy for two separate bench_ack.py runs to be compared.

    .venv/bin/python bench/ab_note.py --rounds 12 before=/tmp/old-tree after=.
    .venv/bin/python bench/ab_note.py --backend postgresql --rounds 12 before=/tmp/old-tree after=.

Each NAME=TREE is a checkout of smx (its `bot/` is imported from there, through PYTHONPATH); each
gets its own `smx serve` on its own SQLite file (or, with --backend postgresql, its own database
on one throwaway PostgreSQL server, durable as bench_ack.py's), and the rounds (closed loop, 16 in flight) take
turns, the order rotating, so a change of load on the machine falls on all of them alike. Per
tree it prints the median req/s and every round's, the CPU a request cost each of the two
busiest threads (the event loop and SQLite's writer), how long they waited for a CPU (schedstat)
and how often they slept (voluntary switches), all from /proc. With --batches, the server runs
through this file (`--child`), which times each batch of notes on the writer thread (size, wall
and CPU, its COMMIT) and the gap between one batch's end and the next one's start.
There are no anchors here: for issue 13's ratio, run bench_ack.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent


def threads(pid: int) -> dict[str, tuple[float, float, int]]:
    """Per thread: CPU seconds, seconds waiting for a CPU, voluntary context switches."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            run, wait, _ = (task / "schedstat").read_text().split()
            status = (task / "status").read_text()
        except OSError:
            continue
        slept = int(status.split("\nvoluntary_ctxt_switches:")[1].split()[0])
        found[task.name] = (int(run) / 1e9, int(wait) / 1e9, slept)
    return found


async def run(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(HERE))
    import bench_ack as ack

    stub, api_port = await ack.stub_api()
    rows: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="ab-note-") as tmp, contextlib.ExitStack() as stack:
        pg = None
        if args.backend == "postgresql":
            sys.path.insert(0, str(HERE.parent))
            from tests.support.postgres import PostgresServer

            pg = stack.enter_context(PostgresServer(settings=ack.DURABLE))
        servers = []
        for name, tree in args.trees:
            port = ack.free_port()
            env = {
                **os.environ,
                "SLACK_SIGNING_SECRET": ack.SECRET,
                "SLACK_API_URL": f"http://127.0.0.1:{api_port}/api/",
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SMX_LOG_LEVEL": "WARNING",
                "SMX_DB": os.path.join(tmp, f"{name}.db"),
                "PYTHONPATH": tree,
                "AB_NOTE_OUT": os.path.join(tmp, f"{name}.json"),
            }
            env.pop("SMX_DATABASE_URL", None)
            if pg is not None:
                env.pop("SMX_DB")
                env["SMX_DATABASE_URL"] = pg.create_database(f"ab_{name}".lower())
            serve = [sys.executable, "-m", "bot"]
            if args.batches:
                serve = [sys.executable, __file__, "--child"]
            argv = [*serve, "serve", "--host", "127.0.0.1", "--port", str(port)]
            servers.append(ack.Server(name, "smx", argv, env, port, tmp))
            rows[name] = []
        try:
            await asyncio.gather(*(s.start() for s in servers))
            for s in servers:
                await ack.measure(
                    s, ["--mix", "note", "--closed", "16", "--count", "600", "--warmup", "100"]
                )
            load = ["--mix", "note", "--closed", "16", "--count", str(args.count), "--warmup", "0"]
            for i in range(args.rounds):
                for s in servers[i % len(servers) :] + servers[: i % len(servers)]:
                    assert s.proc is not None
                    before = threads(s.proc.pid)
                    result = await ack.measure(s, load)
                    after = threads(s.proc.pid)
                    n = max(1, result["answered"])
                    per = sorted(
                        (
                            tuple(a - b for a, b in zip(after[t], before[t], strict=True))
                            for t in after
                            if t in before
                        ),
                        reverse=True,
                    )
                    per += [(0.0, 0.0, 0)] * 2  # PostgreSQL's server has no writer thread
                    rows[s.name].append(
                        {"rps": result["rps"], "p50": result["p50_ms"], "per": per, "n": n}
                    )
        finally:
            for s in servers:
                await s.stop()
            await stub.cleanup()
        print(
            f"\n`note` mix, 16 in flight, {args.count} requests x {args.rounds} rounds per tree\n"
        )
        for s in servers:
            print(summary(s.name, rows[s.name]))
            out = Path(tmp) / f"{s.name}.json"
            if out.exists():
                seen = json.loads(out.read_text())
                batches, commits = seen["batches"], seen["commits"]
                gaps = [b[3] - (a[3] + a[1]) for a, b in zip(batches, batches[1:], strict=False)]
                print(
                    f"  batches: {statistics.mean(b[0] for b in batches):.1f} notes on average, "
                    f"{statistics.mean(b[1] for b in batches) * 1e6:.0f} us wall and "
                    f"{statistics.mean(b[2] for b in batches) * 1e6:.0f} us CPU each, COMMIT "
                    f"{statistics.mean(c for c in commits) * 1e6:.0f} us wall; median gap to the "
                    f"next batch {statistics.median(gaps) * 1e6:.0f} us"
                )


def summary(name: str, got: list[dict]) -> str:
    def med(values) -> float:
        return statistics.median(values)

    def thread(i: int, what: int) -> float:
        scale = 1e6 if what < 2 else 1
        return med([row["per"][i][what] / row["n"] * scale for row in got])

    rounds = " ".join(f"{row['rps']:.0f}" for row in got)
    return (
        f"- {name}: {med([row['rps'] for row in got]):,.0f} req/s median [{rounds}], "
        f"p50 {med([row['p50'] for row in got]):.2f} ms; per request, event loop "
        f"{thread(0, 0):.0f} us CPU ({thread(0, 1):.0f} us waiting for a CPU, "
        f"{thread(0, 2):.2f} sleeps), writer {thread(1, 0):.0f} us CPU ({thread(1, 1):.0f} us "
        f"waiting, {thread(1, 2):.2f} sleeps)"
    )


def child(argv: list[str]) -> int:
    """`smx serve` with the SQLite note writer timed (no bot/ edits): written at exit."""
    import atexit

    import bot.store.sqlite as sqlite_store

    seen: dict[str, list] = {"batches": [], "commits": []}
    write_notes = sqlite_store._add_notes

    def timed_notes(conn, items):
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return write_notes(conn, items)
        finally:
            seen["batches"].append(
                (len(items), time.perf_counter() - wall, time.thread_time() - cpu, wall)
            )

    @contextmanager
    def timed_transaction(conn):
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        wall = time.perf_counter()
        conn.execute("COMMIT")
        seen["commits"].append(time.perf_counter() - wall)

    sqlite_store._add_notes = timed_notes
    sqlite_store.write_transaction = timed_transaction
    atexit.register(lambda: Path(os.environ["AB_NOTE_OUT"]).write_text(json.dumps(seen)))
    from bot.cli import main

    return main(argv)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="+", metavar="NAME=TREE")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--count", type=int, default=4000, help="requests per round and tree")
    parser.add_argument("--batches", action="store_true", help="time the writer's batches too")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args(argv)
    if args.batches and args.backend != "sqlite":
        parser.error("--batches times SQLite's writer thread: with --backend sqlite only")
    args.trees = [
        (name, str(Path(tree).resolve())) for name, tree in (t.split("=", 1) for t in args.trees)
    ]
    return args


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        sys.exit(child(sys.argv[2:]))
    asyncio.run(run(parse(sys.argv[1:])))
