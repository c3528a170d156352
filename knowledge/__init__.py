"""The knowledge base: SMO/SMM concepts, comparison aspects, glossary and platform benchmarks.

The YAML files beside this module are data, not code; `load()` validates them once per process.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from knowledge.models import (
    PLATFORMS,
    Aspect,
    Benchmark,
    KnowledgeBase,
    Term,
    normalise,
)

HERE = Path(__file__).parent
FILES = ("concepts.yaml", "aspects.yaml", "glossary.yaml", "benchmarks.yaml")

__all__ = ["PLATFORMS", "Aspect", "Benchmark", "KnowledgeBase", "Term", "load", "normalise"]

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_raw(directory: Path = HERE) -> dict:
    merged: dict = {}
    for name in FILES:
        with open(directory / name, encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=_Loader) or {}
        # A key in two files would silently replace the first file's data.
        clash = sorted(set(merged) & set(data))
        if clash:
            raise ValueError(f"{name}: {clash} already defined by another knowledge file")
        merged.update(data)
    return merged


def load_from(directory: Path) -> KnowledgeBase:
    return KnowledgeBase.model_validate(read_raw(directory))


@cache
def load() -> KnowledgeBase:
    return load_from(HERE)


@cache
def term_index() -> dict[str, Term]:
    """Every normalised name and alias of every term, to its term."""
    return {normalise(n): t for t in load().terms for n in (t.key, t.name, *t.aliases)}


@cache
def aspect_index() -> dict[str, Aspect]:
    return {normalise(n): a for a in load().aspects for n in (a.key, a.title, *a.aliases)}


def benchmarks_for(platform: str) -> dict[str, Benchmark]:
    """The platform's figures by metric name (cpm, ctr, ...); empty when there are none."""
    return {b.metric: b for b in load().benchmarks if b.platform == platform}
