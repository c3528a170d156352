"""`estimate KEY=VALUE ... [platform=NAME]`: every figure the inputs determine, each with its formula.

With a platform, rates the person did not give come from the knowledge base's published figures
(US dollars, labelled so, never converted), and every result becomes a low – typical – high range.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot import units
from bot.errors import UserError
from bot.estimate.inputs import Request, cmd, parse_request, usage
from bot.estimate.solver import (
    RELATIONS,
    Solution,
    determined,
    solve,
    solve_ranges,
    sufficient_sets,
)
from bot.metric_table import LABEL, ORGANIC, OUTCOMES, PAID, PUBLISHED, RATIO
from bot.platforms import PLATFORM_NAME
from bot.reply import Fact, Notice, Reply, Section
from knowledge import Benchmark, benchmarks_for, load

# Published figures are tried in this order, each only while its key is still undetermined.
FILL_ORDER = PUBLISHED
MAX_TEXT = 2900  # Slack allows 3000 characters per section text
# A derived value further than this factor outside a published range for the same platform is
# worth a warning (sources disagree 2-10x, so a closer miss is ordinary).
PUBLISHED_FACTOR = 2.0
CAMPAIGN = {"lead ads": "lead-ad", "traffic": "traffic"}  # objective -> "... campaigns"


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

    @property
    def values(self) -> dict[str, float]:
        return self.solution.values


def run(request: Request) -> Estimate:
    """Fill missing rates from the platform's figures (if any), then solve, with ranges."""
    inputs = request.inputs
    platform = request.platform
    published = benchmarks_for(platform) if platform else {}
    est = Estimate(request, solve(inputs))
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
    check_sound(est)
    return est


def _far_from(value: float, b: Benchmark) -> bool:
    """Whether a derived value is less than half the published low or more than twice the high."""
    return value < b.low / PUBLISHED_FACTOR or value > b.high * PUBLISHED_FACTOR


def _big(key: str, value: float, currency: str) -> str:
    if abs(value) >= 1e15:
        return f"about {value:.1e}".replace("e+", "e")
    return units.format_metric(key, value, currency)


def _check_list(keys) -> str:
    return _and(f"{k}=" for k in keys)


def check_sound(est: Estimate) -> None:
    """A result that cannot be (a rate above 100%, frequency below 1, reach above the audience) or
    that no campaign reaches (beyond 1e12) is a UserError naming the inputs, never a result."""
    sol, values, request = est.solution, est.values, est.request
    currency = request.currency

    def rests(key: str) -> tuple[list[str], str]:
        basis = sol.basis.get(key, frozenset())
        given = [k for k in request.inputs if k in basis]
        assumed = [k for k in est.assumed if k in basis]
        extra = ""
        if assumed:
            name = PLATFORM_NAME[request.platform or ""]
            extra = (
                f" (with the published {name} {_and(assumed)}; give "
                f"{_and(f'{k}=' for k in assumed)} yourself if yours differ)"
            )
        return given, extra

    def show(key: str) -> str:
        return f"{key} ({_big(key, values[key], currency)})"

    for key, value in sol.impossible:
        given, extra = rests(key)
        if key == "reach":
            raise UserError(
                f"{show('reach')} can't exceed the audience "
                f"({units.format_count(values['audience'])}): everyone reached is in the audience. "
                "Check reach= and audience=."
            )
        top, bottom = RATIO.get(key, (None, None))
        if top in values and bottom in values:
            what = f"{show(top)} can't exceed {show(bottom)}"
            if key == "frequency":
                what += f": frequency would be {units.format_number(value)}, below 1"
            else:
                what += f": {key} would be {units.format_rate(value)}"
        elif key == "frequency":
            what = (
                f"frequency comes out at {units.format_number(value)}, below 1, so reach would "
                "exceed impressions"
            )
        else:
            what = (
                f"{key} comes out at {units.format_rate(value)}, but {key} is "
                f"{units.RATE_MEANING[key]}, at most 100%"
            )
        raise UserError(f"{what}{extra}. Check {_check_list(given)}.")
    for key, value in sol.too_large:
        given, extra = rests(key)
        if key == "frequency":
            limit = f"more than {units.format_count(units.MAX_FREQUENCY)} impressions per person"
        else:
            limit = "beyond 1e12 (a million million), which no campaign reaches"
        raise UserError(
            f"{key} would be {_big(key, value, currency)} from {_and(given)}{extra}, {limit}. "
            f"Check {_check_list(given)}."
        )


def estimate(ctx, args: list[str]) -> Reply:
    if not args:
        raise UserError(usage(ctx))
    request = parse_request(ctx, args)
    est = run(request)
    check_enough(ctx, est)
    return build_reply(ctx, est)


def check_enough(ctx, est: Estimate) -> None:
    """Too little to go on: say exactly which values would be enough."""
    request = est.request
    if est.solution.derived or est.solution.conflicts or est.solution.impossible:
        return
    if any(set(request.inputs) >= set(rel.variables) for rel in RELATIONS):
        return  # nothing new, but the figures can be checked against each other
    if not request.inputs:
        if est.assumed:
            return  # platform only: a card of its published figures
        if request.platform is None:
            raise UserError(usage(ctx))
        name = PLATFORM_NAME[request.platform]
        reason = est.no_figures or f"{name} has no published figures."
        example = cmd(ctx, f"estimate budget=1000 cpm=8 ctr=1.2% platform={request.platform}")
        if "give the rates yourself" in reason.lower():
            raise UserError(f"{reason.rstrip().rstrip('.')}, e.g. {example}.")
        raise UserError(f"{reason} Give the rates yourself, e.g. {example}.")
    known = list(request.inputs)
    sets = sufficient_sets(known) or [("budget", "cpm")]
    options = _or([" + ".join(option) for option in sets])
    verb = "determines" if len(known) == 1 else "determine"
    extra = ""
    if est.not_converted:
        extra = (
            f" Published {PLATFORM_NAME[request.platform or '']} figures are in US dollars and "
            f"your amounts are in {request.currency}, so they were not applied."
        )
    missing = [m for m in est.missing if m not in est.other_objective]
    if missing and request.platform and not est.no_figures:
        extra += f" {PLATFORM_NAME[request.platform]} has no reliable published {_or(missing)}."
    example = " ".join(_typed(request, k) for k in sets[0])
    platform = ""
    if request.platform is None:
        platform = "; or add platform=NAME to fill rates from published figures, e.g. " + cmd(
            ctx, "estimate budget=1000 platform=linkedin"
        )
    raise UserError(
        f"{_and(known)} alone {verb} nothing else.{extra} Enough would be {options}, "
        f"e.g. {cmd(ctx, 'estimate ' + example)}{platform}."
    )


def _typed(request: Request, key: str) -> str:
    """`key=value` as the person typed it, or an example in their currency."""
    if key in request.raw:
        return request.raw[key]
    example = units.EXAMPLE[key]
    if key in units.MONEY_KEYS:
        example = example.replace("$", request.currency)
    return f"{key}={example}"


def _and(items) -> str:
    items = list(items)
    return " and ".join(items) if len(items) <= 2 else f"{', '.join(items[:-1])} and {items[-1]}"


def _or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


# --- the reply -------------------------------------------------------------------------------------


def figure(est: Estimate, key: str, value: float | None = None) -> str:
    """A value as shown: money in the currency typed, or a range low – *typical* – high."""
    currency = est.request.currency
    shown = units.format_metric(key, est.values[key] if value is None else value, currency)
    if value is None and key in est.solution.ranges:
        low, high = est.solution.ranges[key]
        lo, hi = (units.format_metric(key, v, currency) for v in (low, high))
        return f"{lo} – *{shown}* – {hi}"
    return shown


def derived_line(est: Estimate, key: str) -> str:
    formula = est.solution.formulas[key]
    if key == "reach" and est.solution.uncapped_reach is not None:
        formula += ", capped at audience"
    elif key == "reach" and est.solution.uncapped_reach_high is not None:
        formula += ", high end capped at audience"
    return f"• *{LABEL[key]}*: {figure(est, key)}  `{formula}`"


def sections_for(title: str, lines: list[str]) -> list[Section]:
    """One section per ~2,900 characters of lines, so none breaks Slack's limit."""
    out: list[Section] = []
    current: list[str] = []
    for line in lines:
        if current and len("\n".join([*current, line])) > MAX_TEXT:
            out.append(
                Section(heading=title if not out else f"{title} (cont.)", text="\n".join(current))
            )
            current = []
        current.append(line[:MAX_TEXT])
    if current:
        out.append(
            Section(heading=title if not out else f"{title} (cont.)", text="\n".join(current))
        )
    return out


def _percent(x: float) -> str:
    return "far" if x == float("inf") else units.format_rate(x)


def notices(ctx, est: Estimate) -> list[Notice]:
    sol, values, request = est.solution, est.values, est.request
    out: list[Notice] = []
    for c in sol.conflicts:
        fig = units.format_metric(c.key, c.value, request.currency)
        implied = units.format_metric(c.key, c.implied, request.currency)
        used = f" The figures use {c.key} {fig};" if sol.derived else ""
        if c.formula == "revenue = roas × budget" and c.implied == 0 and c.source is None:
            text = (
                f"{_and(c.inputs)} do not fit together: a ROAS of 0x (ROI -100%) means no revenue "
                f"at all, but revenue={fig} was given. Check these inputs."
            )
        elif c.source is None:
            text = (
                f"{_and(c.inputs)} do not fit together: `{c.formula}` gives {c.key} {implied}, "
                f"but {c.key}={fig} was given ({_percent(c.apart)} apart).{used} check these inputs."
            )
        else:
            text = (
                f"{_and(c.inputs)} do not fit together: {c.key} is {fig} by `{c.source}` but "
                f"{implied} by `{c.formula}` ({_percent(c.apart)} apart).{used} check these inputs."
            )
        out.append(Notice(level="warning", text=text.replace(". check", ". Check")))
    for key, value in sol.under_one:
        rests = _check_list(k for k in request.inputs if k in sol.basis.get(key, ()))
        out.append(
            Notice(
                level="warning",
                text=f"{LABEL[key]} comes out at {units.format_count(value)}, fewer than one "
                f"person: check {rests}.",
            )
        )
    for key, b in est.off_published:
        name = PLATFORM_NAME[request.platform or ""]
        basis = sol.basis.get(key, ())
        rests = _and(k for k in [*request.inputs, *est.assumed] if k in basis)
        out.append(
            Notice(
                level="warning",
                text=f"{LABEL[key]} comes out at {figure(est, key)} from {rests}, far from the "
                f"published {name} {LABEL[key]} of {published(key, b)} ({_sources(b)}"
                f"{', ' + b.objective if b.objective else ''}): the figures combined may come "
                "from different campaigns. Check them, or give yours.",
            )
        )
    audience = units.format_count(values.get("audience", 0))
    if sol.uncapped_reach is not None:
        out.append(
            Notice(
                text=f"Reach is capped at the audience ({audience}): "
                f"impressions / frequency gives {units.format_count(sol.uncapped_reach)}, more "
                "people than the audience holds."
            )
        )
    elif sol.uncapped_reach_high is not None:
        out.append(
            Notice(
                text=f"The high end of reach is capped at the audience of {audience}: at the "
                "high end impressions / frequency gives "
                f"{units.format_count(sol.uncapped_reach_high)}, more people than the audience "
                "holds."
            )
        )
    if not sol.derived and not sol.conflicts and sol.checked:
        holds = ", ".join(f"`{f}`" for f in sol.checked)
        out.append(Notice(text=f"Your figures fit together: {holds} holds within 1%."))
    out += [Notice(text=f"{note}.") for note in request.notes]
    if "organic_reach" in values:
        posts = f"the {units.format_count(values['posts'])} posts" if "posts" in values else "posts"
        out.append(
            Notice(
                text=f"Organic reach is gross: summed over {posts}, so a follower reached by two "
                "posts counts twice."
            )
        )
    if "engagement_rate" in est.assumed and "organic_engagements" in est.solution.derived:
        out.append(
            Notice(
                text="The published engagement rate divides by impressions; here it is applied to "
                "organic reach, so organic engagements lean low."
            )
        )
    missing = {m: a for m, a in est.missing.items() if m not in est.other_objective}
    if missing and request.platform and not est.no_figures:
        name = PLATFORM_NAME[request.platform]
        metrics = list(missing)
        adds = list(dict.fromkeys(k for m in metrics for k in missing[m]))
        first = metrics[0]
        out.append(
            Notice(
                text=f"No reliable {name} figure for {_or(metrics)}, "
                f"so {_and(adds)} are not estimated: give one, e.g. {_typed(request, first)}."
            )
        )
    if est.other_objective and request.platform:
        name = PLATFORM_NAME[request.platform]
        theirs = {b.objective for b in est.other_objective.values()}
        ours = {b.objective for b in est.assumed.values()} - {None}
        listed = _and(f"{LABEL[k]} ({published(k, b)})" for k, b in est.other_objective.items())
        used = _and(LABEL[k] for k, b in est.assumed.items() if b.objective in ours)
        adds = list(dict.fromkeys(k for m in est.other_objective for k in est.missing.get(m, [])))
        consequence = f", so {_and(adds)} are not estimated" if adds else ""
        first = next(iter(est.other_objective))
        out.append(
            Notice(
                text=f"{name}'s published {listed} come from {_campaigns(theirs)} campaigns, "
                f"the {used} used here from {_campaigns(ours)} campaigns; smx does not "
                f"combine figures from different campaign types{consequence}. Give your own, "
                f"e.g. {_typed(request, first)}.",
            )
        )
    if est.not_converted and request.platform:
        name = PLATFORM_NAME[request.platform]
        metrics = _and(b.metric for b in est.not_converted)
        out.append(
            Notice(
                text=f"Published {name} {metrics} figures are in US dollars and your amounts are in "
                f"{request.currency}; smx does not convert, so give them in {request.currency} "
                f"(e.g. cpm={request.currency}8) to use them."
            )
        )
    if est.no_figures and request.inputs:
        out.append(Notice(text=est.no_figures))
    if not request.inputs and est.assumed:
        out.append(
            Notice(
                text="These are published figures only. Add your numbers to see what they buy, "
                f"e.g. {cmd(ctx, f'estimate budget=1000 platform={request.platform}')}."
            )
        )
    return out


def _campaigns(objectives) -> str:
    return _and(CAMPAIGN.get(o, o) for o in sorted(o for o in objectives if o))


def _sources(b: Benchmark) -> str:
    return "; ".join(f"{s.name} {s.year}" for s in b.sources)


def published(key: str, b: Benchmark) -> str:
    """A published figure or range, in US dollars where it is money."""
    usd = " USD" if b.currency else ""
    if b.low == b.high:
        return units.format_metric(key, b.typical) + usd
    lo, typ, hi = (units.format_metric(key, v) for v in (b.low, b.typical, b.high))
    return f"{lo} – *{typ}* – {hi}{usd}"


def assumption_lines(est: Estimate) -> list[str]:
    return [
        f"• *{LABEL[key]}*: {published(key, b)} · {_sources(b)} · {b.confidence} confidence"
        for key, b in est.assumed.items()
    ]


def footnotes(est: Estimate) -> list[str]:
    out: list[str] = []
    if est.assumed:
        name = PLATFORM_NAME[est.request.platform or ""]
        out.append(
            f"Assumed from published {name} figures; benchmark figures are in US dollars. "
            "Published figures are context, not targets: sources measure differently."
        )
        for key, b in est.assumed.items():
            method = b.method if len(b.method) <= 400 else b.method[:399] + "…"
            out.append(f"{LABEL[key]}: {_sources(b)}. {method}")
    for key, b in est.other_objective.items():
        out.append(
            f"Published {LABEL[key]} ({published(key, b)}, {_sources(b)}, {b.objective}) not "
            f"used: measured on {_campaigns({b.objective})} campaigns, unlike the figures used here."
        )
    for key, b in est.unused.items():
        out.append(
            f"Published {LABEL[key]} ({published(key, b)}, {_sources(b)}) not used: {key} "
            "follows from the other figures here."
        )
    return out[:10]


def data_for(est: Estimate) -> dict:
    sol, request = est.solution, est.request
    data: dict = {k: float(v) for k, v in sol.values.items()}
    data["formulas"] = dict(sol.formulas)
    if sol.ranges:
        data["ranges"] = {k: [lo, hi] for k, (lo, hi) in sol.ranges.items()}
    data["inputs"] = list(request.inputs)
    data["derived"] = list(sol.derived)
    data["currency"] = request.currency
    data["platform"] = request.platform
    if est.assumed:
        data["assumed"] = {
            k: {
                "low": b.low,
                "typical": b.typical,
                "high": b.high,
                "currency": b.currency,
                "sources": [f"{s.name} {s.year}" for s in b.sources],
            }
            for k, b in est.assumed.items()
        }
    if sol.uncapped_reach is not None or sol.uncapped_reach_high is not None:
        data["reach_capped"] = "typical" if sol.uncapped_reach is not None else "high"
    data["warnings"] = [
        {
            "kind": "conflict",
            "inputs": list(c.inputs),
            "key": c.key,
            "value": c.value,
            "implied": c.implied,
        }
        for c in sol.conflicts
    ]
    data["warnings"] += [
        {
            "kind": "under_one",
            "inputs": [k for k in request.inputs if k in sol.basis.get(key, ())],
            "key": key,
            "value": value,
        }
        for key, value in sol.under_one
    ]
    data["warnings"] += [
        {
            "kind": "published",
            "inputs": [k for k in request.inputs if k in sol.basis.get(key, ())],
            "key": key,
            "value": sol.values[key],
            "published": [b.low, b.high],
        }
        for key, b in est.off_published
    ]
    if est.other_objective:
        data["not_combined"] = {k: b.objective for k, b in est.other_objective.items()}
    return data


def headline(est: Estimate) -> str | None:
    parts = [
        f"{figure(est, k)} {LABEL[k].lower()}"
        for k in OUTCOMES
        if k in est.solution.derived and k != "revenue"
    ]
    if "revenue" in est.solution.derived:
        parts.append(f"{figure(est, 'revenue')} revenue")
    return " · ".join(parts[:5]) or None


def build_reply(ctx, est: Estimate) -> Reply:
    request, sol = est.request, est.solution
    name = PLATFORM_NAME.get(request.platform or "")
    facts = [Fact(label=LABEL[k], value=figure(est, k)) for k in request.inputs]
    if name:
        facts.append(Fact(label="Platform", value=name))
    derived = [k for k in LABEL if k in sol.derived]
    sections: list[Section] = []
    if est.assumed:
        sections += sections_for(f"Assumed: published {name} figures (USD)", assumption_lines(est))
    paid = [derived_line(est, k) for k in derived if k in PAID]
    organic = [derived_line(est, k) for k in derived if k in ORGANIC]
    sections += sections_for("Paid (SMM)", paid) + sections_for("Organic (SMO)", organic)
    intro_parts = []
    if sol.ranges:
        intro_parts.append("Ranges read low – *typical* – high, from the published figures.")
    line = headline(est)
    if line:
        intro_parts.insert(0, line)
    return Reply(
        title=f"Estimate for {name}" if name else "Estimate",
        intro="\n".join(intro_parts) or None,
        facts=facts,
        sections=sections,
        notices=notices(ctx, est),
        footnotes=footnotes(est),
        data=data_for(est),
    )
