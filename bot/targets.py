"""Campaign targets: `target CAMPAIGN KEY<=VALUE ...`, read and held against the realised figures.

A target bounds one figure of a campaign: its spend, a count (impressions, clicks, conversions)
or a realised rate (CPM, CPC, CTR, CPA), from above (`<=`, `<`) or below (`>=`, `>`). It is on
track while the campaign's notes meet it, off track once they do not, and has no verdict while
the notes hold no figure for it (or hold it in another currency than the target's: amounts are
never converted).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot import units
from bot.errors import UserError
from bot.metric_table import LABEL
from bot.store import CampaignTotals
from bot.text import and_list, clip

Op = Literal["<=", ">=", "<", ">"]
Status = Literal["on track", "off track", "no figures"]
# The figures a target can bound: what a campaign's notes sum, and the rates they give.
KEYS = ("spend", "impressions", "clicks", "conversions", "cpm", "cpc", "ctr", "cpa")
RATES = {"cpm": ("spend_per_impression", 1000.0), "cpc": ("spend_per_click", 1.0),
         "ctr": ("clicks_per_impression", 1.0), "cpa": ("spend_per_conversion", 1.0)}  # fmt: skip
MONEY = {"spend", "cpm", "cpc", "cpa"}
SHOWN_OP = {"<=": "≤", ">=": "≥", "<": "<", ">": ">"}
_BOUND = re.compile(r"^(?P<key>[A-Za-z_]{2,40})\s*(?P<op><=|>=|=<|=>|<|>|≤|≥)\s*(?P<value>\S+)$")
MAX_TARGETS = 8  # a campaign's targets at most


@dataclass(frozen=True)
class Target:
    key: str
    op: Op
    value: float  # rates as fractions; money in `currency`
    currency: str | None = None  # money keys: the sign it was typed in ("$" unless another)

    @property
    def text(self) -> str:
        """As an answer shows it: `CPA ≤ $20`."""
        shown = units.format_metric(_metric_key(self.key), self.value, self.currency or "$")
        return f"{_label(self.key)} {SHOWN_OP[self.op]} {shown}"

    @property
    def typed(self) -> str:
        """As it would be typed again: `cpa<=20`."""
        value = units.format_metric(_metric_key(self.key), self.value, self.currency or "$")
        return f"{self.key}{self.op}{value.replace(',', '')}"


@dataclass(frozen=True)
class Check:
    target: Target
    realised: float | None
    status: Status
    why: str | None = None  # why there is no verdict

    @property
    def realised_text(self) -> str | None:
        """The realised figure as an answer shows it (`$18.40`), None without one."""
        if self.realised is None:
            return None
        key = _metric_key(self.target.key)
        return units.format_metric(key, self.realised, self.target.currency or "$")

    @property
    def line(self) -> str:
        """`CPA ≤ $20: $18.40 realised, on track`."""
        if self.realised is None:
            return f"{self.target.text}: no verdict yet ({self.why})"
        shown = units.format_metric(
            _metric_key(self.target.key), self.realised, self.target.currency or "$"
        )
        return f"{self.target.text}: {shown} realised, {self.status}"


def _metric_key(key: str) -> str:
    return "budget" if key == "spend" else key


def _label(key: str) -> str:
    return "Spend" if key == "spend" else LABEL[key]


def parse(args: list[str]) -> list[Target]:
    """`cpa<=20 ctr>=1% spend<=$5k` (also `cpa <= 20`) as targets; UserError naming the first
    that is not one."""
    joined = _joined(args)
    if not joined:
        raise UserError(
            "Give each target as KEY<=VALUE or KEY>=VALUE, e.g. `target spring-launch cpa<=20 "
            f"ctr>=1% spend<=$5k`. Keys: {', '.join(KEYS)}."
        )
    found: dict[str, Target] = {}
    for token in joined:
        match = _BOUND.match(token)
        if match is None:
            raise UserError(
                f"`{clip(token, 40)}` is not a target: write the figure, `<=` or `>=`, and the "
                "value with no spaces, like `cpa<=20` or `ctr>=1%`."
            )
        key = match["key"].lower()
        key = "spend" if key in ("budget", "cost", "ad_spend") else key
        canonical = units.canonical_key(key)
        if key not in KEYS and canonical in KEYS:
            key = canonical
        if key not in KEYS:
            raise UserError(
                f"`{clip(match['key'], 30)}` is not a figure a target can bound. Use one of: "
                f"{and_list(KEYS, 'or')}, e.g. `cpa<=20`."
            )
        op = {"=<": "<=", "=>": ">=", "≤": "<=", "≥": ">="}.get(match["op"], match["op"])
        metric = units.parse_metric(_metric_key(key), match["value"])
        if key in found:
            raise UserError(f"`{key}` has two targets here; give it one, e.g. `{key}{op}...`.")
        found[key] = Target(key, op, metric.value, metric.currency if key in MONEY else None)  # type: ignore[arg-type]
    if len(found) > MAX_TARGETS:
        raise UserError(f"A campaign takes at most {MAX_TARGETS} targets at a time.")
    return list(found.values())


def _joined(args: list[str]) -> list[str]:
    """`cpa <= 20` typed with spaces, as one token each."""
    out: list[str] = []
    i = 0
    while i < len(args):
        token = args[i]
        if i + 2 < len(args) and re.fullmatch(r"<=|>=|=<|=>|<|>|≤|≥", args[i + 1]):
            token, i = token + args[i + 1] + args[i + 2], i + 2
        elif (
            i + 1 < len(args)
            and re.fullmatch(r"(?:<=|>=|<|>|≤|≥)\S+", args[i + 1])
            or re.fullmatch(r"[A-Za-z_]+(?:<=|>=|<|>|≤|≥)", token)
            and i + 1 < len(args)
        ):
            token, i = token + args[i + 1], i + 1
        out.append(token)
        i += 1
    return out


def realised(key: str, totals: CampaignTotals) -> tuple[float | None, str | None]:
    """The campaign's figure for `key`, or why there is none."""
    if key in RATES:
        pair = getattr(totals, RATES[key][0])
        if pair is None or not pair[1]:
            return None, f"its notes have no {_needs(key)}"
        if key in MONEY and len(totals.currencies) > 1:
            return None, f"its spend is in {and_list(totals.currencies)}"
        return pair[0] / pair[1] * RATES[key][1], None
    value = getattr(totals, key)
    if value is None:
        return None, f"its notes have no {key}"
    if key == "spend" and len(totals.currencies) > 1:
        return None, f"its spend is in {and_list(totals.currencies)}"
    return value, None


def _needs(key: str) -> str:
    return {"cpm": "spend with impressions", "cpc": "spend with clicks",
            "ctr": "clicks with impressions", "cpa": "spend with conversions"}[key]  # fmt: skip


def check(target: Target, totals: CampaignTotals | None) -> Check:
    if totals is None:
        return Check(target, None, "no figures", "no notes yet")
    value, why = realised(target.key, totals)
    if value is None:
        return Check(target, None, "no figures", why)
    if target.key in MONEY and totals.currencies and totals.currencies != (target.currency,):
        return Check(
            target, None, "no figures",
            f"its spend is in {and_list(totals.currencies)}, the target in {target.currency}",
        )  # fmt: skip
    met = {
        "<=": value <= target.value,
        "<": value < target.value,
        ">=": value >= target.value,
        ">": value > target.value,
    }[target.op]
    return Check(target, value, "on track" if met else "off track")


def crossed(before: list[Check], after: list[Check]) -> list[Check]:
    """The targets that went from on track (or no verdict) to off track between two checks."""
    was = {c.target.key: c.status for c in before}
    return [c for c in after if c.status == "off track" and was.get(c.target.key) != "off track"]
