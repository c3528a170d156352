"""How long reading a plain question takes (bot/phrasing.py), against the work every line costs.

    .venv/bin/python bench/bench_phrasing.py [--rounds 7]

Rows: every phrasing of tests/data/phrasings.txt (the median and the slowest), and the worst
shapes at the longest line read as a question (MAX_QUESTION characters: numbers, currency signs,
KEY=VALUE pieces, unit words, platform words). The anchor is what the router does to any line
before it knows what it is: bot.text.clean and str.split of the same text, timed in the same
process and round. Reading runs on the event loop, so the figure that matters is the slowest
line: it is printed as microseconds and as a multiple of the anchor. Never fails on a time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bot.phrasing import MAX_QUESTION  # noqa: E402
from bot.phrasing import _read as read  # noqa: E402  (uncached: a kept Reading costs nothing)
from bot.text import clean  # noqa: E402

CORPUS = HERE.parent / "tests" / "data" / "phrasings.txt"
SHAPES = [
    ("how many ", "1 cpm "),
    ("", "$1"),
    ("", "=1"),
    ("", "a day "),
    ("", "per click "),
    ("", "x vs ig "),
    ("what is ", "smo "),
    ("", "smo smm "),
    ("", "١٢٣ é中😀 "),
]


def corpus() -> list[str]:
    lines = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            lines.append(line.partition("  =>  ")[0])
    return lines


def best_of(fn, text: str, rounds: int) -> float:
    """The fastest of `rounds` runs, each repeated until it lasts 2 ms, in µs per call."""
    best = float("inf")
    for _ in range(rounds):
        n, start = 0, time.perf_counter()
        while True:
            fn(text)
            n += 1
            took = time.perf_counter() - start
            if took > 0.002:
                break
        best = min(best, took / n)
    return best * 1e6


def anchor(text: str) -> None:
    clean(text).split()


def shaped(prefix: str, unit: str) -> str:
    return (prefix + unit * (MAX_QUESTION // len(unit) + 1))[:MAX_QUESTION]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    rows = []
    for said in corpus():
        rows.append((said, best_of(read, said, args.rounds), best_of(anchor, said, args.rounds)))
    times = [r[1] for r in rows]
    ratios = [r[1] / r[2] for r in rows]
    slowest = max(rows, key=lambda r: r[1])
    print(f"plain-question corpus: {len(rows)} phrasings, best of {args.rounds} rounds")
    print("| case | µs | anchor µs | x anchor |")
    print("| --- | ---: | ---: | ---: |")
    print(
        f"| median phrasing | {statistics.median(times):.1f} | "
        f"{statistics.median(r[2] for r in rows):.2f} | {statistics.median(ratios):.0f}x |"
    )
    print(
        f"| slowest phrasing ({slowest[0][:40]!r}) | {slowest[1]:.1f} | {slowest[2]:.2f} | "
        f"{slowest[1] / slowest[2]:.0f}x |"
    )
    worst = []
    for prefix, unit in SHAPES:
        text = shaped(prefix, unit)
        worst.append(
            (prefix + unit, best_of(read, text, args.rounds), best_of(anchor, text, args.rounds))
        )
    for name, took, base in worst:
        print(
            f"| {MAX_QUESTION} characters of {name!r} | {took:.0f} | {base:.1f} | {took / base:.0f}x |"
        )
    top = max(worst, key=lambda r: r[1])
    print(
        f"\nlongest read on the event loop: {top[1] / 1000:.2f} ms ({top[0]!r}, {MAX_QUESTION} "
        f"characters); a longer line is answered as too long without being read"
    )


if __name__ == "__main__":
    main()
