"""Store benchmark: SQLite and PostgreSQL side by side on the same notes (insert, search, digests).

    .venv/bin/python bench/bench_store.py [--notes 30000] [--one-at-a-time 2000] [--concurrency 16]
                                          [--queries 300] [--teams 20] [--backends sqlite,postgresql]

Both backends get the same generated notes (bench_notes.make_note with a fixed seed, dated over
the four weeks before bench_digest.NOW), written through the Store API as the bot writes them:

1. insert, one at a time: the first --one-at-a-time notes, each awaited before the next is sent
   (one person's `note` command after another); latency of each add_note.
2. insert, N in flight: the rest, --concurrency at a time (many people logging at once); latency
   of each add_note once it is sent, and notes per second over the phase.
3. search over all the notes: one word, two words, a prefix (`abc*`), as bench_notes.py asks them;
   the hits must be the same on both backends (the table counts them, and names any query whose
   hits differ).
4. digest composition: every channel's digest of the last week (--teams x 10 channels), as
   bench_digest.py composes them (store read, Reply, Slack messages), 16 at a time.

Each phase alternates between the backends a slice at a time (100 notes, 1,000 notes, one query,
40 digests): other work shares this machine and its load drifts, so alternating lets the drift
hit both columns alike rather than one.

PostgreSQL is a throwaway server on 127.0.0.1, started as the tests start one
(tests/support/postgres.py), but durable: the tests turn fsync and synchronous_commit off, and
SQLite commits here with synchronous=FULL, so this server gets PostgreSQL's own defaults back
(every commit flushed to disk) for a like-for-like comparison. smx reaches it through its own pool
(bot/store/postgres.py: at most 10 connections), over TCP on the same 2 cores as the benchmark.

Absolute times depend on the machine (the development machines differ 3x); the PostgreSQL/SQLite
column, measured in the same run on the same data, is the figure that carries over. Prints the
table; never fails on a time (DESIGN.md: benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from bench_digest import NOW, pct  # noqa: E402
from bench_notes import WORDS, database_mb, make_note  # noqa: E402

from bot.store import NewNote, Store, Viewer, open_store  # noqa: E402
from tests.support.postgres import PostgresNotInstalled, PostgresServer  # noqa: E402

WEEKS = 4
CHANNELS = [f"C{i}" for i in range(1, 6)] + [f"G{i}" for i in range(1, 6)]  # as make_note picks
BACKENDS = ("sqlite", "postgresql")
TITLES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclasses.dataclass
class Row:
    label: str
    unit: str  # "ms" or "/s"
    values: dict[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Results:
    rows: dict[str, Row] = dataclasses.field(default_factory=dict)
    checks: dict[str, dict[str, object]] = dataclasses.field(default_factory=dict)
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)  # measured, by backend
    differ: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # queries, by kind

    def put(self, key: str, label: str, unit: str, backend: str, value: float) -> None:
        self.rows.setdefault(key, Row(label, unit)).values[backend] = value

    def check(self, what: str, backend: str, value: object) -> None:
        self.checks.setdefault(what, {})[backend] = value


Work = Callable[[str, Store, Any], Awaitable[list[float]]]


class Phase:
    """One measurement on every backend in turn, a slice at a time (see the module's note).
    Keeps each backend's per-call milliseconds and the seconds it spent."""

    def __init__(self, stores: dict[str, Store]) -> None:
        self.stores = stores
        self.ms: dict[str, list[float]] = {b: [] for b in stores}
        self.seconds: dict[str, float] = dict.fromkeys(stores, 0.0)

    async def run(self, chunks: list, work: Work) -> Phase:
        for chunk in chunks:
            for backend, store in self.stores.items():
                started = time.perf_counter()
                self.ms[backend] += await work(backend, store, chunk)
                self.seconds[backend] += time.perf_counter() - started
        return self

    def report(self, res: Results, key: str, label: str, rate: str | None = None) -> None:
        for backend, ms in self.ms.items():
            res.put(f"{key} median", f"{label}: median", "ms", backend, statistics.median(ms))
            res.put(f"{key} p95", f"{label}: p95", "ms", backend, pct(ms, 0.95))
            if rate:
                res.put(f"{key} rate", rate, "/s", backend, len(ms) / self.seconds[backend])
            res.seconds[backend] = res.seconds.get(backend, 0.0) + self.seconds[backend]


def slices(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def make_notes(count: int, teams: list[str]) -> list[NewNote]:
    rng = random.Random(5)
    span = timedelta(weeks=WEEKS).total_seconds()
    return [
        dataclasses.replace(
            make_note(rng, rng.choice(teams)),
            created_at=NOW - timedelta(seconds=rng.uniform(1, span)),
        )
        for _ in range(count)
    ]


async def timed(calls: list[Callable[[], Awaitable[object]]], in_flight: int) -> list[float]:
    """Milliseconds of each call, from when it is sent to its answer, `in_flight` at a time."""
    gate = asyncio.Semaphore(in_flight)
    out: list[float] = []

    async def one(call: Callable[[], Awaitable[object]]) -> None:
        async with gate:
            started = time.perf_counter()
            await call()
            out.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(one(call) for call in calls))
    return out


async def measure_inserts(
    stores: dict[str, Store], notes: list[NewNote], args: argparse.Namespace, res: Results
) -> None:
    first, rest = notes[: args.one_at_a_time], notes[args.one_at_a_time :]
    for key, part, slice_size, in_flight, label in (
        ("insert1", first, 100, 1, "one at a time"),
        ("insertN", rest, 1000, args.concurrency, f"{args.concurrency} in flight"),
    ):

        async def insert(_backend: str, store: Store, chunk: list[NewNote], n=in_flight):
            return await timed([lambda note=note: store.add_note(note) for note in chunk], n)

        phase = await Phase(stores).run(slices(part, slice_size), insert)
        phase.report(res, key, f"note insert, {label}", f"  notes/s, {label}")


async def measure_searches(
    stores: dict[str, Store], teams: list[str], args: argparse.Namespace, res: Results
) -> None:
    rng = random.Random(7)
    viewers = [Viewer(t, rng.choice(CHANNELS), f"U{rng.randint(1, 30)}") for t in teams]
    queries = {
        "one word": [rng.choice(WORDS[:60]) for _ in range(args.queries)],
        "two words": [f"{rng.choice(WORDS[:30])} {rng.choice(WORDS)}" for _ in range(args.queries)],
        "prefix (abc*)": [rng.choice(WORDS)[:3] + "*" for _ in range(args.queries)],
    }
    for kind, texts in queries.items():
        hits: dict[str, list[int]] = {b: [] for b in stores}

        async def search(backend: str, store: Store, i: int, texts=texts, hits=hits):
            started = time.perf_counter()
            found = await store.search_notes(viewers[i % len(viewers)], texts[i], limit=20)
            ms = (time.perf_counter() - started) * 1000
            hits[backend].append(len(found))
            return [ms]

        phase = await Phase(stores).run(list(range(len(texts))), search)
        phase.report(res, f"search {kind}", f"search, {kind}")
        for backend, counts in hits.items():
            res.check(f"search hits, {kind}", backend, sum(counts))
        res.differ[kind] = sorted(
            {
                texts[i]
                for i, row in enumerate(zip(*hits.values(), strict=True))
                if len(set(row)) > 1
            }
        )


async def compose_all(store, channels, concurrency: int) -> tuple[list[float], dict]:
    """Each channel's digest the per-channel way (compose: one store read, the Reply, its Slack
    messages), `concurrency` at a time; each one's latency in ms, and what they showed."""
    from bot.digest.compose import Window, compose
    from bot.digest.slots import week_before
    from bot.slack.blocks import render_blocks
    from bot.slack.digest_post import split

    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    totals = {"notes": 0, "messages": 0}
    window = Window(week_before(NOW, "Europe/Berlin"), NOW, "Europe/Berlin")

    async def one(team: str, channel: str) -> None:
        async with gate:
            started = time.perf_counter()
            reply = await compose(store, team=team, channel=channel, window=window, week="W")
            parts = split(reply)
            for part in parts:
                render_blocks(part)
            latencies.append((time.perf_counter() - started) * 1000)
        totals["notes"] += reply.data["digest"]["notes"]
        totals["messages"] += len(parts)

    await asyncio.gather(*(one(t, c) for t, c in channels))
    return latencies, totals


async def measure_digests(stores: dict[str, Store], teams: list[str], res: Results) -> None:
    channels = [(team, channel) for team in teams for channel in CHANNELS]
    shown: dict[str, dict[str, int]] = {b: {"notes": 0, "messages": 0} for b in stores}

    async def digests(backend: str, store: Store, chunk: list[tuple[str, str]]) -> list[float]:
        ms, totals = await compose_all(store, chunk, 16)
        for key in shown[backend]:
            shown[backend][key] += totals[key]
        return ms

    phase = await Phase(stores).run(slices(channels, 40), digests)
    phase.report(
        res,
        "digest",
        "digest of 1 channel, 16 at a time",
        f"  digests/s ({len(channels)} channels)",
    )
    for backend, counts in shown.items():
        res.check("digests: notes shown in all", backend, counts["notes"])
        res.check("digests: messages", backend, counts["messages"])


# PostgreSQL's durable defaults back over the tests' fsync=off and synchronous_commit=off, so
# the comparison is fair to SQLite's synchronous=FULL.
DURABLE = {
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "shared_buffers": "128MB",
}


def durability(url: str) -> str:
    """What the server really runs with (the override above must have taken), for the header."""
    with psycopg.connect(url) as conn:
        shown = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
            for name in ("server_version", *DURABLE)
        }
    version = shown.pop("server_version").split()[0]
    wrong = [f"{k}={v}" for k, v in shown.items() if v != DURABLE[k]]
    if wrong:
        raise SystemExit(f"bench_store: the PostgreSQL server runs with {', '.join(wrong)}")
    return f"PostgreSQL {version} with " + ", ".join(f"{k}={v}" for k, v in shown.items())


async def run(args: argparse.Namespace, targets: dict[str, str]) -> Results:
    teams = [f"T{i:03}" for i in range(args.teams)]
    notes = make_notes(args.notes, teams)
    res = Results()
    stores = {backend: open_store(target) for backend, target in targets.items()}
    try:
        for store in stores.values():
            store.migrate()
            await store.open()  # as `smx serve` does before its first request
            # Threads (SQLite) and pooled connections (PostgreSQL) opened before timing starts.
            await asyncio.gather(*(store.schema_version() for _ in range(args.concurrency)))
        await measure_inserts(stores, notes, args, res)
        await measure_searches(stores, teams, args, res)
        await measure_digests(stores, teams, res)
    finally:
        for store in stores.values():
            await store.close()
    for backend, target in targets.items():
        res.check("seconds measured", backend, round(res.seconds[backend], 1))
        res.check("database size, MB", backend, round(database_mb(backend, target), 1))
    return res


def table(res: Results, backends: list[str]) -> str:
    heads = [TITLES[b] for b in backends]
    both = len(backends) == 2
    if both:
        heads.append("PG/SQLite")
    width = max(len(r.label) for r in res.rows.values()) + 2
    lines = [f"{'':<{width}}" + "".join(f"{h:>13}" for h in heads)]
    for row in res.rows.values():
        cells = []
        for b in backends:
            v = row.values.get(b)
            cells.append("-" if v is None else f"{v:,.2f} ms" if row.unit == "ms" else f"{v:,.0f}")
        if both and all(b in row.values for b in backends) and row.values[backends[0]]:
            cells.append(f"{row.values[backends[1]] / row.values[backends[0]]:.2f}")
        lines.append(f"{row.label:<{width}}" + "".join(f"{c:>13}" for c in cells))
    lines.append("")
    for what, values in res.checks.items():
        cells = "".join(f"{values.get(b, '-')!s:>13}" for b in backends)
        lines.append(f"{what:<{width}}{cells}")
    for kind, texts in res.differ.items():
        if texts:
            lines.append(f"search, {kind}: hits differ between backends for {', '.join(texts)}")
    return "\n".join(lines)


def load() -> str:
    """The 1-minute load average and the CPUs: other work on the machine shows in the figures."""
    return f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notes", type=int, default=30_000)
    parser.add_argument("--one-at-a-time", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    args = parser.parse_args()
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backends) - set(BACKENDS)
    if unknown or not args.backends:
        parser.error(f"backends: choose from {','.join(BACKENDS)}")
    load_at_start = load()
    print(
        f"{args.notes:,} notes in {args.teams} teams over {WEEKS} weeks, the same on every "
        f"backend, {args.teams * len(CHANNELS)} channels to digest"
    )
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        targets = {}
        for backend in args.backends:
            if backend == "sqlite":
                targets[backend] = str(Path(tmp) / "bench.db")
            else:
                try:
                    server = stack.enter_context(PostgresServer(settings=DURABLE))
                except PostgresNotInstalled as err:
                    raise SystemExit(
                        f"bench_store: {err} Or run it with --backends sqlite."
                    ) from None
                targets[backend] = server.create_database("bench")
                print(durability(targets[backend]))
        res = asyncio.run(run(args, targets))
    print(table(res, args.backends))
    print(f"load average at the start {load_at_start}, at the end {load()}")
    if len(args.backends) == 2:
        print(
            "PG/SQLite is PostgreSQL's figure over SQLite's, both measured in this run on the "
            "same data, alternating (above 1: PostgreSQL takes longer, or, in a /s row, does "
            "more). Absolute times vary 3x between machines; the ratio is what this measures."
        )


if __name__ == "__main__":
    main()
