"""`estimate` and `compare KEY=VALUE` as people use them: routed, validated, explained."""

import json
import os
import subprocess
import sys

import pytest

from bot import cli
from bot.context import Context
from bot.errors import UserError
from bot.estimate.commands import estimate
from bot.estimate.plans import compare_routes
from bot.reply import render_text
from bot.router import dispatch
from bot.slack.blocks import fallback_text, render_blocks
from knowledge import benchmarks_for
from tests.support.blockkit import assert_message_ok

CTX = Context(surface="ask")
SLACK = Context(surface="command")


async def ask(text: str, ctx: Context = CTX):
    return await dispatch(ctx, text)


# --- answers -----------------------------------------------------------------------------------------


async def test_budget_and_cpm_give_impressions_with_formula():
    reply = await ask("estimate budget=$500 cpm=$8")
    assert not reply.is_error
    assert reply.data["impressions"] == 62_500
    assert reply.data["formulas"]["impressions"] == "impressions = budget × 1000 / cpm"
    text = render_text(reply)
    assert "62,500" in text and "budget × 1000 / cpm" in text
    assert [f.label for f in reply.facts] == ["Budget", "CPM"]


async def test_unit_costs_follow_from_rates_alone():
    reply = await ask("estimate cpm=12 ctr=0.8%")
    assert reply.data["cpc"] == pytest.approx(1.5)
    assert "$1.50" in render_text(reply)
    reply = await ask("estimate cpc=2 cvr=4%")
    assert reply.data["cpa"] == pytest.approx(50)


async def test_data_holds_every_figure_with_rates_as_fractions():
    reply = await ask("estimate budget=$2k cpm=8 ctr=1.2% cvr=3%")
    data = reply.data
    assert data["ctr"] == pytest.approx(0.012) and data["cvr"] == pytest.approx(0.03)
    assert data["impressions"] == pytest.approx(250_000)
    assert data["clicks"] == pytest.approx(3000)
    assert data["conversions"] == pytest.approx(90)
    assert data["cpa"] == pytest.approx(2000 / 90)
    assert set(data["formulas"]) == {"impressions", "clicks", "cpc", "conversions", "cpa"}
    assert "ranges" not in data
    json.dumps(data)


@pytest.mark.parametrize("roas", ["3", "3x", "300%"])
async def test_roas_in_every_spelling(roas):
    reply = await ask(f"estimate budget=1000 roas={roas}")
    assert reply.data["revenue"] == pytest.approx(3000)
    assert reply.data["roi"] == pytest.approx(2)
    assert "200%" in render_text(reply)


async def test_aliases_are_understood():
    reply = await ask("estimate spend=1000 cpc=2 cr=5%")
    assert reply.data["budget"] == 1000 and reply.data["conversions"] == pytest.approx(25)
    reply = await ask("estimate organic_reach=20k er=1.5%")
    assert reply.data["organic_engagements"] == pytest.approx(300)


async def test_money_is_shown_in_the_currency_typed():
    reply = await ask("estimate budget=€1,000 cpc=€2")
    assert reply.data["clicks"] == 500 and reply.data["currency"] == "€"
    assert "€1,000" in render_text(reply)
    reply = await ask("estimate budget=£3k cpm=6")  # a bare amount takes the typed currency
    assert "£6" in render_text(reply)


async def test_bare_rates_are_read_by_one_rule_and_the_reply_says_so():
    reply = await ask("estimate impressions=10k ctr=0.5")
    assert reply.data["ctr"] == 0.5
    assert any("ctr 0.5 read as 50%" in n.text for n in reply.notices)
    reply = await ask("estimate impressions=10k ctr=2")
    assert reply.data["clicks"] == pytest.approx(200)
    assert any("ctr 2 read as 2%" in n.text for n in reply.notices)


async def test_disagreeing_inputs_warn_and_name_them():
    reply = await ask("estimate cpm=10 ctr=1% cpc=2")
    warnings = [n.text for n in reply.notices if n.level == "warning"]
    assert len(warnings) == 1
    assert warnings[0].startswith("cpm, ctr and cpc do not fit together")
    assert "100% apart" in warnings[0]
    assert reply.data["warnings"][0]["inputs"] == ["cpm", "ctr", "cpc"]


async def test_reach_capped_at_audience_with_a_notice():
    reply = await ask("estimate impressions=100k frequency=2 audience=30k")
    assert reply.data["reach"] == 30_000
    assert any("capped at the audience (30,000)" in n.text for n in reply.notices)


async def test_impossible_results_are_errors_not_results():
    # A rate above 100% or a frequency below 1 is a validation error (issue 3), never a result.
    reply = await ask("estimate clicks=500 impressions=100")
    assert reply.is_error and "impressions" not in reply.data
    assert reply.intro == (
        "clicks (500) can't exceed impressions (100): ctr would be 500%. "
        "Check clicks= and impressions=."
    )


async def test_organic_reach_is_gross_and_says_so():
    reply = await ask("estimate followers=12k reach_rate=13.5% posts=8 engagement_rate=2%")
    assert reply.data["organic_reach"] == pytest.approx(12_960)
    assert reply.data["organic_engagements"] == pytest.approx(259.2)
    assert any("Organic reach is gross: summed over the 8 posts" in n.text for n in reply.notices)


async def test_share_is_honoured():
    reply = await ask("estimate budget=500 cpm=8 share")
    assert reply.share and reply.data["impressions"] == 62_500


async def test_key_value_with_spaces_around_the_equals_sign():
    reply = await ask("estimate budget = 500 cpm= 8")
    assert reply.data["impressions"] == 62_500


# --- platforms: published figures as ranges ---------------------------------------------------------


async def test_linkedin_budget_gives_ranges_with_sources():
    published = benchmarks_for("linkedin")
    assert {"cpm", "ctr"} <= set(published), "the knowledge base should carry LinkedIn CPM and CTR"
    cpm, ctr = published["cpm"], published["ctr"]
    reply = await ask("estimate budget=1000 platform=linkedin")
    data = reply.data
    assert data["impressions"] == pytest.approx(1e6 / cpm.typical)
    assert data["ranges"]["impressions"] == pytest.approx([1e6 / cpm.high, 1e6 / cpm.low])
    assert data["ranges"]["clicks"] == pytest.approx(
        [1e6 / cpm.high * ctr.low, 1e6 / cpm.low * ctr.high]
    )
    assert data["assumed"]["cpm"]["sources"] == [f"{s.name} {s.year}" for s in cpm.sources]
    text = render_text(reply)
    assert "US dollars" in text
    for source in cpm.sources + ctr.sources:
        assert f"{source.name} {source.year}" in text
    assert "low – typical – high" in text


async def test_platform_fills_only_what_is_missing():
    reply = await ask("estimate budget=1000 cpm=20 platform=linkedin")
    assert reply.data["cpm"] == 20 and "cpm" not in reply.data["assumed"]
    assert "ctr" in reply.data["assumed"]
    assert "cpm" not in reply.data.get("ranges", {})


async def test_platform_only_shows_its_published_figures():
    reply = await ask("estimate platform=facebook")
    assert not reply.is_error
    assert set(reply.data["assumed"]) >= {"cpm", "ctr"}
    assert any("Add your numbers" in n.text for n in reply.notices)


async def test_a_platform_without_figures_says_so():
    reply = await ask("estimate platform=pinterest")
    assert reply.is_error
    assert "No reliable published" in reply.intro and "Pinterest" in reply.intro
    reply = await ask("estimate budget=1000 cpm=5 platform=pinterest")
    assert not reply.is_error and reply.data["impressions"] == 200_000
    assert any("Pinterest" in n.text and "ships none" in n.text for n in reply.notices)
    assert "assumed" not in reply.data


async def test_published_dollars_are_not_applied_to_other_currencies():
    reply = await ask("estimate budget=€2000 ctr=1% platform=instagram impressions=100k")
    assert "cpm" in reply.data and reply.data["cpm"] == pytest.approx(20)  # from budget / impr.
    reply = await ask("estimate budget=€2000 platform=instagram")
    assert reply.is_error
    assert "in US dollars and your amounts are in €" in reply.intro


async def test_missing_platform_figures_are_named():
    reply = await ask("estimate budget=1000 platform=linkedin")
    assert any(
        "No reliable LinkedIn figure for cvr" in n.text and "conversions" in n.text
        for n in reply.notices
    )


# --- compare KEY=VALUE -------------------------------------------------------------------------------


async def test_compare_shows_both_routes():
    published = benchmarks_for("instagram")
    reply = await ask("compare budget=2000 platform=instagram followers=12k posts=8")
    assert not reply.is_error
    routes = reply.data["routes"]
    assert routes["paid"]["impressions"] == pytest.approx(2e6 / published["cpm"].typical)
    assert routes["organic"]["organic_reach"] == pytest.approx(
        12_000 * published["reach_rate"].typical * 8
    )
    headings = [s.heading for s in reply.sections]
    assert {"Paid route (SMM)", "Organic route (SMO)", "Side by side", "Trade-offs"} <= set(
        headings
    )
    assert "gross" in render_text(reply)


async def test_compare_with_one_route_says_what_the_other_needs():
    reply = compare_routes(CTX, ["budget=1000", "cpm=8"])
    assert any("No organic route yet" in n.text for n in reply.notices)


async def test_compare_with_too_little_says_what_is_needed():
    reply = await ask("compare budget=1000")
    assert reply.is_error and "give a paid side" in reply.intro


async def test_compare_period():
    reply = compare_routes(
        CTX, ["budget=1000", "cpm=8", "followers=5k", "reach_rate=10%", "posts=8", "period=4w"]
    )
    assert reply.title.endswith("over 4 weeks") and reply.data["period_days"] == 28


# --- bad input: a clear sentence, never a result -----------------------------------------------------

BAD = [
    ("estimate cpx=5", "`cpx` is not a figure I know. Did you mean `cpm=`"),
    ("estimate budjet=500 cpm=8", "`budjet` is not a figure I know. Did you mean `budget=`?"),
    (
        "estimate budget=abc cpm=8",
        "`budget=abc` is not an amount of money: write it like budget=$2,000.",
    ),
    ("estimate ctr=abc cpm=8", "`ctr=abc` is not a number: write it like ctr=1.2%."),
    ("estimate budget=-500 cpm=8", "`budget=-500` is negative: write a positive value"),
    (
        "estimate budget=500 cpm=0",
        "`cpm=0` can't be zero: cpm divides in impressions = budget × 1000 / cpm.",
    ),
    ("estimate cpm=8 ctr=0", "`ctr=0` can't be zero: ctr divides in cpc = cpm / (1000 × ctr)."),
    ("estimate impressions=10k frequency=0.5", "`frequency=0.5` is below 1"),
    ("estimate impressions=10k ctr=120%", "`ctr=120%` is more than 100%"),
    ("estimate clicks=100 cvr=150", "`cvr=150` is more than 100%"),
    ("estimate budget=5e12 cpm=8", "`budget=5e12` is beyond 1e12"),
    ("estimate impressions=2000b ctr=1%", "`impressions=2000b` is beyond 1e12"),
    (
        "estimate budget=500 spend=600 cpm=8",
        "`budget` appears twice (`budget` and `spend` are the same figure)",
    ),
    ("estimate cpm=8 cpm=9", "`cpm` appears twice; give it once."),
    ("estimate budget=€500 cpm=$8", "`budget=€500` and `cpm=$8` are in different currencies"),
    ("estimate 500 cpm=8", "`500` is not a KEY=VALUE figure"),
    (
        "estimate budget=500 platform=linkdin",
        "`platform=linkdin` is not a platform I know. Did you mean `platform=linkedin`?",
    ),
    ("estimate budget=1000", "budget alone determines nothing else. Enough would be budget + cpm"),
    ("estimate clicks=$5 impressions=1k", "`clicks=$5` is a count, not money"),
    ("estimate roi=-200% budget=5", "`roi=-200%` is below -100%"),
    ("estimate", "Give the figures you know as KEY=VALUE"),
    # impossible results: a sentence naming the inputs, never a result
    (
        "estimate clicks=500 impressions=100",
        "clicks (500) can't exceed impressions (100): ctr would be 500%. Check clicks= and "
        "impressions=.",
    ),
    (
        "estimate impressions=1000 reach=2000",
        "reach (2,000) can't exceed impressions (1,000): frequency would be 0.5, below 1. "
        "Check impressions= and reach=.",
    ),
    (
        "estimate budget=1000 reach=200k audience=100k",
        "reach (200,000) can't exceed the audience (100,000): everyone reached is in the "
        "audience. Check reach= and audience=.",
    ),
    (
        "estimate cpm=8 cpc=0.001",
        "ctr comes out at 800%, but ctr is clicks ÷ impressions, at most 100%. Check cpm= and "
        "cpc=.",
    ),
    (
        "estimate budget=1000 conversions=5000 platform=facebook",
        "conversions (5,000) can't exceed clicks (1,904): cvr would be 263% (with the published "
        "Facebook cpm and ctr; give cpm= and ctr= yourself if yours differ). Check budget= and "
        "conversions=.",
    ),
    # derived magnitudes beyond 1e12, and frequency capped on input
    (
        "estimate budget=1e12 cpm=0.0001",
        "impressions would be about 1.0e19 from budget and cpm, beyond 1e12 (a million million)",
    ),
    (
        "estimate followers=1e12 reach_rate=100% posts=1e12",
        "organic_reach would be about 1.0e24 from followers, reach_rate and posts, beyond 1e12",
    ),
    (
        "estimate budget=1e12 platform=x",
        "impressions would be about 1.6e15 from budget (with the published X cpm; give cpm= "
        "yourself if yours differ), beyond 1e12",
    ),
    (
        "estimate impressions=1e12 reach=1",
        "frequency would be 1,000,000,000,000 from impressions and reach, more than 1,000 "
        "impressions per person. Check impressions= and reach=.",
    ),
    (
        "estimate budget=500 cpm=8 frequency=1e12",
        "`frequency=1e12` is more than 1,000 impressions per person reached",
    ),
    # whole counts, echoes exactly as typed
    ("estimate followers=1k posts=0 reach_rate=10%", "`posts=0` can't be zero"),
    # a zero budget is said as what it means, not as a division in some formula
    ("estimate budget=0 cpm=10", "`budget=0` is no budget at all: with nothing to spend"),
    ("estimate spend=$0 cpm=10", "`spend=$0` is no budget at all"),
    ("estimate followers=1k posts=2.5 reach_rate=10%", "`posts=2.5` is not a whole number"),
    ("estimate followers=1.5 posts=2 reach_rate=10%", "`followers=1.5` is not a whole number"),
    ("estimate budget=$1,2,3k cpm=8", "`budget=$1,2,3k` is not an amount of money"),
    ("estimate ctr=1,2,3% cpm=8", "`ctr=1,2,3%` is not a number"),
    ("estimate roas=1,2,3x budget=8", "`roas=1,2,3x` is not a number"),
    (
        "estimate budget=1000 platform=pinterst",
        "`platform=pinterst` is not a platform I know. Did you mean `platform=pinterest`? Use one "
        "of: facebook, instagram, linkedin, tiktok, x, youtube; pinterest is known too but has no "
        "published figures.",
    ),
    (
        "estimate audience=100k",
        "audience alone determines nothing else. Enough would be audience + impressions + "
        "frequency or audience + budget + cpm + frequency, e.g. `estimate audience=100k "
        "impressions=60k frequency=2.5`",
    ),
    (
        "compare budget=2000 platform=pinterest followers=12k posts=8",
        "Pinterest has no reliable published figures, so smx fills in no rates. To compare the "
        "routes with numbers, give a paid side: add cpm= or cpc=; and an organic side: add "
        "reach_rate=.",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD)
async def test_bad_input_gets_a_clear_message(text, message):
    reply = await ask(text)
    assert reply.is_error
    assert reply.intro.startswith(message), reply.intro
    assert not reply.sections and "impressions" not in reply.data


async def test_unknown_key_suggestions_are_data():
    reply = await ask("estimate clik=5")
    assert "clicks" in reply.data["suggestions"]


def test_no_arguments_raise_usage_with_examples():
    with pytest.raises(UserError) as err:
        estimate(SLACK, [])
    assert "`/smx estimate budget=$2k cpm=8 ctr=1.2%`" in err.value.message
    assert "platform=NAME" in err.value.message


@pytest.mark.parametrize(("text", "_message"), BAD)
def test_smx_ask_exits_2_for_each_bad_input(text, _message, monkeypatch, tmp_path, capsys):
    for name in list(os.environ):
        if name.startswith(("SLACK_", "SMX_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["ask", *text.split()]) == 2
    assert capsys.readouterr().out.strip()


# --- Slack limits -------------------------------------------------------------------------------------

EVERYTHING = (
    "estimate budget=1000 cpm=8 ctr=0.5 roas=3 followers=2k posts=4 reach_rate=10 er=2% cpv=0.02 "
    "cpe=0.1 cvr=2% frequency=2 audience=1m"
)


@pytest.mark.parametrize(
    "text",
    [
        EVERYTHING,
        "estimate budget=1000 platform=linkedin",
        "estimate platform=facebook",
        "estimate budget=2000 cpm=8 ctr=1.2% cpc=1 impressions=10k clicks=50 conversions=3 cvr=50%",
        "compare budget=2000 platform=instagram followers=12k posts=8",
        "compare budget=1000 platform=facebook followers=50k posts=20 frequency=2 audience=40k",
    ],
)
async def test_replies_fit_slack(text):
    reply = await ask(text)
    assert not reply.is_error
    assert all(len(s.text) < 3000 for s in reply.sections)
    assert_message_ok(render_blocks(reply), fallback_text(reply))


async def test_everything_at_once_derives_every_figure():
    reply = await ask(EVERYTHING)
    for key in ("impressions", "clicks", "conversions", "cpa", "reach", "views", "engagements"):
        assert key in reply.data["formulas"]
    assert reply.data["organic_engagements"] == pytest.approx(2000 * 0.1 * 4 * 0.02)


async def test_help_lists_estimate():
    reply = await ask("help")
    assert any("estimate KEY=VALUE" in u for u in reply.data["commands"])


# --- the acceptance commands, as a person runs them ---------------------------------------------------


def _smx(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SMX_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )


def test_smx_ask_json_estimate_and_compare(tmp_path):
    done = _smx("ask", "--json", "estimate", "budget=1000", "platform=linkedin", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["data"]["ranges"]["impressions"][0] < answer["data"]["impressions"]
    assert "Stackmatix" in answer["text"]
    done = _smx(
        "ask",
        "compare",
        "budget=2000",
        "platform=instagram",
        "followers=12k",
        "posts=8",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Paid route (SMM)" in done.stdout and "Organic route (SMO)" in done.stdout
