"""Store benchmark: SQLite and PostgreSQL side by side on the same notes (insert, search, digests).

    .venv/bin/python bench/bench_store.py [--notes 30000] [--one-at-a-time 2000] [--concurrency 16]
                                          [--queries 300] [--teams 20] [--backends sqlite,postgresql]

Both backends get the same generated notes (bench_notes.make_note with a fixed seed, dated over
the four weeks before bench_digest.NOW), written through the Store API as the bot writes them:

1. insert, one at a time: the first --one-at-a-time notes, each awaited before the next is sent
   (one person's `note` command after another); latency of each add_note.
2. insert, N in flight: the rest, --concurrency at a time (many people logging at once); latency
   of each add_note once it is sent, and notes per second over the phase.
3. search over all the notes: one word, two words, a prefix (`abc*`), as bench_notes.py asks them.
4. digest composition: every channel's digest of the last week (--teams x 10 channels), as
   bench_digest.py composes them (store read, Reply, Slack messages), 16 at a time.

PostgreSQL is a throwaway server on 127.0.0.1, started as the tests start one
(tests/support/postgres.py), but durable: the tests turn fsync and synchronous_commit off, and
SQLite here commits with synchronous=FULL, so this server gets PostgreSQL's own defaults back
(every commit flushed to disk) for a like-for-like comparison.

Absolute times depend on the machine (the development machines differ 3x); the PostgreSQL/SQLite
column, measured in the same run on the same data, is the figure that carries over. Prints the
table; never fails on a time (DESIGN.md: benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_digest import NOW, compose_all, pct  # noqa: E402
from bench_notes import WORDS, make_note  # noqa: E402

from bot.store import NewNote, Store, Viewer  # noqa: E402

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

    def put(self, key: str, label: str, unit: str, backend: str, value: float) -> None:
        self.rows.setdefault(key, Row(label, unit)).values[backend] = value

    def latencies(self, key: str, label: str, backend: str, ms: list[float]) -> None:
        self.put(f"{key} median", f"{label}: median", "ms", backend, statistics.median(ms))
        self.put(f"{key} p95", f"{label}: p95", "ms", backend, pct(ms, 0.95))

    def check(self, what: str, backend: str, value: object) -> None:
        self.checks.setdefault(what, {})[backend] = value


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
    """Milliseconds of each call, `in_flight` of them awaited at a time."""
    gate = asyncio.Semaphore(in_flight)
    out: list[float] = []

    async def one(call: Callable[[], Awaitable[object]]) -> None:
        async with gate:
            started = time.perf_counter()
            await call()
            out.append((time.perf_counter() - started) * 1000)

    if in_flight == 1:
        for call in calls:
            await one(call)
    else:
        await asyncio.gather(*(one(call) for call in calls))
    return out


async def measure(
    backend: str, store: Store, notes: list[NewNote], args: argparse.Namespace, res: Results
) -> None:
    teams = sorted({n.team for n in notes})
    first, rest = notes[: args.one_at_a_time], notes[args.one_at_a_time :]

    started = time.perf_counter()
    ms = await timed([lambda n=n: store.add_note(n) for n in first], 1)
    res.latencies("insert1", "note insert, one at a time", backend, ms)
    res.put("insert1 rate", "note insert, one at a time: notes/s", "/s", backend,
            len(first) / (time.perf_counter() - started))  # fmt: skip

    started = time.perf_counter()
    ms = await timed([lambda n=n: store.add_note(n) for n in rest], args.concurrency)
    label = f"note insert, {args.concurrency} in flight"
    res.latencies("insertN", label, backend, ms)
    res.put("insertN rate", f"{label}: notes/s", "/s", backend,
            len(rest) / (time.perf_counter() - started))  # fmt: skip

    rng = random.Random(7)
    viewers = [Viewer(t, rng.choice(CHANNELS), f"U{rng.randint(1, 30)}") for t in teams]
    queries = {
        "one word": [rng.choice(WORDS[:60]) for _ in range(args.queries)],
        "two words": [f"{rng.choice(WORDS[:30])} {rng.choice(WORDS)}" for _ in range(args.queries)],
        "prefix (abc*)": [rng.choice(WORDS)[:3] + "*" for _ in range(args.queries)],
    }
    for kind, texts in queries.items():
        hits = 0

        async def search(i: int, texts: list[str] = texts) -> None:
            nonlocal hits
            hits += len(await store.search_notes(viewers[i % len(viewers)], texts[i], limit=20))

        ms = await timed([lambda i=i: search(i) for i in range(len(texts))], 1)
        res.latencies(f"search {kind}", f"search, {kind}", backend, ms)
        res.check(f"search hits, {kind}", backend, hits)

    channels = [(team, channel) for team in teams for channel in CHANNELS]
    started = time.perf_counter()
    ms, totals = await compose_all(store, channels, 16)
    label = f"digest of 1 channel ({len(channels)}, 16 at a time)"
    res.latencies("digest", label, backend, ms)
    res.put("digest rate", f"digests of {len(channels)} channels: digests/s", "/s", backend,
            len(channels) / (time.perf_counter() - started))  # fmt: skip
    res.check("digests: notes shown in all", backend, totals["notes"])
    res.check("digests: messages", backend, totals["messages"])


def open_sqlite(tmp: str) -> Store:
    from bot.store import open_store

    return open_store(str(Path(tmp) / "bench.db"))


async def run(args: argparse.Namespace) -> Results:
    teams = [f"T{i:03}" for i in range(args.teams)]
    notes = make_notes(args.notes, teams)
    res = Results()
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends:
            store = open_sqlite(tmp)
            try:
                store.migrate()
                started = time.perf_counter()
                await measure(backend, store, notes, args, res)
                res.check("seconds for this column", backend, round(time.perf_counter() - started))
            finally:
                await store.close()
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
    return "\n".join(lines)


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
    if unknown:
        parser.error(f"unknown backend {', '.join(sorted(unknown))}: choose from sqlite,postgresql")
    print(
        f"{args.notes:,} notes in {args.teams} teams over {WEEKS} weeks, the same on every backend"
    )
    res = asyncio.run(run(args))
    print(table(res, args.backends))
    if len(args.backends) == 2:
        print(
            "PG/SQLite: PostgreSQL's figure over SQLite's, both measured in this run on the same "
            "data (above 1: PostgreSQL takes longer, or for /s rows does more). Absolute times "
            "vary 3x between machines; the ratio is what this benchmark measures."
        )


if __name__ == "__main__":
    main()
