"""`compare` and `explain`: SMO vs SMM side by side, and the glossary.

Pure Python over the validated knowledge base; both handlers return a Reply or raise a UserError
whose message says what to type instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.context import Context
from bot.errors import UserError
from bot.fuzzy import best, closest
from bot.platforms import PLATFORM_NAME
from bot.reply import Fact, Reply, Section
from bot.slash import cmd as _cmd
from bot.slash import prefix
from bot.text import and_list, clip, or_list
from knowledge import aspect_index, benchmarks_for, load, normalise, term_index
from knowledge.models import MONEY_METRICS, PLATFORMS, Aspect, Benchmark, Term

SIDE_LABEL = {"SMO": "SMO", "SMM": "SMM", "both": "SMO and SMM"}

# A typo close enough to one term to answer it directly (plain edit-distance similarity, 0-100).
# Below this, or when two terms are about as close, the person gets suggestions instead:
# short acronyms differ by one letter (CPA, CPC, CPM, CPV), so guessing would often be wrong.
ANSWER_SIMILARITY = 88.0
ASPECT_CUTOFF = 80.0
# "Did you mean" only offers names at least this close (WRatio, 0-100); weaker guesses are noise.
SUGGEST_CUTOFF = 65.0
NUMBERS_EXAMPLE = "compare budget=$1000 followers=5000 platform=instagram"
# Terms and aspects are a few words; a longer phrase is none of them and is not fuzzy-matched
# (bot/fuzzy.py has the same bound), so a 40,000-character question costs no comparisons.
MAX_PHRASE = 100

# Words people wrap around what they mean ("what does roas stand for?", "smo vs smm on cost").
# fmt: off
_LEADING = {"what", "whats", "what's", "is", "are", "does", "do", "a", "an", "the", "define",
            "definition", "meaning", "of", "explain", "mean"}
_TRAILING = {"mean", "means", "stand", "stands", "for", "is", "please"}
_COMPARE_FILLER = {"smo", "smm", "vs", "v", "versus", "and", "or", "the", "on", "of", "in", "for",
                   "by", "between", "difference", "differences", "compare", "comparison", "about",
                   "social", "media", "optimization", "optimisation", "marketing"}
# fmt: on
_OVERVIEW = {"all", "everything", "overview", "summary", "table", "aspects", "side"}
_PUNCT = re.compile(r"[?!.,;:\"“”‘’`*]+")


# Answers that depend only on the knowledge, the words of an exact match and how commands are
# typed on the surface are built once per knowledge load, not on every request.
_BUILT: dict[tuple[str, ...], tuple[object, Reply]] = {}


def _once(key: tuple[str, ...], build: Callable[[], Reply]) -> Reply:
    """The reply `build` makes, built once for `key` and the loaded knowledge. Each caller gets
    its own copy: the router sets `share` on the reply it is given."""
    kb = load()
    hit = _BUILT.get(key)
    if hit is None or hit[0] is not kb:
        hit = _BUILT[key] = (kb, build())
    return hit[1].model_copy()


# --- compare ---------------------------------------------------------------------------------------


def compare(ctx: Context, args: list[str]) -> Reply:
    """`compare` or `compare ASPECT` (with KEY=VALUE the router sends it to the estimate's
    paid vs organic routes instead: bot/router.py)."""
    phrase = _clean(" ".join(args))
    if not [w for w in normalise(phrase).split() if w not in _COMPARE_FILLER | _OVERVIEW]:
        return _once(("compare", prefix(ctx)), lambda: _overview(ctx))
    aspect, exact = find_aspect(ctx, phrase)
    if exact:  # the words typed do not show in the answer
        return _once(
            ("aspect", aspect.key, prefix(ctx)), lambda: _in_depth(ctx, aspect, phrase, True)
        )
    return _in_depth(ctx, aspect, phrase, exact)


def find_aspect(ctx: Context, phrase: str) -> tuple[Aspect, bool]:
    """The aspect a phrase names and whether it named it exactly (key, title or alias), else
    the closest spelling."""
    index = aspect_index()
    query = normalise(phrase)
    if query in index:
        return index[query], True
    stripped = " ".join(w for w in query.split() if w not in _COMPARE_FILLER)
    if stripped in index:
        return index[stripped], True
    query = stripped or query
    names = _plausible(query, index) if len(query) <= MAX_PHRASE else []
    guess = best(query, names, cutoff=ASPECT_CUTOFF)
    if guess is not None:
        return index[guess], False
    raise _unknown_aspect(ctx, phrase, query, names)


def _unknown_aspect(ctx: Context, phrase: str, query: str, names: list[str]) -> UserError:
    index = aspect_index()
    keys = [a.key for a in load().aspects]
    hint = ""
    suggestions: list[str] = []
    term = term_index().get(normalise(query))
    if term is not None:
        hint = (
            f"{term.name} is a glossary term, not an aspect: type "
            f"{_cmd(ctx, 'explain ' + _typed(term))}. "
        )
    else:
        found = closest(query, names, limit=10, cutoff=SUGGEST_CUTOFF)
        suggestions = _dedupe(index[n].key for n in found)[:3]
    did_you_mean = (
        f"Did you mean {or_list([f'`{s}`' for s in suggestions])}? " if suggestions else ""
    )
    return UserError(
        f"I don't know the aspect “{clip(phrase, 60)}”. {hint}{did_you_mean}"
        f"Type {_cmd(ctx, 'compare ASPECT')} with one of: {', '.join(keys)} "
        f"(for example {_cmd(ctx, 'compare ' + (suggestions or keys)[0])}), "
        f"or {_cmd(ctx, 'compare')} for all of them.",
        suggestions=suggestions,
    )


def _overview(ctx: Context) -> Reply:
    kb = load()
    smo, smm = kb.concepts["smo"], kb.concepts["smm"]
    sections = [
        Section(
            heading=a.title,
            text=f"_{a.takeaway}_",
            facts=[Fact(label="SMO", value=a.smo), Fact(label="SMM", value=a.smm)],
        )
        for a in kb.aspects
    ]
    keys = [a.key for a in kb.aspects]
    return Reply(
        title="SMO vs SMM, side by side",
        intro=f"*{smo.name}*: {smo.tagline}\n*{smm.name}*: {smm.tagline}",
        sections=sections,
        footnotes=[
            f"Type {_cmd(ctx, 'compare ASPECT')} for one aspect in depth, for example "
            f"{_cmd(ctx, 'compare cost')}. Aspects: {', '.join(keys)}.",
            f"Put numbers on it: {_cmd(ctx, NUMBERS_EXAMPLE)}.",
        ],
        data={"aspects": keys},
    )


def _in_depth(ctx: Context, aspect: Aspect, phrase: str, exact: bool) -> Reply:
    others = [a.key for a in load().aspects if a.key != aspect.key]
    footnotes = [
        "Other aspects: " + ", ".join(_cmd(ctx, f"compare {k}") for k in others) + ".",
        f"Type {_cmd(ctx, 'compare')} to see every aspect side by side.",
    ]
    if aspect.key in ("cost", "timeline"):
        footnotes.append(f"Put numbers on it: {_cmd(ctx, NUMBERS_EXAMPLE)}.")
    intro = f"*In short:* {aspect.takeaway}"
    if not exact:
        intro = f"Showing *{aspect.title}* for “{clip(phrase, 60)}”.\n{intro}"
    return Reply(
        title=f"SMO vs SMM: {aspect.title}",
        intro=intro,
        sections=[
            *(
                [Section(heading="Quick decision", text="\n".join(f"• {d}" for d in aspect.decide))]
                if aspect.decide
                else []
            ),
            Section(
                facts=[Fact(label="SMO", value=aspect.smo), Fact(label="SMM", value=aspect.smm)]
            ),
            Section(heading="In depth", text=aspect.in_depth),
        ],
        footnotes=footnotes,
        data={
            "aspects": [aspect.key],
            **({"decide": list(aspect.decide)} if aspect.decide else {}),
        },
    )


# --- explain ---------------------------------------------------------------------------------------


def explain(ctx: Context, args: list[str]) -> Reply:
    """`explain TERM`: definition, formula, side, worked example, related terms."""
    phrase = _strip_question(_clean(" ".join(args)))
    if not phrase:
        raise UserError(
            f"Type {_cmd(ctx, 'explain TERM')}, for example {_cmd(ctx, 'explain roas')}."
        )
    if _names_both_sides(phrase):
        return _points_to_compare(ctx)
    term, exact = find_term(ctx, phrase)
    if exact:  # the words typed do not show in the answer
        return _once(("term", term.key, prefix(ctx)), lambda: _term_reply(ctx, term, phrase, True))
    return _term_reply(ctx, term, phrase, exact)


_SIDE_WORDS = {
    "SMO": ("smo", "social media optimization", "social media optimisation"),
    "SMM": ("smm", "social media marketing"),
}


def _names_both_sides(phrase: str) -> bool:
    """Whether a phrase asks about SMO and SMM together ("smo vs smm", "SMM or SMO")."""
    words = f" {' '.join(re.sub(r'[^a-z]+', ' ', phrase.lower()).split())} "
    return all(any(f" {w} " in words for w in side) for side in _SIDE_WORDS.values())


def _points_to_compare(ctx: Context) -> Reply:
    kb = load()
    smo, smm = (next(t for t in kb.terms if t.key == key) for key in ("smo", "smm"))
    return Reply(
        title="SMO and SMM",
        intro=(
            f"That is a comparison rather than one term: {_cmd(ctx, 'compare')} puts them side "
            f"by side, and {_cmd(ctx, 'compare cost')} (or timeline, targeting, goals, when) "
            "takes one aspect in depth."
        ),
        facts=[Fact(label="SMO", value=smo.definition), Fact(label="SMM", value=smm.definition)],
        footnotes=[f"Type {_cmd(ctx, 'explain smo')} or {_cmd(ctx, 'explain smm')} for either."],
        data={"points_to": "compare", "terms": ["smo", "smm"]},
    )


def find_term(ctx: Context, phrase: str) -> tuple[Term, bool]:
    """The term a phrase names and whether it named it exactly (by key, name or alias)."""
    index = term_index()
    query = normalise(phrase)
    if query in index:
        return index[query], True
    if len(query) > MAX_PHRASE:
        raise _unknown_term(ctx, phrase, query)
    # The start of exactly one term's names ("retarget", "freq") is that term.
    starting = {index[n].key: index[n] for n in index if n.startswith(query)}
    if len(query) >= 4 and len(starting) == 1:
        return next(iter(starting.values())), False
    from rapidfuzz import fuzz, utils  # only a phrase that names no term exactly needs it

    scored = sorted(
        ((fuzz.ratio(query, n, processor=utils.default_process), index[n].key) for n in index),
        reverse=True,
    )
    top, top_key = scored[0]
    runner_up = next((s for s, k in scored if k != top_key), 0.0)
    if top >= ANSWER_SIMILARITY and top - runner_up > 3:
        return next(t for t in load().terms if t.key == top_key), False
    raise _unknown_term(ctx, phrase, query)


def _unknown_term(ctx: Context, phrase: str, query: str) -> UserError:
    index = term_index()
    names = _plausible(query, index) if len(query) <= MAX_PHRASE else []
    found = _rerank(query, closest(query, names, limit=12, cutoff=SUGGEST_CUTOFF))
    terms = _dedupe_terms(index[n] for n in found)[:3]
    suggestions = [t.name for t in terms]
    if terms:
        return UserError(
            f"I don't have “{clip(phrase, 60)}” in the glossary. Did you mean "
            f"{or_list(suggestions)}? Type {_cmd(ctx, 'explain ' + _typed(terms[0]))}.",
            suggestions=suggestions,
        )
    every = ", ".join(sorted((t.name for t in load().terms), key=str.lower))
    return UserError(
        f"I don't have “{clip(phrase, 60)}” in the glossary, and nothing in it looks close. "
        f"Type {_cmd(ctx, 'explain TERM')} with one of: {every}.",
    )


def _term_reply(ctx: Context, term: Term, phrase: str, exact: bool) -> Reply:
    kb = load()
    by_key = {t.key: t for t in kb.terms}
    intro = term.definition
    if not exact:
        intro = f"Showing *{term.name}* for “{clip(phrase, 60)}”.\n{intro}"
    facts = [Fact(label="Side", value=_side_text(term.side))]
    if term.formula:
        facts.insert(0, Fact(label="Formula", value=term.formula))
    sections = [Section(heading="Worked example", text=term.example)]
    footnotes: list[str] = []
    data: dict = {"term": term.key, "side": term.side, "formula": term.formula}

    concept = kb.concepts.get(term.key)
    if concept is not None:
        sections += [
            Section(heading="Typical tactics", text=_bullets(concept.tactics)),
            Section(heading="Strengths", text=_bullets(concept.strengths)),
            Section(heading="Limits", text=_bullets(concept.limits)),
        ]
        footnotes.append(f"Type {_cmd(ctx, 'compare')} to see SMO and SMM side by side.")

    figures = {p: benchmarks_for(p)[term.key] for p in PLATFORMS if term.key in benchmarks_for(p)}
    if figures:
        sections.append(
            Section(
                heading="Published platform figures",
                text="\n".join(_benchmark_line(p, b) for p, b in figures.items()),
            )
        )
        footnotes.append(_benchmark_footnote(ctx, term, figures))
        data["benchmarks"] = {
            p: {"low": b.low, "typical": b.typical, "high": b.high, "currency": b.currency}
            for p, b in figures.items()
        }

    if term.related:
        related = [by_key[k] for k in term.related]
        sections.append(
            Section(
                heading="Related terms",
                text=", ".join(t.name for t in related)
                + f"\nType {_cmd(ctx, 'explain ' + _typed(related[0]))} to read one.",
            )
        )
    return Reply(
        title=f"{term.name} ({SIDE_LABEL[term.side]})",
        intro=intro,
        facts=facts,
        sections=sections,
        footnotes=footnotes,
        data=data,
    )


def _side_text(side: str) -> str:
    return {
        "SMO": "SMO: organic, unpaid social",
        "SMM": "SMM: paid social",
        "both": "Both SMO (organic) and SMM (paid)",
    }[side]


def _benchmark_line(platform: str, b: Benchmark) -> str:
    if b.low == b.typical == b.high:
        figure = _figure(b.metric, b.typical)
    else:
        figure = (
            f"{_figure(b.metric, b.low)} – *{_figure(b.metric, b.typical)}* – "
            f"{_figure(b.metric, b.high)} (low – typical – high)"
        )
    sources = "; ".join(f"{s.name} {s.year}" for s in b.sources)
    return (
        f"• *{PLATFORM_NAME[platform]}*: {figure}. {sources}; {b.confidence} confidence.\n"
        f"   _{b.method}_"
    )


def _benchmark_footnote(ctx: Context, term: Term, figures: dict[str, Benchmark]) -> str:
    missing = [PLATFORM_NAME[p] for p in PLATFORMS if p not in figures]
    money = term.key in MONEY_METRICS
    parts = [
        "Published figures, not targets: sources measure differently, so compare like with like."
    ]
    if money:
        parts.append("Money is in US dollars.")
    if missing:
        parts.append(f"No reliable figure for {or_list(missing)}.")
    none = sorted(load().no_figures)
    if none:
        parts.append(f"{and_list([n.title() for n in none])}: no reliable figures at all.")
    parts.append(f"Try them in {_cmd(ctx, 'estimate platform=' + next(iter(figures)) + ' ...')}.")
    return " ".join(parts)


def _figure(metric: str, value: float) -> str:
    if metric in MONEY_METRICS:
        return f"${value:.3g}" if value < 1 else f"${value:,.2f}"
    return f"{value * 100:.3g}%"


# --- helpers ---------------------------------------------------------------------------------------


def _typed(term: Term) -> str:
    """The shortest way to type a term: its key, read as words."""
    return term.key.replace("_", " ")


def _clean(text: str) -> str:
    return " ".join(_PUNCT.sub(" ", text).split())


def _strip_question(text: str) -> str:
    words = text.split()
    if normalise(text) in term_index():
        return text
    while words and words[0].lower() in _LEADING:
        words.pop(0)
    while words and words[-1].lower() in _TRAILING:
        words.pop()
    return " ".join(words)


def _plausible(query: str, index: dict) -> list[str]:
    """Names worth fuzzy-matching against. A very short name ("er", "cr", "who") scores high
    against any longer query that merely contains its letters ("cost p*er* mile"), so it only
    counts when the query is about as short or contains it as a whole word."""
    words = set(query.split())
    return [n for n in index if len(n) > 3 or len(query) <= len(n) + 1 or n in words]


def _rerank(query: str, names: list[str]) -> list[str]:
    """Best first by whole-string similarity as well as WRatio, which scores any name that
    merely contains the query ("engage" in "cost per engagement") as highly as the name itself."""
    from rapidfuzz import fuzz, utils

    def score(name: str) -> float:
        return fuzz.WRatio(query, name, processor=utils.default_process) + fuzz.ratio(
            query, name, processor=utils.default_process
        )

    return sorted(names, key=score, reverse=True)


def _dedupe(items) -> list:
    return list(dict.fromkeys(items))


def _dedupe_terms(terms) -> list[Term]:
    seen: dict[str, Term] = {}
    for term in terms:
        seen.setdefault(term.key, term)
    return list(seen.values())


def _bullets(items: list[str]) -> str:
    return "\n".join(f"• {i}" for i in items)
