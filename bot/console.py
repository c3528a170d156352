"""`smx console`: an interactive local session over the same router and database as Slack."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from bot.cli import without_loop
from bot.config import Settings
from bot.context import Context, Services
from bot.errors import database_sentence
from bot.reply import Reply, render_text
from bot.router import COMMANDS, dispatch, entry

PROMPT = "smx> "
QUIT = {"quit", "exit", ":q"}
HISTORY = Path(os.environ.get("SMX_HISTORY", Path.home() / ".smx_history"))
RED, RESET = "\033[31m", "\033[0m"


def completions(prefix: str) -> list[str]:
    """Command names (and two-word names) that start with what has been typed so far."""
    names = sorted({c.name for c in COMMANDS} | {c.words[0] for c in COMMANDS} | QUIT)
    return [n for n in names if n.startswith(prefix.lower())]


def _setup_readline() -> None:
    try:
        import readline
    except ImportError:  # not every platform has it; the console still works without editing
        return

    matches: list[str] = []

    def complete(text: str, state: int) -> str | None:
        nonlocal matches
        if state == 0:
            matches = completions(readline.get_line_buffer().lstrip())
            # readline replaces only the current word, so offer the rest from that word on.
            typed = readline.get_line_buffer().lstrip()
            cut = len(typed) - len(text)
            matches = [m[cut:] for m in matches if len(m) >= cut]
        return matches[state] if state < len(matches) else None

    readline.set_completer(complete)
    readline.parse_and_bind("tab: complete")
    with contextlib.suppress(FileNotFoundError, PermissionError, OSError):
        readline.read_history_file(HISTORY)
    readline.set_history_length(1000)
    import atexit

    def save() -> None:
        with contextlib.suppress(OSError):
            readline.write_history_file(HISTORY)

    atexit.register(save)


def format_reply(reply: Reply, colour: bool) -> str:
    text = render_text(reply)
    return f"{RED}{text}{RESET}" if reply.is_error and colour else text


def run_console(settings: Settings, stdin=None, stdout=None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty()
    if interactive:
        _setup_readline()
    ctx = Context(channel_kind="console", surface="console", services=Services(settings))
    print("smx console: type `help` for commands, `quit` to leave.", file=stdout)
    # Made by the first line that needs one (see `_reply`): a session of static answers (help,
    # compare, explain) never imports asyncio, so the first answer comes sooner.
    loops: list = []
    try:
        while True:
            try:
                line = input(PROMPT) if interactive else _read(stdin, stdout)
            except (EOFError, KeyboardInterrupt):
                print(file=stdout)
                return 0
            line = line.strip()
            if not line:
                continue
            if line.lower() in QUIT:
                return 0
            if line.lower().startswith("/smx"):
                line = line[4:].strip()
            reply = _reply(ctx, line, loops)
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


def _reply(ctx: Context, line: str, loops: list) -> Reply:
    """The answer to one line: a static entry's without an event loop (bot/cli.py's
    `without_loop`) until the session has one, anything else in the session's one loop."""
    found = None if loops else entry(line)
    if found is not None and found[0].is_static(found[1]):
        done, reply = without_loop(_answer(ctx, line))
        if done:
            return reply
    return _loop(loops).run_until_complete(_answer(ctx, line))


def _loop(loops: list):
    """The session's event loop, made on first use; every line after that runs in it."""
    if not loops:
        import asyncio

        loops.append(asyncio.new_event_loop())
    return loops[0]


async def _answer(ctx: Context, line: str) -> Reply:
    """The router's reply; a database that failed is said in one sentence (and logged) and the
    session goes on, so the next line may work once the database is back."""
    from bot.store.base import StoreError

    try:
        return await dispatch(ctx, line)
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


def _read(stdin, stdout) -> str:
    print(PROMPT, end="", file=stdout, flush=True)
    line = stdin.readline()
    if not line:
        raise EOFError
    return line
