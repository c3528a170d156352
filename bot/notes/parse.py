"""What people type after `note` and `notes`: campaign slugs, note text, metric tokens, options.

Every problem is a UserError whose sentence says what to type instead. Anything echoed back is
defused first: an error message shows text people wrote, too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from bot import units
from bot.errors import UserError
from bot.fuzzy import best
from bot.metric_table import NOTE_COLUMNS
from bot.notes.render import defuse
from bot.platforms import parse_platform
from bot.text import ascii_digits, clip

MAX_TEXT = 4000
MAX_CAMPAIGN = 40
MAX_PAGE = 1_000_000
MAX_ID = 2**63 - 1
# Possessive: a long word without `=` is given up in one pass, not retried at every length.
TOKEN = re.compile(r"^(?P<key>[A-Za-z][A-Za-z_]*+)=(?P<value>\S+)$")
# Metrics a note sums per campaign get columns of their own; the rest are kept by key.
COLUMN_METRICS = NOTE_COLUMNS


def shown(text: str, limit: int = 60) -> str:
    """Text a person typed, safe to quote in an answer."""
    return clip(defuse(text), limit)


# Words that follow `note`/`notes` as subcommands; a campaign with such a name could be logged
# but never listed (`notes export` exports), so they are refused up front.
RESERVED = frozenset({"delete", "edit", "search", "export"})


def _letter_or_digit(c: str) -> bool:
    return unicodedata.category(c)[0] == "L" or c.isdecimal()


def is_slug(name: str) -> bool:
    """Letters and digits of any script (with their accents and vowel signs), hyphens and
    underscores inside, at most MAX_CAMPAIGN characters: `spring-launch`, `soldes-été`,
    `春キャンペーン`, `हिंदी-2024`."""
    return (
        0 < len(name) <= MAX_CAMPAIGN
        and _letter_or_digit(name[0])
        and name[-1] not in "-_"
        and all(c in "-_" or _letter_or_digit(c) or unicodedata.category(c)[0] == "M" for c in name)
    )


def campaign(raw: str) -> str:
    # NFC again after lower(): lowercasing `İ` adds a combining dot.
    name = unicodedata.normalize("NFC", raw.strip().rstrip(":").lower())
    if not is_slug(name):
        raise UserError(
            f"`{shown(raw)}` is not a campaign name. Use a short slug: letters, digits and "
            f"hyphens, up to {MAX_CAMPAIGN} characters, e.g. `spring-launch`."
        )
    if name in RESERVED:
        raise UserError(
            f"`{name}` is a command word, so it can't be a campaign name (`notes {name}` would run "
            f"the command). Use a longer name, e.g. `{name}-campaign`."
        )
    return name


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


_QUOTED = re.compile(r'^\s*["“”](?P<name>[^"“”\n]{1,80})["“”]\s*(?P<rest>.*)$', re.S)


def quoted_campaign(raw: str) -> tuple[str, str] | None:
    """`"spring launch" Reel got 3x saves` -> ("spring-launch", "Reel got 3x saves"): a campaign
    named in quotes, with spaces, is filed under its slug, never under its first word."""
    match = _QUOTED.match(raw)
    if match is None:
        return None
    from bot.imports.read import slug

    name = slug(match["name"])
    if not name:
        raise UserError(
            f"`{shown(match['name'])}` has no letters or digits to name a campaign with, e.g. "
            "`spring-launch`."
        )
    return campaign(name), match["rest"].strip()


_DATE_TOKEN = re.compile(r"^date=(?P<value>\S+)$", re.I)


def note_date(words: list[str]) -> tuple[datetime | None, list[str]]:
    """`date=2026-11-20` among a note's words: the day it is dated (noon UTC), and the other
    words. A date in the future, or not a date, is refused with a sentence."""
    found, rest = None, []
    for word in words:
        match = _DATE_TOKEN.match(word)
        if match is None:
            rest.append(word)
            continue
        if found is not None:
            raise UserError("`date` appears twice in this note; give it once.")
        raw = match["value"].rstrip(".,;:!?)")
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise UserError(
                f"`date={shown(raw)}` is not a date: write it as YEAR-MONTH-DAY, like "
                "date=2026-11-20."
            ) from None
        if day > datetime.now(UTC).date() + timedelta(days=1):
            raise UserError(
                f"`date={day.isoformat()}` is in the future; a note records what happened. "
                "Leave the date out to date it now."
            )
        found = datetime.combine(day, time(12), tzinfo=UTC)
    return found, rest


def without_token(typed: str, key: str) -> str:
    """The note's text as typed, less its `key=...` token."""
    return re.sub(rf"(?<!\S){key}=\S+\s?", "", typed, count=1, flags=re.I).strip()


def note_text(words: list[str], typed: str | None = None) -> str:
    # Control characters (NUL above all, which SQLite treats as the end of a string) are dropped.
    text = _CONTROL.sub("", typed if typed is not None else " ".join(words)).strip()
    if not text:
        raise UserError(
            "Write the note after the campaign name, e.g. "
            "`note spring-launch Reel got 3x saves spend=$400 clicks=1.2k`."
        )
    if len(text) > MAX_TEXT:
        raise UserError(
            f"A note is at most {MAX_TEXT:,} characters and this one has {len(text):,}. "
            "Split it into two notes."
        )
    return text


def platform(raw: str) -> str:
    return parse_platform(raw)


@dataclass
class Metrics:
    """The numbers found in a note's text, ready for the store's columns."""

    platform: str | None = None
    spend: float | None = None
    currency: str | None = None  # of every money figure in the note
    impressions: float | None = None
    clicks: float | None = None
    conversions: float | None = None
    other: dict[str, float] = field(default_factory=dict)  # by canonical key
    readings: list[str] = field(default_factory=list)  # how bare numbers were read

    def shown(self) -> dict[str, float | str]:
        """Every figure by name (spend under its own name), in a stable order."""
        values = {
            k: getattr(self, k)
            for k in ("platform", *NOTE_COLUMNS.values())
            if getattr(self, k) is not None
        }
        return {**values, **self.other}


def metrics(words: list[str]) -> Metrics:
    """Metric tokens (`spend=$400 clicks=1.2k platform=instagram`) among the words of a note.

    A word whose key is no metric is ordinary text (`utm_source=ig` stays prose), unless the key
    looks like a typo of one: a note that silently dropped `spedn=$400` would mislead its sums.
    """
    found = Metrics()
    seen: set[str] = set()
    for word in words:
        token = TOKEN.match(word)
        if token is None:
            continue
        typed, raw = token["key"].lower(), token["value"].rstrip(".,;:!?)")
        key = "platform" if typed == "platform" else units.canonical_key(typed)
        if key is None:
            _check_typo(typed)
            continue
        if key in seen:
            raise UserError(f"`{key}` appears twice in this note; give it once.")
        seen.add(key)
        if key == "platform":
            found.platform = platform(raw)
        else:
            _add(found, units.parse_metric(typed, raw))
    return found


def _check_typo(typed: str) -> None:
    guess = best(typed, [*units.KEYS, *units.ALIASES], cutoff=80)
    if guess:
        raise UserError(
            f"`{shown(typed)}` is not a metric; did you mean `{guess}=`? Metrics in a note look "
            "like `spend=$400 impressions=60k clicks=1.2k conversions=35 platform=instagram`.",
            suggestions=[guess],
        )


def _add(found: Metrics, metric: units.Metric) -> None:
    if metric.currency is not None:
        if found.currency not in (None, metric.currency):
            raise UserError(
                f"This note mixes {found.currency} and {metric.currency}; log each currency in "
                "a note of its own, so that sums stay in one currency."
            )
        found.currency = metric.currency
    if metric.note:
        found.readings.append(metric.note)
    column = COLUMN_METRICS.get(metric.key)
    if column is None:
        found.other[metric.key] = metric.value
    else:
        setattr(found, column, metric.value)


@dataclass(frozen=True)
class ListOptions:
    campaign: str | None = None
    since: timedelta | None = None
    page: int = 1
    # A `page=` that is no page number, as typed: the listing says so with the pages there are.
    bad_page: str | None = None


def list_options(args: list[str]) -> ListOptions:
    """`[CAMPAIGN] [since=7d] [page=N]`, in any order."""
    name: str | None = None
    since: timedelta | None = None
    page = 1
    bad_page: str | None = None
    for arg in args:
        key, eq, raw = arg.partition("=")
        key = key.lower()
        if eq and key == "since":
            since = units.parse_duration(raw)
        elif eq and key == "page":
            page = _whole(raw, MAX_PAGE) or 0
            if page < 1:
                page, bad_page = 1, raw
        elif eq:
            raise UserError(
                f"`{shown(arg)}` is not an option of `notes`. Use `notes [CAMPAIGN] [since=7d] "
                "[page=2]`, e.g. `notes spring-launch since=30d`."
            )
        elif name is not None:
            raise UserError(
                f"`notes` takes one campaign, not `{shown(name)}` and `{shown(arg)}`. "
                "To find words in notes, use `notes search WORDS`."
            )
        else:
            name = campaign(arg)
    return ListOptions(name, since, page, bad_page)


def chart_word(args: list[str]) -> tuple[list[str], bool]:
    """`notes CAMPAIGN chart [since=30d]`: the arguments less the word `chart`, and whether it
    was there. `notes chart` alone lists a campaign called chart, as it always has."""
    if len(args) < 2 or not any(a.lower() == "chart" for a in args[1:]):
        return args, False
    rest = [args[0], *(a for a in args[1:] if a.lower() != "chart")]
    return rest, True


def _digits(raw: str) -> str | None:
    """`raw` in ASCII digits when it is written in decimal digits of any script, else None.
    isdigit() alone would let "²" through to int()."""
    digits = ascii_digits(raw)
    return digits if digits.isascii() and digits.isdigit() else None


def _whole(raw: str, limit: int) -> int | None:
    digits = _digits(raw)
    # Compared by length first: int() of a 40,000-digit string is slow, and SQLite integers stop
    # at 2**63 anyway.
    if digits is None or len(digits.lstrip("0")) > len(str(limit)):
        return None
    value = int(digits)
    return value if value <= limit else None


def note_id(args: list[str]) -> int:
    found = _whole(args[0].lstrip("#"), MAX_ID) if len(args) == 1 else None
    if found is None:
        typed = " ".join(args)
        got = f", not `{shown(typed)}`" if typed else ""
        raise UserError(
            f"Give the number of one note{got}, e.g. `note delete 12`. `notes` shows the numbers."
        )
    return found
