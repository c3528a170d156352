"""How long a chart takes to draw (bot/charts/render.py), against matplotlib's own floor.

    .venv/bin/python bench/bench_charts.py [--rounds 9] [--loop-seconds 5]

Rows: the chart of a platform comparison (two panels, three bars each), of a one-platform
estimate, of a weekly digest of ten campaigns (seven panels, the tallest smx draws), and of a
campaign over 21 days on two platforms with targets (ten line panels). Then the event loop's
lateness (a 5 ms tick) while digest charts are drawn one after another in a thread and in the
chart worker process, beside the same loop idle: what drawing costs the acks. The anchor is an empty Figure of the same size saved as PNG on the same Agg canvas in
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


# A digest of ten campaigns with every figure, and its four weeks: the tallest chart smx draws.
DIGEST = {
    "digest": {
        "notes": 40, "tz": "UTC", "spend": {"$": 5_500.0},
        "campaign_data": [
            {"campaign": f"campaign-{i}", "notes": 4, "spend": 1_000.0 - 50 * i, "currency": "$",
             "platforms": ["instagram"], "cpm": 7.0 + i, "cpm_published": [5.0, 7.9, 12.0],
             "cpc": 0.5 + i / 10, "cpc_published": [0.4, 0.7, 1.2], "ctr": 0.01 + i / 1000,
             "ctr_published": [0.008, 0.012, 0.02], "cpa": 20.0 + i, "cpa_published": [15.0, 25.0, 40.0]}
            for i in range(10)
        ],
        "trend": [{"label": f"Nov {d}", "notes": 10 + d, "spend": {"$": 1_000.0 + d}}
                  for d in (2, 9, 16, 23)],
    }
}  # fmt: skip


def campaign() -> dict:
    """`notes spring-launch chart`'s data for 21 days on Instagram and LinkedIn, with targets
    (bot/notes/series.py over what the store's day read returns)."""
    from datetime import date, timedelta

    from bot.notes.series import KEY, build
    from bot.store.series import DayFigures

    days = []
    for n in range(21):
        day = (date(2026, 11, 10) + timedelta(days=n)).isoformat()
        for platform, spend, impressions, clicks, conversions in (
            ("instagram", 130.0 + n, 14_000.0 + 50 * n, 150.0 + n, 5.0),
            ("linkedin", 160.0 + n, 4_600.0 + 20 * n, 24.0 + n % 5, 1.0 + n % 3),
        ):
            days.append(DayFigures(
                day, platform, "$", 1, spend, impressions, clicks, conversions,
                (spend, impressions), (spend, clicks), (clicks, impressions),
                (spend, conversions), (),
            ))  # fmt: skip
    targets = [{"key": "cpa", "op": "<=", "value": 40.0, "currency": "$"},
               {"key": "spend", "op": "<=", "value": 7_000.0, "currency": "$"}]  # fmt: skip
    return {KEY: build("spring-launch", days, targets)}


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
    parser.add_argument("--loop-seconds", type=float, default=5.0)
    args = parser.parse_args()
    anchor = timed(empty_png, args.rounds)
    print(f"charts: median of {args.rounds} draws each, after one warm-up")
    print("| chart | ms | empty Figure ms | x empty | goal (300 ms) |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, data in (
        ("platform comparison (2 panels x 3 bars)", SIDE),
        ("one estimate (2 panels)", ONE),
        ("weekly digest (10 campaigns: spend, 4 figures, 2 trend panels)", DIGEST),
        ("campaign (21 days, 2 platforms: 10 line panels)", campaign()),
    ):
        chart = chart_for(data, "A chart")
        took = timed(lambda chart=chart: png(chart), args.rounds)
        met = "met" if took <= 300 else "MISSED"
        print(f"| {name} | {took:.0f} | {anchor:.0f} | {took / anchor:.1f}x | {met} |")
    loop_while_drawing(args.loop_seconds)


async def _lateness(seconds: float, work) -> list[float]:
    """How late a callback due every 5 ms ran, in ms, over `seconds` while `work` runs beside it
    (what an ack waiting on the event loop would wait, at worst, the probe's tick more)."""
    import asyncio

    loop = asyncio.get_running_loop()
    late: list[float] = []
    end = loop.time() + seconds
    runner = asyncio.ensure_future(work()) if work else None
    while loop.time() < end:
        due = loop.time() + 0.005
        await asyncio.sleep(0.005)
        late.append(max(0.0, loop.time() - due) * 1000)
    if runner is not None:
        runner.cancel()
    return late


def loop_while_drawing(seconds: float) -> None:
    """The event loop's lateness while digest charts are drawn one after another off the loop:
    in a thread, and in the chart worker process smx uses; beside the same loop idle."""
    import asyncio

    chart = chart_for(DIGEST, "A chart")

    async def drawing() -> None:
        while True:
            await asyncio.to_thread(png, chart)

    async def in_worker() -> None:
        from bot.charts.draw import draw

        await draw(chart)  # started (and matplotlib loaded there) before the clock runs
        while True:
            await draw(chart)

    async def all_three() -> tuple[list[float], list[float], list[float]]:
        idle = await _lateness(seconds, None)
        return idle, await _lateness(seconds, drawing), await _lateness(seconds, in_worker)

    idle, busy, worker = asyncio.run(all_three())
    print(f"\nthe event loop while digest charts are drawn off it: a 5 ms tick for {seconds:g} s")
    print("| loop | ticks | late p50 ms | late p99 ms | late max ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    rows = (
        ("idle (anchor)", idle),
        ("drawing charts in a thread", busy),
        ("drawing charts in the worker process (bot/charts/draw.py, what smx does)", worker),
    )
    for name, late in rows:
        ordered = sorted(late)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        print(
            f"| {name} | {len(late)} | {statistics.median(late):.2f} | {p99:.2f} | {ordered[-1]:.2f} |"
        )


if __name__ == "__main__":
    main()
