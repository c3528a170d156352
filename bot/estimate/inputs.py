"""What people type after `estimate` and `compare`: KEY=VALUE figures and platform=NAME.

Every problem is a UserError whose sentence says what to type instead; nothing here guesses
silently. Readings that needed a rule (a bare rate) come back as notes for the reply to state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bot import metric_table, units
from bot.errors import UserError
from bot.fuzzy import closest
from bot.platforms import parse_platform
from bot.slash import cmd
from bot.text import clip

# Zero is refused where a relation divides by it; the formula says where (bot/metric_table.py).
ZERO_DIVIDES = metric_table.ZERO_DIVIDES
# roas=0 is allowed, like revenue=0 and roi=-100%: a campaign that earned nothing is an outcome.
EXAMPLES = ("estimate budget=$2k cpm=8 ctr=1.2%", "estimate budget=1000 platform=linkedin")


@dataclass
class Request:
    inputs: dict[str, float] = field(default_factory=dict)  # canonical key -> value
    raw: dict[str, str] = field(default_factory=dict)  # canonical key -> token as typed
    notes: list[str] = field(default_factory=list)  # how bare numbers were read
    currency: str = "$"
    currency_typed: bool = False
    platform: str | None = None
    # platform=A,B,...: the platforms to set side by side (bot/estimate/side_by_side.py)
    platforms: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)  # extra KEY=VALUE a command accepts
    # want=KEY: the figure the person asked about ("how many clicks ..."), which the answer
    # leads with where the inputs determine it
    want: str | None = None


def shown(text: str, limit: int = 40) -> str:
    return clip(text, limit)


def usage(ctx, command: str = "estimate") -> str:
    keys = ", ".join(units.KEYS)
    examples = " or ".join(cmd(ctx, e.replace("estimate", command, 1)) for e in EXAMPLES)
    return (
        f"Give the figures you know as KEY=VALUE, e.g. {examples}. Keys: {keys}; "
        "add platform=NAME (facebook, instagram, linkedin, tiktok, x, youtube) to fill missing "
        "rates from published figures."
    )


def pairs(args: list[str]) -> list[tuple[str, str, str]]:
    """(key, value, token) for each `KEY=VALUE`, also when typed as `key = value` or `key= value`."""
    out: list[tuple[str, str, str]] = []
    i = 0
    while i < len(args):
        token = args[i]
        if token.endswith("=") and token != "=" and i + 1 < len(args) and "=" not in args[i + 1]:
            token, i = token + args[i + 1], i + 1
        elif i + 1 < len(args) and args[i + 1].startswith("=") and "=" not in token:
            nxt = args[i + 1]
            if nxt == "=" and i + 2 < len(args):
                token, i = f"{token}={args[i + 2]}", i + 2
            elif nxt != "=":
                token, i = token + nxt, i + 1
        key, eq, value = token.partition("=")
        if not eq or not key:
            raise UserError(
                f"`{shown(token)}` is not a KEY=VALUE figure: write each one as a key, `=` and a "
                "value with no spaces, e.g. `budget=$2k cpm=8 ctr=1.2%`."
            )
        out.append((key, value, token))
        i += 1
    return out


def platform_name(raw: str) -> str:
    """A platform key (`facebook`, ..., or `pinterest`, which has no figures)."""
    return parse_platform(raw)


MAX_PLATFORMS = 6  # side by side at most (every platform with figures)


def _platform_list(raw: str) -> list[str]:
    """`instagram,tiktok,linkedin` (any case, aliases, spaces after commas) as platform keys."""
    names = [n for n in (part.strip() for part in raw.split(",")) if n]
    found = [platform_name(n) for n in names[: MAX_PLATFORMS + 1]]
    if len(found) > MAX_PLATFORMS:
        raise UserError(
            f"Name at most {MAX_PLATFORMS} platforms to compare, e.g. "
            "`platform=instagram,tiktok,linkedin`."
        )
    unique = list(dict.fromkeys(found))
    if len(unique) < len(found):
        twice = next(p for p in found if found.count(p) > 1)
        raise UserError(f"`{twice}` is named twice in `platform={shown(raw)}`; name each once.")
    if len(unique) < 2:
        raise UserError(
            f"`platform={shown(raw)}` names one platform: write platform={unique[0]}, or "
            "name two or more to compare, like platform=instagram,tiktok."
        )
    return unique


def _unknown_key(key: str, options: tuple[str, ...]) -> UserError:
    query = key.lower()
    names = [*units.KEYS, *units.ALIASES, "platform", *options]
    # A typo is about as long as the name it misspells: `cpx` is not `break_even_cpa`.
    plausible = [
        n
        for n in names
        if (len(n) > 3 or len(query) <= len(n) + 1)
        and abs(len(n) - len(query)) <= max(2, len(query) // 2)
    ]
    found = closest(query, plausible, limit=6)
    guesses = list(dict.fromkeys(units.canonical_key(n) or n for n in found))[:3]
    hint = f"Did you mean {' or '.join(f'`{g}=`' for g in guesses)}? " if guesses else ""
    return UserError(
        f"`{shown(key)}` is not a figure I know. {hint}Keys: {', '.join(units.KEYS)}, and "
        "platform=NAME.",
        suggestions=guesses,
    )


def _wanted(raw: str) -> str:
    """The key of want=KEY (a metric smx can work out)."""
    key = units.canonical_key(raw.strip())
    if key is None:
        guesses = closest(raw.lower(), list(units.KEYS), limit=1)
        hint = f"Did you mean want={guesses[0]}? " if guesses else ""
        raise UserError(
            f"`want={shown(raw)}` names no figure I know. {hint}want= takes the figure to lead "
            "the answer with, like want=clicks or want=conversions."
        )
    return key


def _date(key: str, raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise UserError(
            f"`{key}={shown(raw)}` is not a date: write it as YEAR-MONTH-DAY, like "
            f"{key}=2026-03-01."
        ) from None


def _flight_days(request: Request, dates: dict[str, date]) -> None:
    """days= from a flight's start= and end= (both days run), checked against a days= given."""
    if len(dates) == 1:
        (given,) = dates
        other = "end" if given == "start" else "start"
        raise UserError(
            f"`{given}=` needs `{other}=` too, to count the flight's days (or give days=14)."
        )
    start, end = dates["start"], dates["end"]
    if end < start:
        raise UserError(
            f"`end={end.isoformat()}` is before `start={start.isoformat()}`: a flight ends after "
            "it starts."
        )
    days = (end - start).days + 1
    if days > 3650:
        raise UserError(f"A flight of {days:,} days is more than 10 years: check start= and end=.")
    if "days" in request.inputs and request.inputs["days"] != days:
        raise UserError(
            f"`days={units.format_count(request.inputs['days'])}` and start= to end= "
            f"({days} days, both included) disagree: give one or the other."
        )
    request.inputs["days"] = float(days)
    request.raw["days"] = f"start={start.isoformat()} end={end.isoformat()}"
    request.notes.append(
        f"days {days}: {start.isoformat()} to {end.isoformat()}, both days included"
    )


def parse_request(ctx, args: list[str], *, options: tuple[str, ...] = ()) -> Request:
    """The figures in `args`, validated; raises UserError for anything it cannot use."""
    request = Request()
    seen: dict[str, str] = {}  # canonical key -> the key as typed
    typed_currency: dict[str, str] = {}  # currency -> first key typed in it
    dates: dict[str, date] = {}  # a flight's start= and end=, both days included
    for key, value, token in pairs(args):
        lowered = key.lower()
        if lowered in ("start", "end"):
            if lowered in dates:
                raise UserError(f"`{lowered}` appears twice; give it once.")
            dates[lowered] = _date(lowered, value)
            continue
        if lowered == "want":
            if request.want is not None:
                raise UserError("`want` appears twice; give it once.")
            request.want = _wanted(value)
            continue
        if lowered == "platform" or lowered in options:
            if lowered in seen:
                raise UserError(f"`{lowered}` appears twice; give it once.")
            seen[lowered] = key
            if lowered == "platform" and "," in value:
                request.platforms = _platform_list(value)
            elif lowered == "platform":
                request.platform = platform_name(value)
            else:
                request.options[lowered] = value
            continue
        canonical = units.canonical_key(key)
        if canonical is None:
            raise _unknown_key(key, options)
        if canonical in seen:
            first = seen[canonical]
            same = first.lower() == lowered
            raise UserError(
                f"`{canonical}` appears twice"
                + ("" if same else f" (`{first}` and `{shown(key)}` are the same figure)")
                + "; give it once."
            )
        seen[canonical] = key
        metric = units.parse_metric(canonical, value)
        if metric.value == 0 and canonical == "budget":
            raise UserError(
                f"`{key}={shown(value)}` is no budget at all: with nothing to spend a campaign "
                "buys no impressions, clicks or conversions, so there is nothing to estimate. "
                f"Give the budget you plan, like budget={units.EXAMPLE['budget']}, or leave it "
                "out and give what you want to reach to see what it costs, like clicks=1000 "
                "cpc=$0.80."
            )
        if metric.value == 0 and canonical in ZERO_DIVIDES:
            raise UserError(
                f"`{canonical}={shown(value)}` can't be zero: {canonical} divides in "
                f"{ZERO_DIVIDES[canonical]}. Give a value above zero, like "
                f"{canonical}={units.EXAMPLE[canonical]}."
            )
        if metric.currency_typed and metric.currency:
            typed_currency.setdefault(metric.currency, token)
        if metric.note:
            request.notes.append(metric.note)
        if lowered == "cac":
            request.notes.append(
                "cac read as CPA, the ad spend per conversion. That is your CAC only when ads are "
                "the whole cost of winning a customer and every conversion is a new customer; "
                "counting agency fees, tools and returning buyers, CAC is higher than CPA"
            )
        request.inputs[canonical] = metric.value
        request.raw[canonical] = token
    if dates:
        _flight_days(request, dates)
    if len(typed_currency) > 1:
        tokens = list(typed_currency.values())
        raise UserError(
            f"`{shown(tokens[0])}` and `{shown(tokens[1])}` are in different currencies "
            f"({' and '.join(typed_currency)}): smx does not convert, so give every amount in one "
            "currency."
        )
    if typed_currency:
        request.currency, request.currency_typed = next(iter(typed_currency)), True
    return request
