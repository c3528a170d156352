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
    "dotenv",
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


CONSOLE = (
    "import sys, io, contextlib\n"
    "from bot.cli import main\n"
    "sys.stdin = io.StringIO('help\\n')\n"
    "out = io.StringIO()\n"
    "with contextlib.redirect_stdout(out):\n"
    "    code = main(['console'])\n"
    "print(code, 'Commands' in out.getvalue())\n"
    "for m in {watched!r}:\n"
    "    print(m, m in sys.modules)\n"
)


def test_the_consoles_first_answer_imports_neither_pydantic_settings_nor_a_driver(tmp_path):
    lines = _fresh(CONSOLE.format(watched=WATCHED), tmp_path)
    assert lines[0] == "0 True"  # it answered `help`
    imported = dict(line.split() for line in lines[1:])
    for module in ("pydantic_settings", "dotenv", "sqlite3", "sqlite_utils", "psycopg"):
        assert imported[module] == "False", module


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
