"""Review findings on `estimate` and `compare`: each test failed before its fix.

1 impossible results are errors (in test_estimate_command.BAD); 2 magnitudes and tiny counts of
people; 3 the reach cap at any end of a range; 4 figures from different campaign types are never
combined; 5 compare asks only for what is missing; 6 the smaller inconsistencies.
"""

import re

import pytest

from bot import units
from bot.context import Context
from bot.errors import UserError
from bot.estimate.solver import solve, solve_ranges, sufficient_sets
from bot.reply import render_text
from bot.router import dispatch
from knowledge import benchmarks_for, load
from knowledge.models import Benchmark

CTX = Context(surface="ask")


async def ask(text: str):
    return await dispatch(CTX, text)


def warnings(reply) -> list[str]:
    return [n.text for n in reply.notices if n.level == "warning"]


# --- 2: derived magnitudes and counts of people ------------------------------------------------------


def test_solver_flags_derived_values_beyond_1e12():
    sol = solve({"budget": 1e12, "cpm": 0.0001})
    assert sol.too_large == [("impressions", pytest.approx(1e19))]
    sol = solve({"impressions": 1e12, "reach": 1})
    assert sol.too_large == [("frequency", pytest.approx(1e12))]
    assert not solve({"budget": 1e6, "cpm": 1}).too_large  # exactly 1e9: fine


def test_ranges_flag_a_corner_beyond_1e12():
    sol = solve_ranges({"budget": 1e9, "cpm": 2}, {"cpm": (0.5, 2)})
    assert ("impressions", pytest.approx(2e12)) in sol.too_large


def test_frequency_is_capped_on_input():
    assert units.parse_metric("frequency", "1000").value == 1000
    with pytest.raises(UserError) as err:
        units.parse_metric("frequency", "1001")
    assert err.value.message.startswith(
        "`frequency=1001` is more than 1,000 impressions per person reached"
    )


async def test_reach_below_one_person_is_flagged():
    reply = await ask("estimate budget=1 cpm=8 frequency=1000")
    assert not reply.is_error and reply.data["reach"] == pytest.approx(0.125)
    assert warnings(reply) == [
        "Reach comes out at 0.125, fewer than one person: check budget=, cpm= and frequency=."
    ]
    assert reply.data["warnings"] == [
        {
            "kind": "under_one",
            "inputs": ["budget", "cpm", "frequency"],
            "key": "reach",
            "value": pytest.approx(0.125),
        }
    ]


# --- 3: the reach cap, from any corner ---------------------------------------------------------------


async def test_high_end_of_reach_capped_at_the_audience_says_so():
    reply = await ask("estimate budget=1000 platform=tiktok frequency=2 audience=100k")
    low, high = reply.data["ranges"]["reach"]
    assert high == 100_000 and reply.data["reach"] < 100_000
    assert reply.data["reach_capped"] == "high"
    assert any(
        n.text.startswith("The high end of reach is capped at the audience of 100,000")
        and "166,667" in n.text
        for n in reply.notices
    )
    assert "reach = impressions / frequency, high end capped at audience" in render_text(reply)


def test_solve_ranges_keeps_the_largest_uncapped_reach():
    sol = solve_ranges(
        {"budget": 1000, "cpm": 5, "frequency": 2, "audience": 100_000}, {"cpm": (3, 12)}
    )
    assert sol.uncapped_reach is None
    assert sol.uncapped_reach_high == pytest.approx(1000 * 1000 / 3 / 2)
    assert sol.ranges["reach"][1] == 100_000


# --- 4: campaign types are never mixed ---------------------------------------------------------------


def test_facebook_figures_say_which_campaign_type_they_measure():
    facebook = benchmarks_for("facebook")
    assert facebook["ctr"].objective == facebook["cpc"].objective == "traffic"
    assert facebook["cvr"].objective == facebook["cpa"].objective == "lead ads"
    assert facebook["cpm"].objective is None
    # the traffic CPC no longer carries the lead-ad CPC as its high end
    assert (facebook["cpc"].low, facebook["cpc"].high) == (0.83, 0.83)
    assert "1.88" in facebook["cpc"].method  # still sourced, shown as context


def test_the_validator_rejects_an_unknown_campaign_type():
    raw = benchmarks_for("facebook")["cvr"].model_dump()
    raw["objective"] = "purchases"
    with pytest.raises(ValueError, match="objective"):
        Benchmark.model_validate(raw)


async def test_facebook_does_not_combine_traffic_ctr_with_lead_ad_cvr():
    reply = await ask("estimate budget=1000 platform=facebook")
    data = reply.data
    assert set(data["assumed"]) == {"cpm", "ctr"}
    assert "conversions" not in data and "cpa" not in data
    assert data["not_combined"] == {"cvr": "lead ads", "cpa": "lead ads"}
    text = render_text(reply)
    assert "come from lead-ad campaigns, the CTR used here from traffic campaigns" in text
    assert "$21.98" in text and "WordStream–LocaliQ 2024" in text  # the published CPL, sourced


async def test_a_derived_value_far_from_the_published_one_is_warned_about():
    reply = await ask("estimate budget=1000 cpm=8 ctr=2% cvr=10% platform=facebook")
    texts = warnings(reply)
    assert any(
        t.startswith("CPA comes out at $4 from cpm, ctr and cvr, far from the published Facebook")
        and "$21.98" in t
        for t in texts
    )
    kinds = {(w["kind"], w["key"]) for w in reply.data["warnings"]}
    assert ("published", "cpa") in kinds
    # within a factor of two of the published range: no warning
    reply = await ask("estimate budget=1000 platform=linkedin")
    assert not warnings(reply)


# --- 5: compare asks only for what is missing --------------------------------------------------------


async def test_compare_with_followers_and_posts_asks_only_for_the_rate():
    reply = await ask("compare budget=2000 cpm=8 followers=12k posts=8")
    organic = [n.text for n in reply.notices if "No organic route yet" in n.text]
    assert organic == [
        "No organic route yet: add reach_rate=, or platform=NAME for published rates, "
        "e.g. reach_rate=8%."
    ]


async def test_compare_with_a_platform_never_offers_platform_name():
    reply = await ask("compare budget=2000 platform=linkedin followers=12k posts=8")
    assert not reply.is_error
    assert any("No organic route yet: add reach_rate=" in n.text for n in reply.notices)
    assert not any("platform=NAME" in n.text for n in reply.notices)


async def test_compare_examples_use_the_typed_currency():
    reply = await ask("compare budget=€1000 followers=12k posts=8 platform=instagram")
    paid = [n.text for n in reply.notices if "No paid route yet" in n.text]
    assert paid == ["No paid route yet: add cpm= or cpc=, e.g. cpm=€8."]


async def test_compare_with_too_little_still_names_both_sides():
    reply = await ask("compare budget=1000")
    assert reply.is_error
    assert reply.intro.startswith(
        "To compare the routes with numbers, give a paid side: add cpm= or cpc=, or "
        "platform=NAME for published rates; and an organic side: add followers=, posts= and "
        "reach_rate=, or platform=NAME for published rates."
    )


# --- 6: the smaller inconsistencies ------------------------------------------------------------------


async def test_pinterest_says_give_the_rates_yourself_once():
    reply = await ask("estimate platform=pinterest")
    assert reply.is_error
    assert reply.intro.lower().count("give the rates yourself") == 1
    assert "`estimate budget=1000 cpm=8 ctr=1.2% platform=pinterest`" in reply.intro


async def test_nothing_earned_is_an_outcome_both_ways():
    # revenue=0 and roas=0 are the same outcome: ROAS 0x, ROI -100%, no error either way.
    for text in ("estimate budget=1000 revenue=0", "estimate budget=1000 roas=0"):
        reply = await ask(text)
        assert not reply.is_error, text
        assert reply.data["roas"] == 0 and reply.data["revenue"] == 0
        assert reply.data["roi"] == pytest.approx(-1)
        assert "0x" in render_text(reply) and "-100%" in render_text(reply)


async def test_revenue_with_roi_minus_100_percent_is_a_contradiction():
    reply = await ask("estimate revenue=1000 roi=-100%")
    assert warnings(reply) == [
        "revenue and roi do not fit together: a ROAS of 0x (ROI -100%) means no revenue at all, "
        "but revenue=$1,000 was given. Check these inputs."
    ]
    assert reply.data["warnings"][0]["inputs"] == ["revenue", "roi"]
    reply = await ask("estimate revenue=1000 roas=0")
    assert len(warnings(reply)) == 1


def test_sufficient_sets_use_the_audience_when_given():
    assert sufficient_sets(["audience"]) == [
        ("audience", "impressions", "frequency"),
        ("audience", "budget", "cpm", "frequency"),
    ]
    assert sufficient_sets(["audience", "budget"])[0] == ("audience", "budget", "cpm", "frequency")


@pytest.mark.parametrize(
    ("key", "raw", "echo"),
    [
        ("budget", "$1,2,3k", "`budget=$1,2,3k`"),
        ("budget", "€1,234,5", "`budget=€1,234,5`"),
        ("ctr", "1,234%", "`ctr=1,234%`"),
        ("roi", "1,2,3x", "`roi=1,2,3x`"),
        ("frequency", "2,5,0x", "`frequency=2,5,0x`"),
        ("budget", "$9e99", "`budget=$9e99`"),
    ],
)
def test_error_echoes_the_value_exactly_as_typed(key, raw, echo):
    with pytest.raises(UserError) as err:
        units.parse_metric(key, raw)
    assert err.value.message.startswith(echo + " is ")


def test_posts_and_followers_are_whole_numbers():
    assert units.parse_metric("followers", "1.2k").value == 1200
    for key, raw in (("posts", "2.5"), ("followers", "1.5"), ("followers", "1.2345k")):
        with pytest.raises(UserError) as err:
            units.parse_metric(key, raw)
        assert "is not a whole number" in err.value.message


def test_engagement_rate_wording_matches_the_shipped_figures():
    # Every shipped engagement rate is Buffer's engagements ÷ impressions: nothing may claim smx
    # divides by reach.
    assert "impression" in units.RATE_MEANING["engagement_rate"]
    term = next(t for t in load().terms if t.key == "engagement_rate")
    assert "smx uses people reached" not in term.definition
    assert "Buffer" in term.definition and "impressions" in term.definition
    assert "published figures smx ships" in (term.formula or "")


@pytest.mark.parametrize(
    ("key", "raw", "value"),
    [
        ("budget", "2,5k", 2500),
        ("budget", "€1,50", 1.5),
        ("budget", "$1,2k", 1200),
        ("ctr", "1,2%", 0.012),
        ("roas", "2,5x", 2.5),
        ("impressions", "2,5m", 2_500_000),
        ("budget", "1,200", 1200),  # three digits after the comma: thousands, as before
        ("budget", "0.001", 0.001),  # a leading zero groups no thousands
        ("budget", "1.2k", 1200),
        ("budget", "12.50", 12.5),
    ],
)
def test_a_comma_before_one_or_two_digits_is_a_decimal_comma(key, raw, value):
    assert units.parse_metric(key, raw).value == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize(
    ("key", "raw", "message"),
    [
        (
            "budget",
            "1.200",
            "`budget=1.200` could be $1,200 (a point between thousands) or $1.20 (a decimal "
            "point): write budget=1200 or budget=1.20.",
        ),
        (
            "budget",
            "€2.345",
            "`budget=€2.345` could be €2,345 (a point between thousands) or €2.35 (a decimal "
            "point): write budget=2345 or budget=2.35.",
        ),
        (
            "clicks",
            "1.500",
            "`clicks=1.500` could be 1,500 (a point between thousands) or 1.5 (a decimal point): "
            "write clicks=1500 or clicks=1.5.",
        ),
    ],
)
def test_one_point_before_three_digits_is_asked_about(key, raw, message):
    with pytest.raises(UserError) as err:
        units.parse_metric(key, raw)
    assert err.value.message == message


@pytest.mark.parametrize(
    "typed",
    ["budget=1.200", "budget=€2.345", "clicks=1.500", "clicks=1.234", "impressions=9.999"],
)
def test_what_the_question_suggests_is_read_without_asking_again(typed):
    key, _, raw = typed.partition("=")
    with pytest.raises(UserError) as err:
        units.parse_metric(key, raw)
    suggested = re.findall(rf"write {key}=(\S+?) or {key}=(\S+?)\.$", err.value.message)
    assert suggested, err.value.message
    for value in suggested[0]:
        units.parse_metric(key, value)  # neither is a question again
