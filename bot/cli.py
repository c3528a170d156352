"""The `smx` command line: run, serve, socket, console, ask, digest.

The terminal faces (ask, console) never import Bolt or aiohttp, so a one-shot query stays fast;
nor the store (sqlite3, psycopg) unless the query reads or writes notes: `smx ask help` and
`smx ask explain cpm` open no database. The `smx` command starts in bot/quick.py, which prints a
static answer kept by an earlier run without importing this module, and hands everything else
to `main` here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from bot.errors import ConfigError
from bot.quick import CONNECT_HINT, Kept

T = TypeVar("T")

EXIT_OK, EXIT_FAILURE, EXIT_USER_ERROR = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smx", description="A Slack assistant for marketing teams."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="the main job: Slack when configured, else the local console")
    serve = sub.add_parser("serve", help="serve Slack over HTTP (POST /slack/events)")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=None, help="default: $PORT or 3000")
    sub.add_parser("socket", help="connect to Slack in Socket Mode")
    sub.add_parser("console", help="an interactive local session")
    ask = sub.add_parser("ask", help="one query, as if typed after /smx")
    ask.add_argument("--team", default="T-LOCAL")
    ask.add_argument("--user", default="U-LOCAL")
    ask.add_argument("--channel", default="C-LOCAL")
    ask.add_argument("--json", action="store_true", help="print text, blocks and data as JSON")
    ask.add_argument("--out", type=Path, help="write a file answer (e.g. a CSV export) here")
    ask.add_argument("--chart", type=Path, help="write the answer's chart here as a PNG")
    ask.add_argument("text", nargs=argparse.REMAINDER)
    imp = sub.add_parser(
        "import", help="preview an ad platform's export (CSV or XLSX); --yes logs it"
    )
    imp.add_argument(
        "file", type=Path, help="a Meta, LinkedIn or Google Ads export, or smx's own CSV"
    )
    imp.add_argument("--team", default="T-LOCAL")
    imp.add_argument("--user", default="U-LOCAL")
    imp.add_argument("--channel", default="C-LOCAL")
    imp.add_argument("--yes", action="store_true", help="log every row as a note (else a preview)")
    imp.add_argument("--json", action="store_true", help="print text, blocks and data as JSON")
    digest = sub.add_parser("digest", help="print a digest, or run one scheduler pass")
    digest_sub = digest.add_subparsers(dest="digest_command", metavar="ACTION", required=True)
    preview = digest_sub.add_parser("preview", help="print a channel's digest of the last 7 days")
    preview.add_argument("--team", default="T-LOCAL")
    preview.add_argument("--channel", default="C-LOCAL")
    preview.add_argument("--json", action="store_true", help="print text, blocks and data as JSON")
    preview.add_argument("--chart", type=Path, help="write the digest's chart here as a PNG")
    digest_sub.add_parser("tick", help="one scheduler pass: post every digest that is due (cron)")
    db = sub.add_parser("db", help="operator tasks on the database (SMX_DB or SMX_DATABASE_URL)")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    backup = db_sub.add_parser("backup", help="an online backup, safe while the bot runs")
    backup.add_argument("path", type=Path, help="a file, or a directory to put a dated file in")
    purge = db_sub.add_parser("purge", help="remove a team's notes, subscriptions and installation")
    purge.add_argument(
        "--team", required=True, help="workspace (T…) or Enterprise Grid org (E…) id"
    )
    purge.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parser


def _trailing_options(args: argparse.Namespace) -> None:
    """`smx ask notes export --out x.csv` works too: options typed after the query are taken."""
    text = list(args.text)
    while text:
        if text[-1] == "--json":
            args.json, text = True, text[:-1]
        elif len(text) >= 2 and text[-2] == "--out":
            args.out, text = Path(text[-1]), text[:-2]
        elif len(text) >= 2 and text[-2] == "--chart":
            args.chart, text = Path(text[-1]), text[:-2]
        else:
            break
    args.text = text


def main(argv: list[str] | None = None, *, keep: Kept | None = None) -> int:
    """`smx ARGV`. `keep` (from bot/quick.py, the `smx` entry point) keeps a static answer
    printed in the terminal for next time; without it nothing is kept."""
    for stream in (sys.stdout, sys.stderr):
        # A terminal or pipe that cannot show a character (PYTHONIOENCODING=ascii) gets `?` for
        # it rather than a traceback instead of the answer.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    args = build_parser().parse_args(argv)
    if args.command == "ask":
        _trailing_options(args)
    try:
        from bot.config import load_settings

        settings = load_settings()
    except ConfigError as err:
        print(f"smx: {err}", file=sys.stderr)
        return EXIT_FAILURE
    command = args.command or "run"
    try:
        if command == "ask":
            return ask(args, settings, keep=keep if _kept_for(keep, "ask") else None)
        if command == "digest":
            return digest(args, settings)
        if command == "import":
            return import_file(args, settings)
        if command == "db":
            return database(args, settings)
        console = keep if _kept_for(keep, "console") else None
        if command == "console":
            from bot.console import run_console

            return run_console(settings, keep=console)
        if command == "run" and not settings.has_slack:
            from bot.console import run_console

            if console is None or not console.greeted:  # else the quick console said it
                print(CONNECT_HINT)
            return run_console(settings, keep=console)
        return run_slack(command, args, settings)
    except BrokenPipeError:
        # `smx ask notes | head`: the reader left; that is not an error worth a traceback.
        sys.stderr.close()
        return EXIT_OK
    except Exception as err:
        # Only on this path, and cheap: bot.store loads no driver until a backend is opened.
        from bot.store.base import StoreError

        if not isinstance(err, StoreError):
            raise
        return _store_failed(err, settings)


def _kept_for(keep: Kept | None, surface: str) -> bool:
    return keep is not None and keep.surface == surface


def _store_failed(err: Exception, settings) -> int:
    """The database failed or cannot be reached: one line naming the setting to look at (the
    store's sentence names where, never a password), and a failed exit."""
    from bot.store.base import BackupUnsupported

    line = (
        str(err)
        if isinstance(err, BackupUnsupported)
        else f"{err} Check {settings.database_setting}."
    )
    print(f"smx: {line}", file=sys.stderr)
    return EXIT_FAILURE


def run_slack(command: str, args: argparse.Namespace, settings) -> int:
    from bot.slack.server import start  # Bolt and aiohttp are imported only for the Slack modes
    from bot.store.base import StoreError

    try:
        return start(
            command, settings, host=getattr(args, "host", None), port=getattr(args, "port", None)
        )
    except ConfigError as err:
        print(f"smx: {err}", file=sys.stderr)
        return EXIT_FAILURE
    except StoreError as err:  # e.g. the database is unreachable when the schema is checked
        return _store_failed(err, settings)


def _local_context(args: argparse.Namespace, settings):
    """Who asks from a terminal: the --team, --user and --channel given, a console channel."""
    from bot.context import Context, Services

    return Context(
        team=args.team,
        user=args.user,
        channel=args.channel,
        channel_kind="console",
        surface="ask",
        services=Services(settings),
    )


def ask(args: argparse.Namespace, settings, *, keep: Kept | None = None) -> int:
    from bot.reply import render_text

    ctx = _local_context(args, settings)
    query = " ".join(args.text)
    reply, static = _answer(ctx, query)
    code = EXIT_USER_ERROR if reply.is_error else EXIT_OK
    wanted = getattr(args, "chart", None)
    chart = _chart(reply, wanted) if wanted is not None else None
    if chart is not None:
        reply.data["chart"] = chart.data()
    if args.json:
        import json

        from bot.slack.blocks import render_blocks

        print(
            json.dumps(
                {
                    "text": render_text(reply),
                    "blocks": render_blocks(reply),
                    "data": reply.data,
                    "files": [f.model_dump() for f in reply.files],
                },
                ensure_ascii=False,
                default=str,
            )
        )
        return code
    text = render_text(reply)
    if reply.files and args.out is None:
        # A file answer goes to stdout alone, so it can be piped; the words go to stderr.
        print(text, file=sys.stderr)
        for f in reply.files:
            sys.stdout.write(f.content)
        return code
    for f in reply.files:
        args.out.write_text(f.content, encoding="utf-8")
        text += f"\nWritten to {args.out}."
    print(text)
    if keep is not None and keep.query == query and static and not reply.files and not args.out:
        keep.keep(query, code, text, settings)  # printed: `smx ask` prints it at once next time
    return code


def import_file(args: argparse.Namespace, settings) -> int:
    """`smx import FILE`: what the export holds, read and checked; with --yes, logged as notes
    of the team, channel and person given (one transaction: every row or none)."""
    from bot.errors import UserError
    from bot.imports.preview import preview
    from bot.imports.read import MAX_BYTES, read_export
    from bot.reply import Reply

    name = args.file.name
    try:
        with args.file.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
        export = read_export(data, name)
        if args.yes:
            reply = _log_export(args, settings, export, name)
        else:
            reply = preview(
                export,
                name,
                then="Nothing is logged until you run it again with --yes: "
                f"`smx import {args.file} --yes`.",
            )
    except OSError as err:
        reply = Reply.error(
            f"I can't open {name}: {err.strerror or err}. Check the path and send it again."
        )
    except UserError as err:
        reply = Reply.error(err.message)
    _print_reply(reply, as_json=args.json)
    return EXIT_USER_ERROR if reply.is_error else EXIT_OK


def _log_export(args: argparse.Namespace, settings, export, name: str):
    import asyncio

    from bot.imports.log import log_export

    ctx = _local_context(args, settings)

    async def run():
        try:
            return await log_export(ctx, export, name)
        finally:
            await ctx.services.close()

    return asyncio.run(run())


def _print_reply(reply, *, as_json: bool) -> None:
    from bot.reply import render_text

    if not as_json:
        print(render_text(reply))
        return
    import json

    from bot.slack.blocks import render_blocks

    print(
        json.dumps(
            {"text": render_text(reply), "blocks": render_blocks(reply), "data": reply.data},
            ensure_ascii=False,
            default=str,
        )
    )


def _chart(reply, path: Path):
    """The answer's chart, written to `path` as a PNG; None (said on stderr, nothing written)
    when the answer has none."""
    from bot.charts.model import chart_for

    chart = None if reply.is_error else chart_for(reply.data, reply.title)
    if chart is None:
        print("smx: this answer has no chart; nothing was written.", file=sys.stderr)
        return None
    from bot.charts.render import png

    path.write_bytes(png(chart))
    return chart


def _answer(ctx, text: str):
    """The router's reply and whether its entry is static: without an event loop when it is,
    else in one."""
    from bot.router import entry

    found = entry(text)
    static = found is not None and found[0].is_static(found[1])
    if static:
        done, reply = without_loop(_answer_once(ctx, text))
        if done:
            return reply, static
    import asyncio

    return asyncio.run(_answer_once(ctx, text)), static


def without_loop(work: Coroutine[Any, Any, T]) -> tuple[bool, T | None]:
    """Run `work` to its end if it never waits on anything: (True, its result); else (False,
    None), and `work` is closed, not finished.

    A static entry (help, compare, explain: its answer depends on nothing but the words and the
    knowledge, no store, no clock, see bot/router.py) awaits nothing, so its coroutine ends at
    its first step and needs no event loop: asyncio, about 40 ms of a cold start with its
    teardown, is then never imported. Should one wait on something after all, or ask for the
    running loop, it is run again in a loop, which for an answer that depends on nothing but its
    words costs only the time; any other error is the one a loop would have raised. Like a
    task, it runs in a copy of the current context, so a context variable it sets stays its own.
    """
    from contextvars import copy_context

    try:
        copy_context().run(work.send, None)
    except StopIteration as finished:
        return True, finished.value
    except RuntimeError:  # e.g. "no running event loop": it needs one after all
        return False, None
    work.close()  # it is waiting on something: only a loop can finish it
    return False, None


async def _answer_once(ctx, text: str):
    """The router's reply, with whatever it opened closed in this same loop before it ends."""
    from bot.router import dispatch

    try:
        return await dispatch(ctx, text)
    finally:
        await ctx.services.close()


def digest(args: argparse.Namespace, settings) -> int:
    if args.digest_command == "preview":
        # The same as `smx ask --team T --channel C digest preview`.
        ask_args = argparse.Namespace(
            team=args.team, user="U-LOCAL", channel=args.channel, json=args.json, out=None,
            text=["digest", "preview"], chart=args.chart,
        )  # fmt: skip
        return ask(ask_args, settings)
    if not settings.has_slack:
        print(
            "smx: `smx digest tick` posts to Slack: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET "
            "(or the OAuth settings) first; `smx digest preview` prints a digest without Slack.",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    import asyncio

    from bot.slack.server import prepare

    services = prepare(settings)  # migrates before the event loop runs, as `smx serve` does
    return asyncio.run(_tick(settings, services))


async def _tick(settings, services) -> int:
    from bot.digest.scheduler import Scheduler
    from bot.slack.digest_post import DigestPoster

    try:
        poster = DigestPoster(settings, store=services.store, charts=True)
        report = await Scheduler(services.store, poster).tick()
        from bot.slack.digest_chart import settled

        await settled()  # each posted digest's chart, into its thread, before the store closes
    finally:
        await services.store.close()
    print(report.text())
    return EXIT_OK


def database(args: argparse.Namespace, settings) -> int:
    """`smx db backup` and `smx db purge`, through the store, whichever database it is."""
    import asyncio

    from bot.store import is_postgres, open_store

    if not is_postgres(settings.database) and not Path(settings.db_path).is_file():
        # Opening it would create an empty file: there is nothing to back up or purge.
        print(f"smx: There is no database at {settings.db_path}: check SMX_DB.", file=sys.stderr)
        return EXIT_FAILURE
    if args.db_command == "purge" and not args.yes:
        if not sys.stdin.isatty():
            print("smx: purge deletes data for good: add --yes to confirm.", file=sys.stderr)
            return EXIT_USER_ERROR
        answer = input(
            f"Delete every note, subscription and installation of {args.team}? Type yes: "
        )
        if answer.strip().lower() != "yes":
            print("Nothing deleted.")
            return EXIT_OK
    store = open_store(settings.database)
    if args.db_command == "backup":
        written, notes = asyncio.run(_closing(store, store.backup(str(args.path))))
        shown = settings.db_path if not is_postgres(settings.database) else store.describe()
        print(f"Backed up {shown} to {written} ({notes:,} notes).")
        return EXIT_OK
    store.migrate()  # the tables to purge exist even in an old file
    removed = asyncio.run(_closing(store, store.purge_team(args.team)))
    if not removed:
        print(f"Nothing belonged to {args.team}.")
    else:
        print(
            f"Removed from {args.team}: "
            + ", ".join(f"{n:,} {t}" for t, n in sorted(removed.items()))
            + "."
        )
    return EXIT_OK


async def _closing(store, work):
    """`work`'s result, with `store` closed after it whatever happens."""
    try:
        return await work
    finally:
        await store.close()
