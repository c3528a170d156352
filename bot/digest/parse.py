"""The words of `digest on` and its siblings: channels, days, times and time zones.

`digest on` takes its words in any order: a channel (`#name`, or Slack's `<#C123|name>`), a day, a
time and an IANA time zone, plus `empty=yes` to post empty weeks too. Each word that is none of
these gets a sentence that says what to type instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from bot.context import Context
from bot.digest.slots import DAYS
from bot.errors import UserError
from bot.slash import TERMINAL_SURFACES, cmd

FILLER = {"at", "every", "on", "weekly", "each"}
CHANNEL_REF = re.compile(r"^<#(?P<id>[A-Z0-9]+)(?:\|(?P<name>[^>]*))?>$")
TIME = re.compile(r"^(?P<h>\d{1,2})(?::(?P<m>\d{2}))?(?P<ampm>am|pm)?$")
YES, NO = {"yes", "on", "true", "1"}, {"no", "off", "false", "0"}


@dataclass(frozen=True)
class OnWords:
    """What `digest on` was told; None where a word was not given (the defaults then apply)."""

    day: int | None
    hour: int | None
    minute: int | None
    zone: str | None
    include_empty: bool | None  # None: `empty=` not typed


@cache
def zones() -> dict[str, str]:
    from zoneinfo import available_timezones

    names = {z for z in available_timezones() if not z.startswith(("posix/", "right/"))}
    return {z.lower(): z for z in names | {"UTC"}}


def parse_zone(text: str, ctx: Context) -> str:
    found = zones().get(text.lower())
    if found:
        return found
    from bot.fuzzy import closest

    guesses = closest(text, sorted(zones().values()), limit=2)
    hint = f" Did you mean `{guesses[0]}`?" if guesses else ""
    abbreviation = text.isalpha() and text.isupper() and len(text) <= 5
    why = (
        " An abbreviation such as PST or CET does not say when daylight saving starts."
        if abbreviation
        else ""
    )
    raise UserError(
        f"`{text}` is not a time zone I know.{hint}{why} Use an IANA name such as "
        f"`Europe/Berlin`, `America/New_York` or `UTC`, e.g. "
        f"{cmd(ctx, 'digest on mon 09:00 Europe/Berlin')}.",
        suggestions=guesses,
    )


def parse_day(text: str) -> int | None:
    word = text.lower().rstrip(".")
    word = word[:-1] if word.endswith("s") and word[:-1] in DAYS else word
    if len(word) < 2:
        return None
    found = [i for i, day in enumerate(DAYS) if day.startswith(word)]
    # "t" and "s" alone are ambiguous; "tu", "th", "sa", "su" are not.
    return found[0] if len(found) == 1 else None


def parse_time(text: str, ctx: Context) -> tuple[int, int]:
    match = TIME.match(text.lower())
    problem = None
    if match is None:
        problem = "is not a time"
    else:
        hour, minute = int(match["h"]), int(match["m"] or 0)
        if match["ampm"]:
            if not 1 <= hour <= 12:
                problem = "is not a time on a 12-hour clock"
            else:
                hour = hour % 12 + (12 if match["ampm"] == "pm" else 0)
        if problem is None and hour <= 23 and minute <= 59:
            return hour, minute
        problem = problem or "is not a time of day"
    raise UserError(
        f"`{text}` {problem}. Give it as HH:MM on a 24-hour clock, e.g. `09:00` or `16:30` "
        f"(or `9am`, `4:30pm`): {cmd(ctx, 'digest on fri 16:30')}."
    )


def bad_word(word: str, ctx: Context) -> UserError:
    from bot.fuzzy import closest

    days = closest(word.lower(), list(DAYS), limit=1, cutoff=70)
    if days:
        return UserError(
            f"`{word}` is not a day of the week. Did you mean `{days[0]}`? Use mon, tue, wed, "
            f"thu, fri, sat or sun, e.g. {cmd(ctx, 'digest on ' + days[0][:3] + ' 09:00')}.",
            suggestions=[days[0]],
        )
    if word.isalpha() and word.isupper() and 2 <= len(word) <= 5:
        return parse_zone_error(word, ctx)
    return UserError(
        f"I don't understand `{word}` in `digest on`. Give a day (mon … sun), a time (HH:MM), "
        f"a time zone (e.g. Europe/Berlin) and, optionally, a #channel and `empty=yes`: "
        f"{cmd(ctx, 'digest on #marketing fri 16:00 Europe/Berlin')}."
    )


def parse_zone_error(word: str, ctx: Context) -> UserError:
    try:
        parse_zone(word, ctx)
    except UserError as err:
        return err
    raise AssertionError(f"{word} is a zone")  # pragma: no cover - callers check first


def parse_channel(word: str, ctx: Context) -> str:
    ref = CHANNEL_REF.match(word)
    if ref:
        return ref["id"]
    if ctx.surface in TERMINAL_SURFACES:
        return word.lstrip("#")  # the local world has no channel ids: the name is the id
    # The Slack face resolves #name before the router sees it; one left is one it could not find.
    raise UserError(
        f"I can't find the channel `{word}`. Type `/smx digest` inside that channel instead, "
        "or invite me there first with `/invite @smx`."
    )


def split_target(ctx: Context, args: list[str]) -> tuple[str, list[str]]:
    channel, rest = ctx.channel, []
    for word in args:
        if word.startswith(("<#", "#")):
            channel = parse_channel(word, ctx)
        else:
            rest.append(word)
    return channel, rest


def parse_on(words: list[str], ctx: Context) -> OnWords:
    """The schedule words of `digest on` (its channel already taken out), in any order."""
    day = hour = minute = zone = None
    include_empty: bool | None = None
    # "9 am": one time, typed as two words.
    joined: list[str] = []
    for word in words:
        if (
            word.lower() in ("am", "pm")
            and joined
            and re.fullmatch(r"\d{1,2}(:\d{2})?", joined[-1])
        ):
            joined[-1] += word.lower()
        else:
            joined.append(word)
    for word in joined:
        lower = word.lower()
        if lower in FILLER:
            continue
        if lower.startswith("empty="):
            value = lower.partition("=")[2]
            if value not in YES | NO:
                raise UserError(
                    f"`{word}`: say `empty=yes` to post weeks without notes too, or `empty=no`."
                )
            include_empty = value in YES
        elif "/" in word or lower in zones():
            if zone is not None:
                raise UserError(f"Give one time zone, not `{zone}` and `{word}`.")
            zone = parse_zone(word, ctx)
        elif word[0].isdigit():
            if hour is not None:
                raise UserError(f"Give one time, not two (`{word}` is the second).")
            hour, minute = parse_time(word, ctx)
        elif (found := parse_day(word)) is not None:
            if day is not None:
                raise UserError(
                    f"Give one day, not `{DAYS[day][:3]}` and `{word}`: a digest goes out once "
                    "a week."
                )
            day = found
        else:
            city = zone_of_city(word)
            if city is not None:
                typed = " ".join(city if w is word else w for w in joined)
                raise UserError(
                    f"`{word}` is a city, not a time zone name. Did you mean `{city}`? Type "
                    f"{cmd(ctx, 'digest on ' + typed)}.",
                    suggestions=[city],
                )
            raise bad_word(word, ctx)
    return OnWords(day, hour, minute, zone, include_empty)


@cache
def _cities() -> dict[str, list[str]]:
    """Each IANA zone's city part (`berlin`, `new_york`), lower case, with the zones it ends."""
    found: dict[str, list[str]] = {}
    for name in sorted(zones().values()):
        area, slash, city = name.rpartition("/")
        if slash and not area.startswith("Etc"):
            found.setdefault(city.lower(), []).append(name)
    return found


def zone_of_city(word: str) -> str | None:
    """The one zone whose city is `word` ("Berlin" -> Europe/Berlin), or None: none or several
    (a city such as "Ojinaga" has one; a name two areas share is not guessed)."""
    names = _cities().get(word.lower().replace(" ", "_"), [])
    # Old aliases (US/..., Asia/Calcutta) share a city with the canonical name; prefer one area.
    canonical = [n for n in names if n.split("/", 1)[0] in _AREAS] or names
    return canonical[0] if len(canonical) == 1 else None


_AREAS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)
