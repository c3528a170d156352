"""Every example in issue 14, asked as a person would with `smx ask --json`, gives the described
answer with its figures in `data` (in process: bot.cli.main, the same function `smx` runs)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
def ask_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SMX_DB", str(tmp_path / "ask.db"))
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SMX_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)

    def ask(text: str, expect_error: bool = False) -> dict:
        code = main(["ask", "--json", text])
        out = capsys.readouterr().out
        answer = json.loads(out)
        assert code == (2 if expect_error else 0), answer.get("text")
        return answer

    return ask


def test_a_platform_in_plain_words_is_kept(ask_json):
    data = ask_json("how many clicks will $500 get me on instagram?")["data"]
    assert data["platform"] == "instagram" and data["budget"] == 500
    assert data["asked"] == "clicks" and data["clicks"] > 0
    assert data["clicks"] == pytest.approx(500 / data["cpm"] * 1000 * data["ctr"], rel=1e-12)


def test_a_small_bakery_gets_when_to_choose_with_a_decision_list(ask_json):
    for said in ("smo or smm for a small bakery?", "which should a small bakery choose?"):
        answer = ask_json(said)
        assert answer["data"]["aspects"] == ["when"] and len(answer["data"]["decide"]) >= 3
        assert "Quick decision" in answer["text"]


@pytest.mark.parametrize(
    "said",
    [
        "estimate conversions=50 platform=facebook",
        "budget for 50 sign-ups on facebook",
    ],
)
def test_conversions_on_facebook_give_the_budget_by_every_published_path(ask_json, said):
    data = ask_json(said)["data"]
    assert data["conversions"] == 50 and data["platform"] == "facebook"
    paths = data["paths"]
    assert len(paths) >= 2 and sum(p["used"] for p in paths) == 1
    used = next(p for p in paths if p["used"])
    assert used["budget"][1] == pytest.approx(data["budget"])
    for path in paths:  # each path's budget is its own figures applied to the 50 conversions
        low, typical, high = path["budget"]
        assert low <= typical <= high


def test_impressions_on_linkedin_in_plain_words_give_the_budget_range(ask_json):
    data = ask_json("how much for 100k impressions on linkedin?")["data"]
    assert data["impressions"] == 100_000 and data["platform"] == "linkedin"
    low, high = data["ranges"]["budget"]
    assert low == pytest.approx(100_000 * data["assumed"]["cpm"]["low"] / 1000)
    assert high == pytest.approx(100_000 * data["assumed"]["cpm"]["high"] / 1000)


@pytest.mark.parametrize(
    "said",
    [
        "estimate budget=2k platform=instagram,tiktok,linkedin",
        "what does $2k get me on instagram vs tiktok and linkedin?",
    ],
)
def test_platforms_side_by_side_with_low_typical_high(ask_json, said):
    answer = ask_json(said)
    platforms = answer["data"]["platforms"]
    assert set(platforms) == {"instagram", "tiktok", "linkedin"}
    for figures in platforms.values():
        for low, typical, high in figures.values():
            assert low <= typical <= high
    assert "Most" in answer["text"]


def test_clicks_on_linkedin_lead_with_the_budget_range(ask_json):
    answer = ask_json("estimate clicks=1000 platform=linkedin")
    headline = answer["text"].split("\n")[2] if "\n" in answer["text"] else answer["text"]
    assert "budget" in headline.split("·")[0]
    low, high = answer["data"]["ranges"]["budget"]
    assert low < answer["data"]["budget"] < high


def test_flights_give_the_budget_and_the_daily_spend(ask_json):
    data = ask_json("estimate daily=$100 days=14")["data"]
    assert data["budget"] == 1400 and data["per_day"]["budget"] == 100
    assert ask_json("estimate budget=3k days=30")["data"]["daily"] == 100
    assert ask_json("$100 a day for two weeks on ig")["data"]["budget"] == 1400


def test_business_inputs_give_break_even_and_profit(ask_json):
    data = ask_json("estimate budget=2k cpa=25 aov=60 margin=35%")["data"]
    assert data["break_even_roas"] == pytest.approx(1 / 0.35)
    assert data["profit_per_conversion"] == pytest.approx(60 * 0.35 - 25)
    assert data["break_even_cpa"] == pytest.approx(21)
    answer = ask_json("estimate budget=2k cpa=25 aov=60 margin=35% ltv=240")
    assert "loses" in answer["text"] or "loss" in answer["text"]
    cac = ask_json("estimate budget=2k cac=25")
    assert cac["data"]["cpa"] == 25 and "CAC" in cac["text"]


def test_plausibility_and_ambiguity(ask_json):
    facebook = ask_json("estimate budget=1000 ctr=12% platform=facebook")["text"]
    assert "far above the published Facebook CTR" in facebook
    assert (
        "far above what any platform publishes"
        in ask_json("estimate budget=1000 cpm=8 ctr=40%")["text"]
    )
    asked = ask_json("estimate budget=1.200 cpm=8", expect_error=True)
    assert "$1,200" in asked["text"] and "$1.20" in asked["text"]
    assert ask_json("estimate budget=2,5k cpm=10")["data"]["budget"] == 2500


def test_whole_counts_and_ranges_whose_ends_meet(ask_json):
    answer = ask_json("estimate budget=500 platform=instagram")
    data = answer["data"]
    shown = re.findall(
        r"[\d,]+ – [\d,]+ \(typical [\d,]+\)|[\d,]+ – [\d,]+ – [\d,]+", answer["text"]
    )
    assert shown  # ranges read either way, never "649 – 649 – 1,141"
    assert not re.search(r"(\b[\d,]+) – \1 – ", answer["text"])
    assert data["clicks"] > 0


def test_knowledge_and_small_things(ask_json):
    assert "compare" in ask_json("explain smo vs smm")["text"]
    assert len(ask_json("help")["data"]["commands"]) > 5
    zero = ask_json("estimate budget=0 cpm=10", expect_error=True)["text"]
    assert "no budget at all" in zero and "ROI" not in zero


def test_every_example_in_the_readme_console_block_answers(ask_json):
    blocks = README.read_text(encoding="utf-8").split("```")[1::2]
    block = next(b for b in blocks if "smx> " in b)
    lines = [line.removeprefix("smx> ") for line in block.splitlines() if line.startswith("smx> ")]
    lines = [line for line in lines if line not in ("quit", "notes")]
    assert len(lines) >= 6
    for line in lines:
        answer = ask_json(line)
        assert "I couldn't read" not in answer["text"], line


def test_a_cost_compared_across_platforms_names_the_cheapest(ask_json):
    answer = ask_json("what's the cpc on facebook vs linkedin for $1000?")
    platforms = answer["data"]["platforms"]
    from bot.platforms import PLATFORM_NAME

    cheapest = min(platforms, key=lambda p: platforms[p]["cpc"][1])
    assert f"Lowest CPC: {PLATFORM_NAME[cheapest]}" in answer["text"]
    assert "Most cpc" not in answer["text"]


def test_a_wanted_figure_only_another_campaign_type_reaches_leads_the_answer(ask_json):
    answer = ask_json("how many sign-ups will $1000 get me on facebook?")
    headline = answer["text"].splitlines()[2]
    path = answer["data"]["outcome_paths"]["conversions"][0]
    assert headline.startswith(f"{round(path['conversions'][1])} conversions by lead-ad figures")
    from knowledge import benchmarks_for

    assert path["figures"] == ["cpa"]
    cpa = benchmarks_for("facebook")["cpa"]
    assert path["conversions"][1] == pytest.approx(1000 / cpa.typical, rel=1e-12)


def test_a_wanted_figure_nothing_gives_is_said(ask_json):
    answer = ask_json("how many followers will $1000 get me on insta?")
    assert "Followers: not something these figures give" in answer["text"]
    assert "followers" not in answer["data"]


def test_a_want_that_names_no_figure_gets_a_sentence(ask_json):
    answer = ask_json("estimate budget=500 cpm=8 want=clickz", expect_error=True)
    assert "`want=clickz` names no figure I know. Did you mean want=clicks?" in answer["text"]
