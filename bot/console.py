"""`smx console`: an interactive local session over the same router and database as Slack."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from pathlib import Path

from bot.config import Settings
from bot.context import Context, Services
from bot.errors import database_sentence
from bot.reply import Reply, render_text
from bot.router import COMMANDS, dispatch

log = logging.getLogger("smx.console")
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
    loop = asyncio.new_event_loop()
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
            reply = loop.run_until_complete(_answer(ctx, line))
            print(format_reply(reply, colour=interactive and stdout.isatty()), file=stdout)
            for f in reply.files:
                path = _free_name(Path(f.filename))
                path.write_text(f.content, encoding="utf-8")
                print(f"Written to {path.resolve()}.", file=stdout)
    finally:
        # The store's connections belong to this loop: closed in it, not cut when it ends.
        loop.run_until_complete(ctx.services.close())
        loop.close()


async def _answer(ctx: Context, line: str) -> Reply:
    """The router's reply; a database that failed is said in one sentence (and logged) and the
    session goes on, so the next line may work once the database is back."""
    from bot.store.base import StoreError

    try:
        return await dispatch(ctx, line)
    except StoreError as err:
        log.error("console: the database failed", extra={"error": str(err)})
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
