"""Digest benchmark: the weekly digests of 10,000 channels over 1,000,000 notes, on both backends.

    .venv/bin/python bench/bench_digest.py [--backend sqlite|postgresql|both] [--quick]
        [--notes 1000000] [--channels 10000] [--teams 1000] [--weeks 4] [--old-sample 1000]
        [--rate 100] [--phases compose,old,tick,acks] [--freeze]

Set-up (not measured): the notes are bulk-loaded once per backend (spread over `--weeks` weeks,
70% team-wide, 30% private to one channel, ten campaigns a team, most with spend and results;
a SQLite file, and a throwaway PostgreSQL server from tests/support/postgres.py with durability
on, as bench_ack.py runs it). Then, per backend, each phase in a process of its own, so that the
peak RSS it reports (ru_maxrss of that process) is that phase's, start-up included (the RSS before
the phase is printed beside it):

1. compose: every channel's digest of the last week the way the scheduler now reads it: 500
   channels at a time (a team's together), one batch read (Store.week_activities, 3 queries) for
   the 500, then their Replies built (compose.build_all, off the loop) and dropped. Wall time,
   split into the reads and the building, and CPU time of each part (for PostgreSQL, the
   server's processes' CPU too). Then the same pages again as the scheduler overlaps them (page
   k+1 read while page k is built): wall and CPU time.
2. old: the per-channel way it replaces (compose(): one week_activity per channel, then build),
   16 at a time, over `--old-sample` of the channels, scaled to all of them for the ratio.
3. tick: one scheduler pass with all the channels due in the same minute and a `post` that
   returns at once: claims, composing and run states, until every digest is settled.
4. acks: the real aiohttp app (bot.slack.server.build_web_app, a stub Slack Web API) with its own
   scheduler making the same pass (its `post` stubbed, its clock set to the slot), while
   bench/loadgen.py, a process of its own, sends signed `/smx` commands at `--rate` per second
   for as long as the pass lasted in phase 3. Ack p50/p99/max, and the longest event-loop stall
   a 5 ms probe in the same loop saw during the pass.

The Slack rendering of a digest (split into messages, Block Kit) is done by the poster as it
posts, not by composing: phase 1 times it apart on a sample. Prints tables and one line per goal;
never fails on a time (DESIGN.md: benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import gc
import json
import math
import multiprocessing
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench_ack import free_port, stub_api  # noqa: E402  (the same Web API stub as the ack bench)

NOW = datetime(2026, 11, 30, 8, 0, 30, tzinfo=UTC)  # Monday 09:00:30 in Berlin
TZ = "Europe/Berlin"
SECRET = "bench-signing-secret"
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
PAGE = 500  # digests built at a time in phase 1 (the scheduler's DUE_PAGE)
VOCABULARY = (
    "reel story carousel launch promo creative audience lookalike retargeting budget saves "
    "shares comments followers hashtag influencer landing checkout signup webinar offer "
    "discount weekend mobile awareness retention funnel frequency fatigue refresh scaled"
)
WORDS = VOCABULARY.split()
PLATFORMS = ("instagram", "facebook", "tiktok", "linkedin", None)
GOALS = {"compose_s": 3.0, "compose_rss_mb": 300.0, "tick_s": 10.0, "ack_max_ms": 3000.0}
GOAL_P99_MS = 50.0


# -- set-up -----------------------------------------------------------------------------------


def channels_of(args: argparse.Namespace) -> list[tuple[str, str]]:
    per_team = args.channels // args.teams
    return [(f"T{t:04}", f"C{t:04}{c:02}") for t in range(args.teams) for c in range(per_team)]


def note_rows(args: argparse.Namespace):
    """The notes, as tuples in notes.COLUMNS order (created_at a datetime), the same every run."""
    rng = random.Random(11)
    per_team = args.channels // args.teams
    start = NOW - timedelta(weeks=args.weeks)
    span = (NOW - start).total_seconds()
    for i in range(args.notes):
        team_index = rng.randrange(args.teams)
        team = f"T{team_index:04}"
        public = rng.random() < 0.7
        channel = f"C{team_index:04}{rng.randrange(per_team):02}"
        has_money = rng.random() < 0.6
        spend = round(rng.uniform(50, 2000), 2) if has_money else None
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 30)))
        yield (
            team, team, channel, "public" if public else "private", f"U{rng.randrange(40)}",
            f"campaign-{rng.randrange(10)}", f"{words} @here note {i}",
            start + timedelta(seconds=rng.uniform(0, span)),
            rng.choice(PLATFORMS), spend, "$" if has_money else None,
            float(rng.randint(1000, 200_000)) if has_money else None,
            float(rng.randint(10, 5000)) if has_money else None,
            float(rng.randint(0, 80)) if has_money else None,
        )  # fmt: skip


def load_sqlite(path: str, args: argparse.Namespace) -> None:
    from bot.store import open_store
    from bot.store.notes import COLUMNS, db_time

    store = open_store(path)
    store.migrate()
    store.close_sync()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")  # set-up only: the phases open it as smx does
    conn.execute("PRAGMA cache_size = -1048576")  # 1 GiB: the indexes filled in memory
    # The full-text index is not what a digest reads: the bulk-loaded notes are not indexed
    # (nothing here searches, nor deletes a note, which would need its terms in the index);
    # notes added later are, by the triggers put back (whatever the schema version names them).
    triggers = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'notes'"
    ).fetchall()
    for name, _ in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    conn.execute("BEGIN")
    sql = f"INSERT INTO notes ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
    rows = []
    for r in note_rows(args):
        rows.append((*r[:7], db_time(r[7]), *r[8:], "{}"))
        if len(rows) == 50_000:
            conn.executemany(sql, rows)
            rows.clear()
    conn.executemany(sql, rows)
    conn.execute("COMMIT")
    for _, sql in triggers:
        conn.execute(sql)
    conn.execute("ANALYZE")
    conn.close()


def timed_load_sqlite(path: str, args: argparse.Namespace) -> float:
    """load_sqlite in the set-up's own process: the seconds it took."""
    started = time.perf_counter()
    load_sqlite(path, args)
    return time.perf_counter() - started


def load_postgres(url: str, args: argparse.Namespace) -> None:
    import psycopg

    from bot.store import open_store
    from bot.store.notes import COLUMNS

    open_store(url).migrate()
    with psycopg.connect(url, autocommit=True) as conn:
        # The search vector is not what a digest reads: its trigger is skipped while loading.
        conn.execute("ALTER TABLE notes DISABLE TRIGGER notes_search")
        cols = ", ".join(c for c in COLUMNS if c != "metrics")
        with conn.cursor().copy(f"COPY notes ({cols}) FROM STDIN") as copy:
            for r in note_rows(args):
                copy.write_row(r)
        conn.execute("ALTER TABLE notes ENABLE TRIGGER notes_search")
        conn.execute("VACUUM ANALYZE notes")


def subscription_rows(args: argparse.Namespace, next_run: datetime) -> list[dict]:
    return [
        dict(
            team=team, channel=channel, workspace=team, enterprise="", weekday=0, hour=9,
            minute=0, tz=TZ, subscriber="U1", state="active", paused_reason=None,
            include_empty=False, next_run=next_run, created_at=NOW, updated_at=NOW,
        )
        for team, channel in channels_of(args)
    ]  # fmt: skip


def reset_subscriptions(target: str, args: argparse.Namespace, next_run: datetime) -> None:
    """Every channel subscribed, due at `next_run`, no runs: what phases 3 and 4 start from."""
    from bot.store.digests import SUB_COLUMNS
    from bot.store.notes import db_time

    rows = subscription_rows(args, next_run)
    cols = ", ".join(SUB_COLUMNS)
    if target.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute("TRUNCATE digest_runs, digest_subscriptions")
            with conn.cursor().copy(f"COPY digest_subscriptions ({cols}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row([r[c] for c in SUB_COLUMNS])
            conn.execute("ANALYZE digest_subscriptions")
        return
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("BEGIN")
    conn.execute("DELETE FROM digest_runs")
    conn.execute("DELETE FROM digest_subscriptions")
    conn.executemany(
        f"INSERT INTO digest_subscriptions ({cols}) VALUES ({', '.join('?' for _ in SUB_COLUMNS)})",
        [
            [
                db_time(r[c]) if isinstance(r[c], datetime) else int(r[c]) if c == "include_empty"
                else r[c]
                for c in SUB_COLUMNS
            ]
            for r in rows
        ],
    )  # fmt: skip
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


# -- measuring ----------------------------------------------------------------------------------


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class StallProbe:
    """A callback due every TICK s on the loop; how late it runs is how long the loop was held
    (bench/stall_probe.py's approach, in process). Keeps each lateness with its wall time."""

    TICK = 0.005

    def __init__(self) -> None:
        self.seen: list[tuple[float, float]] = []  # (time.time(), lateness s) above 1 ms
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time() + self.TICK

        def tick() -> None:
            nonlocal due
            now = loop.time()
            if now - due > 0.001:
                self.seen.append((time.time(), now - due))
            due = now + self.TICK
            self._handle = loop.call_at(due, tick)

        self._handle = loop.call_at(due, tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()

    def worst(self, lo: float, hi: float) -> tuple[float, int]:
        inside = [late for at, late in self.seen if lo <= at <= hi]
        return (max(inside, default=0.0) * 1000, sum(1 for x in inside if x > 0.010))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


# -- the phases (each run in a child process) ---------------------------------------------------


def window():
    from bot.digest.compose import Window
    from bot.digest.slots import week_before

    return Window(week_before(NOW, TZ), NOW, TZ)


async def open_target(target: str):
    from bot.store import open_store

    store = open_store(target)
    await store.open()
    return store


def _parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def pass_share(tick: dict) -> float:
    """The pass's CPU in all its processes (this one, the read worker, PostgreSQL's server) over
    what the machine's cores could give in its wall time: near 1.0, the pass waits for CPU, not
    for anything else, and only less CPU makes it faster."""
    used = tick["cpu_s"]
    for key in ("worker_cpu_s", "server_cpu_s"):
        if not math.isnan(tick[key]):
            used += tick[key]
    return used / (tick["wall_s"] * (os.cpu_count() or 1))


async def server_cpu(target: str):
    """For PostgreSQL, a function giving the CPU seconds used so far by the server's processes
    (the postmaster's children: the backends and background workers, read from /proc): the SQL
    a phase runs there is CPU the process's own figure does not count. None for SQLite."""
    if not target.startswith("postgresql://"):
        return None
    import psycopg

    async with await psycopg.AsyncConnection.connect(target) as conn:
        cursor = await conn.execute("SELECT pg_backend_pid()")
        (backend,) = await cursor.fetchone()  # type: ignore[misc]
        # While the connection is open: its backend process ends with it.
        postmaster = _parent_of(backend)
    tick = os.sysconf("SC_CLK_TCK")

    def used() -> float:
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
            if int(fields[1]) == postmaster or int(entry.name) == postmaster:
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick

    return used


async def phase_compose(target: str, args: argparse.Namespace) -> dict:
    from bot.digest.compose import PER_CAMPAIGN, Digest, build_all, off_loop
    from bot.slack.blocks import render_blocks
    from bot.slack.digest_post import split
    from bot.store import Viewer
    from bot.store.digests import TEAM_CHUNK
    from bot.store.read_worker import worker_state

    store = await open_target(target)
    channels = channels_of(args)
    w = window()
    digests = [Digest(team=t, channel=c, window=w, week="W") for t, c in channels]
    pages = [digests[i : i + PAGE] for i in range(0, len(digests), PAGE)]
    server = await server_cpu(target)  # PostgreSQL's own CPU (its processes), None for SQLite

    async def read(page: list, apart: bool = False) -> list:
        return await store.week_activities(
            [Viewer(d.team, d.channel) for d in page],
            since=w.since,
            until=w.until,
            per_campaign=PER_CAMPAIGN,
            apart=apart,
        )

    rss_before = current_rss_mb()
    server_started = server() if server else 0.0
    started = time.perf_counter()
    cpu_started = time.process_time()
    read_s = read_cpu = build_cpu = free_cpu = 0.0
    notes = empty = 0
    sample = []
    # As the scheduler does it: a page of PAGE channels (a team's together) read in one batch
    # read, then built off the loop, and dropped, with full collections held off meanwhile. One
    # page at a time, so that each part's wall and CPU time is its own (the loop is idle while
    # the store's thread reads and while the build runs: the process's CPU is that part's).
    from bot.collector import hold_full_collections

    release = hold_full_collections()
    for page in pages:
        t0, c0 = time.perf_counter(), time.process_time()
        activities = await read(page)
        read_s += time.perf_counter() - t0
        c1 = time.process_time()
        read_cpu += c1 - c0
        replies = await off_loop(build_all, activities, page)
        c2 = time.process_time()
        build_cpu += c2 - c1
        for r in replies:
            notes += r.data["digest"]["notes"]
            empty += r.data["digest"]["empty"]
        if len(sample) < 200:
            sample.extend(replies[: 200 - len(sample)])
        del replies, activities
        free_cpu += time.process_time() - c2
    release()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    server_s = server() - server_started if server else float("nan")
    rss_sequential = rss_mb()
    # The same pages as the scheduler overlaps them (bot/digest/scheduler.py _compose): page
    # k+1 read while page k is built, two pages held at most, the reads `apart` as the
    # scheduler asks (SQLite: in its read worker process, bot/store/read_worker.py).
    worker = worker_state(store)
    worker_cpu = worker.cpu_seconds if worker else 0.0
    release = hold_full_collections()
    started_overlap = time.perf_counter()
    cpu_overlap = time.process_time()
    server_overlap = server() if server else 0.0
    ahead = asyncio.ensure_future(read(pages[0], True))
    for k, page in enumerate(pages):
        activities = await ahead
        if k + 1 < len(pages):
            ahead = asyncio.ensure_future(read(pages[k + 1], True))
        replies = await off_loop(build_all, activities, page)
        del replies, activities
    release()
    overlap_wall = time.perf_counter() - started_overlap
    overlap_cpu = time.process_time() - cpu_overlap
    overlap_server = server() - server_overlap if server else float("nan")
    rss = rss_mb()
    overlap_worker = (worker.cpu_seconds - worker_cpu) if worker else float("nan")
    # The poster's share, apart (bot/slack/digest_post.py, at posting time).
    render_started = time.perf_counter()
    messages = blocks = 0
    for r in sample:
        parts = split(r)
        messages += len(parts)
        blocks += sum(len(render_blocks(p)) for p in parts)
    render_ms = (time.perf_counter() - render_started) / len(sample) * 1000
    await store.close()
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "read_s": read_s,
        "build_s": wall - read_s,
        "read_cpu_s": read_cpu,
        "build_cpu_s": build_cpu,
        "free_cpu_s": free_cpu,
        "server_cpu_s": server_s,
        "rss_sequential_mb": rss_sequential,
        "overlap_wall_s": overlap_wall,
        "overlap_cpu_s": overlap_cpu,
        "overlap_server_cpu_s": overlap_server,
        # The SQLite read worker's share of the overlapped run (a process of its own), its
        # batches and its peak RSS: none of it is in this process's CPU or RSS above.
        "overlap_worker_cpu_s": overlap_worker,
        "overlap_worker_reads": worker.reads if worker else 0,
        "worker_rss_mb": worker.peak_mb if worker else float("nan"),
        "digests": len(digests),
        "notes_shown": notes,
        "empty": empty,
        "queries": 3
        * sum(
            math.ceil(len({d.team for d in digests[i : i + PAGE]}) / TEAM_CHUNK)
            for i in range(0, len(digests), PAGE)
        ),
        "rss_mb": rss,
        "rss_before_mb": rss_before,
        "render_ms_per_digest": render_ms,
        "messages_per_digest": messages / len(sample),
    }


async def phase_old(target: str, args: argparse.Namespace) -> dict:
    from bot.digest.compose import compose

    store = await open_target(target)
    channels = channels_of(args)
    rng = random.Random(5)
    sample = rng.sample(channels, min(args.old_sample, len(channels)))
    w = window()
    gate = asyncio.Semaphore(16)
    latencies: list[float] = []
    rss_before = current_rss_mb()

    async def one(team: str, channel: str) -> None:
        async with gate:
            t0 = time.perf_counter()
            await compose(store, team=team, channel=channel, window=w, week="W")
            latencies.append((time.perf_counter() - t0) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(one(t, c) for t, c in sample))
    wall = time.perf_counter() - started
    await store.close()
    return {
        "sample": len(sample),
        "sample_wall_s": wall,
        "scaled_wall_s": wall * len(channels) / len(sample),
        "median_ms": statistics.median(latencies),
        "p95_ms": pct(latencies, 0.95),
        "rss_mb": rss_mb(),
        "rss_before_mb": rss_before,
    }


def stub_post(counter: dict):
    from bot.digest.delivery import Delivery

    async def post(team, channel, reply, *, enterprise=None) -> Delivery:
        counter["sent"] += 1
        if counter["sent"] == counter.get("expect"):
            counter["done"].set()
        return Delivery("posted", ts=f"{counter['sent']}.0", messages=1)

    return post


async def phase_tick(target: str, args: argparse.Namespace) -> dict:
    from bot.digest.scheduler import Scheduler

    await asyncio.to_thread(reset_subscriptions, target, args, NOW - timedelta(seconds=30))
    store = await open_target(target)
    counter = {"sent": 0, "done": asyncio.Event()}
    scheduler = Scheduler(store, stub_post(counter), clock=lambda: NOW, post_timeout=600)
    server = await server_cpu(target)  # PostgreSQL's own CPU (its processes), None for SQLite
    server_started = server() if server else 0.0  # a /proc scan: before the stalls are timed
    probe = StallProbe()
    probe.start()
    rss_before = current_rss_mb()
    lo = time.time()
    started = time.perf_counter()
    cpu_started = time.process_time()
    report = await scheduler.tick()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    server_s = server() - server_started if server else float("nan")
    stall, over = probe.worst(lo, time.time())
    probe.stop()
    from bot.store.read_worker import worker_state

    worker = worker_state(store)
    await store.close()
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        # The SQLite read worker's CPU and peak RSS (a process of its own, not in the above).
        "worker_cpu_s": worker.cpu_seconds if worker else float("nan"),
        "worker_reads": worker.reads if worker else 0,
        "worker_rss_mb": worker.peak_mb if worker else float("nan"),
        # The PostgreSQL server's processes in the pass (the claims, moves and reads' SQL).
        "server_cpu_s": server_s,
        "report": report.text(),
        "claimed": report.claimed,
        "posted": report.outcomes.get("posted", 0),
        "rss_mb": rss_mb(),
        "rss_before_mb": rss_before,
        "stall_ms": stall,
        "stalls_over_10ms": over,
    }


async def loadgen(url: str, rate: float, count: int, warmup: int) -> dict:
    gen = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / "loadgen.py"),
        "--url",
        url,
        "--mix",
        "read",
        "--rate",
        str(rate),
        "--count",
        str(count),
        "--warmup",
        str(warmup),
        env={**os.environ, "SLACK_SIGNING_SECRET": SECRET},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await gen.communicate()
    if gen.returncode != 0:
        raise SystemExit("the load generator failed")
    return json.loads(out.decode().strip().splitlines()[-1])


async def phase_acks(target: str, args: argparse.Namespace) -> dict:
    from bot.config import Settings
    from bot.slack.server import DIGESTS, build_web_app, prepare, serve_http

    slot_due = NOW - timedelta(seconds=30)
    await asyncio.to_thread(reset_subscriptions, target, args, slot_due)
    api, api_port = await stub_api()
    os.environ.update(
        {
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_API_URL": f"http://127.0.0.1:{api_port}/api/",
            "SMX_LOG_LEVEL": "WARNING",
            # As bench_ack.py serves it: charts off (timed in bench_charts.py), so the acks
            # measured are the pass's cost, not an estimate's chart drawn after each ack.
            "SMX_CHARTS": os.environ.get("SMX_BENCH_CHARTS", "false"),
            **(
                {"SMX_DATABASE_URL": target}
                if target.startswith("postgresql://")
                else {"SMX_DB": target}
            ),
        }
    )
    settings = Settings()
    services = prepare(settings)
    web_app = build_web_app(settings, services)
    # The server's own scheduler makes the pass: its clock held before the slot until the load
    # runs, its post stubbed (returns at once, as in phase 3).
    clock = {"now": slot_due - timedelta(hours=1)}
    counter = {"sent": 0, "done": asyncio.Event(), "expect": len(channels_of(args))}
    scheduler = web_app[DIGESTS]
    scheduler.clock = lambda: clock["now"]
    scheduler.post = stub_post(counter)
    port = free_port()
    runner, _site = await serve_http(web_app, settings, "127.0.0.1", port)
    url = f"http://127.0.0.1:{port}"
    probe = StallProbe()
    probe.start()
    try:
        await loadgen(url, args.rate, 50, 300)  # warm-up: Bolt's auth.test, first paths
        rss_before = current_rss_mb()
        count = max(200, int(args.rate * (args.pass_s + 1)))
        load = asyncio.create_task(loadgen(url, args.rate, count, 0))
        await asyncio.sleep(0.5)  # the generator's start-up (a fresh interpreter)
        lo = time.time()
        started = time.perf_counter()
        clock["now"] = NOW
        scheduler.wake()
        await counter["done"].wait()
        pass_s = time.perf_counter() - started
        hi = time.time()
        acks = await load
    finally:
        probe.stop()
        await runner.cleanup()
        await api.cleanup()
    stall, over = probe.worst(lo, hi)
    a_lo, a_hi = acks["window"]
    covered = max(0.0, min(hi, a_hi) - max(lo, a_lo)) / (hi - lo)
    return {
        "pass_s": pass_s,
        "sent": counter["sent"],
        "ack_p50_ms": acks["p50_ms"],
        "ack_p99_ms": acks["p99_ms"],
        "ack_max_ms": acks["max_ms"],
        "answered": acks["answered"],
        "errors": acks["errors"],
        "statuses": acks["statuses"],
        "load_s": a_hi - a_lo,
        "covered": covered,
        "stall_ms": stall,
        "stalls_over_10ms": over,
        "rss_mb": rss_mb(),
        "rss_before_mb": rss_before,
        "loadgen_cpu": acks["loadgen_cpu_frac"],
    }


PHASES = {"compose": phase_compose, "old": phase_old, "tick": phase_tick, "acks": phase_acks}


class GcClock:
    """The garbage collector's pauses (any thread: a collection holds the GIL, so the loop)."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._started = 0.0
        gc.callbacks.append(self._on)

    def _on(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._started)


def child(args: argparse.Namespace) -> None:
    gc.collect()
    if args.freeze:
        # What `smx serve` does not do (yet): its start-up heap kept out of every collection.
        gc.freeze()
    clock = GcClock()
    result = asyncio.run(PHASES[args.child](args.target, args))
    result["gc_total_s"] = sum(clock.pauses)
    result["gc_longest_ms"] = max(clock.pauses, default=0.0) * 1000
    result["gc_over_10ms"] = sum(1 for p in clock.pauses if p > 0.010)
    print(json.dumps(result), flush=True)


# -- the parent: set-up, the phases side by side, the tables -----------------------------------


def run_phase(phase: str, target: str, args: argparse.Namespace, **extra: object) -> dict:
    argv = [
        sys.executable, __file__, "--child", phase, "--target", target,
        "--notes", str(args.notes), "--channels", str(args.channels), "--teams", str(args.teams),
        "--weeks", str(args.weeks), "--old-sample", str(args.old_sample), "--rate", str(args.rate),
    ]  # fmt: skip
    if args.freeze:
        argv.append("--freeze")
    for k, v in extra.items():
        argv += [f"--{k.replace('_', '-')}", str(v)]
    started = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"phase {phase} failed ({done.returncode})")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - started
    return result


def fmt(v: float, d: int = 1) -> str:
    return "-" if v != v else f"{v:,.{d}f}"


def met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(results: dict[str, dict[str, dict]], args: argparse.Namespace) -> None:
    names = list(results)
    print(
        f"\n## Digests: {args.channels:,} channels in {args.teams:,} teams, {args.notes:,} notes "
        f"over {args.weeks} weeks\n"
    )
    print("| phase | " + " | ".join(names) + " |")
    print("| --- | " + " | ".join("---:" for _ in names) + " |")

    def row(label: str, fn) -> None:
        cells = []
        for n in names:
            try:
                cells.append(fn(results[n]))
            except KeyError:
                cells.append("-")
        print(f"| {label} | " + " | ".join(cells) + " |")

    row("compose, batch read + build: wall s", lambda r: fmt(r["compose"]["wall_s"], 2))
    row(
        "  CPU s of the process (all threads; steadier than wall on a busy machine)",
        lambda r: fmt(r["compose"]["cpu_s"], 2),
    )
    row("  of which the batch read s", lambda r: fmt(r["compose"]["read_s"], 2))
    row("  of which building the Replies s", lambda r: fmt(r["compose"]["build_s"], 2))
    row(
        "  CPU s: the batch read / the build / freeing each page",
        lambda r: " / ".join(
            fmt(r["compose"][k], 2) for k in ("read_cpu_s", "build_cpu_s", "free_cpu_s")
        ),
    )
    row(
        "  CPU s of the PostgreSQL server's processes (its SQL)",
        lambda r: fmt(r["compose"]["server_cpu_s"], 2),
    )
    row(
        "compose, page k+1 read while page k is built (as the scheduler): wall s",
        lambda r: fmt(r["compose"]["overlap_wall_s"], 2),
    )
    row(
        "  CPU s of the process; of the PostgreSQL server",
        lambda r: (
            f"{fmt(r['compose']['overlap_cpu_s'], 2)};"
            f" {fmt(r['compose']['overlap_server_cpu_s'], 2)}"
        ),
    )
    row(
        "  the read worker process (bot/store/read_worker.py): CPU s; batches; peak RSS MB",
        lambda r: (
            f"{fmt(r['compose']['overlap_worker_cpu_s'], 2)};"
            f" {r['compose']['overlap_worker_reads']}; {fmt(r['compose']['worker_rss_mb'], 0)}"
        ),
    )
    row("  queries (3 per page of 500 channels)", lambda r: str(r["compose"]["queries"]))
    row(
        "  peak RSS MB (before the phase; page by page only)",
        lambda r: (
            f"{fmt(r['compose']['rss_mb'], 0)} ({fmt(r['compose']['rss_before_mb'], 0)};"
            f" {fmt(r['compose']['rss_sequential_mb'], 0)})"
        ),
    )
    row(
        "  notes shown in all / empty digests",
        lambda r: f"{r['compose']['notes_shown']:,} / {r['compose']['empty']:,}",
    )
    row(
        "old: per channel, scaled to all: s",
        lambda r: (
            f"{fmt(r['old']['scaled_wall_s'], 1)} ({r['old']['sample']:,} measured"
            f" in {fmt(r['old']['sample_wall_s'], 1)} s)"
        ),
    )
    row(
        "  per digest median / p95 ms",
        lambda r: f"{fmt(r['old']['median_ms'], 1)} / {fmt(r['old']['p95_ms'], 1)}",
    )
    row("  peak RSS MB", lambda r: fmt(r["old"]["rss_mb"], 0))
    row(
        "old / batch (wall)",
        lambda r: f"{r['old']['scaled_wall_s'] / r['compose']['wall_s']:.1f}x",
    )
    row(
        "Slack rendering per digest (poster, at post time) ms",
        lambda r: (
            f"{fmt(r['compose']['render_ms_per_digest'], 2)}"
            f" ({fmt(r['compose']['messages_per_digest'], 1)} messages)"
        ),
    )
    row(
        "  GC: total s, longest ms (whole process)",
        lambda r: f"{fmt(r['compose']['gc_total_s'], 1)}, {fmt(r['compose']['gc_longest_ms'], 0)}",
    )
    row("tick: one pass, all due: wall s", lambda r: fmt(r["tick"]["wall_s"], 2))
    row("  CPU s of the process (all threads)", lambda r: fmt(r["tick"]["cpu_s"], 2))
    row(
        "  the read worker process: CPU s; batches; peak RSS MB",
        lambda r: (
            f"{fmt(r['tick']['worker_cpu_s'], 2)}; {r['tick']['worker_reads']};"
            f" {fmt(r['tick']['worker_rss_mb'], 0)}"
        ),
    )
    row(
        "  CPU s of the PostgreSQL server's processes (background ones included)",
        lambda r: fmt(r["tick"]["server_cpu_s"], 2),
    )
    row(
        f"  all three together, as a share of {os.cpu_count()} cores busy for the whole pass",
        lambda r: fmt(pass_share(r["tick"]), 2),
    )
    row("  outcome", lambda r: r["tick"]["report"])
    row(
        "  peak RSS MB (before)",
        lambda r: f"{fmt(r['tick']['rss_mb'], 0)} ({fmt(r['tick']['rss_before_mb'], 0)})",
    )
    row("  longest loop stall ms", lambda r: fmt(r["tick"]["stall_ms"], 1))
    row(
        "  GC: total s, longest ms (whole process)",
        lambda r: f"{fmt(r['tick']['gc_total_s'], 1)}, {fmt(r['tick']['gc_longest_ms'], 0)}",
    )
    row("acks during the pass: pass wall s", lambda r: fmt(r["acks"]["pass_s"], 2))
    row(
        "  acks p50 / p99 / max ms",
        lambda r: (
            f"{fmt(r['acks']['ack_p50_ms'], 1)} / {fmt(r['acks']['ack_p99_ms'], 1)}"
            f" / {fmt(r['acks']['ack_max_ms'], 1)}"
        ),
    )
    row(
        "  answered (errors), load covered the pass",
        lambda r: (
            f"{r['acks']['answered']:,} ({r['acks']['errors']}), {r['acks']['covered'] * 100:.0f}%"
        ),
    )
    row(
        "  longest loop stall ms (stalls > 10 ms)",
        lambda r: f"{fmt(r['acks']['stall_ms'], 1)} ({r['acks']['stalls_over_10ms']})",
    )
    row(
        "  peak RSS MB (before)",
        lambda r: f"{fmt(r['acks']['rss_mb'], 0)} ({fmt(r['acks']['rss_before_mb'], 0)})",
    )
    row(
        "  GC: total s, longest ms (whole process)",
        lambda r: f"{fmt(r['acks']['gc_total_s'], 1)}, {fmt(r['acks']['gc_longest_ms'], 0)}",
    )
    print(
        "\nPeak RSS is ru_maxrss of the phase's own process (interpreter, imports and the open "
        "store included; 'before' is its RSS just before the measured work); the read worker's "
        "is its own VmHWM, apart. The loop stall is how late a 5 ms probe callback ran (add up "
        "to 5 ms)."
    )
    if len(names) == 2:
        a, b = names
        for key, label in (("compose", "wall_s"), ("tick", "wall_s"), ("acks", "pass_s")):
            with contextlib.suppress(KeyError, ZeroDivisionError):
                ratio = results[b][key][label] / results[a][key][label]
                print(f"- {key}: {b} / {a} = {ratio:.2f}x")
    print()
    full = (args.notes, args.channels, args.teams, args.weeks) == (1_000_000, 10_000, 1_000, 4)
    size = "" if full else " (NOT the goal sizes)"
    for n in names:
        r = results[n]
        if "compose" in r:
            c = r["compose"]
            worker = c.get("worker_rss_mb", float("nan"))
            both = c["rss_mb"] + (0.0 if math.isnan(worker) else worker)
            print(
                f"- Goal, {n}, composition <= 3 s{size}: {c['wall_s']:.2f} s page by page, "
                f"{met(c['wall_s'] <= GOALS['compose_s'])}; {c['overlap_wall_s']:.2f} s with "
                "reads overlapped in the read worker (as the scheduler does), "
                f"{met(c['overlap_wall_s'] <= GOALS['compose_s'])}; peak RSS <= 300 MB: "
                f"{c['rss_mb']:.0f} MB + {fmt(worker, 0)} MB in the read worker, "
                f"{met(both <= GOALS['compose_rss_mb'])}."
            )
        if "tick" in r:
            t = r["tick"]
            print(
                f"- Goal, {n}, one pass with all due <= 10 s{size}: {t['wall_s']:.2f} s, "
                f"{met(t['wall_s'] <= GOALS['tick_s'] and t['posted'] == args.channels)}."
            )
        if "acks" in r:
            k = r["acks"]
            ok = k["ack_max_ms"] <= GOALS["ack_max_ms"] and k["errors"] == 0
            print(
                f"- Goal, {n}, during the pass no ack over 3 s: max {k['ack_max_ms']:.1f} ms, "
                f"{met(ok)}; p99 <= 50 ms: {k['ack_p99_ms']:.1f} ms, "
                f"{met(k['ack_p99_ms'] <= GOAL_P99_MS)}; longest loop stall "
                f"{k['stall_ms']:.1f} ms{size}."
            )


def main(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    phases = args.phases.split(",")
    results: dict[str, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-digest-") as tmp, contextlib.ExitStack() as st:
        targets: list[tuple[str, str]] = []
        # Set-up, not measured: SQLite's file is filled in a process of its own while
        # PostgreSQL's is loaded here (each makes its own rows: the same rows, from one seed).
        loader = st.enter_context(
            concurrent.futures.ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn")
            )
        )
        t0 = time.perf_counter()
        sqlite_loaded = None
        if args.backend in ("sqlite", "both"):
            path = os.path.join(tmp, "bench.db")
            sqlite_loaded = loader.submit(timed_load_sqlite, path, args)
        if args.backend in ("postgresql", "both"):
            from tests.support.postgres import PostgresNotInstalled, PostgresServer

            try:
                pg = st.enter_context(PostgresServer(settings=DURABLE))
                url = pg.create_database("bench")
                t_pg = time.perf_counter()
                load_postgres(url, args)
                print(
                    f"set-up PostgreSQL: {args.notes:,} notes in {time.perf_counter() - t_pg:.0f} s",
                    flush=True,
                )
                targets.append(("PostgreSQL", url))
            except PostgresNotInstalled as err:
                print(f"(PostgreSQL skipped: {err})")
        if sqlite_loaded is not None:
            took = sqlite_loaded.result()  # its own exception, if the load failed
            print(f"set-up SQLite: {args.notes:,} notes in {took:.0f} s", flush=True)
            targets.insert(0, ("SQLite", path))
        loader.shutdown()  # its process ends before anything is measured
        os.sync()  # the loads' pages written out now, not by the kernel during a phase
        print(
            f"set-up: loaded in {time.perf_counter() - t0:.0f} s (the backends side by side)",
            flush=True,
        )
        for name, target in targets:
            results[name] = {}
            for phase in ("compose", "old", "tick", "acks"):
                if phase not in phases:
                    continue
                extra = {}
                if phase == "acks":
                    extra["pass_s"] = results[name].get("tick", {}).get("wall_s", 10.0)
                results[name][phase] = run_phase(phase, target, args, **extra)
                print(f"  {name} {phase}: {json.dumps(results[name][phase])}", flush=True)
    report(results, args)
    print(
        f"\n({os.cpu_count()} CPUs, Python {sys.version.split()[0]}, SQLite "
        f"{sqlite3.sqlite_version}; this run took {time.perf_counter() - started:.0f} s)"
    )


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--notes", type=int, default=1_000_000)
    parser.add_argument("--channels", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=1_000)
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument(
        "--old-sample", type=int, default=1_000, help="channels composed the per-channel way"
    )
    parser.add_argument(
        "--rate", type=float, default=100.0, help="slash commands/s during the pass"
    )
    parser.add_argument("--phases", default="compose,old,tick,acks")
    parser.add_argument(
        "--quick", action="store_true", help="a tenth of the sizes: 100,000 notes, 1,000 channels"
    )
    parser.add_argument(
        "--freeze",
        action="store_true",
        help="gc.freeze() each phase's start-up heap first (to show what GC pauses cost)",
    )
    parser.add_argument("--child", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--pass-s", type=float, default=10.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.notes, args.channels, args.teams = 100_000, 1_000, 100
        args.old_sample = min(args.old_sample, 300)
    return args


if __name__ == "__main__":
    parsed = parse(sys.argv[1:])
    if parsed.child:
        child(parsed)
    else:
        main(parsed)
