"""`smx console`: an interactive local session over the same router and database as Slack."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.cli import without_loop
from bot.config import Settings
from bot.context import Context, Services
from bot.errors import database_sentence
from bot.quick import BANNER, QUIT, RED, RESET, Kept, next_line
from bot.quick import setup_readline as _setup_readline
from bot.reply import Reply, render_text
from bot.router import COMMANDS, dispatch, entry


def completions(prefix: str) -> list[str]:
    """Command names (and two-word names) that start with what has been typed so far."""
    names = sorted({c.name for c in COMMANDS} | {c.words[0] for c in COMMANDS} | QUIT)
    return [n for n in names if n.startswith(prefix.lower())]


def format_reply(reply: Reply, colour: bool) -> str:
    text = render_text(reply)
    return f"{RED}{text}{RESET}" if reply.is_error and colour else text


def run_console(settings: Settings, stdin=None, stdout=None, *, keep: Kept | None = None) -> int:
    """The session. With `keep` (bot/quick.py) the answers to static lines are kept for the
    quick console of a later session; if that one began this session (`keep.greeted`), the
    banner is printed and readline set up already, and `keep.pending` is the next line."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty()
    greeted = keep is not None and keep.greeted
    pending = keep.pending if greeted else None
    if interactive and not greeted:
        _setup_readline()
    ctx = Context(channel_kind="console", surface="console", services=Services(settings))
    if not greeted:
        print(BANNER, file=stdout)
    # Made by the first line that needs one (see `_reply`): a session of static answers (help,
    # compare, explain) never imports asyncio, so the first answer comes sooner.
    loops: list = []
    try:
        while True:
            if pending is not None:  # the quick console's line: read, cleaned, not answered
                line, pending = pending, None
            else:
                line = next_line(interactive, stdin, stdout)
                if line is None:
                    return 0
            reply = _reply(ctx, line, loops, keep)
            print(format_reply(reply, colour=interactive and stdout.isatty()), file=stdout)
            for f in reply.files:
                path = _free_name(Path(f.filename))
                path.write_text(f.content, encoding="utf-8")
                print(f"Written to {path.resolve()}.", file=stdout)
    finally:
        if loops:
            # The store's connections belong to this loop: closed in it, not cut when it ends.
            loops[0].run_until_complete(ctx.services.close())
        else:
            # Only static answers ran: they use no store (bot/router.py), so closing has
            # nothing to wait on (no store could have been used without a loop anyway).
            without_loop(ctx.services.close())
        for loop in loops:
            loop.close()


def _reply(ctx: Context, line: str, loops: list, keep: Kept | None = None) -> Reply:
    """The answer to one line: a static entry's without an event loop (bot/cli.py's
    `without_loop`) until the session has one, anything else in the session's one loop. With
    `keep`, a static entry's answer is kept (bot/quick.py)."""
    found = entry(line)
    static = found is not None and found[0].is_static(found[1])
    kept = keep if static else None
    if static and not loops:
        done, reply = without_loop(_answer(ctx, line, kept))
        if done:
            return reply
    return _loop(loops).run_until_complete(_answer(ctx, line, kept))


def _loop(loops: list):
    """The session's event loop, made on first use; every line after that runs in it."""
    if not loops:
        import asyncio

        loops.append(asyncio.new_event_loop())
    return loops[0]


async def _answer(ctx: Context, line: str, keep: Kept | None = None) -> Reply:
    """The router's reply; a database that failed is said in one sentence (and logged) and the
    session goes on, so the next line may work once the database is back. With `keep` (a
    static entry's line), the router's reply is kept, never the database's sentence."""
    from bot.store.base import StoreError

    try:
        reply = await dispatch(ctx, line)
        if keep is not None and not reply.files:
            code = 2 if reply.is_error else 0  # as `smx ask` would exit
            keep.keep(line, code, render_text(reply), ctx.services.settings)
        return reply
    except StoreError as err:
        import logging

        logging.getLogger("smx.console").error(
            "console: the database failed", extra={"error": str(err)}
        )
        return Reply.error(database_sentence(err))


def _free_name(path: Path) -> Path:
    """`notes.csv`, else `notes-2.csv`, ...: an export never overwrites an earlier one."""
    n = 2
    candidate = path
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return candidate
