"""Plain questions -> the command grammar, for every face (slash command, mention, DM, `smx ask`,
the console): a tokenizer and a slot filler, driven by tables.

    "how many clicks will $500 get me on instagram?" -> estimate budget=$500 platform=instagram want=clicks
    "budget for 50 sign-ups on facebook"            -> estimate conversions=50 platform=facebook
    "what does $2k get me on instagram vs tiktok?"  -> estimate budget=$2k platform=instagram,tiktok
    "$100 a day for two weeks on ig"                -> estimate daily=$100 days=14 platform=instagram
    "smo or smm for a small bakery?"                -> compare when
    "what is roas?"                                 -> explain roas
    "note for spring-launch: Reel got 3x saves"     -> note spring-launch Reel got 3x saves

How it reads a line:
1. **Tokens.** One left-to-right scan (`_TOKEN`) cuts the line into `KEY=VALUE` figures, dates,
   `#channels`, numbers (with a currency sign, `k`/`m`/`b`, `%` or `x` attached) and words. Every
   part of the pattern is possessive or bounded, so no character is read twice: the scan is linear
   in the text's length (a DM may hold 40,000 characters). Words that finish a number ("2 k",
   "500 dollars", "3 percent", "2 thousand") are then folded into it.
2. **Phrases.** At each word the longest known phrase of at most `_LONGEST` words is looked up in
   one table (`PHRASES`): metric names and the words people use for them (bot/metric_table.py:
   "sign-ups" and "leads" for conversions), platform words ("insta", "fb", "meta", "yt"), units of
   time, and what follows "per" ("per click" is a CPC).
3. **Slots.** A number takes the metric named right after it ("50 sign-ups", "$8 cpm") or right
   before it ("a ctr of 1.2%"); money "per click" or "a day" is a unit cost or a daily budget;
   a count of days or weeks is the flight; money nobody claims is the budget. A metric that
   takes no number ("how many *clicks*") is the figure asked about (`want=`).
4. **Intent**, from the words and the slots, in order: a note, a named command, SMO against SMM
   (`compare`), help, notes, digests, an estimate, a definition (`explain`).

Anything it cannot read comes back as a `Reading` with no command and what it did understand, so
the router can say that and offer the closest command to type (`unread_reply`).

Nothing here imports the knowledge or the features: the router calls it only for a line whose
first word is not a command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from bot.metric_table import LABEL, METRICS, PHRASE_WORDS
from bot.platforms import PLATFORM_NAME
from bot.text import MAX_MESSAGE, clean, clip

# --- tables -------------------------------------------------------------------------------------

# Words that name a platform, each to its key ("x" only where it cannot be "3 x" or a letter:
# see _platform_context).
PLATFORM_WORDS: dict[str, str] = {
    **{key: key for key in PLATFORM_NAME},
    "ig": "instagram",
    "insta": "instagram",
    "instagram's": "instagram",
    "fb": "facebook",
    "meta": "facebook",
    "linked-in": "linkedin",
    "tik-tok": "tiktok",
    "twitter": "x",
    "yt": "youtube",
}
# Two-word platform names.
PLATFORM_PHRASES: dict[tuple[str, ...], str] = {
    ("linked", "in"): "linkedin",
    ("tik", "tok"): "tiktok",
    ("you", "tube"): "youtube",
    ("x", "formerly", "twitter"): "x",
}
# What money "per ..." buys: a unit cost.
PER_UNIT: dict[tuple[str, ...], str] = {
    ("click",): "cpc",
    ("link", "click"): "cpc",
    ("thousand",): "cpm",
    ("thousand", "impressions"): "cpm",
    ("1000",): "cpm",
    ("1000", "impressions"): "cpm",
    ("1,000",): "cpm",
    ("1,000", "impressions"): "cpm",
    ("mille",): "cpm",
    ("view",): "cpv",
    ("video", "view"): "cpv",
    ("engagement",): "cpe",
    ("day",): "daily",
    **{
        (word,): "cpa"
        for word in (
            "conversion",
            "lead",
            "sign-up",
            "signup",
            "sale",
            "purchase",
            "acquisition",
            "customer",
            "order",
            "install",
            "registration",
        )
    },
    ("sign", "up"): "cpa",
}
# Units of a flight, in days.
DURATIONS: dict[str, int] = {
    "day": 1,
    "days": 1,
    "week": 7,
    "weeks": 7,
    "wk": 7,
    "wks": 7,
    "month": 30,
    "months": 30,
}
NUMBER_WORDS: dict[str, str] = {
    "a": "1",
    "an": "1",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "fourteen": "14",
    "twenty": "20",
    "thirty": "30",
    "sixty": "60",
    "ninety": "90",
}
# Words that end a number: a multiplier, a currency, a percent.
SCALE_WORDS = {
    "k": "k",
    "thousand": "k",
    "grand": "k",
    "m": "m",
    "million": "m",
    "mn": "m",
    "b": "b",
    "billion": "b",
    "bn": "b",
}
CURRENCY_WORDS = {
    "usd": "$",
    "dollars": "$",
    "dollar": "$",
    "bucks": "$",
    "eur": "€",
    "euro": "€",
    "euros": "€",
    "gbp": "£",
    "pounds": "£",
    "pound": "£",
    "quid": "£",
}
SIGNS = {"$": "$", "€": "€", "£": "£"}
CODES = {"usd": "$", "eur": "€", "gbp": "£"}  # written before an amount: "EUR 500"
CENTS = {"cents", "cent", "ct"}
PERCENT_WORDS = {"percent", "per-cent", "pct"}
# Words between a metric and its number: "a ctr *of* 1.2%", "cpm *at* $8".
LINKS = {
    "of",
    "at",
    "is",
    "=",
    ":",
    "around",
    "about",
    "roughly",
    "approx",
    "approximately",
    "near",
    "was",
    "be",
    "to",
    "like",
}
# Words between a number and its metric: "50 *more* sign-ups", "$500 *in* ad spend".
BRIDGES = {
    "a",
    "an",
    "in",
    "of",
    "more",
    "new",
    "extra",
    "total",
    "worth",
    "paid",
    "daily",
}
# Words saying the figure is a day's: "$100 *a day*", "$100 *daily*".
DAILY = {("a", "day"), ("per", "day"), ("each", "day"), ("every", "day"), ("daily",), ("/", "day")}
# What an amount is per, when it is not per day: "$500 a week" is a budget of a week.
PERIODS = {("a", "week"): 7, ("per", "week"): 7, ("each", "week"): 7, ("every", "week"): 7,
           ("/", "week"): 7, ("weekly",): 7, ("a", "month"): 30, ("per", "month"): 30,
           ("each", "month"): 30, ("every", "month"): 30, ("/", "month"): 30, ("monthly",): 30,
           ("/", "mo"): 30, ("/", "wk"): 7}  # fmt: skip
# A unit cost said after the amount, of the count named before it: "50 sign-ups at $20 each".
EACH = {"each", "apiece", "a piece", "a pop"}
UNIT_COST_OF = {"conversions": "cpa", "clicks": "cpc", "views": "cpv", "engagements": "cpe"}
# Words that name platforms smx has no figures or name for: passed on as platform=NAME, so that
# the answer says so instead of dropping the platform without a word.
OTHER_PLATFORMS = {"snapchat", "snap", "reddit", "google", "bing", "threads", "twitch",
                   "whatsapp", "telegram", "quora", "tumblr", "spotify", "amazon"}  # fmt: skip
# Cues.
SMO_PHRASES = {
    ("smo",),
    ("social", "media", "optimization"),
    ("social", "media", "optimisation"),
    ("organic",),
}
SMM_PHRASES = {("smm",), ("social", "media", "marketing"), ("paid",), ("ads",), ("advertising",)}
CHOICE_WORDS = {
    "which",
    "choose",
    "choosing",
    "should",
    "pick",
    "better",
    "best",
    "decide",
    "recommend",
    "recommended",
    "go",
    "prefer",
    "worth",
    "right",
}
ESTIMATE_CUES = {
    ("how", "many"),
    ("how", "much"),
    ("budget", "for"),
    ("get", "me"),
    ("buy",),
    ("buys",),
    ("estimate",),
    ("cost",),
    ("costs",),
    ("need",),
    ("get",),
    ("reach",),
    ("spend",),
    ("afford",),
    ("plan",),
}
EXPLAIN_LEADS: tuple[tuple[str, ...], ...] = (
    ("what", "is", "meant", "by"),
    ("what", "do", "you", "mean", "by"),
    ("what", "does"),
    ("what", "is"),
    ("what's",),
    ("whats",),
    ("what", "are"),
    ("what", "'s"),
    ("define",),
    ("definition", "of"),
    ("meaning", "of"),
    ("explain",),
    ("tell", "me", "about"),
    ("how", "do", "i", "calculate"),
    ("how", "do", "you", "calculate"),
    ("how", "is"),
    ("how", "to", "calculate"),
    ("describe",),
    ("whats",),
)
EXPLAIN_TAILS = (
    "mean",
    "means",
    "stand",
    "stands",
    "for",
    "calculated",
    "measured",
    "worked",
    "out",
    "please",
    "exactly",
    "again",
)
ARTICLES = {"a", "an", "the", "my", "our"}
GREETINGS = {
    "hi",
    "hello",
    "hey",
    "hiya",
    "yo",
    "howdy",
    "thanks",
    "thank",
    "help",
    "start",
    "commands",
    "menu",
    "options",
}
HELP_PHRASES = {
    ("what", "can", "you", "do"),
    ("what", "can", "i", "ask"),
    ("how", "do", "i", "use"),
    ("how", "does", "this", "work"),
    ("what", "do", "you", "do"),
    ("who", "are", "you"),
}
# A word that reads a figure for the typical value, not a definition: "a *good* ctr on facebook".
QUALIFIERS = {
    "good",
    "average",
    "typical",
    "normal",
    "benchmark",
    "benchmarks",
    "decent",
    "avg",
    "median",
    "usual",
    "expected",
    "healthy",
    "realistic",
}

_LONGEST = 4
# The longest line read as a plain question, in characters (a question runs to a few dozen words;
# reading costs up to about 3.3 µs a character, so this bounds it near 2 ms on the event loop).
MAX_QUESTION = 600

# The one tokenizer. Alternatives, each possessive or bounded, tried where a token can start:
#   a KEY=VALUE figure; an ISO date; a #channel or <#C…|name>; a number, with a currency sign
#   before it and a scale, percent or x after it; a word (letters, digits, ' - inside).
_TOKEN = re.compile(
    r"(?P<assign>[A-Za-z_][\w.]{0,39}+\s?=\s?[^\s=]++)"
    r"|(?P<date>\d{4}-\d{2}-\d{2})(?![\d-])"
    r"|(?P<channel><#[A-Z0-9]{1,20}+(?:\|[^>\s]{0,80}+)?+>|#[\w\-]{1,80}+)"
    r"|(?P<time>\d{1,2}(?::\d{2})?+\s?(?:[ap]\.?m\.?)(?![a-z])|\d{1,2}:\d{2})(?![\d:])"
    r"|(?P<num>[$€£]?+(?:\d[\d,.]*+|\.\d++)(?:[kKmMbB](?![a-zA-Z])|%|[xX](?![a-zA-Z]))?+"
    r"[$€£]?+)"
    r"|(?P<zone>[A-Za-z]{2,20}+(?:/[A-Za-z_\-]{2,30}+){1,2}+)(?![\w/])"
    r"|(?P<word>[^\W\d_][\w'’\-]*+)"
    r"|(?P<sign>[$€£%=:/])"
)


@dataclass
class Token:
    kind: str  # assign, date, channel, num, word, sign
    text: str  # as typed (a word lower-cased; a number as the grammar writes it)
    start: int
    end: int
    money: bool = False
    bound: bool = False


@dataclass(frozen=True)
class Reading:
    """What a line was read as: the command (None when none could be made), what was
    understood, and the closest command to suggest when there is no command."""

    command: str | None
    understood: list[str] = field(default_factory=list)
    closest: str | None = None
    too_long: bool = False  # longer than MAX_QUESTION: not read word by word
    # The command a question asks for changes something (deletes a note, turns a digest on or
    # off, posts one): it is offered as `closest`, never run from plain words.
    writes: bool = False


# --- phrases ------------------------------------------------------------------------------------


def _phrase_table() -> dict[tuple[str, ...], tuple[str, str]]:
    table: dict[tuple[str, ...], tuple[str, str]] = {}
    for phrase, key in PHRASE_WORDS.items():
        table[tuple(phrase.split())] = ("metric", key)
    for word, key in PLATFORM_WORDS.items():
        table.setdefault((word,), ("platform", key))
    for words, key in PLATFORM_PHRASES.items():
        table[words] = ("platform", key)
    return table


PHRASES = _phrase_table()


def _metric_at(words: list[str], i: int) -> tuple[str, int] | None:
    """The metric whose longest phrase starts at words[i], and its length in words."""
    for size in range(min(_LONGEST, len(words) - i), 0, -1):
        found = PHRASES.get(tuple(words[i : i + size]))
        if found is not None and found[0] == "metric":
            return found[1], size
    return None


# --- tokens -------------------------------------------------------------------------------------


def tokenize(line: str) -> list[Token]:
    """The tokens of `line` (see the module's notes), numbers already joined with the words
    that finish them."""
    raw: list[Token] = []
    for m in _TOKEN.finditer(line):
        kind = m.lastgroup or "sign"
        text = m.group(0)
        if kind == "word":
            text = text.lower().replace("’", "'").rstrip("'-/")
        elif kind == "num":
            text = text.rstrip(".,")
        elif kind in ("assign", "time"):
            text = text.replace(" ", "").replace(".", "").lower()
            if kind == "assign":
                text = m.group(0).replace(" ", "")
        raw.append(
            Token(kind, text, m.start(), m.start() + len(text) if kind == "num" else m.end())
        )
    out: list[Token] = []
    i = 0
    while i < len(raw):
        t = raw[i]
        ahead = raw[i + 1] if i + 1 < len(raw) else None
        sign = {"sign": SIGNS, "word": CODES}.get(t.kind, {}).get(t.text)
        if (
            sign
            and ahead is not None
            and ahead.kind == "num"
            and ahead.start - t.end <= 1
            and not ahead.text.startswith(tuple(SIGNS))
            and ahead.text[-1:] not in SIGNS
        ):
            ahead.text, ahead.start = sign + ahead.text, t.start  # "$ 500", "EUR 500"
            i += 1
            t = ahead
        if t.kind != "num":
            out.append(t)
            i += 1
            continue
        token, folded = _finish_number(t, raw, i)
        out.append(token)
        i += 1 + folded
    return out


def _finish_number(t: Token, raw: list[Token], i: int) -> tuple[Token, int]:
    """A number token with its currency, and how many of the tokens after it are folded in
    because they finish it ("2 k", "500 dollars", "3 percent", "2 thousand euros"). What only
    looks like a number ("1.2.3") is kept as typed: the grammar then says what is wrong with it."""
    body = t.text
    sign = body[0] if body[:1] in SIGNS else ""
    body = body[len(sign) :]
    if body[-1:] in SIGNS and len(body) > 1:  # "500€", "1.5k€"
        sign, body = sign or body[-1], body[:-1]
    suffix = ""
    if body[-1:] in "kKmMbB%xX" and len(body) > 1:
        suffix, body = body[-1].lower(), body[:-1]
    folded = 0
    end = t.end
    for nxt in raw[i + 1 : i + 3]:
        if nxt.start - end > 1:
            break
        word = nxt.text
        if nxt.kind == "word" and word in SCALE_WORDS and not suffix:
            suffix = SCALE_WORDS[word]
            if word == "grand" and not sign:
                sign = "$"
        elif nxt.kind == "word" and word in CURRENCY_WORDS and not sign and suffix != "%":
            sign = CURRENCY_WORDS[word]
        elif nxt.kind == "word" and word in CENTS and not sign and not suffix:
            try:  # "50 cents" is $0.50
                body, sign = f"{float(body.replace(',', '')) / 100:.6g}", "$"
            except ValueError:
                break
        elif not suffix and (
            (nxt.kind == "word" and word in PERCENT_WORDS) or (nxt.kind == "sign" and word == "%")
        ):
            suffix = "%"
        else:
            break
        folded += 1
        end = nxt.end
    return Token("num", sign + body + suffix, t.start, end, money=bool(sign)), folded


# --- reading ------------------------------------------------------------------------------------

_COMMAND_WORDS: frozenset[str] | None = None


def _command_words() -> frozenset[str]:
    global _COMMAND_WORDS
    if _COMMAND_WORDS is None:
        from bot.router import COMMANDS

        _COMMAND_WORDS = frozenset(c.words[0] for c in COMMANDS)
    return _COMMAND_WORDS


def to_command(text: str) -> str:
    """The command-grammar line for a plain question, or the line unchanged when it cannot be
    read (the router then says what it understood: `read`)."""
    reading = read(text)
    if reading.command is not None:
        return reading.command
    return " ".join(clean(text).split())


def read(text: str) -> Reading:
    """What `text` asks, as a command line (see the module's notes). A face asks this of the
    same line more than once on its way (which entry, then the answer): a line up to
    MAX_QUESTION characters is read once, and its Reading kept (1,024 at most)."""
    if len(text) <= MAX_QUESTION:
        return _read_kept(text)
    return _read(text)


def _read(text: str) -> Reading:
    text = clean(text)
    if len(text) > MAX_MESSAGE:
        return Reading(" ".join(text.split()))  # the router refuses it with a sentence
    line = " ".join(text.split())
    if not line:
        return Reading("")
    note = _note(line)
    if note is not None:
        return Reading(note)
    offer = _note_offer(line)
    if offer is not None:
        return Reading(None, closest=offer, writes=True)
    first = line.split(maxsplit=1)[0].lower()
    if len(line) > MAX_QUESTION:
        # No question is this long; reading it word by word would hold the event loop for a
        # tenth of a second at Slack's 40,000 characters. The grammar is left as typed (the
        # command then says what is wrong), anything else is answered as too long.
        return Reading(line if first in _command_words() else None, too_long=True)
    share = ""
    if line.lower().endswith(" share") and (first in _SHAREABLE or first not in _command_words()):
        line, share = line[: -len(" share")].rstrip(), " share"  # kept past the reading
    tokens = tokenize(line)
    words = [t.text for t in tokens if t.kind == "word"]
    if first in _command_words():
        reading = Reading(_within_command(first, line, tokens))  # the grammar, as typed
    else:
        reading = _read_only(_plain(line, tokens, words))
    if share and reading.command and _shareable(reading.command):
        reading = Reading(reading.command + share, reading.understood, reading.closest)
    return reading


_read_kept = lru_cache(maxsize=1024)(_read)


# What a plain question may become: commands that only read. A question that asks for one that
# changes something (`how do I delete note 1?`, `is the digest on?`) gets it offered instead.
READ_ONLY = ("compare", "explain", "estimate", "help", "notes", "digest status", "digest preview")
_SHAREABLE = ("compare", "explain", "estimate")


def _read_only(reading: Reading) -> Reading:
    command = reading.command
    if not command or command.startswith(READ_ONLY):
        return reading  # `notes export` reads too: the CSV of what the person may see
    return Reading(None, reading.understood, closest=command, writes=True)


def _shareable(command: str) -> bool:
    return command.split()[0] in _SHAREABLE


def _within_command(first: str, line: str, tokens: list[Token]) -> str:
    """A line that starts with a command word: `estimate` (and `compare` with numbers) with
    plain words among its figures has them filled in as slots; any other line is the grammar."""
    rest = tokens[1:]
    loose = [t for t in rest if t.kind != "assign" and t.text != "share"]
    if first == "help" and rest:  # "help me decide between organic and paid"
        if rest[0].text in _command_words():
            return "help"  # `help digest off` asks about `digest off`; it never runs it
        plain = _read_only(_plain(line, rest, [t.text for t in rest if t.kind == "word"]))
        return plain.command if plain.command and plain.command != "help" else "help"
    if first == "notes" and rest and rest[0].text in _CAMPAIGN_LEADS:
        words = [t.text for t in rest if t.kind == "word"]
        campaign = _campaign_after(["notes", *words])
        since = _since(words)
        return "notes" + (f" {campaign}" if campaign else "") + (f" since={since}" if since else "")
    if first == "estimate" and loose:
        return _estimate_line("estimate", rest, require=False) or line
    if first == "compare" and any(t.kind == "num" for t in loose):
        return _estimate_line("compare", rest, require=False) or line
    return line


_NOTE_LEAD = re.compile(
    r"^(?:(?:please\s+)?(?:log|add|save|write|record)\s+(?:a\s+|this\s+)?)?note"
    r"\s+(?:for|on|about|to|under|in)\s+(?:the\s+)?(?:campaign\s+)?",
    re.I,
)
_CAMPAIGN = re.compile(r"(\"[^\"\n]{1,80}+\"|[\w\-]{1,80}+)(?P<sep>\s*+[:\-–—]\s*+|\s++)", re.I)


def _note(line: str) -> str | None:
    """`note for spring-launch: TEXT`, `log a note on summer-sale - TEXT`: the note, verbatim.
    The campaign is followed by `:` or a dash, or is a name no sentence has (a hyphen, an
    underscore or a digit in it: `q4-push`), so "note to self: ..." or "log a note on friday
    about ..." is not filed under a campaign called "self" or "friday"."""
    lead = _NOTE_LEAD.match(line)
    if lead is None:
        return None
    camp = _CAMPAIGN.match(line, lead.end())
    if camp is None or camp.end() >= len(line):
        return None
    name = camp.group(1)
    separated = bool(camp["sep"].strip())
    if not separated and not re.search(r"[-_\d]", name) and not name.startswith('"'):
        return None
    if name.lower() in ("self", "me", "myself", "us", "everyone", "the", "this", "that"):
        return None
    return f"note {name} {line[camp.end() :].strip()}"


_NOTE_ASKED = re.compile(
    r"^(?:please\s+)?(?:(?:make|take|add|log|write|save|record|jot)\s+(?:down\s+)?(?:a\s+)?)?"
    r"note\s+(?:(?:to|for|on|about)\s+(?:self|me|myself|us)\s*[:\-–—]?\s*|to\s+|that\s+|:\s*)"
    r"(?P<text>.+)$",
    re.I | re.S,
)


def _note_offer(line: str) -> str | None:
    """ "make a note to check the budget", "note to self: ...": a note with no campaign, offered
    with CAMPAIGN to fill in (a plain sentence never picks a campaign out of "to self")."""
    match = _NOTE_ASKED.match(line)
    if match is None or not match.group(0).lower().startswith(
        ("note", "please", "make", "take", "add", "log", "write", "save", "record", "jot")
    ):
        return None
    return f"note CAMPAIGN {match['text'].strip()}"


def _has(words: list[str], phrases: set[tuple[str, ...]]) -> bool:
    for i in range(len(words)):
        for size in range(1, min(_LONGEST, len(words) - i) + 1):
            if tuple(words[i : i + size]) in phrases:
                return True
    return False


def _plain(line: str, tokens: list[Token], words: list[str]) -> Reading:
    numbers = [t for t in tokens if t.kind == "num"]
    if _has(words, SMO_PHRASES) and _has(words, SMM_PHRASES) and _names_smo_smm(words):
        return Reading(_compare(words, tokens))
    lowered = [w.strip("?!.") for w in words]
    if (lowered and set(lowered) <= GREETINGS | {"me", "there", "please", "you", "smx"}) or (
        _has(lowered, HELP_PHRASES) and not numbers
    ):
        return Reading("help")
    if (
        _choosing(lowered)
        and not numbers
        and not any(_metric_at(lowered, i) for i in range(len(lowered)))
    ):
        return Reading("compare when")  # "which should a small bakery choose?"
    charted = _chart_of(lowered) if not numbers else None
    if charted is not None:
        return Reading(charted)
    found = _notes_or_digest(line, tokens, lowered)
    if found is not None:
        return Reading(found)
    typical = _typical_figure(tokens, lowered)
    if typical is not None:
        return Reading(typical)
    estimate = _estimate_line("estimate", tokens, require=True)
    if estimate is not None:
        return Reading(estimate)
    explain = _explain(tokens, lowered)
    if explain is not None:
        return Reading(explain)
    named = _metric_at(lowered, 0) if lowered else None
    if named is not None and named[1] == len(lowered):  # "roas?", "cost per click"
        term = _term(lowered)
        if term:
            return Reading(f"explain {term}")
    return _unread(line, tokens)


# "how much is a click", "what does an engagement cost": the unit cost of that thing.
_UNIT_COSTS = {"clicks": "cpc", "conversions": "cpa", "views": "cpv", "engagements": "cpe",
               "impressions": "cpm"}  # fmt: skip
_JUDGING = {"good", "ok", "okay", "bad", "normal", "decent", "high", "low", "average",
            "typical", "benchmark", "benchmarks", "realistic", "healthy"}  # fmt: skip


def _typical_figure(tokens: list[Token], words: list[str]) -> str | None:
    """Questions about what a figure usually is, answered by its glossary entry (which lists
    every platform's published range): "average cpm on tiktok", "tiktok cpm", "is 2% ctr good on
    facebook?", "how much is a click on linkedin?"."""
    numbers = [t for t in tokens if t.kind == "num"]
    named = [(i, _metric_at(words, i)) for i in range(len(words))]
    named = [(i, m) for i, m in named if m is not None]
    if len(named) > 1:  # "an engagement cost": the cost of an engagement, not a budget
        named = [(i, m) for i, m in named if words[i] not in ("cost", "costs")]
    if not named:
        return None
    keys = list(dict.fromkeys(m[0] for _, m in named))
    if len(keys) != 1 or any(t.money for t in numbers) or len(numbers) > 1:
        return None
    key = keys[0]
    spans = {j for i, (_, size) in named for j in range(i, i + size)}
    others = [w for j, w in enumerate(words) if j not in spans and w]
    platform_words = {w for w in others if w in PLATFORM_WORDS}
    judging = bool(_JUDGING & set(others))
    if numbers and not (judging and METRICS[key].kind == "rate"):
        return None  # a figure with a number is an estimate ("2% ctr and 1000 clicks")
    if (
        key in _UNIT_COSTS
        and {"how", "much"} <= set(others)
        or "cost" in others
        and key in _UNIT_COSTS
    ):
        return f"explain {_UNIT_COSTS[key]}"
    filler = (
        _JUDGING
        | platform_words
        | ARTICLES
        | {"on", "for", "in", "of", "is", "a", "what", "what's", "whats", "s", "the", "are", "at"}
    )
    if (judging or platform_words) and all(w in filler for w in others):
        return f"explain {key}"
    return None


def _names_smo_smm(words: list[str]) -> bool:
    """SMO and SMM named by name, or organic against paid with a "vs"/"or"/"and" between."""
    named = {"smo", "smm", "optimization", "optimisation", "marketing"}
    if any(w in named for w in words) and (
        "smo" in words or "optimization" in words or "optimisation" in words
    ):
        return True
    return any(w in {"vs", "versus", "or", "and", "vs."} for w in words) and (
        "organic" in words and ("paid" in words or "ads" in words or "advertising" in words)
    )


def _compare(words: list[str], tokens: list[Token]) -> str:
    with_numbers = _estimate_line("compare", tokens, require=True)
    if with_numbers is not None and "=" in with_numbers:
        return with_numbers
    stripped = [w.strip("?!.,") for w in words]
    if any(w in CHOICE_WORDS for w in stripped) or _business_for(stripped):
        return "compare when"
    aspect = _aspect_hint(stripped)
    return f"compare {aspect}" if aspect else "compare"


def _choosing(words: list[str]) -> bool:
    """ "which should a small bakery choose?", "what should we pick, organic or paid?"."""
    ws = set(words)
    return bool({"choose", "pick", "decide", "choice"} & ws) or (
        "should" in ws
        and bool({"which", "what"} & ws)
        and bool({"use", "do", "go", "start", "focus"} & ws)
    )


def _business_for(words: list[str]) -> bool:
    """ "... for a small bakery": the person says who it is for, which asks which to choose."""
    for i, w in enumerate(words[:-1]):
        if w == "for" and words[i + 1] in {"a", "an", "my", "our", "me", "us", "startups", "b2b"}:
            return True
    return False


_ASPECT_LEADS = ("on", "about", "regarding", "for", "re")


def _aspect_hint(words: list[str]) -> str | None:
    """The words after the last "on"/"about"/"in terms of" (at most four): the aspect."""
    for i in range(len(words) - 1, max(-1, len(words) - 7), -1):
        w = words[i]
        lead = w in _ASPECT_LEADS or (w == "of" and i >= 2 and words[i - 2 : i] == ["in", "terms"])
        if lead:
            tail = [x for x in words[i + 1 :] if x not in ARTICLES and x]
            if tail and len(tail) <= 4 and not ({"smo", "smm"} & set(tail)):
                return " ".join(tail)
    return None


# --- notes and digests --------------------------------------------------------------------------

_SHOW = {
    "show",
    "list",
    "see",
    "view",
    "get",
    "display",
    "give",
    "read",
    "recent",
    "latest",
    "last",
    "what",
    "any",
    "all",
    "our",
    "my",
    "the",
}
_SEARCH = {"search", "find", "look", "grep"}
_EXPORT = {"export", "download", "csv"}
_DIGEST_ACTIONS = (
    ({"off", "stop", "cancel", "disable", "unsubscribe", "remove"}, "digest off"),
    ({"pause", "hold", "suspend"}, "digest pause"),
    ({"resume", "restart", "unpause", "continue"}, "digest resume"),
    ({"preview", "draft"}, "digest preview"),
    ({"now", "immediately"}, "digest now"),
    ({"status", "next", "when", "last", "how"}, "digest status"),
    (
        {
            "on",
            "start",
            "set",
            "setup",
            "enable",
            "create",
            "schedule",
            "subscribe",
            "turn",
            "add",
            "weekly",
            "every",
            "send",
        },
        "digest on",
    ),
)
_DAYS = {
    "mon",
    "monday",
    "tue",
    "tues",
    "tuesday",
    "wed",
    "wednesday",
    "thu",
    "thur",
    "thurs",
    "thursday",
    "fri",
    "friday",
    "sat",
    "saturday",
    "sun",
    "sunday",
}


def _notes_or_digest(line: str, tokens: list[Token], words: list[str]) -> str | None:
    word_set = set(words)
    if "digest" in word_set or "digests" in word_set:
        return _digest(tokens, word_set)
    if not ({"notes", "note"} & word_set):
        return None
    idx = next(i for i, w in enumerate(words) if w in ("notes", "note"))
    after = [w for w in words[idx + 1 :] if w]
    if "delete" in word_set or "remove" in word_set:
        ids = [t.text for t in tokens if t.kind == "num" and t.text.isdigit()]
        return f"note delete {ids[0]}" if ids else None
    if _SEARCH & word_set:
        cut = next(
            (
                i
                for i, w in enumerate(after)
                if w in {"for", "about", "with", "containing", "mentioning"}
            ),
            -1,
        )
        terms = after[cut + 1 :] if cut >= 0 else after
        terms = [t.strip("?!.,") for t in terms if t not in ARTICLES]
        return "notes search " + " ".join(terms) if terms else "notes search"
    campaign = _campaign_after(after)
    since = _since(words)
    if since and not _EXPORT & word_set:
        return "notes" + (f" {campaign}" if campaign else "") + f" since={since}"
    if _EXPORT & word_set:
        return "notes export" + (f" {campaign}" if campaign else "")
    if _SHOW & word_set or words[0] in ("notes",) or words[-1] in ("notes", "notes?"):
        return "notes" + (f" {campaign}" if campaign else "")
    return None


_CAMPAIGN_LEADS = {"for", "on", "about", "from", "of", "in"}

_CHART_WORDS = {"chart", "graph", "plot"}
# Words around a campaign's name in "show me a chart of the spring launch campaign".
_CHART_FILLER = {*_SHOW, *ARTICLES, *_CAMPAIGN_LEADS, "me", "us", "a", "an", "please", "campaign",
                 "can", "you", "could", "i", "want", "draw", "make", "notes", "its", "figures"}  # fmt: skip
_CHART_MAX_WORDS = 10


def _chart_of(words: list[str]) -> str | None:
    """ "chart spring-launch", "chart of spring launch", "show me a chart of the q4-push
    campaign", "spring-launch chart": `notes CAMPAIGN chart`, the campaign's words joined as its
    slug (a wrong guess is answered with the closest campaign, as `notes` answers one). None
    unless a chart word is there with one to three words naming a campaign."""
    if not words or len(words) > _CHART_MAX_WORDS or not _CHART_WORDS & set(words):
        return None
    if {"digest", "digests", "week", "weekly", "vs", "versus", "compare"} & set(words):
        return None  # the digest's chart, or a comparison: not a campaign's
    if words[0] in _ASKING or {"mean", "means", "explain"} & set(words):
        return None  # "what is a chart?": a question about charts, not for one
    named = [w for w in words if w not in _CHART_FILLER and w not in _CHART_WORDS]
    if not 1 <= len(named) <= 3 or any(w in PLATFORM_NAME for w in named):
        return None
    from bot.notes.parse import RESERVED, is_slug

    slug = "-".join(named)
    if not is_slug(slug) or slug in RESERVED:
        return None
    return f"notes {slug} chart"


_SINCE = {("last", "week"): "7d", ("past", "week"): "7d", ("this", "week"): "7d",
          ("last", "month"): "30d", ("past", "month"): "30d", ("this", "month"): "30d",
          ("today",): "1d", ("yesterday",): "2d"}  # fmt: skip


def _since(words: list[str]) -> str | None:
    """ "notes from last week" -> 7d, "in the last 14 days" -> 14d."""
    for i in range(len(words)):
        for size in (2, 1):
            hit = _SINCE.get(tuple(words[i : i + size]))
            if hit:
                return hit
        if words[i] in ("last", "past") and i + 2 < len(words) and words[i + 1].isdigit():
            unit = DURATIONS.get(words[i + 2])
            if unit:
                return f"{int(words[i + 1]) * unit}d"
    return None


_NOT_CAMPAIGNS = {
    "this",
    "channel",
    "here",
    "week",
    "month",
    "today",
    "campaign",
    "campaigns",
    "csv",
    "file",
    "slack",
    "us",
    "me",
    "last",
    "past",
    "previous",
    "next",
    "all",
    "yesterday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
}


def _campaign_after(after: list[str]) -> str | None:
    """The campaign named after "for"/"on"/... ("notes for the campaign black-friday")."""
    for i, w in enumerate(after[:-1]):
        if w not in _CAMPAIGN_LEADS:
            continue
        rest = [x.strip("?!.,") for x in after[i + 1 : i + 4]]
        while rest and (rest[0] in ARTICLES or rest[0] in ("campaign", "campaigns")):
            rest = rest[1:]
        if rest and rest[0] and rest[0] not in _NOT_CAMPAIGNS:
            return rest[0]
    return None


_ASKING = {"is", "are", "was", "when", "what", "what's", "whats", "does", "did", "has", "will",
           "which", "where", "who"}  # fmt: skip


def _digest(tokens: list[Token], word_set: set[str]) -> str:
    first = next((t.text for t in tokens if t.kind == "word"), "")
    if first in _ASKING and not (word_set & {"preview", "draft"}):
        return "digest status"  # "is the digest on?", "when does the digest go out?"
    action = next((name for cues, name in _DIGEST_ACTIONS if cues & word_set), "digest status")
    if action != "digest on":
        channel = next((t.text for t in tokens if t.kind == "channel"), None)
        return action + (f" {channel}" if channel and action != "digest preview" else "")
    parts = ["digest on"]
    for i, t in enumerate(tokens):
        if t.kind == "channel":
            parts.append(t.text)
        elif t.kind == "word" and t.text in _DAYS:
            parts.append(t.text[:3])
        elif t.kind == "time" or (t.kind == "num" and t.text.isdigit() and _after_at(tokens, i)):
            parts.append(t.text)
        elif t.kind == "zone":
            parts.append(_zone_case(t.text))
    return " ".join(parts)


def _after_at(tokens: list[Token], i: int) -> bool:
    return i > 0 and tokens[i - 1].text == "at"


def _zone_case(zone: str) -> str:
    return "/".join(part[:1].upper() + part[1:] for part in zone.split("/"))


# --- estimates ----------------------------------------------------------------------------------


def _platform_context(tokens: list[Token], i: int) -> bool:
    """Whether the word "x" at tokens[i] names the platform: after on/vs/and/or/"," or before
    vs/ads/and/or."""
    before = tokens[i - 1].text if i > 0 else ""
    after = tokens[i + 1].text if i + 1 < len(tokens) else ""
    return before in {"on", "vs", "versus", "and", "or", "via"} or after in {
        "vs",
        "versus",
        "ads",
    }


def _estimate_line(head: str, tokens: list[Token], *, require: bool) -> str | None:
    """The `estimate` (or `compare`) line the slots of `tokens` make; None when there is
    nothing to estimate (and `require`)."""
    slots: dict[str, str] = {}
    given: list[str] = []  # KEY=VALUE figures as typed, in order
    platforms: list[str] = []
    loose: list[str] = []  # tokens nobody could read, kept so that the command names them
    wanted: list[str] = []
    dates: list[tuple[str, str]] = []
    periods: list[tuple[int, str]] = []  # ("$500 a week"): days in the period, the amount
    words = [t.text if t.kind == "word" else "" for t in tokens]
    n = len(tokens)
    used = bytearray(n)
    # Pass 1: metrics and platforms named, by position.
    metric_at: dict[int, tuple[str, int]] = {}
    i = 0
    while i < n:
        t = tokens[i]
        if t.kind == "assign":
            given.append(t.text)
            used[i] = 1
        elif t.kind == "word":
            found = _metric_at(words, i)
            platform = None
            for size in range(min(3, n - i), 0, -1):
                hit = PHRASES.get(tuple(words[i : i + size]))
                if hit is not None and hit[0] == "platform":
                    platform = (hit[1], size)
                    break
            if platform is None and words[i] in OTHER_PLATFORMS and _platform_context(tokens, i):
                platform = (words[i], 1)  # named as typed: the estimate says it has no figures
            if platform is not None and (platform[0] != "x" or _platform_context(tokens, i)):
                if platform[0] not in platforms:
                    platforms.append(platform[0])
                used[i : i + platform[1]] = b"\x01" * platform[1]
                i += platform[1]
                continue
            if found is not None:
                metric_at[i] = found
                i += found[1]
                continue
        i += 1
    # Pass 2: each number to its metric, unit, duration or the budget.
    claimed: set[int] = set()  # metric positions that took a number
    for i, t in enumerate(tokens):
        if t.kind == "date":
            before = words[i - 1] if i else ""
            dates.append(
                (
                    "end"
                    if before in {"to", "until", "till", "through", "thru", "ending", "end", "-"}
                    else "start",
                    t.text,
                )
            )
            used[i] = 1
            continue
        if t.kind != "num":
            if (
                t.kind == "word"
                and t.text in NUMBER_WORDS
                and i + 1 < n
                and (tokens[i + 1].text in DURATIONS)
                and _counts_as_duration(tokens, i)
            ):
                days = int(NUMBER_WORDS[t.text]) * DURATIONS[tokens[i + 1].text]
                if (
                    not (i and tokens[i - 1].text in {"per", "each", "every"})
                    and "days" not in slots
                ):
                    slots["days"] = str(days)
                used[i : i + 2] = b"\x01\x01"
            continue
        key = _key_for(tokens, words, i, metric_at, claimed)
        if key == "cpa" and _named(words, "cac", i):
            key = "cac"  # kept as typed: the estimate says when a CAC is not a CPA
        if key is None:
            loose.append(t.text)
            continue
        value = t.text
        if key.startswith("per:"):
            periods.append((int(key[4:]), value))  # settled once the flight is known
            used[i] = 1
            continue
        if key == "days":
            unit = tokens[i + 1].text if i + 1 < n else "days"
            if value.isdigit():
                value = str(int(value) * DURATIONS.get(unit, 1))
        if key not in slots:
            slots[key] = value
        used[i] = 1
    if periods:
        # "$500 a week for 4 weeks" is $2,000 over 28 days; "$500 a week" alone, one week.
        length, amount = periods[0]
        if "days" in slots and slots["days"].isdigit() and "budget" not in slots:
            total = _times(amount, int(slots["days"]) / length)
            if total is not None:
                slots["budget"] = total
        else:
            slots.setdefault("days", str(length))
            slots.setdefault("budget", amount)
    for pos, (key, _size) in metric_at.items():
        if pos not in claimed and key not in slots and not used[pos]:
            wanted.append(key)
    for j in range(n - 1):  # "how much a day is $3000 ...": the daily spend is asked for
        if (words[j], words[j + 1]) in DAILY and not (j and tokens[j - 1].kind == "num"):
            wanted.insert(0, "daily")
            break
    cues = _has(words, ESTIMATE_CUES)
    if "budget" not in slots and "daily" not in slots:
        money = next((t for t in tokens if t.kind == "num" and t.money and t.text in loose), None)
        plain = [v for v in loose if v[-1:] not in ("%", "x")]
        if (
            money is None
            and (cues or platforms)
            and len(plain) == 1
            and not any(t.money for t in tokens if t.kind == "num")
        ):
            # "how many clicks will 2,5k get me": the one amount with no sign is the budget
            money = next(t for t in tokens if t.kind == "num" and t.text == plain[0])
        if money is not None:
            slots["budget"] = money.text
            loose.remove(money.text)
    given_keys = {g.split("=", 1)[0].lower() for g in given}
    goals = [k for k in slots if k not in _RATE_KEYS]
    if require and not (slots or given):
        return None  # nothing numeric: "how much are impressions on linkedin?" estimates nothing
    if require and not (cues or platforms or given or len(slots) > 1 or goals or wanted):
        return None
    parts = [head]
    parts += [f"{k}={slots[k]}" for k in _ORDER if k in slots]
    parts += given
    parts += [f"{k}={v}" for k, v in dates]
    if platforms and not any(g.lower().startswith("platform=") for g in given):
        parts.append("platform=" + ",".join(platforms))
    want = next((k for k in wanted if k not in slots and k not in given_keys), None)
    if want and head == "estimate" and want in _WANTABLE and want != "budget":
        parts.append(f"want={want}")
    # Numbers nobody could read stay in the line, so that the command names them, each once.
    taken = set(slots.values())
    parts += [v for v in dict.fromkeys(loose) if v not in taken]
    return " ".join(parts) if len(parts) > 1 else None


def _times(amount: str, factor: float) -> str | None:
    """`$500` times 4 as an amount typed the same way (`$2000`)."""
    from bot.units import parse_money

    try:
        money = parse_money(amount)
    except Exception:  # a figure the estimate will name as it stands
        return None
    value = money.amount * factor
    shown = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{money.currency if money.typed else ''}{shown}"


def _counts_as_duration(tokens: list[Token], i: int) -> bool:
    """Whether "two weeks" / "a month" at tokens[i] is the flight's length: a number word
    other than "a" always is; "a"/"an" after for/over/in ("for a month"), or after an amount
    when the unit is longer than a day ("$2k a month": the budget of a month; "$100 a day" is a
    daily budget, read with its amount)."""
    if tokens[i].text not in ("a", "an"):
        return True
    before = tokens[i - 1] if i else None
    if before is None:
        return False
    # "$2k a month" is an amount per month (PERIODS), read with the amount.
    return before.text in {"for", "over", "in", "within", "during", "lasting", "across"}


_ORDER = (*METRICS, "cac")  # slots are written in the metric table's order
_RATE_KEYS = frozenset(k for k, m in METRICS.items() if m.kind in ("rate", "frequency"))
# A figure asked about ("how many clicks") that an estimate can lead with.
_WANTABLE = frozenset(k for k, m in METRICS.items() if m.key not in ("days",))


def _key_for(tokens, words, i, metric_at, claimed) -> str | None:
    """The key the number at tokens[i] is a value of, or None."""
    n = len(tokens)
    t = tokens[i]
    texts = [tok.text for tok in tokens[i + 1 : i + 4]]
    # "$100 a day", "$100 per day", "$100 daily", "$50/day"
    for size in (2, 1):
        if tuple(texts[:size]) in DAILY and t.money:
            return "daily"
    # "$500 a week", "$2k per month", "$500 weekly": a budget of that many days
    for size in (2, 1):
        if tuple(texts[:size]) in PERIODS and t.money:
            return f"per:{PERIODS[tuple(texts[:size])]}"
    # "3% of clicks become leads": the rate whose ratio it is (conversions per click: CVR)
    if t.text.endswith("%") and texts[:1] == ["of"]:
        key = _ratio_named(words, i + 2, metric_at)
        if key:
            return key
    # "50 sign-ups at $20 each": the unit cost of the count named before it
    if t.money and (texts[:1] and texts[0] in EACH or tuple(texts[:2]) in {("a", "piece")}):
        before = [metric_at[p][0] for p in sorted(metric_at) if p < i]
        counted = next((k for k in reversed(before) if k in UNIT_COST_OF), None)
        if counted:
            return UNIT_COST_OF[counted]
    # "cpm 8 budget 2000": a metric right before the number takes it first
    if i and (i - 1) in metric_at and (i - 1) not in claimed:
        key = _by_kind(metric_at[i - 1][0], t)
        if key:
            claimed.add(i - 1)
            return key
    for pos in range(i - 2, max(-1, i - 1 - _LONGEST), -1):  # a metric of several words
        if pos in metric_at and pos + metric_at[pos][1] == i and pos not in claimed:
            key = _by_kind(metric_at[pos][0], t)
            if key:
                claimed.add(pos)
                return key
    # "$1.50 per click", "$20 per sign-up", "$8 per 1,000 impressions"
    if i + 2 < n and tokens[i + 1].text in ("per", "a", "each", "/") and t.money:
        rest = [tokens[j].text for j in range(i + 2, min(n, i + 4))]
        for size in (2, 1):
            key = PER_UNIT.get(tuple(rest[:size])) or PER_UNIT.get(tuple(_singular(rest[:size])))
            if key:
                claimed.update(range(i + 2, i + 2 + size))  # "per click" asks for no clicks
                return key
    # "14 days", "2 weeks"
    if (
        i + 1 < n
        and tokens[i + 1].text in DURATIONS
        and not t.money
        and "%" not in t.text
        and not (i + 2 < n and tokens[i + 2].text == "of")  # "2 days of data" is no flight
    ):
        return "days"
    # "50 sign-ups", "$8 cpm", "1.2% ctr", "500 more leads"
    j = i + 1
    while j < n and j - i <= 3 and words[j] in BRIDGES:
        j += 1
    if j in metric_at and j not in claimed:
        key = _by_kind(metric_at[j][0], t)
        if key:
            claimed.add(j)
            return key
    # "a ctr of 1.2%", "cpm $8", "budget of $500", "aov is $60"
    j = i - 1
    while j >= 0 and (words[j] in LINKS or tokens[j].text in LINKS) and i - j <= 3:
        j -= 1
    for pos in range(j, max(-1, j - _LONGEST), -1):
        if pos in metric_at and pos + metric_at[pos][1] == j + 1 and pos not in claimed:
            key = _by_kind(metric_at[pos][0], t)
            if key:
                claimed.add(pos)
                return key
    return None


def _ratio_named(words: list[str], at: int, metric_at: dict[int, tuple[str, int]]) -> str | None:
    """The rate key of "% of A become B" (A and B metrics within a few words of `at`)."""
    from bot.metric_table import RATIO

    named = [metric_at[p][0] for p in sorted(metric_at) if at <= p <= at + 5]
    if len(named) >= 2:
        below, above = named[0], named[1]
        for key, (top, bottom) in RATIO.items():
            if (top, bottom) == (above, below):
                return key
    return None


def _named(words: list[str], word: str, i: int) -> bool:
    """Whether `word` is among the three words on either side of position i."""
    return word in words[max(0, i - 3) : i + 4] or word + "s" in words[max(0, i - 3) : i + 4]


def _by_kind(key: str, t: Token) -> str | None:
    """The key a number of this kind is for, where a word names two ("sales": revenue as
    money, conversions as a count)."""
    kind = METRICS[key].kind
    if key == "revenue" and not t.money and "%" not in t.text:
        return "conversions"
    if kind == "count" and t.money:
        return _COUNT_TO_MONEY.get(key)  # "$300 reach" is no count of people
    if kind == "rate" and "%" not in t.text and not t.text.replace(".", "").isdigit():
        return None
    return key


# "$5k in sales" is revenue; "$300 in spend" the budget.
_COUNT_TO_MONEY = {"conversions": "revenue"}


def _singular(words: list[str]) -> list[str]:
    return [w[:-1] if w.endswith("s") and len(w) > 3 else w for w in words]


# --- definitions --------------------------------------------------------------------------------


def _explain(tokens: list[Token], words: list[str]) -> str | None:
    for lead in EXPLAIN_LEADS:
        if tuple(words[: len(lead)]) == lead:
            term = _term(words[len(lead) :])
            return f"explain {term}".rstrip() if term is not None else "explain"
    # "roas meaning", "ctr definition"
    if words and words[-1] in {"meaning", "definition", "formula", "explained"}:
        term = _term(words[:-1])
        if term:
            return f"explain {term}"
    return None


def _term(words: list[str]) -> str | None:
    """The term asked about in the words after a lead-in: the metric when one is named among
    qualifiers and platform words ("a good ctr on facebook" -> ctr), else the words themselves
    less articles and tails ("lookalike audience")."""
    words = [w.strip("?!.,\"'") for w in words]
    words = [w for w in words if w]
    while words and words[0] in ARTICLES:
        words = words[1:]
    while words and words[-1] in EXPLAIN_TAILS and len(words) > 1:
        words = words[:-1]
    for i in range(len(words)):
        found = _metric_at(words, i)
        if found is None:
            continue
        others = words[:i] + words[i + found[1] :]
        filler = QUALIFIERS | ARTICLES | set(PLATFORM_WORDS) | {"on", "for", "in", "of", "a", "is"}
        if all(w in filler for w in others):
            return " ".join(words[i : i + found[1]])  # as typed: the glossary knows "cac"
    return " ".join(words)


# --- unread -------------------------------------------------------------------------------------


def _unread(line: str, tokens: list[Token]) -> Reading:
    """What could be made of a line that is no command: each number, metric and platform."""
    understood: list[str] = []
    words = [t.text if t.kind == "word" else "" for t in tokens]
    for i, t in enumerate(tokens):
        if t.kind == "num":
            understood.append(f"the amount {t.text}" if t.money else f"the number {t.text}")
        elif t.kind == "assign":
            understood.append(f"`{clip(t.text, 40)}`")
        elif t.kind == "word":
            hit = PHRASES.get((t.text,))
            if hit and hit[0] == "platform" and (hit[1] != "x" or _platform_context(tokens, i)):
                understood.append(PLATFORM_NAME[hit[1]])
            elif _metric_at(words, i):
                understood.append(LABEL[_metric_at(words, i)[0]])
    understood = list(dict.fromkeys(understood))[:6]
    closest = _closest_command(tokens)
    return Reading(None, understood, closest)


def _closest_command(tokens: list[Token]) -> str | None:
    from bot.fuzzy import closest

    if not tokens or tokens[0].kind != "word":
        return None  # only a misspelt first word is a misspelt command ("explian roas")
    first = tokens[0].text
    names = sorted(_command_words())
    # A word much longer than any command's is no misspelling of one (and is not compared).
    guesses = closest(first, names, limit=1, cutoff=75) if 3 <= len(first) <= 12 else []
    if guesses:
        rest = " ".join(t.text for t in tokens[1:] if t.kind != "sign")
        return f"{guesses[0]} {rest}".strip() if rest and len(rest) <= 60 else guesses[0]
    return None
