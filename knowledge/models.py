"""The shape of the knowledge base (knowledge/*.yaml), checked when the bot starts."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.metric_table import PUBLISHED, PUBLISHED_MONEY

PLATFORMS = ("facebook", "instagram", "linkedin", "tiktok", "x", "youtube")
Side = Literal["SMO", "SMM", "both"]
KEY = re.compile(r"^[a-z0-9][a-z0-9_]*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Concept(Strict):
    """SMO or SMM itself."""

    key: Literal["smo", "smm"]
    name: str
    tagline: str  # one line
    definition: str
    tactics: list[str] = Field(min_length=3)
    strengths: list[str] = Field(min_length=2)
    limits: list[str] = Field(min_length=2)


class Aspect(Strict):
    """One dimension on which SMO and SMM differ."""

    key: str
    title: str
    aliases: list[str] = Field(default_factory=list)
    smo: str  # one or two sentences for the side-by-side overview
    smm: str
    in_depth: str  # a few paragraphs for `compare ASPECT`
    takeaway: str  # one line
    # A short decision list ("If ..., lead with SMM."), shown first where an aspect has one
    decide: list[str] = Field(default_factory=list)


class Term(Strict):
    """A glossary entry."""

    key: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    side: Side
    definition: str
    formula: str | None = None
    example: str
    related: list[str] = Field(default_factory=list)

    @field_validator("key")
    @classmethod
    def _key_shape(cls, value: str) -> str:
        if not KEY.match(value):
            raise ValueError(f"term key {value!r} must be lower case letters, digits and _")
        return value


class Source(Strict):
    name: str
    year: str  # "2024", "2025-26", "late 2023": as the source dates itself
    note: str | None = None  # e.g. "via secondary pages", "self-reported"
    url: str | None = Field(default=None, pattern=r"^https://\S+$")  # where the figure is published


# The metrics a platform publishes figures for, and which of them are money: bot/metric_table.py.
MetricName = Literal[PUBLISHED]  # type: ignore[valid-type]
MONEY_METRICS = PUBLISHED_MONEY


class Benchmark(Strict):
    """A published figure (or range) for one platform and metric. Rates are fractions; money is USD."""

    platform: Literal["facebook", "instagram", "linkedin", "tiktok", "x", "youtube"]
    metric: MetricName
    low: float = Field(gt=0)
    typical: float = Field(gt=0)
    high: float = Field(gt=0)
    currency: Literal["USD"] | None = None
    method: str  # what was measured and how the range was formed
    confidence: Literal["high", "medium", "low"] = "medium"
    sources: list[Source] = Field(min_length=1)
    # The campaign type the figure was measured on, when the source says ("traffic", "lead ads").
    # Figures from different campaign types are never combined in one estimate. None: not specific.
    objective: Literal["traffic", "lead ads"] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Benchmark:
        if not self.low <= self.typical <= self.high:
            raise ValueError(f"{self.platform} {self.metric}: need low <= typical <= high")
        if self.metric in MONEY_METRICS and self.currency != "USD":
            raise ValueError(f"{self.platform} {self.metric}: money figures must say currency: USD")
        if self.metric not in MONEY_METRICS and (self.currency or self.high > 1):
            raise ValueError(f"{self.platform} {self.metric}: rates are fractions with no currency")
        return self


class KnowledgeBase(Strict):
    concepts: dict[str, Concept]
    aspects: list[Aspect]
    terms: list[Term]
    benchmarks: list[Benchmark]
    # platforms we looked for and found no reliable figure for, with the reason shown to users
    no_figures: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> KnowledgeBase:
        if set(self.concepts) != {"smo", "smm"}:
            raise ValueError("concepts must define exactly smo and smm")
        for name, concept in self.concepts.items():
            if concept.key != name:
                raise ValueError(f"concept {name!r} says key {concept.key!r}")
        if len(self.aspects) < 7:
            raise ValueError("at least 7 comparison aspects are required")
        if len(self.terms) < 40:
            raise ValueError(f"at least 40 glossary terms are required, found {len(self.terms)}")
        _unique(
            "aspect name or alias",
            [n for a in self.aspects for n in _names(a.key, a.title, *a.aliases)],
        )
        _unique(
            "term name or alias", [n for t in self.terms for n in _names(t.key, t.name, *t.aliases)]
        )
        keys = {t.key for t in self.terms}
        for term in self.terms:
            missing = [r for r in term.related if r not in keys]
            if missing:
                raise ValueError(
                    f"term {term.key}: related terms {missing} are not in the glossary"
                )
            if term.key in term.related:
                raise ValueError(f"term {term.key}: lists itself as related")
        _unique("benchmark", [f"{b.platform}/{b.metric}" for b in self.benchmarks])
        both = sorted({b.platform for b in self.benchmarks} & set(self.no_figures))
        if both:
            raise ValueError(f"{both}: listed in no_figures but has benchmarks")
        return self


def _unique(what: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"duplicate {what}: {name!r}")
        seen.add(name)


def normalise(name: str) -> str:
    """How names are compared: case, spaces, hyphens and underscores do not matter."""
    return re.sub(r"[\s_\-/]+", " ", name.strip().lower())


def _names(*names: str) -> set[str]:
    return {normalise(n) for n in names}
