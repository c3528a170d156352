"""The estimate's validation messages: a result that cannot be, or too little to go on.

Each is a UserError that names the inputs to check and says what would be enough.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import units
from bot.errors import UserError
from bot.estimate.inputs import Request, usage
from bot.estimate.solver import RELATIONS, sufficient_sets
from bot.metric_table import RATIO
from bot.platforms import PLATFORM_NAME
from bot.slash import cmd
from bot.text import and_list, or_list

if TYPE_CHECKING:  # fill.py imports this module to check what it solved
    from bot.estimate.fill import Estimate


def _big(key: str, value: float, currency: str) -> str:
    if abs(value) >= 1e15:
        return f"about {value:.1e}".replace("e+", "e")
    return units.format_metric(key, value, currency)


def check_list(keys) -> str:
    return and_list(f"{k}=" for k in keys)


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
                f" (with the published {name} {and_list(assumed)}; give "
                f"{and_list(f'{k}=' for k in assumed)} yourself if yours differ)"
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
        raise UserError(f"{what}{extra}. Check {check_list(given)}.")
    at_a_loss = "profit_per_conversion" in values and values["profit_per_conversion"] <= 0
    no_budget = "profit" in request.inputs and "budget" not in values and at_a_loss
    for key, value in [*sol.negative, *([("budget", 0.0)] if no_budget else [])]:
        if at_a_loss and values["profit_per_conversion"] == 0 and "profit" in request.inputs:
            even = units.format_metric("cpa", values.get("break_even_cpa", 0), currency)
            raise UserError(
                f"No budget reaches a profit of "
                f"{units.format_metric('profit', values['profit'], currency)} here: the CPA is "
                f"the break-even one ({even}), so each conversion only pays for its ad. Lower "
                "the CPA below it, or raise aov= or margin=."
            )
        if at_a_loss:
            loss = units.format_metric("cpa", -values["profit_per_conversion"], currency)
            even = units.format_metric("cpa", values.get("break_even_cpa", 0), currency)
            cpa = units.format_metric("cpa", values["cpa"], currency) if "cpa" in values else "it"
            goal = ""
            if "profit" in request.inputs:
                goal = f" a profit of {units.format_metric('profit', values['profit'], currency)}"
            raise UserError(
                f"No budget reaches{goal or ' that'} here: at a CPA of {cpa} each conversion "
                f"loses {loss} (the break-even CPA is {even}), so spending more only loses more. "
                "Lower the CPA below the break-even one, or raise aov= or margin=."
            )
        given, extra = rests(key)
        raise UserError(
            f"{key} comes out below zero ({_big(key, value, currency)}) from {and_list(given)}"
            f"{extra}, which no campaign has. Check {check_list(given)}."
        )
    for key, value in sol.too_large:
        given, extra = rests(key)
        if key == "frequency":
            limit = f"more than {units.format_count(units.MAX_FREQUENCY)} impressions per person"
        else:
            limit = "beyond 1e12 (a million million), which no campaign reaches"
        raise UserError(
            f"{key} would be {_big(key, value, currency)} from {and_list(given)}{extra}, {limit}. "
            f"Check {check_list(given)}."
        )


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
    options = or_list([" + ".join(option) for option in sets])
    verb = "determines" if len(known) == 1 else "determine"
    extra = ""
    if est.not_converted:
        extra = (
            f" Published {PLATFORM_NAME[request.platform or '']} figures are in US dollars and "
            f"your amounts are in {request.currency}, so they were not applied."
        )
    missing = [m for m in est.missing if m not in est.other_objective]
    if missing and request.platform and not est.no_figures:
        extra += f" {PLATFORM_NAME[request.platform]} has no reliable published {or_list(missing)}."
    example = " ".join(typed_or_example(request, k) for k in sets[0])
    platform = ""
    if request.platform is None:
        platform = "; or add platform=NAME to fill rates from published figures, e.g. " + cmd(
            ctx, "estimate budget=1000 platform=linkedin"
        )
    raise UserError(
        f"{and_list(known)} alone {verb} nothing else.{extra} Enough would be {options}, "
        f"e.g. {cmd(ctx, 'estimate ' + example)}{platform}."
    )


def typed_or_example(request: Request, key: str) -> str:
    """`key=value` as the person typed it, or an example in their currency."""
    if key in request.raw:
        return request.raw[key]
    example = units.EXAMPLE[key]
    if key in units.MONEY_KEYS:
        example = example.replace("$", request.currency)
    return f"{key}={example}"
