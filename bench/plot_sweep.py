"""The ack-latency plot of docs/BENCHMARKS.md: p50 and p99 against offered load for smx and the
anchors, from the CSV `bench_ack.py sweep --csv FILE` writes.

    .venv/bin/python bench/plot_sweep.py docs/bench-sweep.csv docs/bench-ack-latency.png

Two panels side by side (p50, p99), one line per server, a logarithmic latency axis (the anchors
and smx differ several-fold), and the 10 ms line the 300/s goal sets for p99. Made with
matplotlib's Agg backend: no display needed.
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict

STYLE = {  # role -> colour, marker: the same server always looks the same
    "smx": ("#d62728", "o"),
    "bare": ("#7f7f7f", "s"),
    "inline": ("#1f77b4", "^"),
    "ceiling": ("#2ca02c", "D"),
}


def read(path: str) -> dict[tuple[str, str], list[tuple[float, float, float]]]:
    series: dict[tuple[str, str], list[tuple[float, float, float]]] = defaultdict(list)
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            series[(row["role"], row["server"])].append(
                (float(row["offered_per_s"]), float(row["p50_ms"]), float(row["p99_ms"]))
            )
    return {k: sorted(v) for k, v in series.items()}


def plot(path: str, out: str, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = read(path)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), sharey=True, constrained_layout=True)
    for ax, (column, label) in zip(axes, ((1, "p50"), (2, "p99")), strict=True):
        for (role, server), points in series.items():
            colour, marker = STYLE.get(role, ("#9467bd", "x"))
            ax.plot(
                [p[0] for p in points],
                [p[column] for p in points],
                marker=marker,
                color=colour,
                linewidth=2.2 if role == "smx" else 1.4,
                label=server,
            )
        if label == "p99":
            ax.axhline(10, color="#444444", linestyle=":", linewidth=1)
            ax.annotate("10 ms: the p99 goal at 300/s", (0.98, 10), xycoords=("axes fraction", "data"),
                        textcoords="offset points", xytext=(0, -11), fontsize=8, color="#444444",
                        ha="right")  # fmt: skip
        ax.set_yscale("log")
        ax.set_xlabel("offered load (requests/s, open loop)")
        ax.set_title(f"{label} ack latency")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("ms from when the request was due (log scale)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=8,
               frameon=False)  # fmt: skip
    if title:
        fig.suptitle(title, fontsize=10)
    fig.savefig(out, dpi=120)
    print(f"- Plot written to {out}")


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit("usage: plot_sweep.py SWEEP.csv OUT.png [TITLE]")
    plot(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else "")
