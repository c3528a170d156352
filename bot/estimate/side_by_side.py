"""`estimate ... platform=A,B,C`: the same figures on several platforms, side by side.

Each platform is estimated on its own published figures, exactly as `platform=A` alone would
be (bot/estimate/fill.py), and the answers are set next to each other: impressions, reach,
clicks and conversions as low – typical – high, each platform's sources, and which platform
gives the most of the figure asked about (or, for a goal, which reaches it for the least).
"""

from __future__ import annotations

from dataclasses import replace

from bot import units
from bot.errors import UserError
from bot.estimate.checks import check_enough
from bot.estimate.fill import Estimate, run
from bot.estimate.inputs import Request
from bot.estimate.reply import notices as estimate_notices
from bot.estimate.reply import spread
from bot.metric_table import LABEL, METRICS
from bot.platforms import PLATFORM_NAME
from bot.reply import Fact, Notice, Reply, Section

SHOWN = ("budget", "impressions", "reach", "clicks", "conversions")  # the figures set side by side
# The figure asked about, when no other is: the deepest of the funnel every platform reaches.
FUNNEL = ("conversions", "clicks", "reach", "impressions")


def _range(est: Estimate, key: str) -> tuple[float, float, float]:
    typical = est.values[key]
    low, high = est.solution.ranges.get(key, (typical, typical))
    return low, typical, high


def _shown(est: Estimate, key: str) -> str:
    low, typical, high = (
        units.format_metric(key, v, est.request.currency) for v in _range(est, key)
    )
    return spread(low, typical, high)


def compare_platforms(ctx, request: Request) -> Reply:
    estimates: dict[str, Estimate] = {}
    left_out: dict[str, str] = {}
    for platform in request.platforms:
        one = replace(request, platform=platform, platforms=[], notes=list(request.notes))
        try:
            est = run(one)
            if est.no_figures:
                left_out[platform] = est.no_figures
                continue
            check_enough(ctx, est)
        except UserError as err:
            left_out[platform] = err.message
            continue
        estimates[platform] = est
    names = " vs ".join(PLATFORM_NAME[p] for p in request.platforms)
    if not estimates:
        reasons = " ".join(f"{PLATFORM_NAME[p]}: {why}" for p, why in left_out.items())
        raise UserError(f"None of {names} gives an estimate from these figures. {reasons}")
    keys = [
        k
        for k in SHOWN
        if k not in request.inputs and any(k in e.values for e in estimates.values())
    ]
    goal_seeking = all("budget" in e.solution.derived for e in estimates.values())
    wanted = request.want
    if (
        wanted is not None
        and wanted not in request.inputs
        and all(wanted in e.values for e in estimates.values())
    ):
        asked = wanted
    else:
        asked = None
    not_compared = wanted if wanted is not None and asked is None else None
    asked = asked or next(
        (
            k
            for k in FUNNEL
            if k not in request.inputs and all(k in e.values for e in estimates.values())
        ),
        None,
    )
    if asked is not None and asked not in keys:
        keys.append(asked)  # the figure asked about is shown and compared, whatever it is
    intro = []
    data_platforms = {  # by the NAME of platform=NAME, as typed in the grammar
        p: {k: list(_range(e, k)) for k in keys if k in e.values} for p, e in estimates.items()
    }
    winner = None
    if len(estimates) > 1 and (goal_seeking or asked is not None):
        key = "budget" if goal_seeking else asked
        typical = {p: e.values[key] for p, e in estimates.items()}
        # A cost is best where it is least: the cheapest CPC, not the dearest.
        cheapest = goal_seeking or METRICS[key].kind == "money"
        best = (min if cheapest else max)(typical.values())
        tied = [p for p, v in typical.items() if abs(v - best) <= 1e-9 * max(1.0, abs(best))]
        names_tied = " and ".join(f"*{PLATFORM_NAME[p]}*" for p in tied)
        winner = tied[0] if len(tied) == 1 else None
        figure = units.format_metric(key, best, request.currency)
        if goal_seeking and winner:
            intro.append(f"{names_tied} reaches it for the least: a typical budget of {figure}.")
        elif goal_seeking:
            intro.append(f"{names_tied} reach it for the same typical budget, {figure}.")
        elif winner and cheapest:
            intro.append(
                f"Lowest {LABEL[key]}: {names_tied}, {_shown(estimates[winner], key)} "
                "(typical figures compared)."
            )
        elif winner:
            intro.append(
                f"Most {LABEL[key].lower()}: {names_tied}, {_shown(estimates[winner], key)} "
                "(typical figures compared)."
            )
        else:
            intro.append(f"{names_tied} give the same typical {LABEL[key].lower()}, {figure}.")
    intro.append("Ranges read low – *typical* – high, from each platform's published figures.")
    sections = []
    for platform, est in estimates.items():
        lines = [f"• *{LABEL[k]}*: {_shown(est, k)}" for k in keys if k in est.values]
        sources = sorted({f"{s.name} {s.year}" for b in est.assumed.values() for s in b.sources})
        if sources:
            lines.append(f"Sources: {'; '.join(sources)}.")
        if est.paths:
            lines.append(
                "Several published paths reach this budget: ask for this platform alone to see them."
            )
        sections.append(Section(heading=PLATFORM_NAME[platform], text="\n".join(lines)))
    notices = [
        Notice(level="warning", text=f"{PLATFORM_NAME[platform]}: {n.text}")
        for platform, est in estimates.items()
        for n in estimate_notices(ctx, est)
        if n.level == "warning"  # what each says alone about the figures (see its own answer)
    ]
    notices += [
        Notice(level="warning", text=f"{PLATFORM_NAME[p]} is left out: {why}")
        for p, why in left_out.items()
    ]
    notices += [Notice(text=f"{note}.") for note in request.notes]
    if not_compared is not None:
        missing = [PLATFORM_NAME[p] for p, e in estimates.items() if not_compared in e.values]
        reach = f" (only {' and '.join(missing)} give them)" if missing else ""
        notices.append(
            Notice(
                text=f"{LABEL[not_compared]} could not be compared: not every platform's published "
                f"figures reach them from these{reach}. Compared instead: {LABEL[asked].lower()}."
                if asked
                else f"{LABEL[not_compared]} could not be compared from these figures{reach}."
            )
        )
    facts = [
        Fact(label=LABEL[k], value=units.format_metric(k, v, request.currency))
        for k, v in request.inputs.items()
    ]
    return Reply(
        title=f"Estimate: {names}",
        intro="\n".join(intro),
        facts=facts,
        sections=sections,
        notices=notices,
        footnotes=[
            "Published figures are in US dollars and are context, not targets: sources measure "
            "differently, so a gap between platforms is a hint, not a forecast."
        ],
        data={
            "platforms": data_platforms,
            "asked": "budget" if goal_seeking else asked,
            "best": winner,  # None for a tie
            "inputs": list(request.inputs),
            "currency": request.currency,
            "left_out": dict(left_out),
        },
    )
