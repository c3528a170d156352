"""A Chart drawn as a PNG: matplotlib's object API (`Figure` on the Agg canvas, never pyplot, so
nothing global is touched in a server), a colour-blind-safe palette (Okabe and Ito), 800 pixels
wide as Slack previews an image. CPU work: a server calls it off the event loop."""

from __future__ import annotations

import io

from bot.charts.model import Chart

# Okabe–Ito: distinguishable with every common colour-vision deficiency (its yellow, faint on
# white, replaced by a mid grey).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#7F7F7F")
WIDTH_IN, DPI = 8.0, 100  # 800 px


def _count(value: float, _position: object = None) -> str:
    for size, suffix in ((1e9, "b"), (1e6, "m"), (1e3, "k")):
        if abs(value) >= size:
            shown = f"{value / size:.1f}".rstrip("0").rstrip(".")
            return f"{shown}{suffix}"
    return f"{value:,.0f}"


def _money(sign: str):
    def shown(value: float, _position: object = None) -> str:
        if abs(value) >= 1000:
            return f"{sign}{_count(value)}"
        return f"{sign}{value:,.2f}".rstrip("0").rstrip(".")

    return shown


def _percent(value: float, _position: object = None) -> str:
    return f"{value * 100:.2f}".rstrip("0").rstrip(".") + "%"


def _formatter(unit: str):
    """How an axis and a bar's label show a value of `unit`."""
    from bot.units import CURRENCY_SYMBOLS

    if unit == "%":
        return _percent
    if unit in CURRENCY_SYMBOLS:
        return _money(unit)
    return _count


def _counts(unit: str) -> bool:
    """Whether an axis counts things (people, clicks, notes): its ticks are whole numbers, as
    its labels are (a tick at 1.33 labelled "1" would misstate every column against it)."""
    from bot.units import CURRENCY_SYMBOLS

    return unit != "%" and unit not in CURRENCY_SYMBOLS


def _label(unit: str):
    """How a bar's own label shows its value: money to the cent, rates as percentages."""
    from bot import units

    if unit == "%":
        return units.format_rate
    if unit in units.CURRENCY_SYMBOLS:
        return lambda value: units.format_money(value, unit)
    return _count


def _height(panel) -> float:
    if panel.style == "columns":
        return 1.6
    if panel.style == "line":
        return LINE_IN
    return 0.45 + 0.38 * max(1, len(panel.bars))


def _rows(chart: Chart) -> list[list]:
    """The panels row by row: one a row, or (chart.extra["two_up"]) side by side in pairs where
    two in a row are of the same style, so a long chart fits Slack's preview; or
    (chart.extra["columns"]: a campaign's, one column per platform) the first `wide` panels a
    row each and the line panels after them `columns` to a row."""
    if chart.extra.get("columns"):
        return _grid_rows(chart)
    if not chart.extra.get("two_up"):
        return [[p] for p in chart.panels]
    rows: list[list] = []
    for panel in chart.panels:
        last = rows[-1] if rows else None
        if last and len(last) == 1 and last[0].style == panel.style != "bars":
            last.append(panel)
        else:
            rows.append([panel])
    return rows


def _grid_rows(chart: Chart) -> list[list]:
    columns, wide = int(chart.extra["columns"]), int(chart.extra.get("wide", 0))
    rows: list[list] = []
    for i, panel in enumerate(chart.panels):
        last = rows[-1] if rows else None
        if (
            i >= wide
            and panel.style == "line"
            and last
            and len(last) < columns
            and (chart.panels.index(last[0]) >= wide and last[0].style == "line")
        ):
            last.append(panel)
        else:
            rows.append([panel])
    return rows


# The layout, in inches, worked out here rather than by matplotlib's constrained layout (which
# measured every label twice and cost about a third of a digest chart's drawing).
TOP_IN = 0.45  # the chart's title and the legend
LINE_TOP_IN = 0.7  # the title, and the line charts' legend in a row of its own under it
LINE_IN = 1.45  # the axes of a line panel
UNDATED_IN = 0.12  # below a row of line panels whose dates are written under the last row
TITLE_IN = 0.34  # a panel's title, above its axes
TICKS_IN = 0.34  # the x tick labels below a panel's axes
XLABEL_IN = 0.2  # a panel's x axis label ("week beginning")
RIGHT_IN = 0.3
GAP_IN = 0.3  # between the two panels of a row
CHAR_IN = 0.085  # the width of a character of a 10 point label, at most on average
CAPTION_LINE_IN = 0.15
CAPTION_WIDTH = 130  # characters to a caption line at 8 points across 800 px


def _label_room(panel) -> float:
    """The inches left of a panel's axes its y tick labels need."""
    if panel.style == "columns":
        return 0.7  # "$1.5k"-sized tick labels
    if panel.style == "line":
        return 0.8  # "$12.50"-sized tick labels and the unit beside them
    longest = max((len(b.label) for b in panel.bars), default=4)
    per_char = CHAR_IN if panel.style == "bars" else CHAR_IN * 0.9  # 10 or 9 points
    return min(2.8, 0.2 + per_char * longest)


def _below(panel) -> float:
    return TICKS_IN + (XLABEL_IN if panel.style in ("columns", "line") else 0.0)


def _spans(row: list) -> list[tuple[float, float]]:
    """Where each panel of a row of line panels sits, left to right, in inches."""
    n = len(row)
    cell = (WIDTH_IN - RIGHT_IN - GAP_IN * (n - 1)) / n
    return [(i * (cell + GAP_IN) + _label_room(p), (i + 1) * cell + i * GAP_IN)
            for i, p in enumerate(row)]  # fmt: skip


def png(chart: Chart) -> bytes:
    """The chart as PNG bytes."""
    import matplotlib

    # Glyphs drawn without hinting: a fifth of a digest chart's time (text is most of it), and
    # at 9-13 points and 800 px no less legible. Set for this drawing only, not globally.
    with matplotlib.rc_context({"text.hinting": "no_hinting"}):
        return _png(chart)


def _png(chart: Chart) -> bytes:
    out = io.BytesIO()
    # Level 1 of zlib: a third of the encoding time for a slightly bigger file (flat colours).
    figure(chart).savefig(out, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return out.getvalue()


def figure(chart: Chart):  # noqa: ANN201 (matplotlib is imported only in here)
    """The chart as a matplotlib Figure on the Agg canvas (png() saves it; tests read its axes)."""
    import textwrap

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = _rows(chart)
    caption = textwrap.fill(chart.caption, CAPTION_WIDTH) if chart.caption else ""
    caption_in = (caption.count("\n") + 1) * CAPTION_LINE_IN + 0.15 if caption else 0.1
    heights = [max(_height(p) for p in row) for row in rows]
    belows = [max(_below(p) for p in row) for row in rows]
    lines = [p for p in chart.panels if p.style == "line"]
    if lines:  # the period is named under the last row of line panels only
        last = max(i for i, row in enumerate(rows) if row[0].style == "line")
        # Every line panel counts the same periods: the dates are written under the last row
        # only (a column reads down to them along the grid), which also halves the text drawn.
        belows = [UNDATED_IN if row[0].style == "line" and i != last else b
                  for i, (row, b) in enumerate(zip(rows, belows, strict=True))]  # fmt: skip
    top_in = LINE_TOP_IN if lines else TOP_IN
    height = top_in + sum(TITLE_IN + h + b for h, b in zip(heights, belows, strict=True))
    height += caption_in
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.suptitle(chart.title, fontsize=13, fontweight="bold", x=0.01, y=1 - 0.12 / height,
                 ha="left", va="top")  # fmt: skip
    colours = _colours(chart)
    # Single panels share one left edge (the widest labels of them), so their axes line up.
    single_left = max((_label_room(r[0]) for r in rows if len(r) == 1), default=0.5)
    top = height - top_in
    for r, (row, h, below) in enumerate(zip(rows, heights, belows, strict=True)):
        top -= TITLE_IN
        bottom = top - h
        if row[0].style == "line":
            spans = _spans(row)
        elif len(row) == 1:
            spans = [(single_left, WIDTH_IN - RIGHT_IN)]
        else:
            half = (WIDTH_IN - RIGHT_IN - GAP_IN) / 2
            same = row[0].style != "columns" and _labels(row[1]) == _labels(row[0])
            right_left = 0.15 if same else _label_room(row[1])
            spans = [(_label_room(row[0]), half), (half + GAP_IN + right_left, WIDTH_IN - RIGHT_IN)]
        starts = [0.1] if len(row) == 1 else [0.1, (WIDTH_IN - RIGHT_IN - GAP_IN) / 2 + GAP_IN]
        for c, (panel, (x0, x1)) in enumerate(zip(row, spans, strict=True)):
            ax = fig.add_axes((x0 / WIDTH_IN, bottom / height, (x1 - x0) / WIDTH_IN, h / height))
            if panel.style == "line":
                _line(ax, panel, (x1 - x0), chart.extra.get("period"), dated=r == last)
            else:
                draw = {"against": _against, "columns": _columns}.get(panel.style, _bars)
                draw(ax, panel, colours)
                # The title starts where the panel does (over its labels), so a half-width
                # panel's title has the whole half to itself.
                ax.set_title(ax.get_title(loc="left"), loc="left", fontsize=11, y=1.0, pad=6,
                             x=(starts[c] - x0) / (x1 - x0))  # fmt: skip
            ax.spines[["top", "right"]].set_visible(False)
            same_rows = panel.style not in ("columns", "line")
            if c == 1 and same_rows and _labels(panel) == _labels(row[0]):
                for label in getattr(ax, "row_labels", []):  # the same rows as its neighbour's
                    label.set_visible(False)
        top = bottom - below
    if lines:
        _line_legend(fig, lines, height)
    if caption:
        fig.text(0.01, 0.1 / height, caption, fontsize=8, color="#444444", ha="left",
                 va="bottom")  # fmt: skip
    return fig


def _colours(chart: Chart) -> dict[str, str]:
    """One colour for each thing a chart's bars are about, the same in every panel: a campaign
    is one colour whether a panel names it with its platform ("spring (instagram)") or not."""
    out: dict[str, str] = {}
    for panel in chart.panels:
        for bar in panel.bars:
            out.setdefault(bar.key or _thing(bar.label), PALETTE[len(out) % len(PALETTE)])
    return out


def _thing(label: str) -> str:
    return label.split(" (", 1)[0]


def _labels(panel) -> list[str]:
    return [b.label for b in panel.bars]


def _title(ax, panel) -> None:
    from bot.units import CURRENCY_SYMBOLS

    unit = f" ({panel.unit})" if panel.unit == "%" or panel.unit in CURRENCY_SYMBOLS else ""
    # A given y: matplotlib then skips working out where the title clears the tick labels
    # (measuring every label), which there are none above the axes to clear.
    ax.set_title(f"{panel.title}{unit}", loc="left", fontsize=11, y=1.0, pad=6)


def _row_labels(ax, labels: list[str], size: int) -> None:
    """Each row's name left of the axes, as plain text: a tick per row (two marker lines, two
    texts and a grid line each) cost about a third of drawing a panel of bars."""
    ax.set_yticks([])
    where = ax.get_yaxis_transform()  # x in the axes' width, y in rows
    ax.row_labels = [
        ax.text(-0.015, y, label, transform=where, ha="right", va="center", fontsize=size)
        for y, label in enumerate(labels)
    ]


def _bars(ax, panel, colours: dict[str, str]) -> None:
    """A bar at each value, the published low–high as a whisker around it."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    shown, said = _formatter(panel.unit), _label(panel.unit)
    rows = list(range(len(panel.bars)))  # by row: two bars of the same label stay two bars
    values = [b.value for b in panel.bars]
    fills = [colours.get(b.key) or PALETTE[i % len(PALETTE)] for i, b in enumerate(panel.bars)]
    lows = [b.value - b.low if b.low is not None else 0.0 for b in panel.bars]
    highs = [b.high - b.value if b.high is not None else 0.0 for b in panel.bars]
    ax.barh(rows, values, color=fills, height=0.6, zorder=2)
    _row_labels(ax, [b.label for b in panel.bars], 10)
    if any(lows) or any(highs):
        ax.errorbar(values, rows, xerr=[lows, highs], fmt="none", ecolor="#222222",
                    elinewidth=1.4, capsize=5, zorder=3)  # fmt: skip
    for y, bar in enumerate(panel.bars):
        edge = bar.high if bar.high is not None else bar.value
        ax.annotate(
            said(bar.value), (edge, y), xytext=(6, 0), textcoords="offset points",
            va="center", fontsize=10,
        )  # fmt: skip
    _title(ax, panel)
    ax.xaxis.set_major_formatter(FuncFormatter(shown))
    ax.xaxis.set_major_locator(MaxNLocator(5, integer=_counts(panel.unit)))
    ax.invert_yaxis()
    ax.grid(axis="x", color="#dddddd", zorder=0)
    ax.margins(x=0.18)


BAND = "#C8D9EA"  # the published range: light, behind the realised bar


def _against(ax, panel, colours: dict[str, str]) -> None:
    """Each realised value as a bar over its published low–high (a band), the typical a tick."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    shown, said = _formatter(panel.unit), _label(panel.unit)
    bars = panel.bars
    banded = [(y, b) for y, b in enumerate(bars) if b.low is not None and b.high is not None]
    if banded:  # one call for each layer: a call per bar cost more than the drawing
        ax.barh([y for y, _ in banded], [b.high - b.low for _, b in banded],  # type: ignore[operator]
                left=[b.low for _, b in banded], height=0.8, color=BAND, zorder=1)  # fmt: skip
    ax.barh(range(len(bars)), [b.value for b in bars], height=0.42,
            color=[colours[b.key or _thing(b.label)] for b in bars], zorder=2)  # fmt: skip
    typical = [(y, b.typical) for y, b in enumerate(bars) if b.typical is not None]
    if typical:
        ax.vlines([t for _, t in typical], [y - 0.4 for y, _ in typical],
                  [y + 0.4 for y, _ in typical], color="#222222", linewidth=2, zorder=3)  # fmt: skip
    for y, bar in enumerate(bars):
        edge = max(bar.value, bar.high or 0.0)
        ax.annotate(said(bar.value), (edge, y), xytext=(6, 0), textcoords="offset points",
                    va="center", fontsize=9)  # fmt: skip
    _row_labels(ax, [b.label for b in panel.bars], 9)
    ax.set_ylim(len(panel.bars) - 0.5, -0.5)  # the first on top
    if any(b.low is not None for b in panel.bars) and not ax.figure.legends:
        ax.figure.legend(  # once for the chart, top right, beside its title
            handles=[Patch(color=BAND, label="published range"),
                     Line2D([], [], color="#222222", linewidth=2, label="published typical")],
            loc="upper right", bbox_to_anchor=(0.99, 1.0), ncol=2, fontsize=9, frameon=False,
        )  # fmt: skip
    _title(ax, panel)
    ax.xaxis.set_major_formatter(FuncFormatter(shown))
    ax.xaxis.set_major_locator(MaxNLocator(4, integer=_counts(panel.unit)))
    ax.grid(axis="x", color="#dddddd", zorder=0)
    ax.margins(x=0.3)


def _columns(ax, panel, colours: dict[str, str]) -> None:
    """`points` as columns over time; a period with no value is left empty and says so."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    shown, said = _formatter(panel.unit), _label(panel.unit)
    labels = [p.label for p in panel.points]
    values = [p.value or 0.0 for p in panel.points]
    ax.bar(labels, values, color=PALETTE[0], width=0.55, zorder=2)
    ax.tick_params(axis="x", labelsize=9)
    for x, point in enumerate(panel.points):
        text = said(point.value) if point.value is not None else "none"
        ax.annotate(text, (x, point.value or 0.0), xytext=(0, 4), textcoords="offset points",
                    ha="center", fontsize=10)  # fmt: skip
    _title(ax, panel)
    ax.yaxis.set_major_formatter(FuncFormatter(shown))
    ax.yaxis.set_major_locator(MaxNLocator(4, integer=_counts(panel.unit)))
    ax.grid(axis="y", color="#dddddd", zorder=0)
    ax.margins(y=0.2)
    ax.set_xlabel("week beginning", fontsize=9)


# -- line panels: a campaign's figures day by day or week by week ----------------------------------

REALISED, TYPICAL, TARGET = PALETTE[0], "#555555", PALETTE[5]
LINE_BAND = PALETTE[4]  # sky blue, light: the published low–high behind the line
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TICK_IN = 0.7  # inches an x tick label ("30 Nov") needs, so the labels never touch


def _line_legend(fig, lines: list, height: float) -> None:  # noqa: ANN001
    """One legend for the chart, in a row of its own under the title (beside it, a long title
    and the legend ran into each other at 800 px)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Line2D([], [], color=REALISED, marker="o", lw=2, ms=4, label="realised")]
    if any(p.band for p in lines):
        handles.append(Patch(facecolor=LINE_BAND, alpha=0.3, label="published range"))
    if any(p.typical is not None for p in lines):
        handles.append(Line2D([], [], color=TYPICAL, ls="--", lw=1.2, label="published typical"))
    if any(p.target is not None for p in lines):
        handles.append(Line2D([], [], color=TARGET, lw=1.8, ls=(0, (6, 2)), label="target"))
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, 1 - 0.4 / height),
               ncol=len(handles), fontsize=9, frameon=False)  # fmt: skip


def _tick_label(label: str) -> str:
    """`2026-11-03` as `3 Nov`, `2026-W45` as `W45`: short enough to sit flat under a point."""
    if len(label) == 10 and label[4] == "-" and label[7] == "-" and label[5:7].isdigit():
        month = int(label[5:7])
        if 1 <= month <= 12 and label[8:].isdigit():
            return f"{int(label[8:])} {MONTHS[month - 1]}"
    if "-W" in label:
        return "W" + label.split("-W", 1)[1]
    return label


def _line_tick(unit: str, top: float):
    """A line panel's y ticks: money to the cent on an axis of small amounts (`$0.50`, never
    `$0.5`), whole amounts above (`$300`, `$4.5k`), rates as percentages."""
    from bot.units import CURRENCY_SYMBOLS

    if unit not in CURRENCY_SYMBOLS:
        return _formatter(unit)

    def shown(value: float, _position: object = None) -> str:
        if top >= 1000:
            return f"{unit}{_count(value)}"
        return f"{unit}{value:,.0f}" if top >= 20 else f"{unit}{value:,.2f}"

    return shown


def _line(ax, panel, width_in: float, period: str | None, *, dated: bool = True) -> None:  # noqa: ANN001
    """`points` as a line with a marker at each period (a period with no figure: a gap), over
    the published band, the typical value dashed, the target in its own colour and named."""
    import math

    from matplotlib.ticker import FuncFormatter, MaxNLocator

    xs = list(range(len(panel.points)))
    ys = [p.value if p.value is not None else math.nan for p in panel.points]
    if panel.band is not None:
        ax.axhspan(panel.band[0], panel.band[1], color=LINE_BAND, alpha=0.3, lw=0, zorder=1)
    if panel.typical is not None:
        ax.axhline(panel.typical, color=TYPICAL, ls="--", lw=1.2, zorder=2)
    if panel.target is not None:
        ax.axhline(panel.target, color=TARGET, lw=1.8, ls=(0, (6, 2)), zorder=3)
        # Named above the axes in the line's colour: a label on the line hid the points it crossed.
        ax.set_title(panel.target_label, loc="right", fontsize=8.5, color=TARGET,
                     fontweight="bold", y=1.0, pad=6)  # fmt: skip
    known = [y for y in ys if not math.isnan(y)]
    if known:
        ax.plot(xs, ys, color=REALISED, marker="o", lw=2, ms=4, zorder=4)
    else:
        ax.text(0.5, 0.5, "no figure in these notes", transform=ax.transAxes, ha="center",
                va="center", fontsize=9, color="#666666")  # fmt: skip
    top = max([*known, *(panel.band or ()), panel.typical or 0.0, panel.target or 0.0, 0.0])
    top = top * 1.15 if top > 0 else 1.0
    ax.set_ylim(0, top)  # from zero: a cost is read against nothing
    ax.set_xlim(-0.5, max(len(xs) - 0.5, 0.5))
    step = max(1, math.ceil(len(xs) / max(2, int(width_in / TICK_IN))))
    if dated:
        ax.set_xticks(xs[::step], [_tick_label(p.label) for p in panel.points[::step]], fontsize=8)
    else:
        ax.set_xticks(xs[::step], [""] * len(xs[::step]))
    ax.yaxis.set_major_locator(MaxNLocator(4, integer=_counts(panel.unit)))
    ax.yaxis.set_major_formatter(FuncFormatter(_line_tick(panel.unit, top)))
    ax.tick_params(axis="y", labelsize=8)
    ax.set_ylabel(panel.unit, fontsize=9)
    if period and dated:
        ax.set_xlabel("day (UTC)" if period == "day" else "ISO week", fontsize=8)
    ax.set_title(panel.title, loc="left", fontsize=10, y=1.0, pad=6)
    ax.grid(color="#e4e4e4", zorder=0)  # the vertical lines lead each date up its column
