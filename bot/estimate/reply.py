"""The estimate's reply: derived figures with their formulas, assumptions, notices, footnotes
and the machine-readable data, paid (SMM) and organic (SMO) apart."""

from __future__ import annotations

from bot import units
from bot.estimate.checks import check_list, typed_or_example
from bot.estimate.fill import Estimate
from bot.metric_table import LABEL, METRICS, ORGANIC, OUTCOMES, PAID
from bot.platforms import PLATFORM_NAME
from bot.reply import Fact, Notice, Reply, Section
from bot.slash import cmd
from bot.text import and_list, clip, or_list
from knowledge import Benchmark

MAX_TEXT = 2900  # Slack allows 3000 characters per section text
CAMPAIGN = {"lead ads": "lead-ad", "traffic": "traffic"}  # objective -> "... campaigns"


def figure(est: Estimate, key: str, value: float | None = None) -> str:
    """A value as shown: money in the currency typed, or a range low – *typical* – high."""
    currency = est.request.currency
    shown = units.format_metric(key, est.values[key] if value is None else value, currency)
    if value is None and key in est.solution.ranges:
        low, high = est.solution.ranges[key]
        lo, hi = (units.format_metric(key, v, currency) for v in (low, high))
        return spread(lo, shown, hi)
    return shown


def spread(lo: str, typical: str, hi: str, unit: str = "") -> str:
    """A range as read: `lo – *typical* – hi`; where the typical value is one end as shown,
    `lo – hi (typical lo)` rather than a figure said twice; one figure where both ends meet."""
    if lo == hi:
        return f"{typical}{unit}"
    if typical in (lo, hi):
        return f"{lo} – {hi}{unit} (typical {typical})"
    return f"{lo} – *{typical}* – {hi}{unit}"


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


def _unreached_want(est: Estimate) -> Notice | None:
    """want=KEY that these figures do not give at all: said, not dropped."""
    want, request = est.request.want, est.request
    if (
        want is None
        or want in est.solution.values
        or want in est.outcome_paths
        or want in request.inputs
    ):
        return None
    hint = (
        " A budget buys no followers directly: they come from an organic plan (followers=, "
        "posts=, reach_rate=)."
        if METRICS[want].side == "SMO"
        else ""
    )
    return Notice(
        text=f"{LABEL[want]}: not something these figures give, so the answer leads with what "
        f"they do.{hint}"
    )


def notices(ctx, est: Estimate) -> list[Notice]:
    sol, values, request = est.solution, est.values, est.request
    out: list[Notice] = []
    unreached = _unreached_want(est)
    if unreached is not None:
        out.append(unreached)
    worth = verdict(est)
    if worth is not None:
        out.append(worth)
    for c in sol.conflicts:
        fig = units.format_metric(c.key, c.value, request.currency)
        implied = units.format_metric(c.key, c.implied, request.currency)
        used = f" The figures use {c.key} {fig};" if sol.derived else ""
        if c.formula == "revenue = roas × budget" and c.implied == 0 and c.source is None:
            text = (
                f"{and_list(c.inputs)} do not fit together: a ROAS of 0x (ROI -100%) means no revenue "
                f"at all, but revenue={fig} was given. Check these inputs."
            )
        elif c.source is None:
            text = (
                f"{and_list(c.inputs)} do not fit together: `{c.formula}` gives {c.key} {implied}, "
                f"but {c.key}={fig} was given ({_percent(c.apart)} apart).{used} check these inputs."
            )
        else:
            text = (
                f"{and_list(c.inputs)} do not fit together: {c.key} is {fig} by `{c.source}` but "
                f"{implied} by `{c.formula}` ({_percent(c.apart)} apart).{used} check these inputs."
            )
        out.append(Notice(level="warning", text=text.replace(". check", ". Check")))
    for key, value in sol.under_one:
        rests = check_list(k for k in request.inputs if k in sol.basis.get(key, ()))
        out.append(
            Notice(
                level="warning",
                text=f"{LABEL[key]} comes out at {units.format_count(value)}, fewer than one "
                f"person: check {rests}.",
            )
        )
    for key, b in est.given_off:
        name = PLATFORM_NAME[request.platform or ""]
        side = "above" if values[key] > b.high else "below"
        out.append(
            Notice(
                level="warning",
                text=f"Your {LABEL[key]} of {figure(est, key)} is far {side} the published "
                f"{name} {LABEL[key]} of {published(key, b)} ({_sources(b)}"
                f"{', ' + b.objective if b.objective else ''}). Check it: every figure worked out "
                "from it moves with it.",
            )
        )
    for key, lowest, highest in est.given_off_any:
        over = values[key] > highest.high
        edge, b = (highest.high, highest) if over else (lowest.low, lowest)
        usd = " USD" if b.currency else ""
        out.append(
            Notice(
                level="warning",
                text=f"Your {LABEL[key]} of {figure(est, key)} is far "
                f"{'above' if over else 'below'} what any platform publishes: the "
                f"{'highest' if over else 'lowest'} is {units.format_metric(key, edge)}{usd} "
                f"on {PLATFORM_NAME[b.platform]} ({_sources(b)}). Check it: every figure worked "
                "out from it moves with it.",
            )
        )
    for key, b in est.off_published:
        name = PLATFORM_NAME[request.platform or ""]
        basis = sol.basis.get(key, ())
        rests = and_list(k for k in [*request.inputs, *est.assumed] if k in basis)
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
                text=f"No reliable {name} figure for {or_list(metrics)}, "
                f"so {and_list(adds)} are not estimated: give one, e.g. {typed_or_example(request, first)}."
            )
        )
    if est.other_objective and request.platform:
        name = PLATFORM_NAME[request.platform]
        theirs = {b.objective for b in est.other_objective.values()}
        ours = {b.objective for b in est.assumed.values()} - {None}
        listed = and_list(f"{LABEL[k]} ({published(k, b)})" for k, b in est.other_objective.items())
        used = and_list(LABEL[k] for k, b in est.assumed.items() if b.objective in ours)
        adds = list(dict.fromkeys(k for m in est.other_objective for k in est.missing.get(m, [])))
        apart = [k for k in adds if k in est.outcome_paths]
        rest = [k for k in adds if k not in est.outcome_paths]
        consequence = f", so {and_list(rest)} are not estimated" if rest else ""
        if apart:
            consequence += (
                f", so {and_list(apart)} are not worked out from these figures; {name}'s "
                f"{_campaigns(theirs)} figures alone give them (below)"
            )
        first = next(iter(est.other_objective))
        out.append(
            Notice(
                text=f"{name}'s published {listed} come from {_campaigns(theirs)} campaigns, "
                f"the {used} used here from {_campaigns(ours)} campaigns; smx does not "
                f"combine figures from different campaign types{consequence}. Give your own, "
                f"e.g. {typed_or_example(request, first)}.",
            )
        )
    if est.not_converted and request.platform:
        name = PLATFORM_NAME[request.platform]
        metrics = and_list(b.metric for b in est.not_converted)
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
    return and_list(CAMPAIGN.get(o, o) for o in sorted(o for o in objectives if o))


def _sources(b: Benchmark) -> str:
    return "; ".join(f"{s.name} {s.year}" for s in b.sources)


def published(key: str, b: Benchmark) -> str:
    """A published figure or range, in US dollars where it is money."""
    usd = " USD" if b.currency else ""
    if b.low == b.high:
        return units.format_metric(key, b.typical) + usd
    lo, typ, hi = (units.format_metric(key, v) for v in (b.low, b.typical, b.high))
    return spread(lo, typ, hi, usd)


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
            method = clip(b.method, 400)
            out.append(f"{LABEL[key]}: {_sources(b)}. {method}")
    apart = {k for paths in est.outcome_paths.values() for p in paths for k in p.keys}
    for key, b in est.other_objective.items():
        where = (
            f"used only for the {_campaigns({b.objective})} section" if key in apart else "not used"
        )
        out.append(
            f"Published {LABEL[key]} ({published(key, b)}, {_sources(b)}, {b.objective}) {where}: "
            f"measured on {_campaigns({b.objective})} campaigns, unlike the figures used here."
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
    if request.want is not None:
        data["asked"] = request.want
    if sol.ranges:
        data["ranges"] = {k: [lo, hi] for k, (lo, hi) in sol.ranges.items()}
    data["inputs"] = list(request.inputs)
    data["derived"] = list(sol.derived)
    data["currency"] = request.currency
    if est.paths:
        data["paths"] = [
            {
                "figures": list(p.keys),
                "objectives": list(p.objectives),
                "budget": [p.low, p.budget, p.high],
                "used": set(p.keys) <= set(est.assumed),
            }
            for p in est.paths
        ]
    if est.outcome_paths:
        data["outcome_paths"] = {
            key: [
                {
                    "figures": list(p.keys),
                    "objectives": list(p.objectives),
                    key: [p.low, p.budget, p.high],
                }
                for p in paths
            ]
            for key, paths in est.outcome_paths.items()
        }
    if per_day(est):
        data["per_day"] = per_day(est)
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
            "kind": "given_off_published",
            "inputs": [key],
            "key": key,
            "value": sol.values[key],
            "platform": b.platform,
            "published": [b.low, b.typical, b.high],
        }
        for key, b in est.given_off
    ]
    data["warnings"] += [
        {
            "kind": "given_off_every_platform",
            "inputs": [key],
            "key": key,
            "value": sol.values[key],
            "published": [lowest.low, highest.high],
        }
        for key, lowest, highest in est.given_off_any
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


PER_DAY = ("budget", *OUTCOMES)  # what a flight's day spends and brings


def per_day(est: Estimate) -> dict[str, float]:
    """Each figure a flight spends or brings, per day of it (when its days are known)."""
    values = est.values
    days = values.get("days")
    if not days or days <= 0:
        return {}
    return {k: values[k] / days for k in PER_DAY if k in values and k != "daily"}


def per_day_lines(est: Estimate) -> list[str]:
    currency = est.request.currency
    shown = est.values.keys() - {"budget"} if "daily" in est.values else est.values.keys()
    return [
        f"• *{LABEL[k]}*: {units.format_metric(k, v, currency)} a day"
        for k, v in per_day(est).items()
        if k in shown  # the daily budget is already a figure of its own
    ]


def path_lines(est: Estimate) -> list[str]:
    """One line per way the published figures reach the goal's budget, the one used first."""
    currency = est.request.currency
    lines = []
    for path in est.paths:
        money = [
            units.format_metric("budget", v, currency) for v in (path.low, path.budget, path.high)
        ]
        figures = and_list(f"{LABEL[k]} {published(k, est_published(est, k))}" for k in path.keys)
        kind = ""
        if len(path.objectives) > 1:
            kind = f": mixes {_campaigns(path.objectives)} campaigns, so read it as a rough bound"
        elif path.objectives:
            kind = f" ({_campaigns(path.objectives)} campaigns)"
        mark = ", the one used above" if set(path.keys) <= set(est.assumed) else ""
        lines.append(f"• {spread(*money)} by {figures}{kind}{mark}")
    return lines


def outcome_path_lines(est: Estimate, key: str) -> list[str]:
    """One line per published figure of one campaign type that reaches `key` from the figures
    given, when the estimate above does not."""
    lines = []
    for path in est.outcome_paths[key]:
        values = [
            units.format_metric(key, v, est.request.currency)
            for v in (path.low, path.budget, path.high)
        ]
        figures = and_list(f"{LABEL[k]} {published(k, est_published(est, k))}" for k in path.keys)
        kind = f" ({_campaigns(path.objectives)} campaigns)" if path.objectives else ""
        lines.append(f"• {spread(*values)} {LABEL[key].lower()} by {figures}{kind}")
    return lines


def est_published(est: Estimate, key: str):
    from knowledge import benchmarks_for

    return benchmarks_for(est.request.platform or "")[key]


def verdict(est: Estimate) -> Notice | None:
    """Whether the plan makes or loses money on each conversion, once its worth is known."""
    values = est.values
    currency = est.request.currency
    money = lambda k: units.format_metric(k, values[k], currency)  # noqa: E731
    roas = ""
    if "roas" in values and "break_even_roas" in values:
        side = "below" if values["roas"] < values["break_even_roas"] else "at or above"
        roas = (
            f" ROAS {units.format_metric('roas', values['roas'])} is {side} the "
            f"{units.format_metric('break_even_roas', values['break_even_roas'])} break-even."
        )
    if "profit_per_conversion" not in values or "cpa" not in values:
        if not {"profit", "revenue", "margin", "budget"} <= values.keys():
            return None
        gross = units.format_metric("profit", values["revenue"] * values["margin"], currency)
        result = values["profit"]
        amount = units.format_metric("profit", abs(result), currency)
        return Notice(
            level="warning" if result < 0 else "info",
            text=f"This plan {'loses' if result < 0 else 'makes'} money: {money('revenue')} of "
            f"revenue at a {units.format_metric('margin', values['margin'])} margin is {gross} "
            f"of gross profit against {money('budget')} of ads, "
            f"{'a loss' if result < 0 else 'a profit'} of {amount}.{roas}",
        )
    each = values["profit_per_conversion"]
    total = ""
    if "profit" in values:
        total = f", {units.format_metric('profit', abs(values['profit']), currency)} in all"
    if each < 0:
        return Notice(
            level="warning",
            text=f"This plan loses money: each conversion brings {money('break_even_cpa')} of "
            f"gross profit and costs {money('cpa')}, so it loses "
            f"{units.format_metric('cpa', -each, currency)} a conversion{total}.{roas} It pays "
            f"if the CPA falls below {money('break_even_cpa')}, or if customers come back "
            "(give ltv= to weigh their later orders).",
        )
    return Notice(
        text=f"This plan makes money: each conversion leaves {money('profit_per_conversion')} of "
        f"gross profit after its ad{total}.{roas}",
    )


def headline(est: Estimate) -> str | None:
    parts = [
        f"{figure(est, k)} {LABEL[k].lower()}"
        for k in OUTCOMES
        if k in est.solution.derived and k != "revenue"
    ]
    if "revenue" in est.solution.derived:
        parts.append(f"{figure(est, 'revenue')} revenue")
    if "budget" in est.solution.derived:
        # Outcomes were given and the budget follows: what they cost is the answer asked for.
        parts.insert(0, f"{figure(est, 'budget')} budget")
    if "daily" in est.solution.derived:
        parts.insert(0, f"{figure(est, 'daily')} a day")
    want = est.request.want
    if want in est.solution.derived and want not in ("budget", "daily"):
        # The figure asked about ("how many clicks ...") comes first.
        label = LABEL[want].lower() if want in OUTCOMES else LABEL[want]
        asked = f"{figure(est, want)} {label}"
        parts = [asked, *(p for p in parts if p != asked)]
    elif want in est.outcome_paths:
        # Reached only by another campaign type's figures: that, first, saying so.
        path = est.outcome_paths[want][0]
        values = [
            units.format_metric(want, v, est.request.currency)
            for v in (path.low, path.budget, path.high)
        ]
        kind = f" by {_campaigns(path.objectives)} figures" if path.objectives else ""
        parts.insert(0, f"{spread(*values)} {LABEL[want].lower()}{kind}")
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
    if len(est.paths) > 1:
        sections += sections_for("The budget by each published path", path_lines(est))
    for key in est.outcome_paths:
        sections += sections_for(
            f"{LABEL[key]} by another campaign type's figures (not combined with those above)",
            outcome_path_lines(est, key),
        )
    per_day = per_day_lines(est)
    if per_day:
        days = units.format_count(est.values["days"])
        plural = "" if days == "1" else "s"
        sections += sections_for(f"Per day, over {days} day{plural}", per_day)
    intro_parts = []
    if sol.ranges:
        intro_parts.append("Ranges read low – *typical* – high, from the published figures.")
    line = headline(est)
    if line:
        intro_parts.insert(0, line)
    if len(est.paths) > 1:
        lows = min(p.low for p in est.paths)
        highs = max(p.high for p in est.paths)
        span = " – ".join(units.format_metric("budget", v, request.currency) for v in (lows, highs))
        kinds = {o for p in est.paths for o in p.objectives}
        mixed = ", from the figures of different campaign types" if len(kinds) > 1 else ""
        intro_parts.append(f"Every published path to it together: {span}{mixed} (below).")
    return Reply(
        title=f"Estimate for {name}" if name else "Estimate",
        intro="\n".join(intro_parts) or None,
        facts=facts,
        sections=sections,
        notices=notices(ctx, est),
        footnotes=footnotes(est),
        data=data_for(est),
    )
