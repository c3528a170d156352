"""Flights, pacing and what a conversion is worth (issue 14), each case worked out by hand.

Flights: budget = daily × days; start= and end= count both days. Business inputs: break-even
ROAS = 1 / margin, break-even CPA = AOV × margin, profit per conversion = break-even CPA − CPA,
profit = conversions × profit per conversion = revenue × margin − budget; LTV:CAC = LTV / CPA.
"""

from __future__ import annotations

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
