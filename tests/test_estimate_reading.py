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


def _warnings(reply, kind):
    return [w for w in reply.data["warnings"] if w["kind"] == kind]


async def test_a_figure_far_outside_the_platforms_published_range_is_said():
    from knowledge import benchmarks_for

    ctr = benchmarks_for("facebook")["ctr"]
    reply = await ask("estimate budget=1000 ctr=12% cpm=8 platform=facebook")
    texts = [n.text for n in reply.notices]
    assert any(
        t.startswith("Your CTR of 12% is far above the published Facebook CTR of") for t in texts
    )
    (warning,) = _warnings(reply, "given_off_published")
    assert warning["key"] == "ctr" and warning["published"] == [ctr.low, ctr.typical, ctr.high]
    below = await ask(f"estimate budget=1000 ctr={ctr.low * 100 / 3:.3f}% cpm=8 platform=facebook")
    assert any("is far below the published Facebook CTR" in n.text for n in below.notices)


async def test_a_figure_far_outside_every_platforms_range_is_said_without_a_platform():
    from knowledge import load

    highest = max((b for b in load().benchmarks if b.metric == "ctr"), key=lambda b: b.high)
    reply = await ask("estimate budget=1000 ctr=40% cpm=8")
    (notice,) = [n for n in reply.notices if "what any platform publishes" in n.text]
    assert notice.level == "warning"
    from bot import units

    assert f"the highest is {units.format_rate(highest.high)}" in notice.text
    assert _warnings(reply, "given_off_every_platform")[0]["published"][1] == highest.high


@pytest.mark.parametrize(
    "line",
    [
        "estimate budget=1000 ctr=1.2% cpm=8",
        "estimate budget=1000 ctr=1.5% cpm=8 platform=facebook",
        "estimate budget=€1000 cpm=300",  # euros are not compared with published dollars
    ],
)
async def test_a_plausible_figure_or_another_currency_gets_no_such_notice(line):
    reply = await ask(line)
    assert not _warnings(reply, "given_off_published")
    assert not _warnings(reply, "given_off_every_platform")


async def test_one_platforms_figure_is_no_range_of_every_platform():
    from knowledge import load

    publishing = {b.platform for b in load().benchmarks if b.metric == "cvr"}
    assert len(publishing) == 1  # today only one platform publishes a conversion rate
    reply = await ask("estimate budget=1000 cpc=1 cvr=2%")
    assert not _warnings(reply, "given_off_every_platform")
