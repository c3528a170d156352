"""A Chart drawn as a PNG: matplotlib's object API (`Figure` on the Agg canvas, never pyplot, so
nothing global is touched in a server), a colour-blind-safe palette (Okabe and Ito), 800 pixels
wide as Slack previews an image. CPU work: a server calls it off the event loop."""

from __future__ import annotations

import io

from bot.charts.model import Chart

# Okabe–Ito: distinguishable with every common colour-vision deficiency.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
WIDTH_IN, DPI = 8.0, 100  # 800 px


def _count(value: float, _position: object = None) -> str:
    for size, suffix in ((1e9, "b"), (1e6, "m"), (1e3, "k")):
        if abs(value) >= size:
            shown = f"{value / size:.1f}".rstrip("0").rstrip(".")
            return f"{shown}{suffix}"
    return f"{value:,.0f}"


def png(chart: Chart) -> bytes:
    """The chart as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    rows = len(chart.panels)
    height = 0.9 + sum(0.45 + 0.38 * len(p.bars) for p in chart.panels) + 0.4
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(chart.title, fontsize=13, fontweight="bold", x=0.01, ha="left")
    axes = fig.subplots(
        rows, 1, squeeze=False, height_ratios=[max(1, len(p.bars)) for p in chart.panels]
    )
    for ax, panel in zip((a[0] for a in axes), chart.panels, strict=True):
        labels = [b.label for b in panel.bars]
        values = [b.value for b in panel.bars]
        colours = [PALETTE[i % len(PALETTE)] for i in range(len(panel.bars))]
        lows = [b.value - b.low if b.low is not None else 0.0 for b in panel.bars]
        highs = [b.high - b.value if b.high is not None else 0.0 for b in panel.bars]
        ax.barh(labels, values, color=colours, height=0.6, zorder=2)
        if any(lows) or any(highs):
            ax.errorbar(values, labels, xerr=[lows, highs], fmt="none", ecolor="#222222",
                        elinewidth=1.4, capsize=5, zorder=3)  # fmt: skip
        for y, bar in enumerate(panel.bars):
            edge = bar.high if bar.high is not None else bar.value
            ax.annotate(
                _count(bar.value), (edge, y), xytext=(6, 0), textcoords="offset points",
                va="center", fontsize=10,
            )  # fmt: skip
        unit = "" if panel.unit == panel.metric else f" ({panel.unit})"
        ax.set_title(f"{panel.title}{unit}", loc="left", fontsize=11)
        ax.xaxis.set_major_formatter(FuncFormatter(_count))
        ax.invert_yaxis()
        ax.grid(axis="x", color="#dddddd", zorder=0)
        ax.spines[["top", "right"]].set_visible(False)
        ax.margins(x=0.18)
    if chart.caption:  # below the axes, room made for it by the layout, wrapped to the width
        import textwrap

        fig.supxlabel(
            textwrap.fill(chart.caption, 130), fontsize=8, color="#444444", x=0.01, ha="left"
        )
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()
