"""bot.units: what people type in, what smx shows, and the round trip between them."""

import math
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import units
from bot.errors import UserError

# --- money -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount", "currency", "typed"),
    [
        ("$1,200", 1200, "$", True),
        ("€500", 500, "€", True),
        ("£3k", 3000, "£", True),
        ("1.2k", 1200, "$", False),
        ("3m", 3_000_000, "$", False),
        ("2.5b", 2_500_000_000, "$", False),
        ("1200", 1200, "$", False),
        ("$0.50", 0.5, "$", True),
        ("500usd", 500, "$", True),
        ("EUR20", 20, "€", True),
        ("US$5", 5, "$", True),
        ("2K$", 2000, "$", True),
        ("1,234,567.89", 1234567.89, "$", False),
    ],
)
def test_parse_money(text, amount, currency, typed):
    money = units.parse_money(text)
    assert money.amount == pytest.approx(amount, rel=1e-12)
    assert (money.currency, money.typed) == (currency, typed)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "`budget=abc` is not an amount of money: write it like budget=$2,000."),
        ("1,2,3", "`budget=1,2,3` is not an amount of money"),
        ("1.200", "`budget=1.200` could be $1,200"),
        ("-500", "`budget=-500` is negative: write a positive value, like budget=$2,000."),
        ("5%", "`budget=5%` is an amount of money, not a rate"),
        ("2e13", "`budget=2e13` is beyond 1e12"),
        ("", "`budget=` is not an amount of money"),
        ("nan", "`budget=nan` is not an amount of money"),
        ("inf", "`budget=inf` is not an amount of money"),
    ],
)
def test_parse_money_errors(text, message):
    with pytest.raises(UserError) as err:
        units.parse_money(text, "budget")
    assert err.value.message.startswith(message)


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (0, "$", "$0"),
        (8, "$", "$8"),
        (62.5, "$", "$62.50"),
        (1234.56, "$", "$1,234.56"),
        (123456.7, "$", "$123,457"),
        (0.5, "$", "$0.50"),
        (0.0253, "$", "$0.0253"),
        (500, "€", "€500"),
        (-5, "$", "-$5"),
        # The edges of each way of writing an amount.
        (0.996, "$", "$1"),
        (0.994, "$", "$0.994"),
        (-0.0, "$", "$0"),
        (-0.001, "$", "-$0.001"),
        (-0.0001, "$", "-$0.0001"),
        (99999.996, "$", "$100,000"),
        (100000, "$", "$100,000"),
        (5, "EUR", "EUR 5"),
        (5, "US$", "US$5"),
    ],
)
def test_format_money(amount, currency, shown):
    assert units.format_money(amount, currency) == shown


# --- counts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("1.2k", 1200), ("60k", 60000), ("3m", 3e6), ("1,200", 1200), ("12K", 12000), ("35", 35)],
)
def test_parse_count(text, value):
    assert units.parse_count(text) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("$5", "`clicks=$5` is a count, not money: write it like clicks=1.2k."),
        ("5%", "`clicks=5%` is a count, not a rate: write it like clicks=1.2k."),
        ("-3", "`clicks=-3` is negative"),
        ("lots", "`clicks=lots` is not a number: write it like clicks=1.2k."),
        ("2000b", "`clicks=2000b` is beyond 1e12"),
    ],
)
def test_parse_count_errors(text, message):
    with pytest.raises(UserError) as err:
        units.parse_count(text, "clicks")
    assert err.value.message.startswith(message)


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        (62500, "62,500"),
        (41.666, "42"),
        (2.4, "2"),
        (2.5, "3"),  # halves up, not to the even one
        (1.67, "2"),
        (0.4, "0.4"),  # below one, where an answer says "fewer than one"
        (0, "0"),
        (1e9, "1,000,000,000"),
    ],
)
def test_format_count(n, shown):
    assert units.format_count(n) == shown


# --- rates: one rule for bare numbers ---------------------------------------------------------------


def test_percent_is_read_as_written_without_a_note():
    assert units.parse_rate("2.5%", "ctr") == units.Rate(0.025, None)


def test_bare_number_below_one_is_a_fraction_and_says_so():
    rate = units.parse_rate("0.5", "ctr")
    assert rate.value == 0.5
    assert rate.note.startswith("ctr 0.5 read as 50%")
    assert "write 0.5% for 0.5 percent" in rate.note


def test_bare_number_of_one_or_more_is_a_percent_and_says_so():
    rate = units.parse_rate("2", "ctr")
    assert rate.value == pytest.approx(0.02)
    assert rate.note == "ctr 2 read as 2%: a bare number of 1 or more is a percent"


def test_bare_fraction_and_its_percent_agree():
    assert units.parse_rate("0.025", "cvr").value == pytest.approx(units.parse_rate("2.5%").value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "150%",
            "`ctr=150%` is more than 100%: ctr is clicks ÷ impressions, so it is at most 100%.",
        ),
        ("150", "`ctr=150` is more than 100%"),
        ("-1%", "`ctr=-1%` is negative"),
        ("$1", "`ctr=$1` is a rate, not money"),
        ("abc", "`ctr=abc` is not a number: write it like ctr=1.2%."),
    ],
)
def test_parse_rate_errors(text, message):
    with pytest.raises(UserError) as err:
        units.parse_rate(text, "ctr")
    assert err.value.message.startswith(message)


@pytest.mark.parametrize(
    ("fraction", "shown"),
    [(0.025, "2.5%"), (0.5, "50%"), (0.00063, "0.063%"), (0.0253, "2.53%"), (12.34, "1,234%")],
)
def test_format_rate(fraction, shown):
    assert units.format_rate(fraction) == shown


# --- ROAS, ROI, frequency, durations --------------------------------------------------------------


@pytest.mark.parametrize("text", ["3", "3x", "3X", "300%", "3:1"])
def test_roas_takes_every_spelling(text):
    assert units.parse_metric("roas", text).value == pytest.approx(3)


def test_large_bare_roas_is_read_as_a_multiple_with_a_note():
    metric = units.parse_metric("roas", "300")
    assert metric.value == 300
    assert "write 300% for 3x" in metric.note


@pytest.mark.parametrize(
    ("text", "value"), [("150%", 1.5), ("1.5x", 1.5), ("-20%", -0.2), ("50", 0.5)]
)
def test_roi(text, value):
    assert units.parse_metric("roi", text).value == pytest.approx(value)


def test_roi_below_minus_100_is_refused():
    with pytest.raises(UserError, match=r"`roi=-150%` is below -100%"):
        units.parse_metric("roi", "-150%")


@pytest.mark.parametrize(("text", "value"), [("2.5", 2.5), ("2.5x", 2.5), ("1", 1)])
def test_frequency(text, value):
    assert units.parse_metric("frequency", text).value == value


def test_frequency_below_one_is_refused_with_the_reason():
    with pytest.raises(UserError) as err:
        units.parse_metric("frequency", "0.5")
    assert err.value.message == (
        "`frequency=0.5` is below 1: frequency is impressions ÷ reach, and everyone reached saw "
        "at least one impression. Write it like frequency=2.5."
    )


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("7d", timedelta(days=7)),
        ("4w", timedelta(weeks=4)),
        ("24h", timedelta(hours=24)),
        ("2weeks", timedelta(weeks=2)),
        ("3mo", timedelta(days=90)),
        ("1.5d", timedelta(hours=36)),
    ],
)
def test_parse_duration(text, delta):
    assert units.parse_duration(text) == delta


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("7", "`7` is not a length of time: write it like 7d (days), 4w (weeks) or 24h (hours)."),
        ("soon", "`soon` is not a length of time"),
        ("0d", "`0d` is no time at all"),
        ("5000d", "`5000d` is more than 10 years"),
    ],
)
def test_parse_duration_errors(text, message):
    with pytest.raises(UserError) as err:
        units.parse_duration(text)
    assert err.value.message.startswith(message)


# --- parse_metric: keys, aliases, currencies ---------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "key"),
    [
        ("spend", "budget"),
        ("cr", "cvr"),
        ("er", "engagement_rate"),
        ("CPL", "cpa"),
        ("Reach-Rate", "reach_rate"),
        ("freq", "frequency"),
        ("impressions", "impressions"),
    ],
)
def test_aliases(alias, key):
    assert units.canonical_key(alias) == key


def test_unknown_key_is_none_and_parse_metric_says_so():
    assert units.canonical_key("utm_source") is None
    with pytest.raises(UserError, match="`utm_source` is not a metric I know"):
        units.parse_metric("utm_source", "ig")


def test_parse_metric_money_keeps_its_currency():
    metric = units.parse_metric("spend", "€400")
    assert (metric.key, metric.value, metric.currency, metric.currency_typed) == (
        "budget",
        400,
        "€",
        True,
    )
    bare = units.parse_metric("cpm", "8")
    assert (bare.currency, bare.currency_typed) == ("$", False)
    assert units.parse_metric("clicks", "1.2k").currency is None


def test_parse_metric_allows_zero_counts_for_notes():
    assert units.parse_metric("conversions", "0").value == 0


def test_parse_metric_with_no_value():
    with pytest.raises(UserError, match=r"`ctr=` has no value: write it like ctr=1.2%"):
        units.parse_metric("ctr", "")


def test_every_key_has_an_example_that_parses():
    for key in units.KEYS:
        assert units.parse_metric(key, units.EXAMPLE[key]).value > 0


# --- round trips: parse(format(x)) gives x back to the precision shown ------------------------------


def _decimals(text: str) -> int:
    digits = text.rstrip("%").split(".")
    return len(digits[1]) if len(digits) == 2 else 0


# A number as written is 0 or between 1e-9 and 1e12 (bot/units.py); rates are written as percents.
FIGURES = st.just(0.0) | st.floats(min_value=1e-9, max_value=1e12)
FRACTIONS = st.just(0.0) | st.floats(min_value=1e-11, max_value=1)


@settings(max_examples=150, deadline=None)
@given(FIGURES, st.sampled_from(["$", "€", "£", "¥"]))
def test_money_round_trip(x, currency):
    shown = units.format_money(x, currency)
    back = units.parse_money(shown)
    assert back.currency == currency
    assert units.format_money(back.amount, currency) == shown
    assert abs(back.amount - x) <= 0.5 * 10 ** -_decimals(shown) * (1 + 1e-9) + abs(x) * 1e-15


@settings(max_examples=150, deadline=None)
@given(FIGURES)
def test_count_round_trip(x):
    shown = units.format_count(x)
    back = units.parse_count(shown)
    assert units.format_count(back) == shown
    assert abs(back - x) <= 0.5 * 10 ** -_decimals(shown) * (1 + 1e-9) + abs(x) * 1e-15


@settings(max_examples=150, deadline=None)
@given(FRACTIONS)
def test_rate_round_trip(x):
    shown = units.format_rate(x)
    back = units.parse_rate(shown)
    assert back.note is None  # a formatted rate always carries its %
    assert units.format_rate(back.value) == shown
    assert abs(back.value - x) * 100 <= 0.5 * 10 ** -_decimals(shown) * (1 + 1e-9) + 1e-15


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=0.01, max_value=1000, allow_nan=False, allow_infinity=False))
def test_roas_round_trip(x):
    shown = units.format_multiple(x)
    assert units.format_multiple(units.parse_metric("roas", shown).value) == shown


# --- hostile numbers (issue 10, defect 5): a sentence, never a crash ------------------------------

TOO_LARGE = "is beyond 1e12 (a million million)"


@pytest.mark.parametrize(
    ("parse", "key", "text"),
    [
        (units.parse_money, "budget", "1e309"),
        (units.parse_money, "budget", "1e400"),
        (units.parse_money, "budget", "1e999"),
        (units.parse_money, "budget", "-1e309"),
        (units.parse_money, "budget", "$1e309"),
        (units.parse_money, "budget", "1e308k"),
        (units.parse_count, "impressions", "1e309"),
        (units.parse_count, "clicks", "9" * 60),
        (units.parse_rate, "ctr", "1e309%"),
        (units.parse_rate, "ctr", "1e309"),
        (units.parse_roi, "roi", "1e309x"),
        (units.parse_roi, "roi", "1e309%"),
        (units.parse_multiple, "roas", "1e309x"),
        (units.parse_multiple, "roas", "1e309:1"),
        (units.parse_frequency, "frequency", "1e309"),
    ],
)
def test_numbers_past_what_a_float_holds_are_too_large_not_an_overflow(parse, key, text):
    with pytest.raises(UserError) as err:
        parse(text, key)
    assert TOO_LARGE in err.value.message
    assert f"`{key}={text[:20]}" in err.value.message


@pytest.mark.parametrize("key", units.KEYS)
def test_every_metric_refuses_an_overflowing_value_with_a_sentence(key):
    with pytest.raises(UserError) as err:
        units.parse_metric(key, "1e309")
    assert TOO_LARGE in err.value.message or "more than" in err.value.message


@pytest.mark.parametrize("text", ["1e-400", "1e-324", "0.000000000001", "-1e-400"])
def test_a_nonzero_number_too_small_to_mean_anything_is_refused_not_read_as_zero(text):
    with pytest.raises(UserError) as err:
        units.parse_count(text, "clicks")
    assert err.value.message.startswith(f"`clicks={text}` is below 1e-9 (a billionth)")
    assert "write 0 for none" in err.value.message


def test_the_smallest_figure_read_is_a_billionth():
    assert units.parse_money("0.000000001", "cpv").amount == 1e-9
    assert units.parse_rate("0.0000001%", "ctr").value == pytest.approx(1e-9)
    assert units.parse_count("0e999", "clicks") == 0


def test_a_number_longer_than_any_figure_is_refused_with_a_sentence():
    with pytest.raises(UserError) as err:
        units.parse_count("1" * 65, "impressions")
    assert "is too long to be a number (at most 64 characters)" in err.value.message
    assert "impressions=60k" in err.value.message
    assert units.parse_count("0" * 63 + "1", "impressions") == 1


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("١٢٣", 123),  # Arabic-Indic digits
        ("۱۲۳", 123),  # Persian digits
        ("１２３", 123),  # full-width digits, as a Japanese keyboard types them
        ("१२००", 1200),  # Devanagari
        ("١.٥k", 1500),
        ("1_000", 1000),  # underscores group digits, as in Python
        ("1 000", 1000),
        ("-0", 0),
        ("+0", 0),
    ],
)
def test_which_digits_and_separators_a_number_may_use(text, value):
    got = units.parse_count(text, "clicks")
    assert got == value
    assert math.copysign(1.0, got) == 1.0  # -0 is plain zero, never shown as "-0"


@pytest.mark.parametrize("text", ["²", "5²", "½", "Ⅻ", "inf", "-inf", "Infinity", "nan", "0x10"])
def test_characters_that_only_look_like_numbers_are_refused(text):
    with pytest.raises(UserError, match=r"is not a number: write it like clicks=1.2k"):
        units.parse_count(text, "clicks")


def test_non_ascii_digits_read_the_same_in_money_rates_and_durations():
    assert units.parse_money("€١٢٠٠").amount == 1200
    assert units.parse_rate("٢٫٥%".replace("٫", "."), "ctr").value == pytest.approx(0.025)
    assert units.parse_duration("١٢d") == timedelta(days=12)
    assert units.parse_duration("７d") == timedelta(days=7)


@pytest.mark.parametrize(
    "text",
    ["1000000000d", "99999999999999999999999999999999999999999d", "1000000w", "87601h", "122mo"],
)
def test_durations_past_what_timedelta_holds_are_more_than_ten_years(text):
    with pytest.raises(UserError) as err:
        units.parse_duration(text)
    assert err.value.message.startswith(f"`{text[:30]}")
    assert err.value.message.endswith("` is more than 10 years: write a length up to 3650d.")


def test_a_duration_that_rounds_to_nothing_is_no_time_at_all():
    with pytest.raises(UserError, match="is no time at all"):
        units.parse_duration("0.0000000000000000000000001h")


def test_a_duration_longer_than_any_length_of_time_is_refused_with_a_sentence():
    with pytest.raises(UserError, match="is not a length of time"):
        units.parse_duration("1" * 70 + "d")
