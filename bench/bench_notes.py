"""Notes store benchmark: insert rate and search latency on 100,000 notes.

    .venv/bin/python bench/bench_notes.py [--notes 100000] [--teams 20] [--queries 500] [--db FILE]

Inserts go one note per transaction through the async API, as `note` does; searches, listings
and exports go through it too, so the figures include the hop to the store's threads. Prints the
figures; never fails on a time (DESIGN.md: benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.store import NewNote, Viewer, open_store  # noqa: E402

VOCABULARY = (
    "reel story carousel post video live launch spring summer promo sale creative audience "
    "lookalike retargeting budget bid cpm cpc ctr conversions clicks impressions reach saves "
    "shares comments followers hashtag influencer ugc landing page checkout cart signup lead "
    "webinar newsletter organic paid boosted a/b test variant headline thumbnail hook caption "
    "copy offer discount coupon holiday weekend morning evening mobile desktop tiktok instagram "
    "facebook linkedin youtube x b2b b2c brand awareness consideration retention churn funnel "
    "top middle bottom frequency fatigue refresh pacing underdelivered overdelivered scaled "
    "paused relaunched doubled halved tripled flat dropped spiked steady great poor solid weak"
)
WORDS = VOCABULARY.split()
CAMPAIGNS = [f"{a}-{b}" for a in ("spring", "summer", "q3", "brand", "promo") for b in "abcdefgh"]
KINDS = ("public", "public", "public", "private", "im", "mpim")


def make_note(rng: random.Random, team: str) -> NewNote:
    # Zipf-like word choice: a few words are in most notes, most words are rare.
    words = [
        WORDS[min(int(rng.paretovariate(1.2)) - 1, len(WORDS) - 1)]
        for _ in range(rng.randint(6, 40))
    ]
    rng.shuffle(words)
    spend = round(rng.uniform(50, 2000), 2) if rng.random() < 0.6 else None
    kind = rng.choice(KINDS)
    return NewNote(
        team=team,
        workspace=team,
        channel=f"C{rng.randint(1, 5)}" if kind == "public" else f"G{rng.randint(1, 5)}",
        channel_kind=kind,  # type: ignore[arg-type]
        author=f"U{rng.randint(1, 30)}",
        campaign=rng.choice(CAMPAIGNS),
        text=" ".join(words) + (f" spend=${spend}" if spend else ""),
        platform=rng.choice(("instagram", "facebook", "tiktok", None)),
        spend=spend,
        currency="$" if spend else None,
        impressions=float(rng.randint(1000, 200_000)) if spend else None,
        clicks=float(rng.randint(10, 5000)) if spend else None,
    )


async def timed(samples: int, call: Callable[[int], Awaitable[object]]) -> list[float]:
    out = []
    for i in range(samples):
        started = time.perf_counter()
        await call(i)
        out.append((time.perf_counter() - started) * 1000)
    return out


def summary(label: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[max(0, int(len(ms) * 0.95) - 1)]
    return f"{label:<34} median {statistics.median(ms):7.2f} ms   p95 {p95:7.2f} ms   (n={len(ms)})"


async def main(args: argparse.Namespace, path: str) -> None:
    rng = random.Random(5)
    store = open_store(path)
    teams = [f"T{i:03}" for i in range(args.teams)]
    notes = [make_note(rng, rng.choice(teams)) for _ in range(args.notes)]
    await store.schema_version()

    started = time.perf_counter()
    for note in notes:
        await store.add_note(note)
    elapsed = time.perf_counter() - started
    print(f"insert, one note per transaction     {args.notes / elapsed:9,.0f} notes/s "
          f"({args.notes:,} notes in {elapsed:.1f} s)")  # fmt: skip

    viewers = [Viewer(t, f"C{rng.randint(1, 5)}", f"U{rng.randint(1, 30)}") for t in teams]
    one_word = [rng.choice(WORDS[:60]) for _ in range(args.queries)]
    two_words = [f"{rng.choice(WORDS[:30])} {rng.choice(WORDS)}" for _ in range(args.queries)]
    prefixes = [rng.choice(WORDS)[:3] + "*" for _ in range(args.queries)]
    for label, queries in (
        ("search, one word", one_word),
        ("search, two words", two_words),
        ("search, prefix (abc*)", prefixes),
    ):
        ms = await timed(
            args.queries,
            lambda i, q=queries: store.search_notes(viewers[i % len(viewers)], q[i], limit=20),
        )
        print(summary(label, ms))
    ms = await timed(args.queries, lambda i: store.list_notes(viewers[i % len(viewers)], limit=10))
    print(summary("list, newest 10 of a team", ms))
    ms = await timed(args.queries, lambda i: store.campaign_totals(viewers[i % len(viewers)]))
    print(summary("campaign totals of a team", ms))
    ms = await timed(20, lambda i: store.export_notes(Viewer(teams[i % len(teams)], "C1")))
    print(summary(f"export a team (~{args.notes // args.teams:,} notes)", ms))
    await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notes", type=int, default=100_000)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--db", help="SQLite file to create (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or str(Path(tmp) / "bench.db")
        asyncio.run(main(args, path))
        print(f"database file {Path(path).stat().st_size / 1e6:.0f} MB")
