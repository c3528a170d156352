"""Cold start: the knowledge parse cache, and what a one-shot query does not import or open."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import knowledge
from knowledge import CACHE_NAME, FILES, HERE, load, load_from


@pytest.fixture
def files(tmp_path):
    directory = tmp_path / "knowledge"
    directory.mkdir()
    for name in FILES:
        shutil.copy(HERE / name, directory / name)
    return directory


def test_the_cache_is_written_and_then_used_instead_of_parsing(files, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    assert load_from(files, cache_in=cache) == load()
    assert (cache / CACHE_NAME).is_file()

    def no_parse(*args):
        raise AssertionError("parsed although the cache was valid")

    monkeypatch.setattr(knowledge, "_parse", no_parse)
    assert load_from(files, cache_in=cache) == load()


def test_a_changed_file_is_parsed_afresh_not_served_from_the_cache(files, tmp_path):
    cache = tmp_path / "cache"
    load_from(files, cache_in=cache)
    glossary = files / "glossary.yaml"
    glossary.write_text(
        glossary.read_text(encoding="utf-8").replace("name: CPM", "name: CPM (changed)", 1),
        encoding="utf-8",
    )
    names = [t.name for t in load_from(files, cache_in=cache).terms]
    assert "CPM (changed)" in names


def test_a_broken_file_fails_validation_even_with_a_warm_cache(files, tmp_path):
    cache = tmp_path / "cache"
    load_from(files, cache_in=cache)
    before = (cache / CACHE_NAME).read_bytes()
    benchmarks = files / "benchmarks.yaml"
    benchmarks.write_text(
        benchmarks.read_text(encoding="utf-8").replace("currency: USD", "currency: EUR", 1),
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="currency"):
        load_from(files, cache_in=cache)
    assert (cache / CACHE_NAME).read_bytes() == before  # nothing invalid was kept


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[: len(blob) // 2],  # cut short
        lambda blob: blob[:-10] + b"\x00" * 10,  # bytes changed inside the payload
        lambda blob: b"not a cache at all",
        lambda blob: b"",
    ],
)
def test_a_corrupt_cache_is_ignored_and_replaced(files, tmp_path, damage):
    cache = tmp_path / "cache"
    load_from(files, cache_in=cache)
    path = cache / CACHE_NAME
    good = path.read_bytes()
    path.write_bytes(damage(good))
    assert load_from(files, cache_in=cache) == load()
    assert path.read_bytes() == good


def test_a_cache_that_cannot_be_written_is_harmless(files, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    assert load_from(files, cache_in=blocker / "smx") == load()  # cannot even be created

    cache = tmp_path / "cache"
    cache.mkdir()

    def refuse(*args, **kwargs):
        raise PermissionError("read-only")

    monkeypatch.setattr(os, "replace", refuse)
    assert load_from(files, cache_in=cache) == load()
    assert os.listdir(cache) == []  # no temporary file left behind


def test_concurrent_writers_leave_one_whole_cache(files, tmp_path):
    cache = tmp_path / "cache"
    barrier = threading.Barrier(8)
    results, errors = [], []

    def work():
        barrier.wait()
        try:
            for _ in range(5):
                results.append(load_from(files, cache_in=cache))
        except Exception as err:  # pragma: no cover - the failure being tested for
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(r == load() for r in results)
    assert os.listdir(cache) == [CACHE_NAME]
    assert knowledge._cached(cache / CACHE_NAME, knowledge._key(knowledge._read(files)))


def _fresh(code: str, tmp_path: Path) -> list[str]:
    """Run `code` in a new interpreter (as `smx` would start) and return its printed lines."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SMX_"))}
    env.update(XDG_CACHE_HOME=str(tmp_path / "xdg"), SMX_DB=str(tmp_path / "smx.db"))
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


WATCH = (
    "import sys, io, contextlib\n"
    "from bot.cli import main\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    code = main({argv!r})\n"
    "print(code)\n"
    "for m in {watched!r}:\n"
    "    print(m, m in sys.modules)\n"
)
WATCHED = (
    "bot.store", "sqlite3", "sqlite_utils", "psycopg", "yaml", "rapidfuzz", "pydantic_settings",
    "dotenv", "asyncio",
)  # fmt: skip


def _watch(argv: list[str], tmp_path: Path) -> tuple[str, dict[str, str]]:
    """`smx ARGV` in a new interpreter: its exit code and, for each module in WATCHED, whether
    it was imported ("True"/"False")."""
    lines = _fresh(WATCH.format(argv=argv, watched=WATCHED), tmp_path)
    return lines[0], dict(line.split() for line in lines[1:])


@pytest.mark.parametrize(
    "argv",
    [
        ["ask", "help"],
        ["ask", "explain", "cpm"],
        ["ask", "compare"],
        ["ask", "estimate", "budget=500", "cpm=8"],
    ],
)
def test_a_query_that_needs_no_database_neither_opens_nor_imports_one(tmp_path, argv):
    code, imported = _watch(argv, tmp_path)
    assert code == "0"
    for module in ("bot.store", "sqlite3", "sqlite_utils", "psycopg"):
        assert imported[module] == "False", module
    assert not (tmp_path / "smx.db").exists()


def test_a_warm_exact_query_imports_neither_yaml_nor_rapidfuzz(tmp_path):
    _watch(["ask", "explain", "cpm"], tmp_path)  # warms the cache
    assert (tmp_path / "xdg" / "smx" / CACHE_NAME).is_file()
    _, imported = _watch(["ask", "explain", "cpm"], tmp_path)
    assert imported["yaml"] == "False"
    assert imported["rapidfuzz"] == "False"


@pytest.mark.parametrize(
    "argv",
    [
        ["ask", "help"],
        ["ask", "explain", "roas"],
        ["ask", "compare"],
        ["ask", "estimate", "budget=500", "cpm=8"],
        ["ask", "notes"],
    ],
)
def test_a_query_reads_its_settings_without_pydantic_settings(tmp_path, argv):
    """pydantic-settings alone cost a cold start about 50 ms (it imports asyncio, its CLI and
    cloud sources); bot/config.py reads the variables itself, and python-dotenv only when there
    is a `.env` to read."""
    code, imported = _watch(argv, tmp_path)
    assert code == "0"
    assert imported["pydantic_settings"] == "False"
    assert imported["dotenv"] == "False"


@pytest.mark.parametrize(
    "argv,static",
    [
        (["ask", "help"], True),
        (["ask", "explain", "roas"], True),
        (["ask", "compare"], True),
        (["ask", "compare", "budget=500", "cpm=8"], False),  # a variant that is not static
        (["ask", "estimate", "budget=500", "cpm=8"], False),
        (["ask", "notes"], False),
    ],
)
def test_a_static_answer_needs_no_event_loop_and_anything_else_runs_in_one(tmp_path, argv, static):
    """help, compare and explain (Command.static) await nothing: answered without importing
    asyncio (about 40 ms of a cold start); every other entry runs in a loop as before."""
    code, imported = _watch(argv, tmp_path)
    assert code == "0"
    assert imported["asyncio"] == str(not static)


CONSOLE = (
    "import sys, io, contextlib\n"
    "from bot.cli import main\n"
    "sys.stdin = io.StringIO({lines!r})\n"
    "out = io.StringIO()\n"
    "with contextlib.redirect_stdout(out):\n"
    "    code = main(['console'])\n"
    "print(code, 'Commands' in out.getvalue())\n"
    "for m in {watched!r}:\n"
    "    print(m, m in sys.modules)\n"
)


def test_the_consoles_first_answer_imports_neither_pydantic_settings_nor_a_driver(tmp_path):
    lines = _fresh(CONSOLE.format(lines="help\n", watched=WATCHED), tmp_path)
    assert lines[0] == "0 True"  # it answered `help`
    imported = dict(line.split() for line in lines[1:])
    for module in ("pydantic_settings", "dotenv", "sqlite3", "sqlite_utils", "psycopg", "asyncio"):
        assert imported[module] == "False", module


def test_the_console_makes_its_loop_for_the_first_line_that_needs_one(tmp_path, monkeypatch):
    """`help`, then `note` and `notes` (the store, in the loop), then `explain` again: all
    answered, and the store closed in that loop when the session ends."""
    import io

    from bot.config import Settings
    from bot.console import run_console
    from bot.context import Services

    closed = []
    real_close = Services.close

    async def close(self):
        store = self.__dict__.get("store")
        await real_close(self)
        if store is not None:
            import asyncio

            asyncio.get_running_loop()  # closed inside a running loop
            closed.append(store._closed)

    monkeypatch.setattr(Services, "close", close)
    out = io.StringIO()
    lines = "help\nnote launch went live\nnotes\nexplain roas\nquit\n"
    code = run_console(
        Settings(SMX_DB=str(tmp_path / "c.db")), stdin=io.StringIO(lines), stdout=out
    )
    text = out.getvalue()
    assert code == 0
    assert "Commands" in text and "Logged note #1" in text and "went live" in text
    assert "ROAS" in text
    assert closed == [True]


def _patched_help(body: str) -> str:
    """`smx ask help` and the console's `help` in a new interpreter, with the help handler
    replaced by an async one doing `body` (which may wait on the loop) before answering."""
    return (
        "import asyncio, io, sys, contextlib\n"
        "import bot.router\n"
        "runs = []\n"
        "real = bot.router.help_handler\n"
        "async def handler(ctx, args):\n"
        "    runs.append(1)\n"
        f"    {body}\n"
        "    return real(ctx, args)\n"
        "bot.router.help_handler = handler\n"
        "from bot.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    code = main(['ask', 'help'])\n"
        "print(code, 'Commands' in out.getvalue(), len(runs))\n"
        "from bot.config import load_settings\n"
        "from bot.console import run_console\n"
        "out = io.StringIO()\n"
        "code = run_console(load_settings(), stdin=io.StringIO('help\\nhelp\\n'), stdout=out)\n"
        "print(code, out.getvalue().count('Commands'), len(runs))\n"
    )


@pytest.mark.parametrize(
    "body",
    [
        "await asyncio.sleep(0)",  # waits: the first step does not finish it
        "asyncio.get_running_loop()",  # needs the running loop: RuntimeError without one
        "await asyncio.sleep(0.001)",  # a timer: needs the loop too
        "await asyncio.to_thread(len, 'abc')",
    ],
)
def test_a_static_answer_that_waits_after_all_is_answered_in_a_loop(tmp_path, body):
    ask, console = _fresh(_patched_help(body), tmp_path)
    # Tried without a loop, then run again in one: answered, exit 0.
    assert ask == "0 True 2"
    # The console's loop is made by the first `help`; the second runs in it (1 try + 2 + 1).
    assert console == "0 2 5"


def test_a_static_answer_that_awaits_nothing_is_run_once(tmp_path):
    ask, console = _fresh(_patched_help("await asyncio.sleep(0) if False else None"), tmp_path)
    assert ask == "0 True 1" and console == "0 2 3"


@pytest.mark.parametrize("error", ["ValueError('broken')", "RuntimeError('broken')"])
def test_a_static_handler_that_fails_fails_as_it_did_in_a_loop(tmp_path, error):
    code = (
        "import bot.router\n"
        "def handler(ctx, args):\n"
        f"    raise {error}\n"
        "bot.router.help_handler = handler\n"
        "from bot.cli import main\n"
        "main(['ask', 'help'])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SMX_"))}
    env.update(XDG_CACHE_HOME=str(tmp_path / "xdg"), SMX_DB=str(tmp_path / "smx.db"))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stderr.rstrip().endswith(error.replace("(", ": ", 1).replace("'", "").rstrip(")"))


def test_without_loop_finishes_what_awaits_nothing_and_leaves_the_rest_to_a_loop():
    import asyncio

    from bot.cli import without_loop

    async def value():
        return 42

    async def nested():
        return await value() + 1

    assert without_loop(nested()) == (True, 43)

    cleaned = []

    async def waits():
        try:
            await asyncio.sleep(0)
        finally:
            cleaned.append("closed")
        return 1

    assert without_loop(waits()) == (False, None)
    assert cleaned == ["closed"]  # closed, not left pending (no "never awaited" warning)

    async def needs_loop():
        asyncio.get_running_loop()

    assert without_loop(needs_loop()) == (False, None)

    async def broken():
        raise KeyError("x")

    with pytest.raises(KeyError):
        without_loop(broken())

    from contextvars import ContextVar

    var = ContextVar("var", default="outside")

    async def sets():
        var.set("inside")
        return var.get()

    assert without_loop(sets()) == (True, "inside")
    assert var.get() == "outside"  # its own copy of the context, as a task has


def _ask_help(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith(("SLACK_", "SMX_"))}
    clean.update(XDG_CACHE_HOME=str(tmp_path / "xdg"), **env)
    return subprocess.run(
        [sys.executable, "-m", "bot", "ask", "help"],
        cwd=tmp_path, env=clean, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_a_query_still_checks_every_setting_from_the_environment_and_dotenv(tmp_path):
    bad_port = _ask_help(tmp_path, PORT="http")
    assert bad_port.returncode == 1
    assert bad_port.stderr == (
        "smx: PORT is not valid: Input should be a valid integer, unable to parse string as an "
        "integer.\n"
    )
    (tmp_path / ".env").write_text("SMX_LOG_LEVEL=loud\n")
    from_dotenv = _ask_help(tmp_path)
    assert from_dotenv.returncode == 1
    assert from_dotenv.stderr == (
        "smx: SMX_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'loud'.\n"
    )
    assert _ask_help(tmp_path, smx_log_level="debug").returncode == 0  # any case, and env wins
    (tmp_path / ".env").write_text("SMX_DB=elsewhere/smx.db\n")
    no_dir = _ask_help(tmp_path)
    assert no_dir.returncode == 1 and "SMX_DB=elsewhere/smx.db" in no_dir.stderr


def test_a_notes_query_still_reports_a_database_failure(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SMX_"))}
    env["SMX_DATABASE_URL"] = "postgresql://smx@127.0.0.1:1/nothing"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "notes"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Check SMX_DATABASE_URL" in done.stderr


def test_the_stores_types_and_errors_load_no_database_driver():
    """The console and `smx ask`'s error path import StoreError; the package loads its backends
    (sqlite3, psycopg) only when one is opened or named."""
    code = (
        "import sys\n"
        "from bot.store import StoreError, Viewer\n"
        "from bot.store.base import StoreUnavailable\n"
        "print(sorted(m for m in ('sqlite3', 'sqlite_utils', 'psycopg') if m in sys.modules))\n"
        "from bot.store import SqliteStore\n"
        "print('sqlite3' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split("\n")[:2] == ["[]", "True"], out.stdout + out.stderr
