"""Filling an estimate's missing rates from a platform's published figures, then solving.

Published figures are US dollars, labelled so, never converted; figures measured on different
campaign types are never combined. The result is checked for soundness before anyone sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.estimate.checks import check_sound
from bot.estimate.inputs import Request
from bot.estimate.solver import Solution, determined, solve, solve_ranges
from bot.metric_table import OUTCOMES, PUBLISHED
from knowledge import Benchmark, benchmarks_for, load

# Published figures are tried in this order, each only while its key is still undetermined.
FILL_ORDER = PUBLISHED
# A derived value further than this factor outside a published range for the same platform is
# worth a warning (sources disagree 2-10x, so a closer miss is ordinary).
PUBLISHED_FACTOR = 2.0


@dataclass
class Estimate:
    request: Request
    solution: Solution
    assumed: dict[str, Benchmark] = field(default_factory=dict)
    unused: dict[str, Benchmark] = field(default_factory=dict)  # published, but followed here
    not_converted: list[Benchmark] = field(default_factory=list)  # USD figures for a non-$ query
    missing: dict[str, list[str]] = field(default_factory=dict)  # absent metric -> what it adds
    no_figures: str | None = None  # why the platform has none
    # published, but measured on another campaign type than the figures used (never combined)
    other_objective: dict[str, Benchmark] = field(default_factory=dict)
    # derived values far outside the platform's published range: (key, published figure)
    off_published: list[tuple[str, Benchmark]] = field(default_factory=list)
    # figures given far outside the platform's published range: (key, published figure)
    given_off: list[tuple[str, Benchmark]] = field(default_factory=list)
    # figures given far outside every platform's published range, with no platform named or
    # none published for it: (key, the lowest low, the highest high of any platform)
    given_off_any: list[tuple[str, Benchmark, Benchmark]] = field(default_factory=list)

    @property
    def values(self) -> dict[str, float]:
        return self.solution.values


def run(request: Request) -> Estimate:
    """Fill missing rates from the platform's figures (if any), then solve, with ranges."""
    inputs = request.inputs
    platform = request.platform
    published = benchmarks_for(platform) if platform else {}
    # The solution is the last thing worked out below: it rests on the figures chosen first.
    est = Estimate(request, Solution({}, ()))
    if platform and not published:
        est.no_figures = load().no_figures.get(platform, "No reliable published figures found.")
    chosen: dict[str, Benchmark] = {}
    skipped: dict[str, Benchmark] = {}
    objective: str | None = None  # the campaign type of the figures chosen so far
    for metric in FILL_ORDER:
        figure = published.get(metric)
        if figure is None or metric in determined({*inputs, *chosen}):
            continue
        if figure.currency and request.currency != "$":
            est.not_converted.append(figure)
            continue
        if figure.objective and objective and figure.objective != objective:
            skipped[metric] = figure  # e.g. a lead-ad CVR next to a traffic CTR: not combined
            continue
        chosen[metric] = figure
        objective = objective or figure.objective
    if inputs and chosen:
        # Keep only the figures that help with what the person asked about.
        trial = solve({**inputs, **{k: b.typical for k, b in chosen.items()}})
        used: set[str] = set()
        for key in trial.derived:
            if trial.basis[key] & set(inputs):
                used |= trial.basis[key]
        chosen = {k: b for k, b in chosen.items() if k in used}
    est.assumed = chosen
    used_objectives = {b.objective for b in chosen.values()} - {None}
    est.other_objective = {
        k: b for k, b in skipped.items() if used_objectives and b.objective not in used_objectives
    }
    typical = {**inputs, **{k: b.typical for k, b in chosen.items()}}
    est.solution = solve_ranges(typical, {k: (b.low, b.high) for k, b in chosen.items()})
    have = set(est.values)
    for metric, figure in published.items():
        if metric in have and metric not in typical:
            est.unused[metric] = figure
            if _far_from(est.values[metric], figure):
                est.off_published.append((metric, figure))
    if platform and inputs:
        for metric in FILL_ORDER:
            if metric in have or (metric in published and metric not in est.other_objective):
                continue
            adds = [k for k in OUTCOMES if k in determined({*typical, metric}) - have]
            if adds:
                est.missing[metric] = adds
    _check_given(est, published)
    check_sound(est)
    return est


def _check_given(est: Estimate, published: dict[str, Benchmark]) -> None:
    """A figure typed far from what is published for it (less than half the low end or more
    than twice the high end) is said, with the range: the platform's when it publishes one, else
    every platform's together. Money figures are in US dollars, compared only with dollars."""
    request = est.request
    for key, value in request.inputs.items():
        if key not in PUBLISHED or request.raw.get(key, "").lower().startswith("cac"):
            continue  # a CAC counts more than ad spend: no platform's CPA compares with it
        figure = published.get(key)
        if figure is not None:
            if (not figure.currency or request.currency == "$") and _far_from(value, figure):
                est.given_off.append((key, figure))
            continue
        everywhere = [b for b in load().benchmarks if b.metric == key]
        if not everywhere or (any(b.currency for b in everywhere) and request.currency != "$"):
            continue
        lowest = min(everywhere, key=lambda b: b.low)
        highest = max(everywhere, key=lambda b: b.high)
        if value < lowest.low / PUBLISHED_FACTOR or value > highest.high * PUBLISHED_FACTOR:
            est.given_off_any.append((key, lowest, highest))


def _far_from(value: float, b: Benchmark) -> bool:
    """Whether a derived value is less than half the published low or more than twice the high."""
    return value < b.low / PUBLISHED_FACTOR or value > b.high * PUBLISHED_FACTOR
