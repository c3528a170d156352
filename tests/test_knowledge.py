"""The knowledge base: it loads, says what the product promises, and its validator catches bad data."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from knowledge import (
    FILES,
    HERE,
    PLATFORMS,
    aspect_index,
    benchmarks_for,
    load,
    load_from,
    normalise,
    read_raw,
    term_index,
)
from knowledge.models import MONEY_METRICS

REQUIRED_TERMS = [
    "smo",
    "smm",
    "seo",
    "organic_reach",
    "paid_reach",
    "impressions",
    "reach",
    "frequency",
    "cpm",
    "cpc",
    "cpa",
    "cpv",
    "cpe",
    "ctr",
    "cvr",
    "roi",
    "roas",
    "engagement_rate",
    "ugc",
    "community_management",
    "social_listening",
    "lookalike_audience",
    "retargeting",
    "ab_test",
    "boosted_post",
    "influencer_marketing",
    "share_of_voice",
    "conversion",
    "engagement",
    "follower_growth_rate",
    "reach_rate",
    "audience_targeting",
    "custom_audience",
    "ad_fatigue",
    "attribution",
    "kpi",
    "funnel",
    "call_to_action",
    "content_calendar",
    "hashtag",
    "algorithm",
    "virality",
    "social_proof",
    "brand_awareness",
    "dark_social",
    "landing_page",
    "ad_spend",
    "bid",
    # the planner's business inputs and budgets over time (issue 14)
    "aov",
    "cac",
    "clv",
    "gross_margin",
    "break_even_roas",
    "break_even_cpa",
    "pacing",
    "flight",
    "attribution_window",
    "incrementality",
    "cpl",
    "cpi",
]

ASPECTS = {
    "strategy": "Strategy",
    "cost": "Cost structure",
    "timeline": "Timeline and visibility",
    "targeting": "Audience targeting",
    "goals": "Goals and metrics",
    "when": "When to choose which",
    "together": "How they work together",
}

# Metrics that have a formula in the reference; the glossary must give it.
FORMULAS = {
    "cpm": "CPM = cost / impressions × 1000",
    "cpc": "CPC = cost / clicks",
    "ctr": "CTR = clicks / impressions",
    "cvr": "CVR = conversions / clicks",
    "cpa": "CPA = cost / conversions",
    "roas": "ROAS = revenue / ad spend",
    "roi": "ROI = (revenue − cost) / cost",
    "frequency": "frequency = impressions / reach",
    "cpv": "CPV = cost / views",
    "cpe": "CPE = cost / engagements",
    "reach_rate": "organic reach rate = organic reach / followers",
    "engagement_rate": "engagement rate = engagements / reach",
}


def _term_by_key(key: str):
    return next(t for t in load().terms if t.key == key)


def _all_text() -> str:
    return "\n".join((HERE / name).read_text(encoding="utf-8") for name in FILES)


# --- the shipped data ------------------------------------------------------------------------------


def test_every_file_loads_and_validates():
    kb = load()
    assert set(kb.concepts) == {"smo", "smm"}
    assert len(kb.terms) >= 80
    assert len(kb.aspects) >= 7
    assert len(kb.benchmarks) >= 20


def test_the_promised_terms_exist():
    keys = {t.key for t in load().terms}
    assert not [k for k in REQUIRED_TERMS if k not in keys]


def test_the_promised_aspects_exist_with_their_titles():
    by_key = {a.key: a for a in load().aspects}
    for key, title in ASPECTS.items():
        assert by_key[key].title == title


@pytest.mark.parametrize(
    ("alias", "key"),
    [
        ("price", "cost"),
        ("budget", "cost"),
        ("money", "cost"),
        ("pricing", "cost"),
        ("time", "timeline"),
        ("speed", "timeline"),
        ("visibility", "timeline"),
        ("results", "timeline"),
        ("audience", "targeting"),
        ("target", "targeting"),
        ("demographics", "targeting"),
        ("metrics", "goals"),
        ("kpi", "goals"),
        ("measurement", "goals"),
        ("choose", "when"),
        ("which", "when"),
        ("decision", "when"),
        ("combine", "together"),
        ("both", "together"),
        ("mix", "together"),
    ],
)
def test_aspect_aliases(alias, key):
    assert aspect_index()[alias].key == key


def test_concepts_are_substantial():
    for concept in load().concepts.values():
        assert len(concept.tactics) >= 3
        assert concept.tagline and "\n" not in concept.tagline
        assert len(concept.definition) > 200


def test_timeline_differs_between_smo_and_smm():
    timeline = aspect_index()["timeline"]
    assert timeline.smo != timeline.smm
    assert "slow" in timeline.smo.lower() and "last" in timeline.smo.lower()
    assert "immediate" in timeline.smm.lower() and "stops when the spend stops" in timeline.smm


def test_cpm_is_per_mille_never_per_mile():
    cpm = _term_by_key("cpm")
    assert "per thousand impressions" in cpm.definition
    assert {"cost per mille", "cost per thousand"} <= set(cpm.aliases)
    # The only "per mile" allowed anywhere is the sentence saying it is wrong.
    text = _all_text().replace('it is not "cost per mile"', "")
    assert not re.search(r"per mile\b", text, re.IGNORECASE)


@pytest.mark.parametrize(("key", "formula"), sorted(FORMULAS.items()))
def test_formulas_match_the_reference(key, formula):
    assert formula in (_term_by_key(key).formula or "")


def test_engagement_rate_names_its_denominator():
    term = _term_by_key("engagement_rate")
    assert "denominator" in term.definition
    assert "/ followers" in term.formula and "/ impressions" in term.formula


def test_every_term_is_complete_and_related_terms_resolve():
    keys = {t.key for t in load().terms}
    for term in load().terms:
        assert term.definition.strip() and term.example.strip(), term.key
        assert term.related, f"{term.key} has no related terms"
        assert set(term.related) <= keys
        assert term.key not in term.related


def test_every_name_and_alias_is_indexed():
    index = term_index()
    for term in load().terms:
        for name in (term.key, term.name, *term.aliases):
            assert index[normalise(name)] is term


def test_roas_and_ab_test_aliases():
    index = term_index()
    assert index["return on ad spend"].key == "roas"
    assert index[normalise("A/B test")].key == "ab_test"
    assert index["split test"].key == "ab_test"


# --- benchmarks ------------------------------------------------------------------------------------


def test_benchmarks_are_well_formed():
    for b in load().benchmarks:
        where = f"{b.platform}/{b.metric}"
        assert b.platform in PLATFORMS
        assert b.sources and all(s.year for s in b.sources), where
        if b.metric in MONEY_METRICS:
            assert b.currency == "USD", where
        else:
            assert b.currency is None and b.high <= 1, where
        if b.low == b.typical == b.high:
            assert "single published figure" in b.method.lower(), where


def test_engagement_rates_state_one_denominator():
    rates = [b for b in load().benchmarks if b.metric == "engagement_rate"]
    assert len(rates) >= 5
    for b in rates:
        assert "denominator impressions" in b.method
        assert [s.name for s in b.sources] == ["Buffer"]


def test_spot_figures_from_the_reference():
    linkedin = benchmarks_for("linkedin")["cpc"]
    assert (linkedin.low, linkedin.typical, linkedin.high) == (5.50, 5.58, 9.25)
    facebook_ctr = benchmarks_for("facebook")["ctr"]
    assert (facebook_ctr.low, facebook_ctr.typical, facebook_ctr.high) == (0.008, 0.0151, 0.0413)
    assert "Instagram" in benchmarks_for("facebook")["cpm"].method
    assert benchmarks_for("tiktok")["ctr"].confidence == "low"
    assert benchmarks_for("x")["cpc"].confidence == "low"
    assert benchmarks_for("pinterest") == {}
    assert "pinterest" in load().no_figures


def test_the_unsourced_aggregator_table_is_not_used():
    facebook = benchmarks_for("facebook")
    assert facebook["cpm"].typical != 7.19
    assert facebook["cpc"].typical != 1.72
    assert facebook["ctr"].typical != 0.009


def test_every_figure_carries_its_sources_in_the_knowledge_file_itself():
    """No figure without where it comes from: a method that says what was measured, and at least
    one source with its name and year (and a URL where one is known), all in the YAML itself."""
    for b in load().benchmarks:
        where = f"{b.platform}/{b.metric}"
        assert len(b.method.split()) >= 5, f"{where}: say in `method` what was measured"
        assert b.sources, f"{where}: no source"
        for source in b.sources:
            assert source.name.strip() and source.year.strip(), f"{where}: {source}"
            # A source that gives no date says so ("undated") rather than being given one.
            dated = re.search(r"\d{4}", source.year) or source.year == "undated"
            assert dated, f"{where}: {source.year!r} is not a year"
            assert source.url is None or source.url.startswith("https://"), f"{where}: {source}"


# --- the validator catches bad data ----------------------------------------------------------------


def _write(directory: Path, raw: dict) -> None:
    """Write `raw` back as the four knowledge files, each with its own top-level keys."""
    owners = {name: yaml.safe_load((HERE / name).read_text(encoding="utf-8")) for name in FILES}
    for name, original in owners.items():
        part = {key: raw[key] for key in original if key in raw}
        (directory / name).write_text(yaml.safe_dump(part, allow_unicode=True), encoding="utf-8")


@pytest.fixture
def raw(tmp_path):
    for name in FILES:
        shutil.copy(HERE / name, tmp_path / name)
    assert load_from(tmp_path) == load()  # the copy is valid before we break it
    return read_raw(tmp_path)


def _term(raw: dict, key: str) -> dict:
    return next(t for t in raw["terms"] if t["key"] == key)


def _benchmark(raw: dict, platform: str, metric: str) -> dict:
    return next(b for b in raw["benchmarks"] if b["platform"] == platform and b["metric"] == metric)


def _rejects(tmp_path: Path, raw: dict, message: str) -> None:
    _write(tmp_path, raw)
    with pytest.raises(ValueError, match=message):
        load_from(tmp_path)


def test_rejects_an_alias_used_by_two_terms(tmp_path, raw):
    _term(raw, "roi")["aliases"].append("Return on ad spend")
    _rejects(tmp_path, raw, "duplicate term name or alias: 'return on ad spend'")


def test_rejects_an_aspect_alias_used_twice(tmp_path, raw):
    raw["aspects"][0]["aliases"].append("budget")
    _rejects(tmp_path, raw, "duplicate aspect name or alias: 'budget'")


def test_rejects_an_unknown_related_term(tmp_path, raw):
    _term(raw, "cpm")["related"].append("cost_per_mile")
    _rejects(tmp_path, raw, r"term cpm: related terms \['cost_per_mile'\]")


def test_rejects_low_above_high(tmp_path, raw):
    entry = _benchmark(raw, "linkedin", "cpc")
    entry["low"], entry["high"] = 9.25, 5.50
    _rejects(tmp_path, raw, "linkedin cpc: need low <= typical <= high")


def test_rejects_a_rate_written_as_a_percentage(tmp_path, raw):
    entry = _benchmark(raw, "facebook", "ctr")
    entry["low"], entry["typical"], entry["high"] = 0.8, 1.51, 4.13
    _rejects(tmp_path, raw, "facebook ctr: rates are fractions")


def test_rejects_money_without_a_currency(tmp_path, raw):
    del _benchmark(raw, "youtube", "cpm")["currency"]
    _rejects(tmp_path, raw, "youtube cpm: money figures must say currency: USD")


def test_rejects_a_benchmark_without_a_source(tmp_path, raw):
    _benchmark(raw, "tiktok", "cpm")["sources"] = []
    _rejects(tmp_path, raw, "sources")


def test_rejects_too_few_terms(tmp_path, raw):
    raw["terms"] = raw["terms"][:39]
    for term in raw["terms"]:
        term["related"] = []
    _rejects(tmp_path, raw, "at least 40 glossary terms")


def test_rejects_a_platform_both_with_and_without_figures(tmp_path, raw):
    raw["no_figures"]["tiktok"] = "none found"
    _rejects(tmp_path, raw, "no_figures but has benchmarks")


def test_rejects_a_concept_filed_under_the_wrong_key(tmp_path, raw):
    raw["concepts"]["smo"]["key"] = "smm"
    _rejects(tmp_path, raw, "concept 'smo' says key 'smm'")


def test_rejects_a_top_level_key_defined_in_two_files(tmp_path):
    for name in FILES:
        shutil.copy(HERE / name, tmp_path / name)
    extra = yaml.safe_dump({"terms": []})
    path = tmp_path / "benchmarks.yaml"
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    with pytest.raises(ValueError, match=r"benchmarks.yaml: \['terms'\] already defined"):
        load_from(tmp_path)
