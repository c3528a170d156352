"""The metric table (bot/metric_table.py) is whole: every list the features read comes from it, and
every row is one the parser, the solver and the replies can use."""

from __future__ import annotations

import pytest

from bot import metric_table as table
from bot import units
from bot.estimate import solver
from knowledge import load
from knowledge.models import MONEY_METRICS, Benchmark


def test_every_name_means_one_key():
    names = [*table.KEYS, *table.ALIASES]
    assert len(names) == len(set(names))
    for name in names:
        assert units.canonical_key(name) in table.METRICS


@pytest.mark.parametrize("spec", table.TABLE, ids=lambda s: s.key)
def test_every_row_parses_its_example_and_names_real_keys(spec):
    metric = units.parse_metric(spec.key, spec.example)
    assert metric.key == spec.key and metric.value > 0
    assert spec.key == spec.key.lower() and " " not in spec.key
    assert spec.label and spec.side in ("SMO", "SMM", "both")
    if spec.kind == "rate":
        assert spec.meaning, "a rate says what it divides, for its 'above 100%' message"
    if spec.ratio:
        assert set(spec.ratio) <= set(table.KEYS)
    for word in spec.words:
        # Each plain word names this row's key (bot/phrasing.py reads "$5k in sales" as revenue
        # by the value, though "sales" is a word of conversions).
        assert table.PHRASE_WORDS[word] == spec.key


def test_the_solver_knows_only_keys_of_the_table():
    assert set(solver.VARIABLES) <= set(table.KEYS)
    # A key the solver divides by is refused at zero, quoting the solver's own formula.
    forms = {f"{var} = {text}" for r in solver.RELATIONS for var, (text, _fn) in r.forms.items()}
    for key, formula in table.ZERO_DIVIDES.items():
        assert formula in forms and key in formula.partition("/")[2]


def test_routes_and_outcomes_cover_each_side_once():
    assert set(table.PAID_ROUTE) == set(table.PAID)
    assert set(table.ORGANIC_ROUTE) == set(table.ORGANIC)
    assert len(set(table.OUTCOMES)) == len(table.OUTCOMES)
    assert set(table.PAID_OUTCOMES) | set(table.ORGANIC_OUTCOMES) <= set(table.OUTCOMES)


def test_the_knowledge_models_take_their_metrics_from_the_table():
    assert set(table.PUBLISHED_MONEY) == MONEY_METRICS
    published = {b.metric for b in load().benchmarks}
    assert published <= set(table.PUBLISHED)
    with pytest.raises(ValueError, match="metric"):
        Benchmark.model_validate(
            {
                "platform": "x",
                "metric": "budget",  # a key, but no platform publishes budgets
                "low": 1,
                "typical": 1,
                "high": 1,
                "method": "m",
                "sources": [{"name": "s", "year": "2024"}],
            }
        )


def test_the_estimate_form_asks_for_keys_the_estimate_reads():
    keys = [key for key, _label, _placeholder in table.FORM_FIELDS]
    assert keys[0] == "budget" and len(keys) == len(set(keys))
    for key, label, placeholder in table.FORM_FIELDS:
        assert label.startswith(table.LABEL[key].split()[0])
        assert units.parse_metric(key, placeholder).value > 0
