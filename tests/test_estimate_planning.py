"""Flights, pacing and what a conversion is worth (issue 14), each case worked out by hand.

Flights: budget = daily × days; start= and end= count both days. Business inputs: break-even
ROAS = 1 / margin, break-even CPA = AOV × margin, profit per conversion = break-even CPA − CPA,
profit = conversions × profit per conversion = revenue × margin − budget; LTV:CAC = LTV / CPA.
"""

from __future__ import annotations

import re

import pytest

from bot.context import Context
from bot.router import dispatch


async def ask(text: str):
    return await dispatch(Context(surface="console"), text)


# (line, {key: value worked out by hand})
CASES = [
    # flights and pacing
    ("estimate daily=$100 days=14", {"budget": 1400}),
    ("estimate budget=3k days=30", {"daily": 100}),
    ("estimate budget=1000 daily=100", {"days": 10}),
    ("estimate daily=50 start=2026-03-01 end=2026-03-14", {"days": 14, "budget": 700}),
    # 27 and 28 February (2026 is no leap year), 1 and 2 March
    ("estimate daily=25 start=2026-02-27 end=2026-03-02", {"days": 4, "budget": 100}),
    ("estimate daily=25 start=2028-02-27 end=2028-03-02", {"days": 5, "budget": 125}),  # leap
    (
        "estimate budget=3000 start=2026-03-01 end=2026-03-30 cpm=8",
        {"days": 30, "daily": 100, "impressions": 375_000},
    ),
    ("estimate daily=100 days=14 cpm=8 ctr=1%", {"budget": 1400, "clicks": 1750, "cpc": 0.8}),
    # what a conversion is worth
    (
        "estimate budget=2000 cpa=25 aov=60 margin=35%",
        {
            "conversions": 80,
            "revenue": 4800,
            "roas": 2.4,
            "break_even_cpa": 21,
            "profit_per_conversion": -4,
            "profit": -320,
        },
    ),
    (
        "estimate budget=2000 cpa=15 aov=60 margin=35%",
        {"profit_per_conversion": 6, "profit": 800, "revenue": 8000, "roas": 4},
    ),
    ("estimate margin=25%", {"break_even_roas": 4}),
    ("estimate margin=40%", {"break_even_roas": 2.5}),
    ("estimate aov=40 margin=50% cpa=30", {"break_even_cpa": 20, "profit_per_conversion": -10}),
    ("estimate conversions=50 aov=80", {"revenue": 4000}),
    ("estimate budget=1000 roas=3 margin=25%", {"revenue": 3000, "profit": -250}),
    ("estimate budget=1000 roas=5 margin=25%", {"revenue": 5000, "profit": 250}),
    ("estimate ltv=240 cpa=60", {"ltv_cac": 4}),
    ("estimate cac=80 ltv=240", {"cpa": 80, "ltv_cac": 3}),
    # a goal and its worth: the budget 50 conversions need at a $25 CPA, and what they leave
    (
        "estimate conversions=50 cpa=25 aov=60 margin=50%",
        {"budget": 1250, "break_even_cpa": 30, "profit_per_conversion": 5, "profit": 250},
    ),
]


@pytest.mark.parametrize(("line", "want"), CASES, ids=[c[0] for c in CASES])
async def test_hand_checked_plans(line, want):
    reply = await ask(line)
    assert not reply.is_error, reply.intro
    for key, value in want.items():
        assert reply.data[key] == pytest.approx(value, rel=1e-12), key


async def test_a_plan_that_loses_money_says_so_plainly():
    reply = await ask("estimate budget=2000 cpa=25 aov=60 margin=35%")
    (verdict,) = [n for n in reply.notices if n.text.startswith("This plan")]
    assert verdict.level == "warning"
    assert verdict.text.startswith(
        "This plan loses money: each conversion brings $21 of gross profit and costs $25, so it "
        "loses $4 a conversion, $320 in all. ROAS 2.4x is below the 2.86x break-even."
    )
    making = await ask("estimate budget=2000 cpa=15 aov=60 margin=35%")
    (verdict,) = [n for n in making.notices if n.text.startswith("This plan")]
    assert verdict.level == "info" and verdict.text.startswith("This plan makes money")


async def test_without_a_cpa_the_verdict_rests_on_revenue_and_margin():
    reply = await ask("estimate budget=1000 roas=3 margin=25%")
    assert any(
        n.text.startswith(
            "This plan loses money: $3,000 of revenue at a 25% margin is $750 of gross profit "
            "against $1,000 of ads, a loss of $250."
        )
        for n in reply.notices
    )


async def test_a_flight_shows_what_each_day_spends_and_brings():
    reply = await ask("estimate daily=100 days=14 cpm=8 ctr=1%")
    assert reply.data["per_day"]["impressions"] == pytest.approx(12_500)
    assert reply.data["per_day"]["clicks"] == pytest.approx(125)
    (section,) = [s for s in reply.sections if s.heading.startswith("Per day")]
    assert section.heading == "Per day, over 14 days"
    assert "• *Impressions*: 12,500 a day" in section.text
    assert "Budget" not in section.text  # the daily budget is a figure of its own already
    assert reply.intro.startswith("$1,400 budget")


async def test_cac_is_read_as_cpa_and_the_answer_says_when_it_is_not():
    reply = await ask("estimate cac=80 ltv=240")
    assert any(
        n.text.startswith("cac read as CPA, the ad spend per conversion.") for n in reply.notices
    )
    # a CAC counts more than ad spend: it is not held against platforms' published CPAs
    assert not [w for w in reply.data["warnings"] if w["kind"].startswith("given_off")]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("estimate daily=50 start=2026-03-14", "`start=` needs `end=` too"),
        ("estimate daily=50 start=2026-03-14 end=2026-03-01", "`end=2026-03-01` is before"),
        ("estimate daily=50 start=march end=2026-03-01", "`start=march` is not a date"),
        (
            "estimate daily=50 days=10 start=2026-03-01 end=2026-03-14",
            "`days=10` and start= to end= (14 days, both included) disagree",
        ),
        ("estimate daily=50 start=2026-03-01 start=2026-03-02 end=2026-03-09", "appears twice"),
        ("estimate margin=150%", "`margin=150%` is more than 100%"),
        ("estimate daily=50 days=2.5", "`days=2.5` is not a whole number"),
        ("estimate daily=50 days=0", "`days=0` can't be zero"),
    ],
)
async def test_bad_plans_get_a_sentence(line, message):
    reply = await ask(line)
    assert reply.is_error
    assert message in reply.intro


# -- goal-seeking with a platform -------------------------------------------------------------------


async def test_a_goal_on_a_platform_gets_its_budget_by_every_published_path():
    from knowledge import benchmarks_for

    fb = benchmarks_for("facebook")
    reply = await ask("estimate conversions=50 platform=facebook")
    assert not reply.is_error
    paths = {tuple(p["figures"]): p for p in reply.data["paths"]}
    # by hand: 50 × CPA; 50 / CVR × CPC; 50 / CVR / CTR × CPM / 1000 (CTR a range)
    assert paths[("cpa",)]["budget"][1] == pytest.approx(50 * fb["cpa"].typical, rel=1e-12)
    assert paths[("cpc", "cvr")]["budget"][1] == pytest.approx(
        50 / fb["cvr"].typical * fb["cpc"].typical, rel=1e-12
    )
    low, typical, high = paths[("cpm", "ctr", "cvr")]["budget"]
    clicks = 50 / fb["cvr"].typical
    assert typical == pytest.approx(clicks / fb["ctr"].typical * fb["cpm"].typical / 1000)
    assert low == pytest.approx(clicks / fb["ctr"].high * fb["cpm"].typical / 1000)
    assert high == pytest.approx(clicks / fb["ctr"].low * fb["cpm"].typical / 1000)
    # the budget used is the path of one campaign type; the mixed ones are said to be mixed
    assert reply.data["budget"] == pytest.approx(50 * fb["cpa"].typical)
    assert paths[("cpa",)]["used"] and not paths[("cpc", "cvr")]["used"]
    (section,) = [s for s in reply.sections if s.heading == "The budget by each published path"]
    assert section.text.count("mixes lead-ad and traffic campaigns") == 2
    assert reply.intro.startswith("$1,099 budget")


@pytest.mark.parametrize(
    "line",
    ["estimate clicks=1000 platform=linkedin", "estimate impressions=100k platform=linkedin"],
)
async def test_a_goal_one_campaign_type_reaches_needs_no_list_of_paths(line):
    reply = await ask(line)
    assert "paths" not in reply.data
    assert reply.intro.split(" · ")[0].endswith("budget")


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from bot.platforms import NO_FIGURES, PLATFORM_NAME  # noqa: E402

WITH_FIGURES = [p for p in PLATFORM_NAME if p not in NO_FIGURES]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    platform=st.sampled_from(WITH_FIGURES),
    goal=st.sampled_from(["impressions", "clicks", "conversions"]),
    amount=st.integers(10, 5_000_000),
)
def test_a_budget_sought_for_a_goal_brings_the_goal_back(platform, goal, amount):
    """Goal-seeking a budget and then estimating from that budget gives back the goal (1e-9),
    wherever the estimate from a budget reaches that goal on the same figures."""
    import asyncio

    back = asyncio.run(ask(f"estimate {goal}={amount} platform={platform}"))
    if back.is_error or "budget" not in back.data:
        return  # the platform publishes nothing that reaches this goal
    forward = asyncio.run(ask(f"estimate budget={_typed(back.data['budget'])} platform={platform}"))
    assert _brought_back(back.data, forward.data, goal) == pytest.approx(amount, rel=1e-9)


def _typed(amount: float) -> str:
    """The amount as typed, exactly: `1.586` would be asked back (a point between thousands?),
    `1.5860` is the same number and is not."""
    text = repr(amount)
    return text + "0" if re.fullmatch(r"\d{1,3}\.\d{3}", text) else text


def _brought_back(back: dict, forward: dict, goal: str) -> float:
    """The goal as the estimate from the sought budget gives it, by the same published figures
    the budget was sought by: the estimate's own figure, or its path of that campaign type."""
    if goal in forward:
        return forward[goal]
    for path in forward.get("outcome_paths", {}).get(goal, []):
        if set(path["figures"]) <= set(back["assumed"]):
            return path[goal][1]
    raise AssertionError(f"the estimate from the budget does not reach {goal}: {forward}")


@pytest.mark.parametrize("goal", ["impressions", "clicks", "conversions"])
@pytest.mark.parametrize("platform", WITH_FIGURES)
async def test_every_platform_brings_a_sought_goal_back_from_its_budget(platform, goal):
    back = await ask(f"estimate {goal}=500 platform={platform}")
    if back.is_error:
        # Only where the platform publishes nothing that reaches the goal, said in a sentence.
        assert "alone determines nothing else" in back.intro
        return
    forward = await ask(f"estimate budget={_typed(back.data['budget'])} platform={platform}")
    assert _brought_back(back.data, forward.data, goal) == pytest.approx(500, rel=1e-9)


def _publishing(*keys: str) -> list[str]:
    from knowledge import benchmarks_for

    return [p for p in WITH_FIGURES if set(keys) <= benchmarks_for(p).keys()]


@pytest.mark.parametrize("platform", _publishing("cpm", "ctr"))
async def test_every_platform_with_a_cpm_and_ctr_makes_the_round_trip_for_clicks(platform):
    back = await ask(f"estimate clicks=1000 platform={platform}")
    forward = await ask(f"estimate budget={back.data['budget']!r} platform={platform}")
    assert forward.data["clicks"] == pytest.approx(1000, rel=1e-9)


@pytest.mark.parametrize(
    ("line", "said"),
    [
        (  # $5 lost on every conversion
            "estimate profit=5000 aov=50 margin=30% cpa=20",
            "No budget reaches a profit of $5,000 here: at a CPA of $20 each conversion loses $5 "
            "(the break-even CPA is $15)",
        ),
        (  # at break-even: nothing to gain
            "estimate profit=5000 aov=50 margin=30% cpa=15",
            "No budget reaches a profit of $5,000 here: the CPA is the break-even one ($15)",
        ),
    ],
)
async def test_a_profit_no_budget_can_reach_is_said_not_answered_with_a_negative_budget(line, said):
    reply = await ask(line)
    assert reply.is_error
    assert reply.intro.startswith(said)


async def test_no_published_path_that_loses_on_every_sale_or_crosses_break_even_is_offered():
    from knowledge import benchmarks_for

    fb = benchmarks_for("facebook")
    # break-even CPA $15: the lead-ad CPA ($21.98) loses on every sale; the CPM, CTR and CVR
    # path's CPA range takes in $15, so its budget has no range at all
    reply = await ask("estimate profit=5000 aov=50 margin=30% platform=facebook")
    assert not reply.is_error
    assert fb["cpa"].typical > 15
    for path in reply.data.get("paths", []):
        assert min(path["budget"]) > 0, path
        assert path["figures"] != ["cpa"]
    assert reply.data["budget"] > 0


async def test_one_day_is_one_day():
    reply = await ask("estimate daily=100 days=1 cpm=8")
    assert [s.heading for s in reply.sections if s.heading.startswith("Per day")] == [
        "Per day, over 1 day"
    ]
