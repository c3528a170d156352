"""Filling an estimate's missing rates from a platform's published figures, then solving.

Published figures are US dollars, labelled so, never converted; figures measured on different
campaign types are never combined. The result is checked for soundness before anyone sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

from bot.estimate.checks import check_sound
from bot.estimate.inputs import Request
from bot.estimate.solver import Solution, determined, solve, solve_ranges
from bot.metric_table import OUTCOMES, PAID_OUTCOMES, PUBLISHED
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
    # a goal's budget by every published path, when no one campaign type gives it (Path below)
    paths: list[Path] = field(default_factory=list)
    # outcomes the figures above leave open that a published figure of one campaign type reaches
    # from the figures given (a budget's conversions by a lead-ad CPA): key -> its paths
    outcome_paths: dict[str, list[Path]] = field(default_factory=dict)

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
    chosen, skipped = _greedy(est, published, {})
    goal = published and inputs and "budget" not in determined({*inputs, *chosen})
    paths = budget_paths(request, published) if goal else []
    if paths:
        # A goal and no way to its budget by figures of one campaign type: the budget comes by
        # the first path of one type (else the first), and every path is shown beside it.
        first = next((p for p in paths if len(p.objectives) <= 1), paths[0])
        est.not_converted.clear()
        chosen, skipped = _greedy(est, published, {k: published[k] for k in first.keys})
        est.paths = paths
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
    if published and inputs and not goal:
        for key in PAID_OUTCOMES:
            if key not in est.values and key not in inputs:
                found = [p for p in paths_to(key, request, published) if len(p.objectives) <= 1]
                if found:
                    est.outcome_paths[key] = found
    _check_given(est, published)
    check_sound(est)
    return est


def _greedy(
    est: Estimate, published: dict[str, Benchmark], chosen: dict[str, Benchmark]
) -> tuple[dict[str, Benchmark], dict[str, Benchmark]]:
    """`chosen` and the published figures that add to it, in FILL_ORDER, each only while its key
    is undetermined and only of the campaign type of those already chosen; and those skipped
    for their campaign type."""
    request, inputs = est.request, est.request.inputs
    chosen = dict(chosen)
    skipped: dict[str, Benchmark] = {}
    objectives = {b.objective for b in chosen.values()} - {None}
    objective = next(iter(objectives)) if len(objectives) == 1 else None
    for metric in FILL_ORDER:
        figure = published.get(metric)
        if figure is None or metric in chosen or metric in determined({*inputs, *chosen}):
            continue
        if figure.currency and request.currency != "$":
            est.not_converted.append(figure)
            continue
        if figure.objective and (
            (objective and figure.objective != objective) or len(objectives) > 1
        ):
            skipped[metric] = figure  # e.g. a lead-ad CVR next to a traffic CTR: not combined
            continue
        chosen[metric] = figure
        objective = objective or figure.objective
    return chosen, skipped


@dataclass(frozen=True)
class Path:
    """Published figures that, with the figures given, fix the budget: one way to reach a goal."""

    keys: tuple[str, ...]  # in FILL_ORDER
    objectives: tuple[str, ...]  # the campaign types they were measured on (none: any)
    budget: float  # from each figure's typical value
    low: float
    high: float


MAX_PATH = 3  # figures in one path at most (a goal through CVR, CTR and CPM)


def budget_paths(request: Request, published: dict[str, Benchmark]) -> list[Path]:
    """Every smallest set of published figures that, with the figures given, determines the
    budget (the figures in dollars only for an amount in dollars), fewest figures first."""
    return paths_to("budget", request, published)


def paths_to(target: str, request: Request, published: dict[str, Benchmark]) -> list[Path]:
    """Every smallest set of published figures that, with the figures given, determines
    `target` (a goal's budget, a budget's conversions), fewest figures first; each Path's
    `budget` and range are then `target`'s value."""
    inputs = request.inputs
    usable = [
        k
        for k in FILL_ORDER
        if k in published
        and k not in inputs
        and not (published[k].currency and request.currency != "$")
    ]
    found: list[tuple[str, ...]] = []
    for size in range(1, MAX_PATH + 1):
        for keys in combinations(usable, size):
            if any(set(p) <= set(keys) for p in found):
                continue  # a smaller path is inside it
            if target in determined({*inputs, *keys}):
                found.append(keys)
    paths = []
    for keys in found:
        figures = {k: published[k] for k in keys}
        sol = solve_ranges(
            {**inputs, **{k: b.typical for k, b in figures.items()}},
            {k: (b.low, b.high) for k, b in figures.items()},
        )
        if target not in sol.values or sol.negative:
            continue  # a zero divides on this path, or it reaches no budget (a loss per sale)
        low, high = sol.ranges.get(target, (sol.values[target],) * 2)
        objectives = tuple(sorted({b.objective for b in figures.values()} - {None}))
        paths.append(Path(keys, objectives, sol.values[target], low, high))
    return paths


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
        if len({b.platform for b in everywhere}) < 2:
            continue  # one platform's figure (a lead-ad CVR, say) is no range of all platforms
        if any(b.currency for b in everywhere) and request.currency != "$":
            continue
        lowest = min(everywhere, key=lambda b: b.low)
        highest = max(everywhere, key=lambda b: b.high)
        if value < lowest.low / PUBLISHED_FACTOR or value > highest.high * PUBLISHED_FACTOR:
            est.given_off_any.append((key, lowest, highest))


def _far_from(value: float, b: Benchmark) -> bool:
    """Whether a derived value is less than half the published low or more than twice the high."""
    return value < b.low / PUBLISHED_FACTOR or value > b.high * PUBLISHED_FACTOR
