"""`compare KEY=VALUE ...`: what a paid budget buys next to what the organic plan reaches.

Both routes come from the one solver, over the same inputs and the same period, with the same
assumptions shown; the trade-offs that numbers do not capture come from the knowledge base.
"""

from __future__ import annotations

from bot import units
from bot.errors import UserError
from bot.estimate.checks import typed_or_example
from bot.estimate.fill import Estimate, run
from bot.estimate.inputs import parse_request
from bot.estimate.reply import build_reply, derived_line, figure, sections_for
from bot.metric_table import (
    LABEL,
    ORGANIC_OUTCOMES,
    ORGANIC_ROUTE,
    PAID_OUTCOMES,
    PAID_ROUTE,
    UNIT_COSTS,
)
from bot.platforms import PLATFORM_NAME
from bot.reply import Fact, Notice, Reply, Section
from bot.slash import cmd
from bot.text import and_list
from knowledge import benchmarks_for, load

TRADE_OFFS = ("cost", "timeline", "targeting", "together")
EXAMPLE = "compare budget=2000 platform=instagram followers=12k posts=8"


def compare_routes(ctx, args: list[str]) -> Reply:
    request = parse_request(ctx, args, options=("period",))
    period = None
    if "period" in request.options:
        period = units.parse_duration(request.options["period"], "period")
    est = run(request)
    values = est.values
    paid = [k for k in PAID_OUTCOMES if k in values]
    organic = [k for k in ORGANIC_OUTCOMES if k in values]
    if not paid and not organic:
        paid_needs, organic_needs = _paid_needs(est), _organic_needs(est)
        example = " ".join(
            [*request.raw.values()]
            + [typed_or_example(request, k) for k in (*paid_needs, *organic_needs)]
            + ([f"platform={request.platform}"] if request.platform else [])
        )
        if not request.inputs:
            example = EXAMPLE.removeprefix("compare ")
        raise UserError(
            f"{_no_figures(est)}To compare the routes with numbers, give a paid side: "
            f"{_needs(est, paid_needs)}; and an organic side: {_needs(est, organic_needs)}. "
            f"For example {cmd(ctx, 'compare ' + example)}."
        )
    reply = build_reply(ctx, est)
    name = PLATFORM_NAME.get(request.platform or "")
    when = f" over {_days(period)}" if period else ""
    reply.title = f"Paid vs organic{' on ' + name if name else ''}{when}"
    reply.intro = _intro(est, period)

    sections = [s for s in reply.sections if s.heading and s.heading.startswith("Assumed")]
    sections += sections_for("Paid route (SMM)", _route_lines(est, PAID_ROUTE))
    sections += sections_for("Organic route (SMO)", _route_lines(est, ORGANIC_ROUTE))
    sections.append(_side_by_side(est))
    sections.append(_trade_offs())
    reply.sections = sections

    if not paid:
        needs = _paid_needs(est)
        example = " ".join(typed_or_example(request, k) for k in needs)
        reply.notices.append(
            Notice(text=f"No paid route yet: {_needs(est, needs)}, e.g. {example}.")
        )
    if not organic:
        needs = _organic_needs(est)
        example = " ".join(typed_or_example(request, k) for k in needs)
        reply.notices.append(
            Notice(text=f"No organic route yet: {_needs(est, needs)}, e.g. {example}.")
        )
    reply.footnotes.append(
        f"Type {cmd(ctx, 'compare')} for SMO vs SMM aspect by aspect, or "
        f"{cmd(ctx, 'estimate ' + ' '.join(args))} for every figure."
    )
    reply.footnotes = reply.footnotes[:10]
    reply.data["routes"] = {
        "paid": {k: values[k] for k in PAID_ROUTE if k in values},
        "organic": {k: values[k] for k in ORGANIC_ROUTE if k in values},
    }
    if period:
        reply.data["period_days"] = period.total_seconds() / 86400
    return reply


# The figure each route needs before it shows an outcome; the rate is the one a platform can fill.
PAID_COSTS = UNIT_COSTS
ORGANIC_NEEDS = ("followers", "posts", "reach_rate")


def _published(est: Estimate, keys: tuple[str, ...]) -> bool:
    """Whether the platform publishes one of `keys` that applies here (dollars for money)."""
    platform = est.request.platform
    figures = benchmarks_for(platform) if platform else {}
    dollars = est.request.currency == "$"
    return any(k in figures and (dollars or not figures[k].currency) for k in keys)


def _paid_needs(est: Estimate) -> list[str]:
    """What the paid route still lacks: budget=, and a unit cost unless the platform gives one."""
    have = est.values
    needs = [] if "budget" in have else ["budget"]
    if not any(k in have for k in PAID_COSTS) and not _published(est, PAID_COSTS):
        needs.append("cpm")
    return needs


def _organic_needs(est: Estimate) -> list[str]:
    needs = [k for k in ORGANIC_NEEDS if k not in est.values]
    if "reach_rate" in needs and _published(est, ("reach_rate",)):
        needs.remove("reach_rate")
    return needs


def _needs(est: Estimate, needs: list[str]) -> str:
    """`add cpm= or cpc=, or platform=NAME for published rates`: only what is missing, and
    platform=NAME only when none was given."""
    asks = [f"{k}= or cpc=" if k == "cpm" else f"{k}=" for k in needs]
    text = f"add {and_list(asks)}"
    rate = "cpm" in needs or "reach_rate" in needs
    if rate and est.request.platform is None:
        text += ", or platform=NAME for published rates"
    return text


def _no_figures(est: Estimate) -> str:
    if not est.no_figures:
        return ""
    name = PLATFORM_NAME[est.request.platform or ""]
    return f"{name} has no reliable published figures, so smx fills in no rates. "


def _days(period) -> str:
    days = period.total_seconds() / 86400
    if days % 7 == 0:
        weeks = int(days // 7)
        return f"{weeks} week{'s' * (weeks != 1)}"
    if days >= 1:
        return f"{units.format_number(days)} days"
    return f"{units.format_number(days * 24)} hours"


def _intro(est: Estimate, period) -> str:
    spans = f"the same {_days(period)}" if period else "the same period"
    return (
        f"What the budget buys next to what the organic plan reaches, over {spans}: the "
        "budget is spent while the posts go out."
        + (" Ranges read low – *typical* – high." if est.solution.ranges else "")
    )


def _route_lines(est: Estimate, keys: tuple[str, ...]) -> list[str]:
    lines = []
    for key in keys:
        if key in est.request.inputs:
            lines.append(f"• *{LABEL[key]}*: {figure(est, key)} (given)")
        elif key in est.assumed:
            lines.append(f"• *{LABEL[key]}*: {figure(est, key)} (published)")
        elif key in est.solution.derived:
            lines.append(derived_line(est, key))
    return lines or ["Not enough figures for this route yet (see below)."]


def _side_by_side(est: Estimate) -> Section:
    values = est.values
    currency = est.request.currency
    paid = []
    if "budget" in values:
        paid.append(f"{units.format_money(values['budget'], currency)} of media")
    paid += [f"{figure(est, k)} {LABEL[k].lower()}" for k in PAID_OUTCOMES if k in values]
    organic = ["no media spend; the cost is the time to make and run the posts"]
    if "posts" in values:
        organic.append(f"{units.format_count(values['posts'])} posts")
    organic += [f"{figure(est, k)} {LABEL[k].lower()}" for k in ORGANIC_OUTCOMES if k in values]
    text = ""
    seen_paid = values.get("impressions")
    seen_organic = values.get("organic_reach")
    if seen_paid and seen_organic:
        ratio = seen_paid / seen_organic
        if ratio >= 1:
            text = (
                f"At typical figures the budget buys about {units.format_number(ratio)}× as many "
                "impressions as the organic posts reach (both count a person seen twice twice)."
            )
        else:
            text = (
                f"At typical figures the organic posts reach about "
                f"{units.format_number(1 / ratio)}× as many as the budget buys in impressions "
                "(both count a person seen twice twice)."
            )
    return Section(
        heading="Side by side",
        text=text,
        facts=[
            Fact(label="Paid (SMM)", value="\n".join(paid)),
            Fact(label="Organic (SMO)", value="\n".join(organic)),
        ],
    )


def _trade_offs() -> Section:
    aspects = {a.key: a for a in load().aspects}
    lines = [f"• *{aspects[k].title}*: {aspects[k].takeaway}" for k in TRADE_OFFS if k in aspects]
    return Section(heading="Trade-offs", text="\n".join(lines))
