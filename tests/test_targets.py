"""Campaign targets (bot/targets.py): what `target CAMPAIGN KEY<=VALUE ...` reads, and each
target held against a campaign's summed notes, hand-checked."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import UserError
from bot.store import CampaignTotals
from bot.targets import Target, check, crossed, parse


def totals(spend=600.0, impressions=60_000.0, clicks=700.0, conversions=25.0, currencies=("$",)):
    return CampaignTotals(
        "spring-launch", 3, ("facebook",), currencies, spend, impressions, clicks, conversions,
        (spend, impressions), (spend, clicks), (clicks, impressions), (spend, conversions),
    )  # fmt: skip


def test_the_issues_example_reads_three_targets():
    assert parse(["cpa<=20", "ctr>=1%", "spend<=$5k"]) == [
        Target("cpa", "<=", 20.0, "$"),
        Target("ctr", ">=", 0.01),
        Target("spend", "<=", 5000.0, "$"),
    ]


def test_spaces_around_the_sign_and_other_spellings():
    assert parse(["cpa", "<=", "20"]) == [Target("cpa", "<=", 20.0, "$")]
    assert parse(["cpa<=", "€20"]) == [Target("cpa", "<=", 20.0, "€")]
    assert parse(["ctr", ">=1.5%"]) == [Target("ctr", ">=", 0.015)]
    assert parse(["budget=<2k"]) == [Target("spend", "<=", 2000.0, "$")]
    assert parse(["cpc≤1.20"]) == [Target("cpc", "<=", 1.2, "$")]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        ([], "Give each target as KEY<=VALUE"),
        (["cpa=20"], "is not a target"),
        (["roas>=3x"], "is not a figure a target can bound"),
        (["cpa<=20", "cpa<=25"], "has two targets here"),
        (["ctr>=lots"], "ctr"),
    ],
)
def test_what_is_no_target_gets_a_sentence(args, said):
    with pytest.raises(UserError) as err:
        parse(args)
    assert said in err.value.message


@pytest.mark.parametrize(
    ("bound", "status", "realised"),
    [
        ("cpa<=20", "off track", 24.0),  # $600 / 25
        ("cpa<=24", "on track", 24.0),  # at the bound: met
        ("cpa<24", "off track", 24.0),
        ("ctr>=1%", "on track", 700 / 60_000),  # 1.1667%
        ("ctr>=1.2%", "off track", 700 / 60_000),
        ("cpm<=10", "on track", 10.0),  # $600 / 60k x 1000
        ("cpc<=0.85", "off track", 600 / 700),  # $0.857, over $0.85
        ("spend<=$500", "off track", 600.0),
        ("conversions>=20", "on track", 25.0),
        ("clicks>700", "off track", 700.0),
    ],
)
def test_each_target_against_hand_worked_figures(bound, status, realised):
    (target,) = parse([bound])
    result = check(target, totals())
    assert result.realised == pytest.approx(realised)
    assert result.status == status


def test_no_verdict_without_the_figures_or_in_another_currency():
    (cpa,) = parse(["cpa<=20"])
    assert check(cpa, None).status == "no figures"
    none = check(cpa, totals(conversions=None))
    assert none.status == "no figures" and "conversions" in none.line
    euros = check(cpa, totals(currencies=("€",)))
    assert euros.status == "no figures" and "€" in euros.why
    mixed = check(cpa, totals(currencies=("$", "€")))
    assert mixed.status == "no figures"


def test_lines_read_as_a_marketer_reads_them():
    (cpa,) = parse(["cpa<=20"])
    assert check(cpa, totals()).line == "CPA ≤ $20: $24 realised, off track"
    (ctr,) = parse(["ctr>=1%"])
    assert check(ctr, totals()).line == "CTR ≥ 1%: 1.17% realised, on track"


def test_only_a_move_to_off_track_is_a_crossing():
    targets = parse(["cpa<=20", "ctr>=1%"])
    good = [check(t, totals(spend=400.0)) for t in targets]  # CPA $16
    bad = [check(t, totals()) for t in targets]  # CPA $24
    assert [c.target.key for c in crossed(good, bad)] == ["cpa"]
    assert crossed(bad, bad) == []  # still off track: no second message
    assert crossed(bad, good) == []
    fresh = [check(t, None) for t in targets]
    assert [c.target.key for c in crossed(fresh, bad)] == ["cpa"]


@given(st.integers(1, 10**8), st.integers(1, 10**8), st.sampled_from(["<=", ">=", "<", ">"]))
def test_a_bound_is_met_exactly_when_the_figure_is_on_its_side(spend_cents, bound_cents, op):
    (target,) = parse([f"spend{op}{bound_cents / 100:.2f}"])
    assert target.value == pytest.approx(bound_cents / 100)
    spend = spend_cents / 100
    met = {"<=": spend <= target.value, ">=": spend >= target.value,
           "<": spend < target.value, ">": spend > target.value}[op]  # fmt: skip
    assert (check(target, totals(spend=spend)).status == "on track") == met
