"""One table of subcommands: grammar, one-line help and handler.

Help, "did you mean", the console's completion and the manifest's usage hint all come from
COMMANDS, so they cannot disagree with what actually routes. Handlers are named by dotted path and
imported on first use: a one-shot `smx ask help` never pays for the features it does not run.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.context import Context
from bot.errors import UserError
from bot.reply import Fact, Reply, Section
from bot.text import MAX_MESSAGE, clean

Handler = Callable[[Context, list[str]], Reply | Awaitable[Reply]]


@dataclass(frozen=True)
class Command:
    name: str  # one or two words; the longest name matching the start of the text wins
    usage: str  # the grammar after `/smx`
    summary: str  # one line of help
    handler: str  # "module:function"; the function takes (ctx, args) and returns a Reply
    examples: tuple[str, ...] = ()
    shareable: bool = False  # a trailing `share` posts the answer in the channel
    words: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "words", tuple(self.name.split()))

    def resolve(self) -> Handler:
        module, _, attr = self.handler.partition(":")
        return getattr(importlib.import_module(module), attr)


COMMANDS: tuple[Command, ...] = (
    Command(
        "help",
        "help",
        "Show this list of commands.",
        "bot.router:help_handler",
    ),
    Command(
        "compare",
        "compare [ASPECT] [share]",
        "SMO vs SMM side by side, or one aspect in depth (cost, timeline, targeting, ...).",
        "bot.guide:compare",
        examples=("compare", "compare timeline", "compare cost share"),
        shareable=True,
    ),
    Command(
        "explain",
        "explain TERM [share]",
        "What a marketing term means, its formula, a worked example and related terms.",
        "bot.guide:explain",
        examples=("explain roas", "explain engagement rate"),
        shareable=True,
    ),
    Command(
        "estimate",
        "estimate KEY=VALUE ... [share]",
        "Every figure your numbers determine (impressions, clicks, CPA, reach, ...) with formulas; platform=NAME fills published rates.",
        "bot.estimate.commands:estimate",
        examples=("estimate budget=$2k cpm=8 ctr=1.2%",),
        shareable=True,
    ),
    Command(
        "note",
        "note CAMPAIGN TEXT",
        "Log a campaign note; metric tokens (spend=$400 clicks=1.2k platform=...) are kept as numbers.",
        "bot.notes.commands:add",
        examples=("note spring-launch Reel got 3x saves spend=$400 impressions=60k clicks=1.2k",),
    ),
    Command(
        "notes",
        "notes [CAMPAIGN] [since=7d] [page=N]",
        "The team's notes, newest first, with each campaign's realised CPM/CPC/CTR/CPA.",
        "bot.notes.commands:list_notes",
        examples=("notes spring-launch since=30d",),
    ),
    Command(
        "notes search",
        "notes search WORDS",
        "Find notes containing every word (`launch*` for a prefix).",
        "bot.notes.commands:search",
        examples=("notes search reel saves",),
    ),
    Command(
        "notes export",
        "notes export [CAMPAIGN]",
        "The notes you can all see here as a CSV file.",
        "bot.notes.commands:export",
        examples=("notes export spring-launch",),
    ),
    Command(
        "note delete",
        "note delete ID",
        "Delete a note: its author or a workspace admin.",
        "bot.notes.commands:delete",
        examples=("note delete 12",),
    ),
    Command(
        "digest on",
        "digest on [#channel] [DAY] [HH:MM] [TZ] [empty=yes]",
        "A weekly digest of the notes in a channel; default Monday 09:00 in your time zone.",
        "bot.digest.commands:on",
        examples=("digest on #marketing fri 16:00 Europe/Berlin",),
    ),
    Command(
        "digest",
        "digest on|off|pause|resume|status|preview|now [#channel]",
        "Manage the weekly digest: `status` says the next run, `preview` shows it only to you, `now` posts it.",
        "bot.digest.commands:manage",
        examples=("digest status",),
    ),
)

_BY_WORDS = {c.words: c for c in COMMANDS}


def find(tokens: list[str]) -> tuple[Command, list[str]] | None:
    """The command whose name is the longest prefix of `tokens`, and the remaining arguments."""
    lowered = [t.lower() for t in tokens]
    for size in (2, 1):
        command = _BY_WORDS.get(tuple(lowered[:size]))
        if command is not None and len(lowered) >= size:
            return command, tokens[size:]
    return None


async def dispatch(ctx: Context, text: str) -> Reply:
    """Route one line (what follows `/smx`) to its handler. Bad input becomes an error Reply.

    Every face comes through here, so this is where text is cleaned (bot/text.py): no handler
    ever sees a lone surrogate, a control character or an invisible character inside a word.
    """
    text = clean(text)
    if len(text) > MAX_MESSAGE:
        # Slack never sends more; from a terminal it is a paste gone wrong, not a command.
        return Reply.error(
            f"That is {len(text):,} characters; smx reads at most {MAX_MESSAGE:,} at a time "
            "(a note is at most 4,000). Send a shorter message, e.g. one note per message."
        )
    tokens = text.split()
    if not tokens:
        return help_handler(ctx, [])
    found = find(tokens)
    if found is None:
        return _unknown(tokens[0])
    command, args = found
    share = False
    rest = _after_words(text, len(command.words))
    if command.shareable and args and args[-1].lower() == "share":
        share, args = True, args[:-1]
        rest = rest.rstrip()[: -len("share")].rstrip()
    ctx.args_text = rest
    try:
        result = command.resolve()(ctx, args)
        reply = await result if inspect.isawaitable(result) else result
    except UserError as err:
        return Reply.error(err.message, err.suggestions)
    reply.share = reply.share or share
    return reply


def _after_words(text: str, count: int) -> str:
    """What follows the first `count` words of `text`, whitespace inside it kept as typed."""
    # Possessive quantifiers: each character is looked at once, never retried.
    match = re.match(rf"\s*+(?:\S++\s*+){{{count}}}", text)
    return text[match.end() :] if match else ""


def _unknown(word: str) -> Reply:
    from bot.fuzzy import closest

    names = sorted({c.words[0] for c in COMMANDS})
    guesses = closest(word.lower(), names, limit=1)
    hint = f"Did you mean `{guesses[0]}`? " if guesses else ""
    shown = word if len(word) <= 40 else word[:39] + "…"
    return Reply.error(
        f"I don't know the command `{shown}`. {hint}Type `help` to see every command.",
        suggestions=guesses,
    )


def help_handler(ctx: Context, args: list[str]) -> Reply:
    prefix = "" if ctx.surface in ("console", "ask") else "/smx "
    lines = [f"• `{prefix}{c.usage}`  {c.summary}" for c in COMMANDS]
    examples = [f"`{prefix}{e}`" for c in COMMANDS for e in c.examples[:1]]
    return Reply(
        title="smx: SMO, SMM and your campaigns",
        intro=(
            "Ask how Social Media Optimization (organic) and Social Media Marketing (paid) "
            "differ, what a metric means, and more."
        ),
        sections=[Section(heading="Commands", text="\n".join(lines))],
        facts=[Fact(label="Try", value="  ".join(examples))] if examples else [],
        data={"commands": [c.usage for c in COMMANDS]},
    )


def usage_hint() -> str:
    """The slash command's usage hint in manifest.yml, from the same table."""
    shown = [
        c.usage.replace(" [share]", "") for c in COMMANDS if len(c.words) == 1 and c.name != "help"
    ]
    return " | ".join([*shown, "help"])
