"""How long a chart takes to draw (bot/charts/render.py), against matplotlib's own floor.

    .venv/bin/python bench/bench_charts.py [--rounds 9]

Rows: the chart of a platform comparison (two panels, three bars each) and of a one-platform
estimate. The anchor is an empty Figure of the same size saved as PNG on the same Agg canvas in
the same process: what any chart costs before it draws anything. The issue's goal is one chart
in at most 300 ms on this machine; the ratio is what carries to another. Never fails on a time.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bot.charts.model import chart_for  # noqa: E402
from bot.charts.render import DPI, WIDTH_IN, png  # noqa: E402

SIDE = {
    "platforms": {
        "instagram": {"impressions": [252_207.0] * 3, "clicks": [2_598.0, 2_598.0, 4_565.0]},
        "tiktok": {"impressions": [166_667.0, 390_625.0, 666_667.0], "clicks": [1_500.0, 3_516.0, 6_000.0]},
        "linkedin": {"impressions": [45_455.0, 57_971.0, 80_000.0], "clicks": [200.0, 316.0, 520.0]},
    }
}  # fmt: skip
ONE = {
    "derived": ["impressions", "clicks", "cpc"], "formulas": {}, "platform": "instagram",
    "impressions": 63_052.0, "clicks": 649.4, "ranges": {"clicks": [649.4, 1_141.2]},
}  # fmt: skip


def empty_png() -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, 4.0), dpi=DPI)
    FigureCanvasAgg(fig)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def timed(fn, rounds: int) -> float:
    fn()  # the first draw loads fonts and caches: not what each chart costs
    runs = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    anchor = timed(empty_png, args.rounds)
    print(f"charts: median of {args.rounds} draws each, after one warm-up")
    print("| chart | ms | empty Figure ms | x empty | goal (300 ms) |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, data in (
        ("platform comparison (2 panels x 3 bars)", SIDE),
        ("one estimate (2 panels)", ONE),
    ):
        chart = chart_for(data, "A chart")
        took = timed(lambda chart=chart: png(chart), args.rounds)
        met = "met" if took <= 300 else "MISSED"
        print(f"| {name} | {took:.0f} | {anchor:.0f} | {took / anchor:.1f}x | {met} |")


if __name__ == "__main__":
    main()
