"""Notes store benchmark: insert rate and search latency on 100,000 notes.

    .venv/bin/python bench/bench_notes.py [--notes 100000] [--teams 20] [--queries 500] [--db FILE]
    .venv/bin/python bench/bench_notes.py search [--notes 1000000] [--teams 1000] ...

The second form measures search alone at scale, on SQLite and PostgreSQL side by side, on
bulk-loaded notes (see SEARCH_USAGE below, or `bench_notes.py search --help`).

Inserts go one note per transaction through the async API, as `note` does; searches, listings
and exports go through it too, so the figures include the hop to the store's threads. Prints the
figures; never fails on a time (DESIGN.md: benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Appended, not put first: an older smx on PYTHONPATH is measured with this same benchmark.
sys.path.append(str(Path(__file__).resolve().parent.parent))

from bot.store import NewNote, Viewer, open_store  # noqa: E402
from bot.store.notes import COLUMNS, db_time  # noqa: E402

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


# -- search at scale: `bench_notes.py search` ---------------------------------------------------

SEARCH_USAGE = """Full-text search at scale, SQLite and PostgreSQL side by side on the same notes.

    .venv/bin/python bench/bench_notes.py search [--notes 1000000] [--teams 1000] [--queries 200]
                                                 [--backends sqlite,postgresql] [--keep DIR]

The notes are bulk-loaded (set-up, not measured): --teams teams, each note in one of its ten
channels, 70% team-wide (public) and 30% private to their channel, 6 to 40 words from
VOCABULARY (Zipf-like, so a few words are in nearly every note) and, in half of them, one of
20,000 rare words (each in about 25 notes of all). Every backend gets the same rows: SQLite's
full-text triggers are dropped during the load and the index rebuilt once after it, PostgreSQL's
indexes dropped and built again after a COPY, both as the schema defines them, whatever version
it is at (so an older smx on PYTHONPATH loads the same way, for a before/after).

Then --queries searches of each kind, through the Store API with limit 20 as `/smx notes
search` asks, by a viewer of a random team in one of its channels (70% a public one) with their
user set (the asker's own notes too): one word (of the 60 most frequent), two words, a prefix
(`abc*`, the first three letters of a word), a rare word (one that a note of the viewer's team
holds), a very common word (one of the three that nearly every note holds) and a word that
matches nothing. Backends alternate query by query, so the machine's load drift hits both.
Prints p50/p95/p99 per kind and backend, the same over all kinds, and the goal's line; the hits
of every query are compared between the backends (set and order). Never fails on a time.
"""

SEARCH_KINDS = ("one word", "two words", "prefix (abc*)", "rare word", "very common", "no match")
SEARCH_GOAL_MS = 10.0
RARE_WORDS = [
    f"{a}{b}{c}{k}"
    for a in ("zor", "kip", "mel", "tav", "quo", "ryn", "sef", "bul")
    for b in "aeiou"
    for c in "xndqmlrstv"
    for k in range(50)
]  # 20,000 words no stemmer shortens into another one's stem
CHANNELS_PER_TEAM = 10


def search_rows(count: int, teams: int, seed: int = 13) -> Iterator[tuple]:
    """The notes as rows of id and COLUMNS (SQLite's types: UTC text times, JSON text metrics),
    over a year, written in time order as a live team's are (a note an hour late here and there)."""
    rng = random.Random(seed)
    last = len(WORDS) - 1
    start = datetime(2025, 12, 1, tzinfo=UTC)
    step = 365 * 86400.0 / max(count, 1)
    for i in range(count):
        t = rng.randrange(teams)
        public = rng.random() < 0.7
        channel = f"{'C' if public else 'G'}{t:04}{rng.randrange(CHANNELS_PER_TEAM):02}"
        words = [
            WORDS[min(int(rng.paretovariate(1.2)) - 1, last)] for _ in range(rng.randint(6, 40))
        ]
        if rng.random() < 0.5:
            words.append(rng.choice(RARE_WORDS))
        rng.shuffle(words)
        created = start + timedelta(seconds=i * step - rng.uniform(0, 3600) * (rng.random() < 0.1))
        team = f"T{t:04}"
        yield (
            i + 1, team, team, channel, "public" if public else "private", f"U{rng.randrange(30)}",
            f"{rng.choice(CAMPAIGNS)}", " ".join(words), db_time(created),
            None, None, None, None, None, None, "{}",
        )  # fmt: skip


def load_sqlite(path: str, rows: list[tuple]) -> None:
    """Straight into the file the store made: the triggers on notes (full-text upkeep) dropped,
    the rows inserted in one transaction, every full-text index over notes rebuilt once."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # Set-up only, not what is measured: no waiting for the disk while the file is filled,
        # and the indexes built in memory (the searches open it as smx does).
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -1048576")  # 1 GiB
        triggers = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'notes'"
        ).fetchall()
        fts = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND sql LIKE 'CREATE VIRTUAL TABLE%' AND sql LIKE '%content=''notes''%'"
            )
        ]
        for name, _ in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        conn.execute("BEGIN")
        marks = ", ".join("?" for _ in ("id", *COLUMNS))
        conn.executemany(f"INSERT INTO notes (id, {', '.join(COLUMNS)}) VALUES ({marks})", rows)
        conn.execute("COMMIT")
        for name in fts:
            conn.execute(f'INSERT INTO "{name}" ("{name}") VALUES (\'rebuild\')')
        # Schema v8's index keyed by team has no content table to rebuild from: the store's own
        # rebuild makes it, as the v8 migration does (an older smx has no such function).
        from bot.store import schema

        rebuild = getattr(schema, "rebuild_search", None)
        if rebuild is not None:
            conn.execute("BEGIN")
            rebuild(conn)
            conn.execute("COMMIT")
        for _, sql in triggers:
            conn.execute(sql)
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # read from the file, as after a restart
    finally:
        conn.close()


def load_postgres(url: str, rows: list[tuple]) -> None:
    """COPY into a staging table, then one INSERT ... SELECT computing each note's vector as the
    store does (note_search_vector() over notes.search_text), with notes' indexes dropped first
    and built again after, as the schema defines them."""
    import psycopg

    from bot.store import postgres_schema
    from bot.store.notes import search_text

    vector = postgres_schema.note_search_vector().replace("%s", "s.searched")
    columns = ", ".join(COLUMNS)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        indexes = conn.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes AS i WHERE i.tablename = 'notes'"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conname = i.indexname)"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.execute(
            "CREATE UNLOGGED TABLE bench_staging (LIKE notes INCLUDING DEFAULTS, searched TEXT)"
        )
        with conn.cursor().copy(f"COPY bench_staging (id, {columns}, searched) FROM STDIN") as copy:
            for row in rows:
                values = list(row)
                values[8] = datetime.fromisoformat(values[8])
                copy.write_row([*values, search_text(f"{row[6]} {row[7]}")])
        conn.execute(
            f"INSERT INTO notes (id, {columns}, search)"
            f" SELECT s.id, {', '.join('s.' + c for c in COLUMNS)}, {vector}"
            " FROM bench_staging AS s ORDER BY s.id"
        )
        conn.execute("DROP TABLE bench_staging")
        conn.execute("SELECT setval(pg_get_serial_sequence('notes', 'id'), max(id)) FROM notes")
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute("VACUUM ANALYZE notes")
        # The notes in PostgreSQL's cache, as on a server that has been answering for a while
        # (COPY and CREATE INDEX go through a small ring of buffers and leave it cold).
        with contextlib.suppress(psycopg.Error):
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            conn.execute(
                "SELECT pg_prewarm(c.oid::regclass) FROM pg_class AS c"
                " WHERE c.relname = 'notes' OR c.oid IN"
                " (SELECT indexrelid FROM pg_index WHERE indrelid = 'notes'::regclass)"
            )


def search_queries(rows: list[tuple], teams: int, count: int) -> dict[str, list[tuple]]:
    """(viewer, typed) pairs of every kind, the same for every backend."""
    rng = random.Random(17)
    rare = set(RARE_WORDS)
    in_team: dict[str, list[str]] = {}
    for row in rows:
        for word in row[7].split():
            if word in rare:
                in_team.setdefault(row[1], []).append(word)

    def viewer() -> Viewer:
        t = rng.randrange(teams)
        kind = "C" if rng.random() < 0.7 else "G"
        return Viewer(f"T{t:04}", f"{kind}{t:04}{rng.randrange(CHANNELS_PER_TEAM):02}",
                      f"U{rng.randrange(30)}")  # fmt: skip

    def rare_query(who: Viewer) -> str:
        words = in_team.get(who.team)
        return rng.choice(words) if words else rng.choice(RARE_WORDS)

    makers: dict[str, Callable[[Viewer], str]] = {
        "one word": lambda _: rng.choice(WORDS[:60]),
        "two words": lambda _: f"{rng.choice(WORDS[:30])} {rng.choice(WORDS)}",
        "prefix (abc*)": lambda _: rng.choice(WORDS)[:3] + "*",
        "rare word": rare_query,
        "very common": lambda _: rng.choice(WORDS[:3]),
        "no match": lambda _: f"qq{rng.randrange(10**6)}zx",
    }
    out = {}
    for kind in SEARCH_KINDS:
        pairs = []
        for _ in range(count):
            who = viewer()
            pairs.append((who, makers[kind](who)))
        out[kind] = pairs
    return out


def pct(ms: list[float], q: float) -> float:
    ordered = sorted(ms)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def search_run(
    args: argparse.Namespace, targets: dict[str, str], rows: list[tuple]
) -> tuple[dict, dict]:
    queries = search_queries(rows, args.teams, args.queries)
    stores = {b: open_store(t) for b, t in targets.items()}
    ms: dict[str, dict[str, list[float]]] = {b: {k: [] for k in SEARCH_KINDS} for b in stores}
    hits: dict[str, dict[str, list[list[int]]]] = {b: {k: [] for k in SEARCH_KINDS} for b in stores}
    try:
        for store in stores.values():
            opener = getattr(store, "open", None)
            if opener is not None:
                await opener()
            await asyncio.gather(*(store.schema_version() for _ in range(4)))
            for who, typed in queries["one word"][:20]:  # warm caches and connections
                await store.search_notes(who, typed, limit=20)
        for kind in SEARCH_KINDS:
            for who, typed in queries[kind]:
                for backend, store in stores.items():
                    started = time.perf_counter()
                    found = await store.search_notes(who, typed, limit=20)
                    ms[backend][kind].append((time.perf_counter() - started) * 1000)
                    hits[backend][kind].append([n.id for n in found])
    finally:
        for store in stores.values():
            await store.close()
    return ms, hits


def search_table(ms: dict, hits: dict, backends: list[str]) -> list[str]:
    cell = "{:>8} {:>8} {:>8} {:>7}"
    head = "".join(f"  {TITLES[b] + ': p50 / p95 / p99 ms, hits':>34}" for b in backends)
    lines = [f"{'search (limit 20)':<16}{head}" + ("  PG/SQLite p95" if len(backends) == 2 else "")]
    for kind in (*SEARCH_KINDS, "all kinds"):
        cells = []
        p95s = []
        for b in backends:
            times = (
                [t for k in SEARCH_KINDS for t in ms[b][k]] if kind == "all kinds" else ms[b][kind]
            )
            found = (
                [h for k in SEARCH_KINDS for h in hits[b][k]]
                if kind == "all kinds"
                else hits[b][kind]
            )
            p95s.append(pct(times, 0.95))
            cells.append(
                "  "
                + cell.format(
                    f"{pct(times, 0.5):.2f}",
                    f"{p95s[-1]:.2f}",
                    f"{pct(times, 0.99):.2f}",
                    f"{sum(map(len, found)):,}",
                )  # fmt: skip
            )
        ratio = f"  {p95s[1] / p95s[0]:14.2f}" if len(backends) == 2 and p95s[0] else ""
        lines.append(f"{kind:<16}" + "".join(f"{c:>36}" for c in cells) + ratio)
    return lines


def search_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="bench_notes.py search", description=SEARCH_USAGE.split("\n")[0]
    )
    parser.add_argument("--notes", type=int, default=1_000_000)
    parser.add_argument("--teams", type=int, default=1_000)
    parser.add_argument("--queries", type=int, default=200, help="per kind")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--hits", help="write every query's hits (ids, in order) to this JSON file")
    parser.add_argument("--compare", help="a --hits file of an earlier run: count what differs")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends or set(backends) - set(BACKENDS):
        parser.error(f"backends: choose from {','.join(BACKENDS)}")
    began = time.perf_counter()
    print(f"load average at the start {load()}")
    rows = list(search_rows(args.notes, args.teams))
    print(
        f"{len(rows):,} notes in {args.teams:,} teams generated in {time.perf_counter() - began:.0f} s"
    )
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        targets: dict[str, str] = {}
        for backend in backends:
            if backend == "sqlite":
                targets[backend] = str(Path(tmp) / "search.db")
            else:
                from tests.support.postgres import PostgresServer

                server = stack.enter_context(PostgresServer(settings=SEARCH_POSTGRES))
                targets[backend] = server.create_database("search")
            open_store(targets[backend]).migrate()

        def load_one(backend: str) -> str:
            started = time.perf_counter()
            (load_sqlite if backend == "sqlite" else load_postgres)(targets[backend], rows)
            return (f"{TITLES[backend]}: loaded in {time.perf_counter() - started:.0f} s, "
                    f"{database_mb(backend, targets[backend]):,.0f} MB")  # fmt: skip

        # Set-up, not measured: the backends loaded side by side (most of either load is SQLite's
        # index builds or PostgreSQL's server, which need no interpreter lock).
        loading = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(len(backends)) as pool:
            for line in pool.map(load_one, backends):
                print(line)
        os.sync()  # the loads' pages written out now, not by the kernel during the searches
        print(f"loaded in {time.perf_counter() - loading:.0f} s (the backends side by side)")
        started = time.perf_counter()
        ms, hits = asyncio.run(search_run(args, targets, rows))
        measured = time.perf_counter() - started
    per_team = args.notes / args.teams
    print(f"\n{args.notes:,} notes, {args.teams:,} teams (~{per_team:,.0f} notes each), "
          f"{args.queries} queries of each kind, alternating backends; {measured:.0f} s measured")  # fmt: skip
    print("\n".join(search_table(ms, hits, backends)))
    for b in backends:
        differ = [
            (k, i) for k in SEARCH_KINDS for i, h in enumerate(hits[b][k])
            if len(h) != len(hits[backends[0]][k][i])
        ] if b != backends[0] else []  # fmt: skip
        if differ:
            print(f"{TITLES[b]}: {len(differ)} queries found another number of notes than "
                  f"{TITLES[backends[0]]} (first: {differ[:3]})")  # fmt: skip
    for b in backends:
        p95 = pct([t for k in SEARCH_KINDS for t in ms[b][k]], 0.95)
        verdict = "met" if p95 <= SEARCH_GOAL_MS else "MISSED"
        print(f"Goal search p95 <= {SEARCH_GOAL_MS:g} ms on {args.notes:,} notes ({TITLES[b]}): "
              f"{p95:.2f} ms, {verdict}")  # fmt: skip
    if args.hits:
        Path(args.hits).write_text(json.dumps(hits))
    if args.compare:
        earlier = json.loads(Path(args.compare).read_text())
        for b in backends:
            if b not in earlier:
                continue
            pairs = [
                (x, y) for k in SEARCH_KINDS for x, y in zip(earlier[b][k], hits[b][k], strict=True)
            ]
            other_set = sum(set(x) != set(y) for x, y in pairs)
            other_order = sum(x != y for x, y in pairs) - other_set
            print(f"{TITLES[b]} against {args.compare}: {len(pairs)} queries, {other_set} with other "
                  f"notes, {other_order} with the same notes in another order")  # fmt: skip
    print(
        f"load average at the end {load()}; the whole run took {time.perf_counter() - began:.0f} s"
    )


BACKENDS = ("sqlite", "postgresql")
TITLES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def load() -> str:
    return f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"


def database_mb(backend: str, target: str) -> float:
    if backend == "sqlite":
        files = [Path(target), Path(target + "-wal")]
        return sum(f.stat().st_size for f in files if f.exists()) / 1e6
    import psycopg

    with psycopg.connect(target) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return row[0] / 1e6 if row else 0.0


# Reads only: durability does not matter here (the tests' fast settings), but the notes should
# stay in PostgreSQL's own cache as on a server sized for them.
SEARCH_POSTGRES = {"shared_buffers": "1GB", "maintenance_work_mem": "512MB", "max_wal_size": "4GB"}

if __name__ == "__main__" and sys.argv[1:2] == ["search"]:
    search_main(sys.argv[2:])
elif __name__ == "__main__":
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
