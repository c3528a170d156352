"""Instructions to build (or batch-read) a page of digests, counted by valgrind: a figure that a
busy machine cannot move, for comparing two trees when wall and CPU times are all noise.

    .venv/bin/python bench/digest_instructions.py make DB.sqlite      # the dataset, once (~75 s)
    .venv/bin/python bench/digest_instructions.py count DB.sqlite [build|read] [--channels 100]

`make` writes bench_digest.py's SQLite dataset (1,000,000 notes, 10,000 channels, same seed).
`count` runs this file under `valgrind --tool=callgrind` twice, with one pass and with four, and
prints the instructions of one pass: the difference over three, so start-up and the first read
fall out. A pass is building the first `--channels` channels' digests from their week (read
once before), or reading their weeks again (Store.week_activities' SQL and Python). Run it with
each tree's own copy of this file: it imports `bot` from the tree it sits in. Needs valgrind
(Debian's package); about 30-60 s a count.
"""

from __future__ import annotations

import argparse
import gc
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(1, str(HERE))


def make(db: str) -> None:
    import bench_digest

    bench_digest.load_sqlite(db, bench_digest.parse([]))


def run(db: str, what: str, channels: int, passes: int) -> None:
    """What valgrind counts: one read, then `passes` passes of `what`."""
    import bench_digest

    from bot.digest.compose import PER_CAMPAIGN, Digest, build_all
    from bot.store import Viewer
    from bot.store import digests as reading

    window = bench_digest.window()
    chosen = bench_digest.channels_of(bench_digest.parse([]))[:channels]
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    digests = [Digest(team=t, channel=c, window=window, week="W") for t, c in chosen]
    viewers = [Viewer(d.team, d.channel) for d in digests]
    weeks = reading.week_activities(conn, viewers, window.since, window.until, PER_CAMPAIGN)
    gc.collect()
    gc.freeze()
    for _ in range(passes):
        if what == "build":
            build_all(weeks, digests)
        else:
            reading.week_activities(conn, viewers, window.since, window.until, PER_CAMPAIGN)


def count(db: str, what: str, channels: int) -> None:
    def instructions(passes: int) -> int:
        done = subprocess.run(
            [
                "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                sys.executable, __file__, "run", db, what,
                "--channels", str(channels), "--passes", str(passes),
            ],
            capture_output=True,
            text=True,
            check=True,
        )  # fmt: skip
        found = re.search(r"Collected : (\d+)", done.stderr)
        if not found:
            raise SystemExit(f"valgrind said no count:\n{done.stderr[-2000:]}")
        return int(found.group(1))

    one, four = instructions(1), instructions(4)
    per_pass = (four - one) / 3
    print(
        f"{what} of {channels} channels' digests ({HERE.parent}): "
        f"{per_pass / 1e6:,.1f} million instructions a pass"
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("verb", choices=("make", "count", "run"))
    parser.add_argument("db")
    parser.add_argument("what", nargs="?", choices=("build", "read"), default="build")
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--passes", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.verb == "make":
        make(args.db)
    elif args.verb == "count":
        count(args.db, args.what, args.channels)
    else:
        run(args.db, args.what, args.channels, args.passes)


if __name__ == "__main__":
    main(sys.argv[1:])
