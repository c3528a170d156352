"""Numbers as marketers type them, and as smx shows them: money, counts, rates, durations.

Reading rules (the reply states every reading that is not spelled out):
- Money: `$1,200`, `€500`, `£3k`, `1.2k`, `3m`, `2.5b`, `1200`, `500usd`. A bare number is in `$`.
- Counts: `1,200`, `1.2k`, `60k`, `3m`.
- Rates (ctr, cvr, reach_rate, engagement_rate) are kept as fractions. `2.5%` is 2.5 percent. A bare
  number is read by ONE rule: below 1 it is a fraction (`0.025` is 2.5%), 1 or more it is a percent
  (`2` is 2%). Every bare reading gets a note ("ctr 0.5 read as 50%: write 0.5% for 0.5 percent").
- ROAS is a multiple: `3`, `3x`, `3:1` or `300%`. ROI is a rate that may be negative or above 100%
  and follows the rate rule; `1.5x` is 150%.
- Frequency is a plain number from 1 to 1,000 (`2.5` or `2.5x`). Durations: `24h`, `7d`, `4w`, `3mo`.
- Posts and followers are whole numbers (`followers=1.2k` is fine, `posts=2.5` is not).
- Every figure is 0 or between 1e-9 and 1e12 in size: a number past a float (`1e309`) is "beyond
  1e12", a nonzero one that rounds to nothing (`1e-400`) is refused rather than read as zero, and
  `-0` is 0. A number is at most 64 characters long.
- Digits: any decimal digit reads as that digit (`١٢٣`, `۱۲۳`, `１２３`, `१२३` are 123), since
  people type numbers on their own keyboards; `²`, `½` or `Ⅻ` are not digits and are refused.
  Spaces and underscores inside a number group digits and are ignored (`1_000`, `1 000`).
  `inf`, `nan` and hexadecimal are not numbers here, whatever Python's float() accepts.

Formatting shows money to the cent (whole units from 100,000 up, three significant digits below 1),
counts whole from 100 up (three significant digits below), rates as percents with three
significant digits; parse(format(x)) gives back x to the precision shown.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta

from bot import metric_table
from bot.errors import UserError
from bot.text import ascii_digits, clip, without_format_characters

MAX_MAGNITUDE = 1e12
# Below this a figure means nothing (a CTR of 0.0000001% is 1e-9); a typed 1e-400 is a mistake.
MIN_MAGNITUDE = 1e-9
# The longest number text read: far more than any figure needs, and a bound on the work done.
MAX_NUMBER_TEXT = 64
# Impressions per person reached: even an always-on campaign over months stays far below this.
MAX_FREQUENCY = 1000.0
# The keys, their kinds, aliases, examples and what each rate divides: bot/metric_table.py.
KEYS, KIND, ALIASES, EXAMPLE = (
    metric_table.KEYS,
    metric_table.KIND,
    metric_table.ALIASES,
    metric_table.EXAMPLE,
)
MONEY_KEYS, RATE_KEYS = metric_table.MONEY_KEYS, metric_table.RATE_KEYS
WHOLE_KEYS, RATE_MEANING = metric_table.WHOLE_KEYS, metric_table.RATE_MEANING

CURRENCY_SYMBOLS = ("US$", "$", "€", "£", "¥", "₹")
CURRENCY_CODES = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "inr": "₹"}
# Suffixes as powers of ten, so that the number is read in one decimal-to-float step.
_SUFFIX = {"": 0, "k": 3, "m": 6, "mm": 6, "mn": 6, "b": 9, "bn": 9}
_NUMBER = re.compile(
    r"^(?P<sign>[+-])?(?P<num>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)"
    r"(?:e(?P<exp>[+-]?\d{1,3}))?(?P<suffix>k|mm|mn|m|bn|b)?$",
    re.IGNORECASE | re.ASCII,
)
_DECIMAL_COMMA = re.compile(
    r"^(?P<whole>[+-]?\d+),(?P<fraction>\d{1,2})(?P<rest>(?:e[+-]?\d{1,3})?[a-z]{0,2})$",
    re.IGNORECASE | re.ASCII,
)
# "1.200" is $1,200 where a point groups thousands and $1.20 where it is the decimal point: for an
# amount or a count, one point before exactly three digits is a question, not a reading.
_THOUSANDS_POINT = re.compile(r"^[+-]?(?P<whole>[1-9]\d{0,2})\.(?P<three>\d{3})$", re.ASCII)
_DURATION = re.compile(r"^(?P<n>\d+(?:\.\d+)?)(?P<unit>[a-z]+)$", re.ASCII)
_DURATION_UNITS = {
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), timedelta(hours=1)),
    **dict.fromkeys(("d", "day", "days"), timedelta(days=1)),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), timedelta(weeks=1)),
    **dict.fromkeys(("mo", "month", "months"), timedelta(days=30)),
}
MAX_DURATION = timedelta(days=3650)


@dataclass(frozen=True)
class Money:
    amount: float
    currency: str = "$"
    typed: bool = False  # whether the person wrote the currency (a bare number is in `$`)


@dataclass(frozen=True)
class Rate:
    value: float  # a fraction: 0.025 is 2.5%
    note: str | None = None  # how a bare number was read, when it was


@dataclass(frozen=True)
class Metric:
    key: str  # canonical key (aliases resolved)
    value: float  # rates as fractions, ROAS as a multiple, money in `currency`
    currency: str | None = None  # money keys only; "$" unless another was typed
    note: str | None = None  # how the value was read, when it needed reading
    raw: str = ""
    currency_typed: bool = False


# --- keys ------------------------------------------------------------------------------------------


def canonical_key(name: str) -> str | None:
    """The key a name means (`spend` -> budget, `CR` -> cvr), or None when it is no metric."""
    key = re.sub(r"[\s\-]+", "_", name.strip().lower())
    if key in KIND:
        return key
    return ALIASES.get(key)


def kind(key: str) -> str:
    return KIND[key]


# --- parsing ---------------------------------------------------------------------------------------


def _shown(key: str | None, text: str) -> str:
    text = clip(text, 40)
    return f"`{key}={text}`" if key else f"`{text}`"


def _example(key: str | None, fallback: str) -> str:
    return f"{key}={EXAMPLE[key]}" if key in EXAMPLE else fallback


def _number(text: str, key: str | None, what: str, example: str, typed: str | None = None) -> float:
    """A plain number with optional thousands commas and k/m/b suffix; a UserError otherwise.

    `typed` is the value exactly as the person wrote it (with its currency sign, `%` or `x`), which
    every message echoes; `text` is what is left to read once those were taken off.
    """
    typed = text if typed is None else typed
    decimal_comma = _DECIMAL_COMMA.match(text)
    if decimal_comma:
        # Thousands come in groups of three digits, so a comma before one or two is a decimal
        # comma ("2,5k" is 2.5k, "€1,50" is €1.50), as much of Europe writes it.
        text = f"{decimal_comma['whole']}.{decimal_comma['fraction']}{decimal_comma['rest']}"
    if len(text) > MAX_NUMBER_TEXT:
        raise UserError(
            f"{_shown(key, typed)} is too long to be a number (at most {MAX_NUMBER_TEXT} "
            f"characters): write it like {example}."
        )
    match = _NUMBER.match(text)
    if match is None:
        raise UserError(f"{_shown(key, typed)} is not {what}: write it like {example}.")
    # One decimal-to-float conversion: 1e309 becomes inf and 1e-400 zero instead of raising
    # OverflowError, and 0.29k is exactly 290.
    exponent = int(match["exp"] or 0) + _SUFFIX[(match["suffix"] or "").lower()]
    magnitude = float(f"{match['num'].replace(',', '')}e{exponent}")
    value = (-magnitude if match["sign"] == "-" else magnitude) + 0.0  # + 0.0: -0 is 0
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        raise UserError(
            f"{_shown(key, typed)} is beyond 1e12 (a million million), which no campaign reaches: "
            f"check the number and write it like {example}."
        )
    typed_nonzero = match["num"].strip("0.,") != ""
    if typed_nonzero and abs(value) < MIN_MAGNITUDE:
        raise UserError(
            f"{_shown(key, typed)} is below 1e-9 (a billionth), smaller than any figure a "
            f"campaign has: check the number, or write 0 for none. Write it like {example}."
        )
    return value


_SEPARATORS = re.compile(r"[\s_]+")


def _clean(text: str) -> str:
    """A number as typed, ready to read: digit-grouping spaces and underscores and invisible
    characters out, every decimal digit in ASCII."""
    return ascii_digits(without_format_characters(_SEPARATORS.sub("", text)))


def _non_negative(value: float, key: str | None, text: str, example: str) -> float:
    if value < 0:
        raise UserError(f"{_shown(key, text)} is negative: write a positive value, like {example}.")
    return value


def _currency_of(s: str, lowered: str) -> tuple[str | None, str]:
    """The currency a sign or code before or after an amount names, and the amount without it."""
    for symbol in CURRENCY_SYMBOLS:
        if s.startswith(symbol):
            return symbol, s[len(symbol) :]
        if s.endswith(symbol):
            return symbol, s[: -len(symbol)]
    for code, symbol in CURRENCY_CODES.items():
        if lowered.startswith(code):
            return symbol, s[len(code) :]
        if lowered.endswith(code):
            return symbol, s[: -len(code)]
    return None, s


def parse_money(text: str, key: str | None = None) -> Money:
    """`$1,200`, `€500`, `£3k`, `1.2k`, `3m`, `2.5b`, `1200`, `500usd` -> Money."""
    example = _example(key, "$1,200, €500 or 1.2k")
    s = _clean(text)
    sign = ""
    if s[:1] in ("+", "-"):
        sign, s = s[0], s[1:]
    currency = None
    lowered = s.lower()
    # Most amounts are digits alone ("500", "1,200.50"): no sign or code can start or end them.
    plain = s[:1].isdigit() and s[-1:].isdigit()
    if not plain:
        currency, s = _currency_of(s, lowered)
    if currency == "US$":
        currency = "$"
    if "%" in s:
        raise UserError(
            f"{_shown(key, text)} is an amount of money, not a rate: write it like {example}."
        )
    if sign and s[:1] in ("+", "-"):
        raise UserError(f"{_shown(key, text)} is not an amount of money: write it like {example}.")
    _not_ambiguous(s, key, text, currency or "$")
    amount = _number(sign + s, key, "an amount of money", example, text.strip())
    if key is not None:
        amount = _non_negative(amount, key, text, example)
    return Money(amount, currency or "$", currency is not None)


def parse_count(text: str, key: str | None = None) -> float:
    """`1,200`, `1.2k`, `60k`, `3m` -> 1200.0, ... Never negative."""
    example = _example(key, "1,200 or 1.2k")
    s = _clean(text)
    if "%" in s:
        raise UserError(f"{_shown(key, text)} is a count, not a rate: write it like {example}.")
    if any(c in s for c in "$€£¥₹"):
        raise UserError(f"{_shown(key, text)} is a count, not money: write it like {example}.")
    _not_ambiguous(s, key, text, "")
    value = _number(s, key, "a number", example, text.strip())
    return _non_negative(value, key, text, example)


def _not_ambiguous(s: str, key: str | None, text: str, sign: str) -> None:
    """A UserError asking which was meant, for an amount or count like "1.200" (see above)."""
    found = _THOUSANDS_POINT.match(s)
    if found is None:
        return
    whole, three = found["whole"], found["three"]
    small = float(f"{whole}.{three}")
    if sign:  # money: to the cent, as an amount is written (and as it is read again)
        shown, typed = format_money(small, sign), f"{small:.2f}"
    else:
        shown = typed = f"{whole}.{three.rstrip('0') or '0'}"
        if len(three.rstrip("0")) == 3:
            typed += "0"  # "1.234" would be asked about again; "1.2340" is read as a decimal
    name = f"{key}=" if key else ""
    raise UserError(
        f"{_shown(key, text.strip())} could be {sign}{int(whole + three):,} (a point between "
        f"thousands) or {shown} (a decimal point): write {name}{whole}{three} or {name}{typed}."
    )


def _percent_or_bare(
    text: str, key: str | None, example: str, typed: str | None = None
) -> tuple[float, str | None]:
    """A rate as a fraction, and the note for a bare number (the one documented rule)."""
    typed = text.strip() if typed is None else typed
    s = _clean(text)
    if any(c in s for c in "$€£¥₹"):
        raise UserError(f"{_shown(key, typed)} is a rate, not money: write it like {example}.")
    if s.endswith("%"):
        return _number(s[:-1], key, "a number", example, typed) / 100, None
    value = _number(s, key, "a number", example, typed)
    if value == 0:
        return 0.0, None
    name = key or "rate"
    if abs(value) < 1:
        fraction = value
        note = (
            f"{name} {s} read as {format_rate(fraction)}: a bare number below 1 is a fraction; "
            f"write {s}% for {s} percent"
        )
    else:
        fraction = value / 100
        note = f"{name} {s} read as {s}%: a bare number of 1 or more is a percent"
    return fraction, note


def parse_rate(text: str, key: str | None = None) -> Rate:
    """`2.5%`, `0.025` (a fraction), `2` (a percent) -> Rate(fraction, note). At most 100%."""
    example = _example(key, "2.5%")
    fraction, note = _percent_or_bare(text, key, example)
    _non_negative(fraction, key, text, example)
    if fraction > 1 + 1e-12:
        meaning = RATE_MEANING.get(key or "")
        why = (
            f": {key} is {meaning}, so it is at most 100%"
            if meaning
            else ", the most a rate can be"
        )
        raise UserError(f"{_shown(key, text)} is more than 100%{why}. Write it like {example}.")
    return Rate(min(fraction, 1.0), note)


def parse_roi(text: str, key: str | None = "roi") -> Rate:
    """ROI as a fraction: `150%`, `1.5x`, a bare number by the rate rule. At least -100%."""
    example = _example(key, "150%")
    s = _clean(text)
    if s.lower().endswith("x"):
        fraction, note = _number(s[:-1], key, "a number", example, text.strip()), None
    else:
        fraction, note = _percent_or_bare(s, key, example, text.strip())
    if fraction < -1 - 1e-12:
        raise UserError(
            f"{_shown(key, text)} is below -100%: ROI is (revenue − spend) ÷ spend, and at worst the "
            f"whole spend is lost. Write it like {example}."
        )
    return Rate(fraction, note)


def parse_multiple(text: str, key: str | None = "roas") -> Rate:
    """ROAS as a multiple: `3`, `3x`, `3:1` or `300%` -> 3.0."""
    example = _example(key, "3x")
    s = _clean(text)
    note = None
    typed = text.strip()
    if s.endswith("%"):
        value = _number(s[:-1], key, "a number", example, typed) / 100
    elif s.lower().endswith("x"):
        value = _number(s[:-1], key, "a number", example, typed)
    elif s.endswith(":1"):
        value = _number(s[:-2], key, "a number", example, typed)
    else:
        value = _number(s, key, "a number", example, typed)
        if value >= 20:
            note = (
                f"{key or 'roas'} {s} read as {format_multiple(value)} (revenue {s} times the "
                f"spend): write {s}% for {format_multiple(value / 100)}"
            )
    return Rate(_non_negative(value, key, text, example), note)


def parse_frequency(text: str, key: str | None = "frequency") -> float:
    """Impressions per person reached: `2.5` or `2.5x`, from 1 to MAX_FREQUENCY."""
    example = _example(key, "2.5")
    s = _clean(text)
    if s.lower().endswith("x"):
        s = s[:-1]
    if "%" in s:
        raise UserError(
            f"{_shown(key, text)} is not a frequency: frequency is impressions per person reached, "
            f"a plain number like {example}."
        )
    value = _non_negative(_number(s, key, "a number", example, text.strip()), key, text, example)
    if value < 1:
        raise UserError(
            f"{_shown(key, text)} is below 1: frequency is impressions ÷ reach, and everyone "
            f"reached saw at least one impression. Write it like {example}."
        )
    if value > MAX_FREQUENCY:
        raise UserError(
            f"{_shown(key, text)} is more than {format_count(MAX_FREQUENCY)} impressions per person "
            f"reached, which no campaign delivers: check the number and write it like {example}."
        )
    return value


def parse_duration(text: str, key: str | None = None) -> timedelta:
    """`24h`, `7d`, `4w`, `3mo` (30 days each) -> timedelta. `key` (`since`) is echoed with it."""
    s = _clean(text).lower()
    match = _DURATION.match(s) if len(s) <= MAX_NUMBER_TEXT else None
    unit = _DURATION_UNITS.get(match["unit"]) if match else None
    if match is None or unit is None:
        raise UserError(
            f"{_shown(key, text.strip())} is not a length of time: write it like 7d (days), "
            "4w (weeks) or 24h (hours)."
        )
    # Compared in seconds first: timedelta itself overflows past 999,999,999 days.
    seconds = float(match["n"]) * unit.total_seconds()
    if seconds > MAX_DURATION.total_seconds():
        raise UserError(
            f"{_shown(key, text.strip())} is more than 10 years: write a length up to 3650d."
        )
    length = timedelta(seconds=seconds)
    if length <= timedelta(0):
        raise UserError(
            f"{_shown(key, text.strip())} is no time at all: write a length like 7d or 4w."
        )
    return length


def parse_metric(key: str, raw: str) -> Metric:
    """One `KEY=VALUE` figure, checked for its kind: aliases resolved, rates as fractions.

    Zero is allowed here (a note may log `conversions=0`); the estimate solver rejects zero where a
    relation divides by it.
    """
    canonical = canonical_key(key)
    if canonical is None:
        raise UserError(f"`{key}` is not a metric I know. Use one of: {', '.join(KEYS)}.")
    if not raw.strip():
        raise UserError(
            f"`{canonical}=` has no value: write it like {canonical}={EXAMPLE[canonical]}."
        )
    kind_ = KIND[canonical]
    if kind_ == "money":
        money = parse_money(raw, canonical)
        return Metric(
            canonical, money.amount, money.currency, None, raw, currency_typed=money.typed
        )
    if kind_ == "count":
        value = parse_count(raw, canonical)
        if canonical in WHOLE_KEYS and value != int(value):
            raise UserError(
                f"{_shown(canonical, raw.strip())} is not a whole number: {canonical} counts whole "
                f"{canonical}, so write it like {canonical}={EXAMPLE[canonical]}."
            )
        return Metric(canonical, value, raw=raw)
    if kind_ == "rate":
        rate = parse_rate(raw, canonical)
        return Metric(canonical, rate.value, note=rate.note, raw=raw)
    if kind_ == "roi":
        rate = parse_roi(raw, canonical)
        return Metric(canonical, rate.value, note=rate.note, raw=raw)
    if kind_ == "multiple":
        rate = parse_multiple(raw, canonical)
        return Metric(canonical, rate.value, note=rate.note, raw=raw)
    return Metric(canonical, parse_frequency(raw, canonical), raw=raw)


# --- formatting ------------------------------------------------------------------------------------


def _significant(x: float, digits: int = 3, min_decimals: int = 0) -> str:
    """`x` to `digits` significant digits, trailing zeros dropped (down to `min_decimals`)."""
    if x == 0:
        return "0" if min_decimals == 0 else f"{0:.{min_decimals}f}"
    decimals = max(min_decimals, digits - 1 - math.floor(math.log10(abs(x))))
    text = f"{x:,.{decimals}f}" if decimals > 0 else f"{x:,.0f}"
    if "." in text:
        whole, frac = text.split(".")
        frac = frac.rstrip("0")
        if len(frac) < min_decimals:
            frac = frac.ljust(min_decimals, "0")
        text = f"{whole}.{frac}" if frac else whole
    return text


def _money_number(amount: float) -> str:
    a = abs(amount)
    if a >= 100_000:
        return f"{a:,.0f}"
    # From 1 up, to the cent; `round` only decides the few just under 1 (0.996 is "$1").
    if a >= 1 or round(a, 2) >= 1:
        text = f"{a:,.2f}"
        return text[:-3] if text.endswith(".00") else text
    if a == 0:
        return "0"
    return _significant(a, 3, min_decimals=2)


def format_money(amount: float, currency: str = "$") -> str:
    """$1,200 · $62.50 · $8 · $0.026 · €500 (to the cent; whole units from 100,000 up)."""
    number = _money_number(amount)
    sign = "-" if amount < 0 and number.strip("0.,") else ""
    prefix = currency if currency == "$" else f"{currency} " if currency.isalpha() else currency
    return f"{sign}{prefix}{number}"


def format_count(n: float) -> str:
    """62,500 · 42 · 2 · 0.4: people, clicks and conversions are whole, so a count of one or
    more is shown to the nearest whole one (halves up); below one, where an answer says it is
    fewer than one, three significant digits."""
    if abs(n) >= 1:
        whole = math.floor(abs(n) + 0.5)
        return f"{'-' if n < 0 else ''}{whole:,}"
    return _significant(n, 3)


def format_rate(fraction: float) -> str:
    """0.0253 -> 2.53% · 0.5 -> 50% · 0.00063 -> 0.063% · 12.34 -> 1,234% (ROI)."""
    pct = fraction * 100
    if abs(pct) >= 100:
        return f"{pct:,.0f}%"
    return f"{_significant(pct, 3)}%"


def format_multiple(x: float) -> str:
    """ROAS: 3 -> 3x, 3.25 -> 3.25x."""
    return f"{_significant(x, 3)}x"


def format_number(x: float) -> str:
    """A plain number such as a frequency: three significant digits."""
    return _significant(x, 3)


def format_metric(key: str, value: float, currency: str = "$") -> str:
    """A value of `key` the way a person reads it."""
    kind_ = KIND[key]
    if kind_ == "money":
        return format_money(value, currency)
    if kind_ == "count":
        return format_count(value)
    if kind_ in ("rate", "roi"):
        return format_rate(value)
    if kind_ == "multiple":
        return format_multiple(value)
    return format_number(value)
