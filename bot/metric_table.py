"""Every marketing metric key smx knows, one row each: the one place a metric is defined.

The parser (bot/units.py), the solver and the estimate reply (bot/estimate/), notes, the knowledge
models and the plain-question parser (bot/phrasing.py) all read this table; none keeps a list of
metric keys of its own. Adding a key is one row here, plus a relation in bot/estimate/solver.py
when the key is tied to others by a formula.

Row order is the order keys are listed in (`Keys: budget, impressions, ...`) and the order derived
figures appear in an estimate; the `route`, `outcome` and `fill` ranks order the lists that read
differently (a route from budget to revenue, the headline, which published figure is tried first).

Nothing here imports the rest of smx: knowledge/ reads it too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

# How a value is typed and shown (bot/units.py): money in a currency, a count, a rate as a fraction
# of at most 1, ROAS as a multiple, ROI as a rate that may pass 100% or go negative, a frequency.
Kind = Literal["money", "count", "rate", "multiple", "roi", "frequency"]
# SMO: organic (followers, posts); SMM: paid (a budget); both: read on either side.
Side = Literal["SMO", "SMM", "both"]


@dataclass(frozen=True)
class MetricSpec:
    key: str  # canonical: lower case, `_` between words
    kind: Kind
    label: str  # as a reply names it: "CPM", "Organic reach (gross)"
    side: Side
    example: str  # a typical value as typed, for error messages: "$8", "1.2%"
    aliases: tuple[str, ...] = ()  # other names people type for it (`spend` for budget)
    # For rates: what the rate divides, so "more than 100%" can say why it cannot be.
    meaning: str | None = None
    # For a rate above 100% (or a frequency below 1): the two figures whose ratio it is, so the
    # message can say "clicks (500) can't exceed impressions (100)".
    ratio: tuple[str, str] | None = None
    whole: bool = False  # counts of whole things (a post or a follower cannot be split)
    people: bool = False  # a count of people: a derived value below one means the inputs are off
    # The solver's formula in which the key divides: a zero input is refused, naming it.
    zero_divides: str | None = None
    unit_cost: bool = (
        False  # a price per unit of outcome: with a budget, a paid route has an outcome
    )
    # Ranks (1 first; 0 not in that list):
    route: int = 0  # place on its side's route, from what is spent or posted to what it returns
    outcome: int = 0  # place in the estimate's headline: what the money or the posts bring
    fill: int = 0  # a platform publishes figures for it; tried in this order to fill a missing rate
    note_column: str | None = None  # the note store's own column for it (summed per campaign)
    words: tuple[str, ...] = ()  # how plain questions name it ("reach rate"): bot/phrasing.py
    # Place in Slack's estimate form (0: not asked there), with the field's longer label.
    form: int = 0
    form_label: str | None = None

    @property
    def paid(self) -> bool:
        return self.side in ("SMM", "both")

    @property
    def organic(self) -> bool:
        return self.side in ("SMO", "both")


# fmt: off
TABLE: tuple[MetricSpec, ...] = (
    MetricSpec("budget", "money", "Budget", "SMM", "$2,000", ("spend", "cost", "ad_spend"),
               zero_divides="roi = (revenue − budget) / budget", route=1, note_column="spend",
               words=("budget", "spend", "ad spend", "ad budget", "total budget"), form=1),
    MetricSpec("impressions", "count", "Impressions", "SMM", "60k",
               ("impr", "imps", "impression"), route=3, outcome=1, note_column="impressions",
               words=("impressions", "ad impressions")),
    MetricSpec("cpm", "money", "CPM", "SMM", "$8", ("cost_per_mille",),
               zero_divides="impressions = budget × 1000 / cpm", unit_cost=True, route=2, fill=1,
               words=("cpm", "cost per thousand", "cost per thousand impressions",
                      "cost per 1000 impressions", "cost per 1,000 impressions"),
               form=2, form_label="CPM (cost per 1,000 impressions)"),
    MetricSpec("clicks", "count", "Clicks", "SMM", "1.2k", ("click",), route=9, outcome=3,
               note_column="clicks",
               words=("clicks", "link clicks", "visits", "site visits", "website visits")),
    MetricSpec("cpc", "money", "CPC", "SMM", "$1.20", ("cost_per_click",),
               zero_divides="clicks = budget / cpc", unit_cost=True, route=7, fill=3,
               words=("cpc", "cost per click", "cost per link click"),
               form=3, form_label="CPC (cost per click)"),
    MetricSpec("ctr", "rate", "CTR", "SMM", "1.2%", ("click_through_rate", "clickthrough_rate"),
               meaning="clicks ÷ impressions", ratio=("clicks", "impressions"),
               zero_divides="cpc = cpm / (1000 × ctr)", route=8, fill=2,
               words=("ctr", "click-through rate", "click through rate", "clickthrough rate"),
               form=4, form_label="CTR (click-through rate)"),
    MetricSpec("conversions", "count", "Conversions", "SMM", "35", ("conversion", "conv", "leads"),
               route=12, outcome=4, note_column="conversions",
               words=("conversions", "sign-ups", "signups", "sign ups", "leads", "purchases",
                      "sales", "orders", "customers", "registrations", "installs",
                      "acquisitions", "results")),
    MetricSpec("cvr", "rate", "CVR", "SMM", "4%", ("cr", "conversion_rate"),
               meaning="conversions ÷ clicks", ratio=("conversions", "clicks"),
               zero_divides="cpa = cpc / cvr", route=10, fill=4,
               words=("cvr", "conversion rate"),
               form=5, form_label="CVR (conversion rate)"),
    MetricSpec("cpa", "money", "CPA", "SMM", "$25", ("cost_per_acquisition", "cpl", "cac"),
               zero_divides="conversions = budget / cpa", unit_cost=True, route=11, fill=5,
               words=("cpa", "cost per conversion", "cost per lead", "cost per sign-up",
                      "cost per signup", "cost per sale", "cost per purchase", "cost per result",
                      "cost per order", "cost per customer")),
    MetricSpec("reach", "count", "Reach", "SMM", "40k", people=True, route=5, outcome=2,
               words=("reach", "people reached", "people", "unique reach")),
    MetricSpec("frequency", "frequency", "Frequency", "SMM", "2.5", ("freq",),
               ratio=("reach", "impressions"), route=4, words=("frequency",)),
    MetricSpec("audience", "count", "Audience", "SMM", "250k", ("audience_size",), route=6,
               words=("audience",)),
    MetricSpec("views", "count", "Views", "SMM", "10k", ("video_views",), route=14, outcome=5,
               words=("views", "video views")),
    MetricSpec("cpv", "money", "CPV", "SMM", "$0.03", ("cost_per_view",),
               zero_divides="views = budget / cpv", unit_cost=True, route=13, fill=6,
               words=("cpv", "cost per view")),
    MetricSpec("engagements", "count", "Paid engagements", "SMM", "900", route=16, outcome=6,
               words=("engagements", "paid engagements")),
    MetricSpec("cpe", "money", "CPE", "SMM", "$0.10", ("cost_per_engagement",),
               zero_divides="engagements = budget / cpe", unit_cost=True, route=15,
               words=("cpe", "cost per engagement")),
    # Revenue is what the budget returns, not what it buys: the headline names it last.
    MetricSpec("revenue", "money", "Revenue", "SMM", "$6,000", ("sales",), route=18, outcome=9,
               words=("revenue", "income", "turnover")),
    MetricSpec("roas", "multiple", "ROAS", "SMM", "3x", route=17,
               words=("roas", "return on ad spend", "return", "returns")),
    MetricSpec("roi", "roi", "ROI", "SMM", "150%", route=19, words=("roi", "return on investment")),
    # A flight: its days and what it spends a day (budget = daily × days).
    MetricSpec("daily", "money", "Daily budget", "SMM", "$100",
               ("daily_budget", "per_day", "budget_per_day", "daily_spend", "spend_per_day"),
               zero_divides="days = budget / daily", route=20),
    MetricSpec("days", "count", "Days", "SMM", "14", ("day", "duration", "flight_days"),
               whole=True, zero_divides="daily = budget / days", route=21),
    # What a conversion is worth: average order value and gross margin, and what they imply.
    MetricSpec("aov", "money", "AOV", "SMM", "$60", ("average_order_value", "order_value"), route=22),
    MetricSpec("margin", "rate", "Gross margin", "SMM", "35%", ("gross_margin",),
               meaning="gross profit ÷ revenue", zero_divides="break_even_roas = 1 / margin", route=23),
    MetricSpec("break_even_roas", "multiple", "Break-even ROAS", "SMM", "2.9x",
               ("breakeven_roas",), route=24, words=("break-even roas",)),
    MetricSpec("break_even_cpa", "money", "Break-even CPA", "SMM", "$21",
               ("breakeven_cpa", "max_cpa"), route=25,
               words=("break-even cpa", "maximum cpa")),
    MetricSpec("profit_per_conversion", "money", "Profit per conversion", "SMM", "$6",
               ("profit_per_sale", "profit_per_order"), route=26),
    MetricSpec("profit", "money", "Profit", "SMM", "$1,200", ("gross_profit",), outcome=10, route=27),
    MetricSpec("ltv", "money", "Customer lifetime value", "SMM", "$240",
               ("clv", "lifetime_value", "cltv", "customer_lifetime_value"), route=28),
    MetricSpec("ltv_cac", "multiple", "LTV:CAC", "SMM", "3x", ("ltv_to_cac", "clv_cac"), route=29),
    MetricSpec("followers", "count", "Followers", "SMO", "12k", ("follower", "fans"), whole=True,
               route=1, words=("followers",),
               form=6, form_label="Followers (organic plan)"),
    MetricSpec("reach_rate", "rate", "Organic reach rate", "SMO", "8%",
               ("rr", "organic_reach_rate"), meaning="organic reach ÷ followers, per post",
               route=2, fill=8, words=("reach rate",)),
    MetricSpec("posts", "count", "Posts", "SMO", "8", ("post",), whole=True,
               zero_divides="reach_rate = organic_reach / (followers × posts)", route=3,
               words=("posts",),
               form=7, form_label="Posts in the period (organic plan)"),
    MetricSpec("organic_reach", "count", "Organic reach (gross)", "SMO", "13k", people=True,
               route=4, outcome=7),
    # Every published engagement rate smx ships (Buffer) divides by impressions; the estimate
    # applies it to organic reach.
    MetricSpec("engagement_rate", "rate", "Engagement rate", "SMO", "1.5%",
               ("er", "eng_rate", "organic_er"),
               meaning="engagements per impression (or per person reached)",
               ratio=("organic_engagements", "organic_reach"), route=5, fill=7,
               words=("engagement rate",)),
    MetricSpec("organic_engagements", "count", "Organic engagements", "SMO", "500", route=6,
               outcome=8),
)
# fmt: on

METRICS: dict[str, MetricSpec] = {m.key: m for m in TABLE}
KEYS: tuple[str, ...] = tuple(METRICS)


def _ranked(rank: str, rows: Iterable[MetricSpec] = TABLE) -> tuple[str, ...]:
    """The keys of `rows` with a nonzero `rank`, by that rank (row order among equal ranks)."""
    ranked = [m for m in rows if getattr(m, rank)]
    return tuple(m.key for m in sorted(ranked, key=lambda m: getattr(m, rank)))


ALIASES: dict[str, str] = {alias: m.key for m in TABLE for alias in m.aliases}
KIND: dict[str, str] = {m.key: m.kind for m in TABLE}
LABEL: dict[str, str] = {m.key: m.label for m in TABLE}
EXAMPLE: dict[str, str] = {m.key: m.example for m in TABLE}
RATE_MEANING: dict[str, str] = {m.key: m.meaning for m in TABLE if m.meaning}
RATIO: dict[str, tuple[str, str]] = {m.key: m.ratio for m in TABLE if m.ratio}
ZERO_DIVIDES: dict[str, str] = {m.key: m.zero_divides for m in TABLE if m.zero_divides}
NOTE_COLUMNS: dict[str, str] = {m.key: m.note_column for m in TABLE if m.note_column}
MONEY_KEYS = frozenset(m.key for m in TABLE if m.kind == "money")
RATE_KEYS = frozenset(m.key for m in TABLE if m.kind == "rate")
WHOLE_KEYS = frozenset(m.key for m in TABLE if m.whole)
PEOPLE_KEYS = frozenset(m.key for m in TABLE if m.people)

PAID: tuple[str, ...] = tuple(m.key for m in TABLE if m.paid)
ORGANIC: tuple[str, ...] = tuple(m.key for m in TABLE if m.organic)
PAID_ROUTE = _ranked("route", [m for m in TABLE if m.paid])
ORGANIC_ROUTE = _ranked("route", [m for m in TABLE if m.organic])
UNIT_COSTS: tuple[str, ...] = tuple(m.key for m in TABLE if m.unit_cost)
# What the money or the posts bring, in headline order.
OUTCOMES = _ranked("outcome")
# What each route buys or reaches, counted (revenue is a return, not a reach).
PAID_OUTCOMES = tuple(k for k in OUTCOMES if METRICS[k].paid and METRICS[k].kind == "count")
ORGANIC_OUTCOMES = tuple(k for k in OUTCOMES if METRICS[k].organic and METRICS[k].kind == "count")
# Keys a platform can publish a figure for (knowledge/benchmarks.yaml), in the order they are tried.
PUBLISHED = _ranked("fill")
PUBLISHED_MONEY = frozenset(k for k in PUBLISHED if METRICS[k].kind == "money")
# Slack's estimate form: (key, label, placeholder) for each field, in the form's order.
FORM_FIELDS: tuple[tuple[str, str, str], ...] = tuple(
    (k, METRICS[k].form_label or METRICS[k].label, METRICS[k].example) for k in _ranked("form")
)
# Plain-question words -> key, longest first so that no word is read as the start of a longer one.
WORDS: dict[str, str] = dict(
    sorted(((w, m.key) for m in TABLE for w in m.words), key=lambda pair: -len(pair[0]))
)


def _phrase_words() -> dict[str, str]:
    """Every way a plain question names a metric: its key, its aliases and its `words`, with `_`
    read as a space, each also in the plural (its last word with an s) -> the key. A phrase two
    keys share goes to the first row."""
    out: dict[str, str] = {}
    for m in TABLE:
        for phrase in (m.key, *m.aliases, *m.words):
            text = phrase.replace("_", " ")
            out.setdefault(text, m.key)
            if not text.endswith("s") and not text.endswith(("rate", "roas")):
                out.setdefault(text + "s", m.key)
            elif text.endswith("s") and not text.endswith(("ss", "roas")) and len(text) > 4:
                out.setdefault(text[:-1], m.key)  # "an engagement", "one sign-up"
    return out


# Plain-question phrases -> key (bot/phrasing.py looks each up by its words).
PHRASE_WORDS: dict[str, str] = _phrase_words()
