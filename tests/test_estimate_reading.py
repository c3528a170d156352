"""How an estimate reads (issue 14): whole people, clicks and conversions; a range whose typical
value is one of its ends said once; and, where outcomes were given, the budget they cost first."""

from __future__ import annotations

import re

import pytest

from bot.context import Context
from bot.estimate.reply import spread
from bot.platforms import NO_FIGURES, PLATFORM_NAME
from bot.reply import render_text
from bot.router import dispatch


async def ask(text: str):
    return await dispatch(Context(surface="console"), text)


@pytest.mark.parametrize(
    ("parts", "shown"),
    [
        (("649", "900", "1,141"), "649 – *900* – 1,141"),
        (("649", "649", "1,141"), "649 – 1,141 (typical 649)"),
        (("649", "1,141", "1,141"), "649 – 1,141 (typical 1,141)"),
        (("649", "649", "649"), "649"),
    ],
)
def test_a_range_says_each_figure_once(parts, shown):
    assert spread(*parts) == shown


@pytest.mark.parametrize("platform", [p for p in PLATFORM_NAME if p not in NO_FIGURES])
async def test_no_published_range_repeats_its_typical_value(platform):
    reply = await ask(f"estimate budget=1000 platform={platform}")
    text = render_text(reply)
    repeated = re.findall(r"(\S+) – \*?(\S+?)\*? – (\S+)", text)
    assert not [r for r in repeated if r[1] in (r[0], r[2])], repeated


async def test_people_clicks_and_conversions_are_whole_and_data_keeps_the_exact_figures():
    reply = await ask("estimate budget=100 cpc=3 cvr=5%")
    assert reply.intro == "33 clicks · 2 conversions"
    assert "• Clicks: 33  `clicks = budget / cpc`" in render_text(reply)
    assert reply.data["clicks"] == pytest.approx(100 / 3)
    assert reply.data["conversions"] == pytest.approx(100 / 3 * 0.05)


async def test_outcomes_given_lead_with_the_budget_they_cost():
    reply = await ask("estimate conversions=50 cpa=25")
    assert reply.intro == "$1,250 budget"
    ranged = await ask("estimate clicks=1000 platform=linkedin")
    assert ranged.intro.splitlines()[0].split(" · ")[0].endswith(" budget")
    assert re.match(r"\$[\d,.]+ – \*\$[\d,.]+\* – \$[\d,.]+ budget", ranged.intro)


async def test_a_budget_given_is_not_repeated_in_the_headline():
    reply = await ask("estimate budget=500 cpm=8")
    assert reply.intro == "62,500 impressions"
