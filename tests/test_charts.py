"""Charts (issue 16, first part): built from the answer's own data, drawn as a real PNG with
matplotlib's object API, and written by `smx ask --chart FILE.png`."""

from __future__ import annotations

import json
import struct
import subprocess
import sys

import pytest

from bot.charts.model import chart_for
from bot.charts.render import png
from tests.test_cli import smx

SIDE = "what does $2k get me on instagram vs tiktok and linkedin?"
ONE = "how many clicks will $500 get me on instagram?"


def size_of(data: bytes) -> tuple[int, int]:
    """A PNG's width and height, read from its IHDR chunk (which also proves it is a PNG)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


async def test_a_platform_comparison_charts_its_own_figures(ask):
    reply = await ask(SIDE)
    chart = chart_for(reply.data, reply.title)
    assert chart is not None and chart.kind == "platforms"
    drawn = {s["metric"]: s["bars"] for s in chart.data()["series"]}
    for platform, figures in reply.data["platforms"].items():
        for metric, (low, typical, high) in figures.items():
            (bar,) = [b for b in drawn[metric] if b["label"].lower() == platform]
            assert (bar["low"], bar["value"], bar["high"]) == (low, typical, high)
    width, height = size_of(png(chart))
    assert width == 800 and 300 < height < 1200
    assert "TikTok" in chart.alt_text() and len(chart.alt_text()) <= 1000


async def test_an_estimate_charts_what_it_worked_out_with_its_range(ask):
    reply = await ask(ONE)
    chart = chart_for(reply.data, reply.title)
    clicks = next(s for s in chart.data()["series"] if s["metric"] == "clicks")
    (bar,) = clicks["bars"]
    assert bar["value"] == reply.data["clicks"]
    assert [bar["low"], bar["high"]] == reply.data["ranges"]["clicks"]
    assert size_of(png(chart))[0] == 800


async def test_answers_with_nothing_to_draw_have_no_chart(ask):
    for text in ("what is roas?", "help", "compare", "notes"):
        reply = await ask(text)
        assert chart_for(reply.data, reply.title) is None


def test_smx_ask_chart_writes_the_png_and_json_reports_the_series(tmp_path):
    out = tmp_path / "side.png"
    done = smx("ask", "--json", "--chart", str(out), SIDE, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)["data"]
    assert data["chart"]["kind"] == "platforms"
    assert {s["metric"] for s in data["chart"]["series"]} >= {"impressions", "clicks"}
    assert size_of(out.read_bytes())[0] == 800


def test_a_query_with_no_chart_says_so_and_writes_nothing(tmp_path):
    out = tmp_path / "none.png"
    done = smx("ask", "--chart", str(out), "what is roas?", cwd=tmp_path)
    assert done.returncode == 0
    assert "this answer has no chart; nothing was written" in done.stderr
    assert not out.exists()


def test_drawing_never_touches_pyplot():
    code = (
        "import sys; from bot.charts.model import Chart, Panel, Bar; "
        "from bot.charts.render import png; "
        "png(Chart('estimate', 't', [Panel('clicks', 'Clicks', 'clicks', [Bar('a', 1.0, 0.5, 2.0)])])); "
        "print('matplotlib.pyplot' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


@pytest.mark.parametrize("bars", [1, 6])
def test_a_chart_of_one_bar_or_many_is_readable_at_slacks_preview_width(bars):
    from bot.charts.model import Bar, Chart, Panel

    panel = Panel("clicks", "Clicks", "clicks", [Bar(f"P{i}", 10.0 * (i + 1)) for i in range(bars)])
    width, height = size_of(png(Chart("platforms", "A chart", [panel])))
    assert width == 800 and height >= 150


async def test_paid_against_organic_charts_each_route_from_the_answer(ask):
    reply = await ask("compare budget=1000 followers=5000 posts=8 platform=instagram")
    chart = chart_for(reply.data, reply.title)
    assert chart is not None and chart.kind == "routes"
    routes = reply.data["routes"]
    drawn = {b["label"]: b["value"] for s in chart.data()["series"] for b in s["bars"]}
    assert drawn["Paid (SMM): impressions"] == routes["paid"]["impressions"]
    assert drawn["Organic (SMO): reach"] == routes["organic"]["organic_reach"]
    assert drawn["Paid (SMM): clicks"] == routes["paid"]["clicks"]
    assert drawn["Organic (SMO): engagements"] == routes["organic"]["organic_engagements"]
    assert size_of(png(chart))[0] == 800


async def test_a_server_draws_in_its_worker_process_the_same_png(ask):
    """bot/charts/draw.py: the worker process draws exactly what png() draws here; a worker that
    dies is replaced by drawing in a thread, and started again for the next chart."""
    import os

    from bot.charts import draw as drawing

    reply = await ask(SIDE)
    chart = chart_for(reply.data, reply.title)
    here = png(chart)
    assert await drawing.draw(chart) == here
    pool = drawing._executor()
    (worker,) = pool._processes.values()  # type: ignore[attr-defined]
    assert worker.pid != os.getpid()
    worker.kill()
    worker.join()
    assert await drawing.draw(chart) == here  # the broken pool noticed, the chart still drawn
    assert await drawing.draw(chart) == here and drawing._executor() is not pool
    drawing.stop()
