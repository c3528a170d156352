"""One table of subcommands: everything a face must know about each of them.

An entry says the words, the grammar, the help line, the examples, the handler, and what the
Slack face must do before or after the handler (`SlackNeeds`: read the person's time zone, ask
whether they are an admin, resolve and describe `#channel` names, upload a file, open a form,
post through the Web API). Routing, help, "did you mean", the console's completion, the manifest's
usage hint and the Slack face's work around a command all come from COMMANDS, so none of them can
disagree with what actually routes. Handlers are named by dotted path and imported on first use: a
one-shot `smx ask help` never pays for the features it does not run.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from bot.context import Context
from bot.errors import UserError
from bot.reply import Fact, Reply, Section
from bot.slash import cmd, prefix
from bot.text import MAX_MESSAGE, clean, clip

Handler = Callable[[Context, list[str]], Reply | Awaitable[Reply]]
# What a face that can post hands a `post` handler: post(channel, reply) -> how it went.
Post = Callable[[str, Reply], Awaitable[Any]]


@dataclass(frozen=True)
class SlackNeeds:
    """What the Slack face does around an entry's handler. The terminal faces have no Web API
    and skip all of it (the handlers then see the defaults: no time zone, not an admin)."""

    reads_notes: bool = False  # ask conversations.info who reads this conversation, first
    user_tz: bool = False  # users.info: the person's time zone into ctx.user_tz
    admin: bool = False  # users.info: whether they are a workspace admin into ctx.is_admin
    # `#name` words resolved to `<#C…|name>` (conversations.list), and each conversation named
    # described into ctx.named (conversations.info, .members) with ctx.is_admin asked
    channels: bool = False
    upload: bool = False  # the reply's files are uploaded to the conversation
    modal: str | None = None  # with no arguments, this form opens instead of the handler
    # "module:function" taking (ctx, args, post): run instead of the handler where the face can
    # post through the Web API (in Slack), so the answer is posted rather than shown
    post: str | None = None

    def web_api(self, args: list[str]) -> bool:
        """Whether the face must call Slack around this command: it then acknowledges at once
        and finishes after the ack."""
        named = self.channels and any(a.startswith(("#", "<#")) for a in args)
        opens = self.modal is not None and not args
        return named or opens or self.user_tz or self.admin or self.upload or bool(self.post)


@dataclass(frozen=True)
class Variant:
    """Another grammar of the same words, routed to its own handler when `when(args)` holds."""

    usage: str
    handler: str
    when: Callable[[list[str]], bool]


@dataclass(frozen=True)
class Command:
    name: str  # one or two words; the longest name matching the start of the text wins
    usage: str  # the grammar after `/smx`
    summary: str  # one line of help
    handler: str  # "module:function"; the function takes (ctx, args) and returns a Reply
    examples: tuple[str, ...] = ()
    shareable: bool = False  # a trailing `share` posts the answer in the channel
    slack: SlackNeeds = SlackNeeds()
    variants: tuple[Variant, ...] = ()
    # The bare word of a family of two-word entries (`digest`): a word after it that names none
    # of them is answered with the family's names.
    family: bool = False
    # The reply depends on nothing but the words, the surface and the loaded knowledge (no
    # store, no person, no clock): a face may keep what it rendered for the same words. Its
    # variants are not static unless they say so.
    static: bool = False
    # The reply is worked out in memory from the words, the surface and the loaded knowledge,
    # awaiting no store and no network, in well under a millisecond: a face may answer it in
    # line instead of racing it against Slack's 3 seconds. Unlike a static reply it may not be
    # kept (it is worked out from the person's numbers). A static entry is pure too.
    pure: bool = False
    words: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "words", tuple(self.name.split()))

    def handler_for(self, args: list[str]) -> str:
        for variant in self.variants:
            if variant.when(args):
                return variant.handler
        return self.handler

    def is_static(self, args: list[str]) -> bool:
        """Whether the reply to these arguments is static (see `static`)."""
        return self.static and self.handler_for(args) == self.handler

    def is_pure(self, args: list[str]) -> bool:
        """Whether the reply to these arguments is pure (see `pure`)."""
        return (self.static or self.pure) and self.handler_for(args) == self.handler

    def resolve(self, args: list[str] | None = None) -> Handler:
        return _load(self.handler_for(args or []))


def _load(path: str) -> Any:
    module, _, attr = path.partition(":")
    # A module imported already is taken from sys.modules as import_module would (it returns
    # that very object, ~0.6 us later); one not yet imported, or being imported by another
    # thread at this moment, goes through import_module, which imports it or waits for it.
    found = sys.modules.get(module)
    if found is None or getattr(getattr(found, "__spec__", None), "_initializing", False):
        found = importlib.import_module(module)
    return getattr(found, attr)


def _has_assignment(args: list[str]) -> bool:
    return any("=" in a for a in args)


def _family(word: str, members: tuple[Command, ...], tail: str, **kwargs: Any) -> Command:
    """The bare `word` of a family; its usage lists the family's second words."""
    subwords = "|".join(c.words[1] for c in members if c.words[0] == word and len(c.words) == 2)
    return Command(word, f"{word} {subwords} {tail}", family=True, **kwargs)


NOTES = SlackNeeds(reads_notes=True)
# A digest names its channel (`#name`) and is set up, changed or posted there: who is in that
# conversation and whether another organisation shares it is asked of Slack.
DIGEST = SlackNeeds(reads_notes=True, channels=True)

DIGEST_COMMANDS: tuple[Command, ...] = (
    Command(
        "digest on",
        "digest on [#channel] [DAY] [HH:MM] [TZ] [empty=yes]",
        "A weekly digest of the notes in a channel; default Monday 09:00 in your time zone.",
        "bot.digest.commands:on",
        examples=("digest on #marketing fri 16:00 Europe/Berlin",),
        slack=SlackNeeds(reads_notes=True, channels=True, user_tz=True),
    ),
    Command(
        "digest off",
        "digest off [#channel]",
        "Stop a channel's weekly digest.",
        "bot.digest.commands:off",
        slack=DIGEST,
    ),
    Command(
        "digest pause",
        "digest pause [#channel]",
        "Pause a weekly digest, keeping its settings.",
        "bot.digest.commands:pause",
        slack=DIGEST,
    ),
    Command(
        "digest resume",
        "digest resume [#channel]",
        "Restart a paused digest from its next slot.",
        "bot.digest.commands:resume",
        slack=DIGEST,
    ),
    Command(
        "digest status",
        "digest status [#channel]",
        "When a channel's digest runs next and how its last week went.",
        "bot.digest.commands:status",
        examples=("digest status",),
        slack=DIGEST,
    ),
    Command(
        "digest preview",
        "digest preview",
        "The last 7 days' digest of this channel, shown only to you.",
        "bot.digest.commands:preview",
        slack=DIGEST,
    ),
    Command(
        "digest now",
        "digest now [#channel]",
        "Post the last 7 days' digest in the channel now (a terminal shows it instead).",
        "bot.digest.commands:now",
        slack=SlackNeeds(reads_notes=True, channels=True, post="bot.digest.commands:post_now"),
    ),
)

COMMANDS: tuple[Command, ...] = (
    Command(
        "help",
        "help",
        "Show this list of commands.",
        "bot.router:help_handler",
        static=True,
    ),
    Command(
        "compare",
        "compare [ASPECT] [share]",
        "SMO vs SMM side by side, or one aspect in depth (cost, timeline, targeting, ...).",
        "bot.guide:compare",
        examples=("compare", "compare timeline", "compare cost share"),
        shareable=True,
        static=True,
        # With numbers, the paid and the organic route to the same outcome, side by side.
        variants=(
            Variant("compare KEY=VALUE ...", "bot.estimate.plans:compare_routes", _has_assignment),
        ),
    ),
    Command(
        "explain",
        "explain TERM [share]",
        "What a marketing term means, its formula, a worked example and related terms.",
        "bot.guide:explain",
        examples=("explain roas", "explain engagement rate"),
        shareable=True,
        static=True,
    ),
    Command(
        "estimate",
        "estimate KEY=VALUE ... [share]",
        "Every figure your numbers determine (impressions, clicks, CPA, reach, ...) with formulas; platform=NAME fills published rates.",
        "bot.estimate.commands:estimate",
        examples=("estimate budget=$2k cpm=8 ctr=1.2%",),
        shareable=True,
        slack=SlackNeeds(modal="estimate"),
        pure=True,
    ),
    Command(
        "note",
        "note CAMPAIGN TEXT",
        "Log a campaign note; metric tokens (spend=$400 clicks=1.2k platform=...) are kept as numbers.",
        "bot.notes.commands:add",
        examples=("note spring-launch Reel got 3x saves spend=$400 impressions=60k clicks=1.2k",),
        slack=NOTES,
    ),
    Command(
        "notes",
        "notes [CAMPAIGN] [chart] [since=7d] [page=N]",
        "The team's notes, newest first, with each campaign's realised CPM/CPC/CTR/CPA; `chart` charts a campaign's days.",
        "bot.notes.commands:list_notes",
        examples=("notes spring-launch since=30d", "notes spring-launch chart"),
        slack=NOTES,
    ),
    Command(
        "notes search",
        "notes search WORDS",
        "Find notes containing every word (`launch*` for a prefix).",
        "bot.notes.commands:search",
        examples=("notes search reel saves",),
        slack=NOTES,
    ),
    Command(
        "notes export",
        "notes export [CAMPAIGN]",
        "The notes you can all see here as a CSV file.",
        "bot.notes.commands:export",
        examples=("notes export spring-launch",),
        slack=SlackNeeds(reads_notes=True, upload=True),
    ),
    Command(
        "note edit",
        "note edit ID TEXT",
        "Replace a note's text and figures: its author or a workspace admin.",
        "bot.notes.commands:edit",
        examples=("note edit 12 Reel got 4x saves spend=$400",),
        slack=SlackNeeds(reads_notes=True, admin=True),
    ),
    Command(
        "note delete",
        "note delete ID",
        "Delete a note: its author or a workspace admin.",
        "bot.notes.commands:delete",
        examples=("note delete 12",),
        slack=SlackNeeds(reads_notes=True, admin=True),
    ),
    Command(
        "target",
        "target CAMPAIGN KEY<=VALUE ... | target CAMPAIGN off",
        "Targets for a campaign (cpa<=20 ctr>=1% spend<=$5k): on or off track as notes come in.",
        "bot.target_commands:set_targets",
        examples=("target spring-launch cpa<=20 ctr>=1% spend<=$5k",),
        slack=NOTES,
    ),
    Command(
        "targets",
        "targets [CAMPAIGN]",
        "Each campaign's targets with the realised figure and whether it is on track.",
        "bot.target_commands:list_targets",
        examples=("targets spring-launch",),
        slack=NOTES,
    ),
    *DIGEST_COMMANDS[:1],
    _family(
        "digest",
        DIGEST_COMMANDS,
        "[#channel]",
        summary="Manage the weekly digest: `status` says the next run, `preview` shows it only to you, `now` posts it.",
        handler="bot.digest.commands:status",
        slack=NOTES,
    ),
    *DIGEST_COMMANDS[1:],
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


def entry(text: str) -> tuple[Command, list[str]] | None:
    """Which entry a line is (cleaned as dispatch cleans it) and its arguments, for a face that
    must know what to do around it before the handler runs."""
    found = _entry(text) if len(text) <= _REMEMBERED else _find(text)
    return None if found is None else (found[0], list(found[1]))


# A face asks this of the same line several times on its way: the answers for lines up to this
# many characters (most of them) are kept, 1,024 at most (a few hundred KB at worst).
_REMEMBERED = 600  # bot/phrasing.py's MAX_QUESTION: a question read once, not on every look


def _find(text: str) -> tuple[Command, tuple[str, ...]] | None:
    line = as_command(text)
    found = find(line.split()) if line is not None else None
    return None if found is None else (found[0], tuple(found[1]))


def as_command(text: str) -> str | None:
    """The command line `text` is, cleaned: the grammar as typed, or what a plain question
    comes to (bot/phrasing.py); None when it is neither (dispatch then says what it understood).
    Every face routes and decides what to do around a command from this same line, so the
    checks made for a command (who may read notes, what the Web API must be asked) are made for
    the question that becomes it."""
    text = clean(text)
    tokens = text.split()
    found = find(tokens)
    if found is not None and not _needs_reading(found[0], found[1]):
        return text
    from bot.phrasing import read

    return read(text).command


def _needs_reading(command: Command, args: list[str]) -> bool:
    """`estimate $500 on instagram`: a line that starts with a command word but has plain words
    among figures the command reads as KEY=VALUE."""
    if command.name == "estimate":
        return any("=" not in a and a.lower() != "share" for a in args)
    if command.name == "compare":
        return any(a[:1].isdigit() or a[:1] in "$€£" for a in args)
    if command.name == "help":
        return bool(args)  # "help me decide between organic and paid"
    if command.name in ("note", "notes") and args:
        # "note for spring-launch: ...", "notes for the campaign black-friday"
        return args[0].lower() in ("for", "on", "about", "to", "under", "in", "from", "of")
    return False


_entry = lru_cache(maxsize=1024)(_find)


async def dispatch(ctx: Context, text: str, *, post: Post | None = None) -> Reply:
    """Route one line (what follows `/smx`) to its handler. Bad input becomes an error Reply.

    Every face comes through here, so this is where text is cleaned (bot/text.py): no handler
    ever sees a lone surrogate, a control character or an invisible character inside a word.
    A face that can post through the Web API hands `post`; an entry with a `post` handler then
    runs that one instead.
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
    if found is None or _needs_reading(*found):
        line = as_command(text)
        found = find(line.split()) if line else None
        if found is None or line is None:
            return unread(ctx, text)
        text, tokens = line, line.split()
    command, args = found
    share = False
    rest = _after_words(text, len(command.words))
    if command.shareable and args and args[-1].lower() == "share":
        share, args = True, args[:-1]
        rest = rest.rstrip()[: -len("share")].rstrip()
    ctx.args_text = rest
    try:
        if command.family and args:
            raise _not_in_family(ctx, command, args[0])
        if post is not None and command.slack.post:
            result = _load(command.slack.post)(ctx, args, post)
        else:
            result = command.resolve(args)(ctx, args)
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


def unread(ctx: Context, text: str) -> Reply:
    """A line that is neither a command nor a question smx can read: what it did understand,
    and the closest command to type."""
    from bot.phrasing import MAX_QUESTION, read

    reading = read(text)
    shown = clip(" ".join(text.split()), 60)
    if reading.writes and reading.closest:
        return Reply.error(
            f"That would change something ({cmd(ctx, reading.closest)}), and I only do that "
            "when it is typed as a command, never from a question. Type it to do it, or "
            f"{cmd(ctx, 'help')} to see every command.",
            suggestions=[reading.closest],
        )
    if reading.too_long:
        return Reply.error(
            f"“{shown}” is {len(text):,} characters, too long for me to read as a question (at "
            f"most {MAX_QUESTION:,}). Ask it in a sentence, like "
            f"{cmd(ctx, 'how many clicks does $500 get on instagram?')}, or type the command: "
            f"{cmd(ctx, 'help')} lists them. A note can be longer: {cmd(ctx, 'note CAMPAIGN TEXT')}.",
            suggestions=["help"],
        )
    understood = (
        f" I understood {_and(reading.understood)}, but not what to do with it."
        if reading.understood
        else ""
    )
    if reading.closest:
        closest = reading.closest
        offer = f" Did you mean {cmd(ctx, closest)}?"
    else:
        closest = _suggested(reading.understood)
        offer = f" The closest I can answer: {cmd(ctx, closest)}."
    return Reply.error(
        f"I couldn't read “{shown}” as a question or a command.{understood}{offer} "
        f"Ask in plain words, like {cmd(ctx, 'how many clicks does $500 get on instagram?')}, "
        f"or type {cmd(ctx, 'help')} for every command.",
        suggestions=[closest],
    )


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _suggested(understood: list[str]) -> str:
    """A command close to what was understood: an estimate for figures, else help."""
    if any(u.startswith(("the amount", "the number")) for u in understood):
        return "estimate budget=$2k platform=instagram"
    from bot.metric_table import LABEL

    named = next((k for k, label in LABEL.items() if label in understood), None)
    return f"explain {named}" if named else "help"


def _not_in_family(ctx: Context, head: Command, word: str) -> UserError:
    """`digest frob`: the family's own words, and the closest of them."""
    from bot.fuzzy import closest

    subwords = [c.words[1] for c in COMMANDS if len(c.words) == 2 and c.words[0] == head.name]
    guesses = closest(word.lower(), subwords, limit=1)
    hint = f"Did you mean {cmd(ctx, head.name + ' ' + guesses[0])}? " if guesses else ""
    listed = ", ".join(f"`{w}`" for w in subwords[1:-1])
    shown = clip(word, 40)
    return UserError(
        f"`{head.name} {shown}` is not something I can do. {hint}Use `{head.name} "
        f"{subwords[0]}`, {listed} or `{subwords[-1]}`.",
        suggestions=guesses,
    )


def help_handler(ctx: Context, args: list[str]) -> Reply:
    typed = prefix(ctx)
    lines = [f"• `{typed}{c.usage}`  {c.summary}" for c in COMMANDS]
    examples = [f"`{typed}{e}`" for c in COMMANDS for e in c.examples[:1]]
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
    """The slash command's usage hint in manifest.yml, from the same table: the one-word entries
    (a family's bare word lists its members)."""
    shown = [
        c.usage.replace(" [share]", "") for c in COMMANDS if len(c.words) == 1 and c.name != "help"
    ]
    return " | ".join([*shown, "help"])


def write_usage_hint(manifest: str) -> bool:
    """Put usage_hint() into the manifest's `usage_hint:` line (Slack reads the file, so the
    table cannot reach it at run time); whether it changed. tests/test_manifest.py checks it."""
    from pathlib import Path

    path = Path(manifest)
    text = path.read_text(encoding="utf-8")
    line = re.compile(r'^(?P<indent>\s*)usage_hint: ".*"$', re.MULTILINE)
    new = line.sub(lambda m: f'{m["indent"]}usage_hint: "{usage_hint()}"', text, count=1)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":  # `python -m bot.router manifest.yml` after changing the table
    import sys

    print("updated" if write_usage_hint(sys.argv[1]) else "already in step")
