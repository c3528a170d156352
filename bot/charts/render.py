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
    if any(p.style == "line" for p in chart.panels):
        return _grid_png(chart)
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


# -- line panels over time (a campaign's days or weeks) -----------------------------------------

LINE_ROW_IN = 2.35  # inches of one row of line panels
REALISED, BAND, TYPICAL, TARGET = PALETTE[0], PALETTE[4], "#555555", PALETTE[5]
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _layout(chart: Chart) -> list[list[int]]:
    """Rows of panel indexes: the first `wide` panels (and any bars panel) a row each, the
    rest `columns` to a row."""
    columns = max(1, int(chart.extra.get("columns", 1)))
    wide = int(chart.extra.get("wide", 0))
    rows: list[list[int]] = []
    for i, panel in enumerate(chart.panels):
        if i < wide or panel.style != "line" or columns == 1:
            rows.append([i])
        elif (
            rows
            and len(rows[-1]) < columns
            and rows[-1][0] >= wide
            and (chart.panels[rows[-1][0]].style == "line")
        ):
            rows[-1].append(i)
        else:
            rows.append([i])
    return rows


def _grid_png(chart: Chart) -> bytes:
    out = io.BytesIO()
    grid_figure(chart).savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def grid_figure(chart: Chart):  # noqa: ANN201 (matplotlib is imported only in here)
    """A chart with line panels as a Figure (what png() saves; tests read its axes): a grid,
    `chart.extra` saying how many columns (one platform each, for a campaign) and how many
    leading panels span the width."""
    import textwrap

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    rows = _layout(chart)
    columns = max(len(r) for r in rows)
    heights = [
        LINE_ROW_IN if chart.panels[r[0]].style == "line" else 0.45 + 0.38 * len(chart.panels[r[0]].bars)
        for r in rows
    ]  # fmt: skip
    caption = textwrap.fill(chart.caption, 125) if chart.caption else ""
    height = 1.4 + sum(heights) + 0.16 * (caption.count("\n") + 1 if caption else 0)
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(chart.title, fontsize=13, fontweight="bold", x=0.01, ha="left")
    # The legend has a row of its own under the title: a figure legend "outside" the axes
    # was drawn over the title at this width.
    grid = fig.add_gridspec(len(rows) + 1, columns, height_ratios=[0.28, *heights])
    key = fig.add_subplot(grid[0, :])
    key.axis("off")
    for r, row in enumerate(rows):
        for c, index in enumerate(row):
            panel = chart.panels[index]
            span = grid[r + 1, :] if len(row) == 1 else grid[r + 1, c]
            ax = fig.add_subplot(span)
            if panel.style == "line":
                ticks = 9 if len(row) == 1 else max(3, 9 // columns + 1)
                _line(
                    ax, panel, ticks, last_row=r == len(rows) - 1, period=chart.extra.get("period")
                )
            else:
                _bars(ax, panel)
    lines = [p for p in chart.panels if p.style == "line"]
    handles = [Line2D([], [], color=REALISED, marker="o", lw=2, ms=4, label="realised")]
    if any(p.band for p in lines):
        handles.append(Patch(facecolor=BAND, alpha=0.3, label="published range"))
    if any(p.typical is not None for p in lines):
        handles.append(Line2D([], [], color=TYPICAL, ls="--", lw=1.2, label="published typical"))
    if any(p.target is not None for p in lines):
        handles.append(Line2D([], [], color=TARGET, lw=1.8, ls=(0, (6, 2)), label="target"))
    key.legend(handles=handles, loc="center left", ncols=len(handles), frameon=False,
               fontsize=9, borderaxespad=0)  # fmt: skip
    if caption:
        fig.supxlabel(caption, fontsize=8, color="#444444", x=0.01, ha="left")
    return fig


def _tick_label(label: str) -> str:
    """`2026-11-03` as `3 Nov`, `2026-W45` as `W45`: short enough to sit flat under a point."""
    if len(label) == 10 and label[4] == "-" and label[7] == "-":
        month = int(label[5:7])
        return f"{int(label[8:])} {MONTHS[month - 1]}" if 1 <= month <= 12 else label
    if "-W" in label:
        return "W" + label.split("-W", 1)[1]
    return label


def _axis_text(unit: str, value: float, top: float) -> str:
    """A y tick: `1.2%`, `$0.75`, `$300`, `$4.5k` (cents only on an axis of small amounts, so
    one axis never mixes `$0.00` with `$300`)."""
    if unit == "%":
        shown = f"{value * 100:.2f}".rstrip("0").rstrip(".")
        return f"{shown}%"
    prefix = f"{unit} " if unit.isalpha() else unit
    if top >= 1000:
        return f"{prefix}{_count(value)}"
    if top >= 20:
        return f"{prefix}{value:,.0f}"
    return f"{prefix}{value:.2f}"


def _line(ax, panel, ticks: int, *, last_row: bool, period: str | None) -> None:  # noqa: ANN001
    import math

    from matplotlib.ticker import FuncFormatter, MaxNLocator

    xs = list(range(len(panel.points)))
    ys = [p.value if p.value is not None else math.nan for p in panel.points]
    if panel.band is not None:
        ax.axhspan(panel.band[0], panel.band[1], color=BAND, alpha=0.3, lw=0, zorder=1)
    if panel.typical is not None:
        ax.axhline(panel.typical, color=TYPICAL, ls="--", lw=1.2, zorder=2)
    if panel.target is not None:
        ax.axhline(panel.target, color=TARGET, lw=1.8, ls=(0, (6, 2)), zorder=3)
        # Labelled above the axes, in the line's colour: a label on the line itself hid the
        # points it crossed.
        ax.set_title(panel.target_label, loc="right", fontsize=8.5, color=TARGET,
                     fontweight="bold")  # fmt: skip
    known = [y for y in ys if not math.isnan(y)]
    if known:
        ax.plot(xs, ys, color=REALISED, marker="o", lw=2, ms=4, zorder=4)
    else:
        ax.text(0.5, 0.5, "no figure in these notes", transform=ax.transAxes, ha="center",
                va="center", fontsize=9, color="#666666")  # fmt: skip
    top = max([*known, *(panel.band or ()), panel.typical or 0.0, panel.target or 0.0, 0.0])
    top = top * 1.15 if top > 0 else 1.0
    ax.set_ylim(0, top)
    ax.set_xlim(-0.5, max(len(xs) - 0.5, 0.5))
    step = max(1, math.ceil(len(xs) / ticks))
    ax.set_xticks(xs[::step], [_tick_label(p.label) for p in panel.points[::step]], fontsize=8)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: _axis_text(panel.unit, v, top)))
    ax.tick_params(axis="y", labelsize=8)
    ax.set_ylabel(panel.unit, fontsize=9)
    if last_row and period:
        ax.set_xlabel("day (UTC)" if period == "day" else "ISO week", fontsize=8)
    ax.set_title(panel.title, loc="left", fontsize=10)
    ax.grid(axis="y", color="#dddddd", zorder=0)
    ax.spines[["top", "right"]].set_visible(False)


def _bars(ax, panel) -> None:  # noqa: ANN001
    """A bars panel inside a grid chart, drawn as png() draws one."""
    from matplotlib.ticker import FuncFormatter

    labels = [b.label for b in panel.bars]
    values = [b.value for b in panel.bars]
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(panel.bars))]
    ax.barh(labels, values, color=colours, height=0.6, zorder=2)
    unit = "" if panel.unit == panel.metric else f" ({panel.unit})"
    ax.set_title(f"{panel.title}{unit}", loc="left", fontsize=11)
    ax.xaxis.set_major_formatter(FuncFormatter(_count))
    ax.invert_yaxis()
    ax.grid(axis="x", color="#dddddd", zorder=0)
    ax.spines[["top", "right"]].set_visible(False)
