"""The estimate solver: marketing metrics as a web of relations, solved for whatever follows.

Pure Python, no I/O. Each relation is data: the formula people read, and for each of its variables
the solved form (text and function). `solve` applies every relation that has exactly one unknown,
again and again, until nothing new follows, and records the formula behind each derived value and
the inputs it rests on. A relation whose variables are all known is checked instead: inputs that
disagree by more than 1% become a Conflict naming them, never a silent pick.

Ranges: every solved form is monotone in each of its inputs, and so is any chain of them (the
relations are products and quotients, plus ROI's affine step and the reach cap, a `min`). The
bounds of every derived value are therefore found among the solutions at the corners of the input
ranges, which `solve_ranges` evaluates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import combinations, product

from bot.metric_table import PEOPLE_KEYS, RATE_KEYS
from bot.units import MAX_FREQUENCY, MAX_MAGNITUDE

MAY_BE_NEGATIVE = frozenset({"profit", "profit_per_conversion", "roi"})  # a loss is an outcome
TOLERANCE = 0.01  # over-determined inputs further apart than this give a Conflict
MAX_RANGED = 10  # 2**10 corner solves at most
RATES = RATE_KEYS  # fractions of at most 1
PEOPLE = PEOPLE_KEYS  # counts of people: below one person means the inputs are off

Fn = Callable[[dict[str, float]], float | None]
Term = str | float


@dataclass(frozen=True)
class Relation:
    formula: str  # as people read it: "impressions = budget × 1000 / cpm"
    forms: dict[str, tuple[str, Fn]]  # variable -> (solved form as text, function of the others)
    check: str  # the variable compared when all are known (a scale where 1% means 1%)
    note: str = ""
    # For a relation that is a sum, not a product (profit = revenue × margin − budget), a change
    # of 1% in one variable need not be 1% in another: every variable here is compared, and the
    # furthest apart decides. Left out: the ones that may be negative (a profit).
    also: tuple[str, ...] = ()

    @cached_property  # read hundreds of times a solve; a frozen dataclass still takes it
    def variables(self) -> tuple[str, ...]:
        return tuple(self.forms)


def _term_text(term: Term) -> str:
    return term if isinstance(term, str) else f"{term:g}"


def _expression(num: list[Term], den: list[Term]) -> str:
    top = " × ".join(_term_text(t) for t in num) or "1"
    if not den:
        return top
    bottom = _term_text(den[0]) if len(den) == 1 else f"({' × '.join(map(_term_text, den))})"
    return f"{top} / {bottom}"


def _product(terms: list[Term], values: dict[str, float]) -> float:
    result = 1.0
    for t in terms:
        result *= values[t] if isinstance(t, str) else t
    return result


def _quotient(num: list[Term], den: list[Term]) -> Fn:
    def fn(values: dict[str, float]) -> float | None:
        bottom = _product(den, values)
        return None if bottom == 0 else _product(num, values) / bottom

    return fn


def monomial(target: str, num: Iterable[Term], den: Iterable[Term] = ()) -> Relation:
    """`target = Π num / Π den`, solvable for each of its variables."""
    num, den = list(num), list(den)
    forms: dict[str, tuple[str, Fn]] = {target: (_expression(num, den), _quotient(num, den))}
    for var in num:
        if isinstance(var, str):
            top = [target, *den]
            top = [t for t in top if not isinstance(t, str)] + [
                t for t in top if isinstance(t, str)
            ]
            bottom = [t for t in num if t != var]
            forms[var] = (_expression(top, bottom), _quotient(top, bottom))
    for var in den:
        if isinstance(var, str):
            bottom = [*(t for t in den if t != var), target]
            forms[var] = (_expression(num, bottom), _quotient(num, bottom))
    return Relation(f"{target} = {forms[target][0]}", forms, check=target)


def _safe(fn: Callable[[dict[str, float]], float]) -> Fn:
    def wrapped(values: dict[str, float]) -> float | None:
        try:
            return fn(values)
        except ZeroDivisionError:
            return None

    return wrapped


ROI_FROM_REVENUE = Relation(
    "roi = (revenue − budget) / budget",
    {
        "roi": (
            "(revenue − budget) / budget",
            _safe(lambda v: (v["revenue"] - v["budget"]) / v["budget"]),
        ),
        "revenue": ("budget × (1 + roi)", _safe(lambda v: v["budget"] * (1 + v["roi"]))),
        "budget": ("revenue / (1 + roi)", _safe(lambda v: v["revenue"] / (1 + v["roi"]))),
    },
    check="revenue",
)
ROI_FROM_ROAS = Relation(
    "roi = roas − 1",
    {
        "roi": ("roas − 1", _safe(lambda v: v["roas"] - 1)),
        "roas": ("1 + roi", _safe(lambda v: 1 + v["roi"])),
    },
    check="roas",
)
REACH = monomial("reach", ["impressions"], ["frequency"])
PROFIT_FROM_REVENUE = Relation(
    "profit = revenue × margin − budget",
    {
        "profit": ("revenue × margin − budget", lambda v: v["revenue"] * v["margin"] - v["budget"]),
        "budget": ("revenue × margin − profit", lambda v: v["revenue"] * v["margin"] - v["profit"]),
        "revenue": (
            "(profit + budget) / margin",
            _safe(lambda v: (v["profit"] + v["budget"]) / v["margin"]),
        ),
        "margin": (
            "(profit + budget) / revenue",
            _safe(lambda v: (v["profit"] + v["budget"]) / v["revenue"]),
        ),
    },
    check="budget",
    also=("revenue", "margin"),
)
PROFIT_PER_CONVERSION = Relation(
    "profit_per_conversion = break_even_cpa − cpa",
    {
        "profit_per_conversion": (
            "break_even_cpa − cpa",
            lambda v: v["break_even_cpa"] - v["cpa"],
        ),
        "break_even_cpa": (
            "profit_per_conversion + cpa",
            lambda v: v["profit_per_conversion"] + v["cpa"],
        ),
        "cpa": (
            "break_even_cpa − profit_per_conversion",
            lambda v: v["break_even_cpa"] - v["profit_per_conversion"],
        ),
    },
    check="break_even_cpa",
    also=("cpa",),
)

# The values that sums of terms tie together (checked input by input: _leave_one_out).
_AFFINE_KEYS = frozenset({"profit", "profit_per_conversion"})

# Order matters only for which of two equivalent routes derives a value first; the most direct
# route (from the budget) comes first.
RELATIONS: tuple[Relation, ...] = (
    monomial("impressions", ["budget", 1000], ["cpm"]),
    monomial("clicks", ["budget"], ["cpc"]),
    monomial("clicks", ["impressions", "ctr"]),
    monomial("cpc", ["cpm"], [1000, "ctr"]),
    monomial("conversions", ["budget"], ["cpa"]),
    monomial("conversions", ["clicks", "cvr"]),
    monomial("cpa", ["cpc"], ["cvr"]),
    REACH,
    monomial("views", ["budget"], ["cpv"]),
    monomial("engagements", ["budget"], ["cpe"]),
    monomial("revenue", ["roas", "budget"]),
    ROI_FROM_REVENUE,
    ROI_FROM_ROAS,
    monomial("organic_reach", ["followers", "reach_rate", "posts"]),
    monomial("organic_engagements", ["organic_reach", "engagement_rate"]),
    # A flight: the budget is what it spends a day for its days.
    monomial("budget", ["daily", "days"]),
    # What a conversion is worth (issue 14's business inputs).
    monomial("revenue", ["conversions", "aov"]),
    monomial("break_even_roas", [1], ["margin"]),
    monomial("break_even_cpa", ["aov", "margin"]),
    PROFIT_PER_CONVERSION,
    monomial("profit", ["conversions", "profit_per_conversion"]),
    PROFIT_FROM_REVENUE,
    monomial("ltv_cac", ["ltv"], ["cpa"]),
)
VARIABLES: tuple[str, ...] = tuple(dict.fromkeys(v for r in RELATIONS for v in r.variables)) + (
    "audience",
)


@dataclass(frozen=True)
class Conflict:
    """Known values that a relation says cannot all hold."""

    inputs: tuple[str, ...]  # the inputs the clashing values rest on
    key: str  # the value compared
    value: float  # its value as given or first derived
    implied: float  # what the relation gives from the others
    formula: str  # `key = ...` the relation's form that gives `implied`
    source: str | None  # the formula that gave `value`, or None when it was given
    apart: float  # relative disagreement, e.g. 0.2 for 20%


@dataclass
class Solution:
    values: dict[str, float]
    inputs: tuple[str, ...]
    derived: list[str] = field(default_factory=list)  # in the order they followed
    formulas: dict[str, str] = field(default_factory=dict)  # key -> "key = form"
    basis: dict[str, frozenset[str]] = field(default_factory=dict)  # key -> inputs it rests on
    conflicts: list[Conflict] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # relations fully known that hold
    # reach as impressions / frequency when that exceeded the audience and was capped
    uncapped_reach: float | None = None
    # the largest impressions / frequency over the input ranges, when it exceeded the audience at
    # some corner (so the high end of the reach range is the audience, not what the figures give)
    uncapped_reach_high: float | None = None
    # derived rates above 100%, frequencies below 1, reach given above the audience: (key, value)
    impossible: list[tuple[str, float]] = field(default_factory=list)
    # derived values beyond MAX_MAGNITUDE (or a frequency beyond MAX_FREQUENCY): (key, value)
    too_large: list[tuple[str, float]] = field(default_factory=list)
    # derived counts of people above zero but below one: (key, value)
    under_one: list[tuple[str, float]] = field(default_factory=list)
    # derived values below zero (at some corner of the ranges) that no campaign has: a budget,
    # a count, a cost or a revenue; profit and ROI may be negative: (key, lowest value)
    negative: list[tuple[str, float]] = field(default_factory=list)
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)


def disagreement(a: float, b: float) -> float:
    """How far apart two values are, relatively: 0.2 when one is 20% above the other."""
    if a == b:
        return 0.0
    if a == 0 or b == 0 or (a < 0) != (b < 0):
        return math.inf
    return max(a / b, b / a) - 1


@lru_cache(maxsize=512)
def _plan(keys: frozenset[str]) -> tuple[tuple[Relation, str], ...]:
    """The (relation, the value it gives) steps that `solve` takes from known values of `keys`
    when no step meets a zero divisor: the passes below, on the keys alone. Which values follow
    depends on which keys are known, not on their values, so estimates with the same keys (the
    same form, other numbers) share one plan."""
    known = set(keys)
    steps: list[tuple[Relation, str]] = []
    progress = True
    while progress:
        progress = False
        for rel in RELATIONS:
            unknown = [v for v in rel.variables if v not in known]
            if len(unknown) == 1:
                steps.append((rel, unknown[0]))
                known.add(unknown[0])
                progress = True
    return tuple(steps)


def solve(inputs: dict[str, float]) -> Solution:
    """Every value the inputs determine, each with its formula and the inputs it rests on."""
    sol = _solve(inputs)
    if not sol.conflicts and _AFFINE_KEYS.intersection(sol.values):
        _leave_one_out(sol, inputs)
    return sol


def _solve(inputs: dict[str, float]) -> Solution:
    sol = _solve_by_plan(inputs)
    return sol if sol is not None else _solve_by_passes(inputs)


def _leave_one_out(sol: Solution, inputs: dict[str, float]) -> None:
    """For inputs tied by a sum (profit = revenue × margin − budget), where 6% off in a small
    term can be under 1% in a large one: each input against what the others imply for it, so a
    disagreement is found in the units it was typed in."""
    for key in inputs:
        rest = {k: v for k, v in inputs.items() if k != key}
        implied = _solve(rest).values.get(key)
        if implied is None:
            continue
        scale = (lambda v: 1 + v) if key == "roi" else (lambda v: v)
        apart = disagreement(scale(inputs[key]), scale(implied))
        if apart > TOLERANCE and key not in MAY_BE_NEGATIVE:
            others = tuple(k for k in sol.inputs if k != key)
            sol.conflicts.append(
                Conflict(
                    inputs=(*others, key),
                    key=key,
                    value=inputs[key],
                    implied=implied,
                    formula=f"{key} from the other figures",
                    source=None,
                    apart=apart,
                )
            )
            return


def _solve_by_plan(inputs: dict[str, float]) -> Solution | None:
    """`solve` by the steps of its plan; None when a step meets a zero divisor, since another
    relation may then give that value, which the passes find."""
    sol = _start(inputs)
    for rel, var in _plan(frozenset(inputs)):
        if not _give(sol, rel, var):
            return None
    _check(sol)
    return sol


def _solve_by_passes(inputs: dict[str, float]) -> Solution:
    sol = _start(inputs)
    progress = True
    while progress:
        progress = False
        for rel in RELATIONS:
            unknown = [v for v in rel.variables if v not in sol.values]
            # a zero may divide here (nothing given); another relation may still give it
            if len(unknown) == 1 and _give(sol, rel, unknown[0]):
                progress = True
    _check(sol)
    return sol


def _start(inputs: dict[str, float]) -> Solution:
    return Solution(dict(inputs), tuple(inputs), basis={k: frozenset({k}) for k in inputs})


def _give(sol: Solution, rel: Relation, var: str) -> bool:
    """Derive `var` by `rel` into `sol`, with its formula and basis; False (nothing given) when
    a zero divides or the result is not finite."""
    values = sol.values
    text, fn = rel.forms[var]
    result = fn(values)
    if result is None or not math.isfinite(result):
        return False
    basis = frozenset().union(*(sol.basis[v] for v in rel.variables if v != var))
    if var == "reach" and "audience" in values and result > values["audience"]:
        sol.uncapped_reach, result = result, values["audience"]
        basis |= sol.basis["audience"]
    values[var] = result
    sol.derived.append(var)
    sol.formulas[var] = f"{var} = {text}"
    sol.basis[var] = basis
    return True


@lru_cache(maxsize=512)
def _known_relations(keys: frozenset[str]) -> tuple[Relation, ...]:
    """The relations whose values are all among `keys`: the ones a solution checks."""
    return tuple(rel for rel in RELATIONS if keys.issuperset(rel.variables))


def _check(sol: Solution) -> None:
    values = sol.values
    seen: set[tuple[str, ...]] = set()
    for rel in _known_relations(frozenset(values)):
        if rel is REACH and sol.uncapped_reach is not None:
            continue
        key, text, implied, apart = rel.check, "", None, 0.0
        for candidate in (rel.check, *rel.also):
            form, fn = rel.forms[candidate]
            found = fn(values)
            if found is None:
                continue
            gap = disagreement(values[candidate], found)
            if implied is None or gap > apart:
                key, text, implied, apart = candidate, form, found, gap
        if implied is None:
            continue
        if apart <= TOLERANCE:
            sol.checked.append(rel.formula)
            continue
        names = frozenset().union(*(sol.basis[v] for v in rel.variables))
        ordered = tuple(k for k in sol.inputs if k in names)
        if ordered in seen:
            continue
        seen.add(ordered)
        sol.conflicts.append(
            Conflict(
                inputs=ordered,
                key=key,
                value=values[key],
                implied=implied,
                formula=f"{key} = {text}",
                source=sol.formulas.get(key),
                apart=apart,
            )
        )
    # One clash shows up in every relation it touches; name only the smallest sets of inputs.
    sol.conflicts = [
        c for c in sol.conflicts if not any(set(o.inputs) < set(c.inputs) for o in sol.conflicts)
    ]
    reach_given = "reach" in sol.inputs and "audience" in values
    if reach_given and values["reach"] > values["audience"] * (1 + TOLERANCE):
        sol.impossible.append(("reach", values["reach"]))
    for key in sol.derived:
        value = values[key]
        above_all = key in RATES and value > 1 + 1e-9
        below_one = key == "frequency" and value < 1 - 1e-9
        if above_all or below_one:
            sol.impossible.append((key, value))
        limit = MAX_FREQUENCY if key == "frequency" else MAX_MAGNITUDE
        if abs(value) > limit * (1 + 1e-9):
            sol.too_large.append((key, value))
        if key in PEOPLE and 0 < value < 1 - 1e-9:
            sol.under_one.append((key, value))
        if value < 0 and key not in MAY_BE_NEGATIVE:
            sol.negative.append((key, value))
    _check_revenue(sol)


def _check_revenue(sol: Solution) -> None:
    """Revenue above zero at a ROAS of 0 (ROI -100%): no budget is known to show it by a relation."""
    values = sol.values
    if values.get("revenue", 0) <= 0 or values.get("roas") != 0 or "budget" in values:
        return
    names = sol.basis["revenue"] | sol.basis["roas"]
    sol.conflicts.append(
        Conflict(
            inputs=tuple(k for k in sol.inputs if k in names),
            key="revenue",
            value=values["revenue"],
            implied=0.0,
            formula="revenue = roas × budget",
            source=sol.formulas.get("revenue"),
            apart=math.inf,
        )
    )


def solve_ranges(typical: dict[str, float], bounds: dict[str, tuple[float, float]]) -> Solution:
    """`solve(typical)` plus, for every value that varies, its [low, high] over the input ranges."""
    sol = solve(typical)
    ranged = [k for k, (lo, hi) in bounds.items() if lo < hi and k in typical][:MAX_RANGED]
    if not ranged:
        return sol
    low = dict(sol.values)
    high = dict(sol.values)
    too_large = dict(sol.too_large)
    for corner in product(*((bounds[k][0], bounds[k][1]) for k in ranged)):
        at = solve({**typical, **dict(zip(ranged, corner, strict=True))})
        for key, value in at.values.items():
            if key in low:
                low[key] = min(low[key], value)
                high[key] = max(high[key], value)
        if at.uncapped_reach is not None:
            sol.uncapped_reach_high = max(sol.uncapped_reach_high or 0.0, at.uncapped_reach)
        for key, value in at.too_large:
            too_large[key] = max(too_large.get(key, value), value, key=abs)
    sol.too_large = list(too_large.items())
    for key in sol.values:
        if disagreement(low[key], high[key]) > 1e-9:
            sol.ranges[key] = (low[key], high[key])
        if low[key] < 0 and key not in MAY_BE_NEGATIVE and key not in dict(sol.negative):
            # Below zero at some corner: the range crosses a pole (a CPA range that takes in
            # the break-even one, say), so no range of it can be given.
            sol.negative.append((key, low[key]))
    return sol


def determined(keys: Iterable[str]) -> set[str]:
    """The keys that known values of `keys` determine (structure only, whatever the values)."""
    known = frozenset(keys)
    return set(known).union(var for _, var in _plan(known))


def sufficient_sets(known: Iterable[str], limit: int = 6) -> list[tuple[str, ...]]:
    """Small sets, each containing what is known, that would determine something new."""
    have = list(dict.fromkeys(known))
    out: list[tuple[str, ...]] = []
    if "audience" in have and not any(v in have for v in REACH.variables):
        # The audience enters only as the cap on reach: suggest the sets that give a reach.
        rest = [v for v in have if v != "audience"]
        extras = (("impressions", "frequency"), ("budget", "cpm", "frequency"))
        for extra in sorted(extras, key=lambda e: -len(set(e) & set(rest))):
            out.append(("audience", *rest, *(v for v in extra if v not in rest)))
    for rel in RELATIONS:
        given = [v for v in rel.variables if v in have]
        missing = [v for v in rel.variables if v not in have]
        if not given or len(missing) < 2:
            continue
        for extra in reversed(list(combinations(missing, len(missing) - 1))):
            option = tuple(given) + extra
            if option not in out:
                out.append(option)
    return out[:limit]
