"""Digest benchmark: compose the weekly digests of 10,000 channels over 1,000,000 notes.

    .venv/bin/python bench/bench_digest.py [--notes 1000000] [--channels 10000] [--teams 1000]
                                           [--weeks 4] [--concurrency 16] [--db FILE] [--no-tick]

The notes (spread over `--weeks` weeks, 70% team-wide, 30% private to one channel, ten campaigns
a team, most with spend and results) are bulk-loaded first; that is set-up, not measured. Then:

1. compose: every channel's digest of the last week, as the scheduler does it (one store read per
   digest, the Reply, and the Slack messages it would be split into: render_blocks and the thread
   split), CONCURRENCY at a time; wall time, per-digest latency and peak memory (tracemalloc peak
   of Python allocations during the phase, in a second, traced pass; and the process's peak RSS).
2. tick: one scheduler pass with all 10,000 subscriptions due at the same minute and a `post`
   that returns at once: claims, composing and state changes, i.e. how long until the last
   digest of a busy Monday 09:00 would be handed to Slack.

Prints the figures; never fails on a time (DESIGN.md: benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.digest.compose import Window, compose  # noqa: E402
from bot.digest.delivery import Delivery  # noqa: E402
from bot.digest.scheduler import Scheduler  # noqa: E402
from bot.digest.slots import Slot, week_before  # noqa: E402
from bot.slack.blocks import render_blocks  # noqa: E402
from bot.slack.digest_post import split  # noqa: E402
from bot.store import Subscription, open_store  # noqa: E402
from bot.store.notes import COLUMNS, db_time  # noqa: E402

NOW = datetime(2026, 11, 30, 8, 0, 30, tzinfo=UTC)  # Monday 09:00:30 in Berlin
VOCABULARY = (
    "reel story carousel launch promo creative audience lookalike retargeting budget saves "
    "shares comments followers hashtag influencer landing checkout signup webinar offer "
    "discount weekend mobile awareness retention funnel frequency fatigue refresh scaled"
)
WORDS = VOCABULARY.split()
PLATFORMS = ("instagram", "facebook", "tiktok", "linkedin", None)


def load(path: str, args: argparse.Namespace) -> list[tuple[str, str]]:
    """Bulk-load the notes; returns every (team, channel) to digest."""
    rng = random.Random(11)
    per_team = args.channels // args.teams
    channels = [(f"T{t:04}", f"C{t:04}{c:02}") for t in range(args.teams) for c in range(per_team)]
    start = NOW - timedelta(weeks=args.weeks)
    span = (NOW - start).total_seconds()
    conn = sqlite3.connect(path, isolation_level=None)
    # The full-text index is not what a digest reads: fill it once at the end, not per row.
    conn.execute("DROP TRIGGER notes_fts_insert")
    conn.execute("BEGIN")
    sql = f"INSERT INTO notes ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
    rows = []
    for i in range(args.notes):
        team_index = rng.randrange(args.teams)
        team = f"T{team_index:04}"
        public = rng.random() < 0.7
        channel = f"C{team_index:04}{rng.randrange(per_team):02}"
        has_money = rng.random() < 0.6
        spend = round(rng.uniform(50, 2000), 2) if has_money else None
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 30)))
        rows.append(
            (
                team, team, channel, "public" if public else "private", f"U{rng.randrange(40)}",
                f"campaign-{rng.randrange(10)}", f"{words} @here note {i}",
                db_time(start + timedelta(seconds=rng.uniform(0, span))),
                rng.choice(PLATFORMS), spend, "$" if has_money else None,
                float(rng.randint(1000, 200_000)) if has_money else None,
                float(rng.randint(10, 5000)) if has_money else None,
                float(rng.randint(0, 80)) if has_money else None, "{}",
            )
        )  # fmt: skip
        if len(rows) == 50_000:
            conn.executemany(sql, rows)
            rows.clear()
    conn.executemany(sql, rows)
    conn.execute("COMMIT")
    conn.execute("INSERT INTO notes_fts (notes_fts) VALUES ('rebuild')")
    conn.execute(
        "CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes BEGIN"
        " INSERT INTO notes_fts (rowid, campaign, text) VALUES (new.id, new.campaign, new.text);"
        " END"
    )
    conn.execute("ANALYZE")
    conn.close()
    return channels


async def compose_all(store, channels, concurrency: int) -> tuple[list[float], dict]:
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    totals = {"notes": 0, "messages": 0, "blocks": 0, "empty": 0, "max_blocks": 0}
    window = Window(week_before(NOW, "Europe/Berlin"), NOW, "Europe/Berlin")

    async def one(team: str, channel: str) -> None:
        async with gate:
            started = time.perf_counter()
            reply = await compose(store, team=team, channel=channel, window=window, week="W")
            parts = split(reply)
            blocks = [render_blocks(p) for p in parts]
            latencies.append((time.perf_counter() - started) * 1000)
        info = reply.data["digest"]
        totals["notes"] += info["notes"]
        totals["empty"] += info["empty"]
        totals["messages"] += len(parts)
        totals["blocks"] += sum(len(b) for b in blocks)
        totals["max_blocks"] = max(totals["max_blocks"], *(len(b) for b in blocks))

    await asyncio.gather(*(one(t, c) for t, c in channels))
    return latencies, totals


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


async def main(args: argparse.Namespace, path: str) -> None:
    store = open_store(path)
    await store.schema_version()
    started = time.perf_counter()
    channels = await asyncio.to_thread(load, path, args)
    print(
        f"set-up: {args.notes:,} notes, {len(channels):,} channels in {args.teams:,} teams, "
        f"{args.weeks} weeks, loaded in {time.perf_counter() - started:.0f} s"
    )
    rss_before = rss_mb()

    started = time.perf_counter()
    latencies, totals = await compose_all(store, channels, args.concurrency)
    wall = time.perf_counter() - started
    print(
        f"compose {len(channels):,} digests        {wall:7.1f} s wall  "
        f"({len(channels) / wall:,.0f} digests/s, concurrency {args.concurrency})"
    )
    print(
        f"  per digest                     median {statistics.median(latencies):6.1f} ms   "
        f"p95 {pct(latencies, 0.95):6.1f} ms   max {max(latencies):6.1f} ms"
    )
    print(
        f"  content: {totals['notes']:,} notes shown in all (a channel sees its team's week), "
        f"{totals['empty']:,} empty, {totals['messages']:,} messages, "
        f"max {totals['max_blocks']} blocks in one message"
    )
    print(f"  peak RSS {rss_mb():.0f} MB (before composing: {rss_before:.0f} MB)")

    tracemalloc.start()
    started = time.perf_counter()
    await compose_all(store, channels, args.concurrency)
    traced = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"  peak Python memory while composing (tracemalloc) {peak / 1e6:.1f} MB "
        f"(traced pass {traced:.1f} s)"
    )

    if not args.no_tick:
        slot = Slot(0, 9, 0, "Europe/Berlin")
        due = slot.latest_at_or_before(NOW)
        for team, channel in channels:
            await store.save_subscription(
                Subscription(
                    team=team, channel=channel, workspace=team, enterprise=None, weekday=0,
                    hour=9, minute=0, tz="Europe/Berlin", subscriber="U1", next_run=due,
                )
            )  # fmt: skip
        sent = 0

        async def post(team, channel, reply, *, enterprise=None) -> Delivery:
            nonlocal sent
            sent += 1
            return Delivery("posted", ts=f"{sent}.0", messages=len(split(reply)))

        scheduler = Scheduler(store, post, clock=lambda: NOW, post_timeout=600)
        started = time.perf_counter()
        report = await scheduler.tick()
        wall = time.perf_counter() - started
        print(
            f"one scheduler pass, {len(channels):,} due at once   {wall:7.1f} s wall  "
            f"({report.text()}; claims, composing and run states included, post is a no-op)"
        )
        print(f"  peak RSS {rss_mb():.0f} MB")
    await store.close()
    print(json.dumps({"channels": len(channels), "notes": args.notes}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notes", type=int, default=1_000_000)
    parser.add_argument("--channels", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=1_000)
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--db", help="SQLite file to create (default: a temporary one)")
    parser.add_argument("--no-tick", action="store_true", help="skip the scheduler pass")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or str(Path(tmp) / "bench.db")
        asyncio.run(main(args, path))
        print(f"database file {Path(path).stat().st_size / 1e6:.0f} MB")
