"""The terminal's quick start (bot/quick.py): a static answer kept on one run is printed by the
next without importing pydantic or the rest of smx, and exactly as the full path prints it; it
is not printed once anything it depends on has changed, and nothing else is ever kept.

Each test runs smx from a copy of `bot` and `knowledge` in its own directory (first on the
path), so a test may change a source or knowledge file without touching the checkout, and with
its own cache directory (XDG_CACHE_HOME), never the user's."""

from __future__ import annotations

import glob
import marshal
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import knowledge
from bot import quick

ROOT = Path(__file__).resolve().parent.parent
OLD = 1_600_000_000  # a modification time long before any run: the copy's files may be kept


@pytest.fixture
def site(tmp_path):
    """A copy of smx's packages, their files dated OLD."""
    site = tmp_path / "site"
    for package in ("bot", "knowledge"):
        shutil.copytree(
            ROOT / package, site / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    for path in site.rglob("*"):
        os.utime(path, (OLD, OLD))
    return site


@pytest.fixture
def run(site, tmp_path):
    """run(code or argv, stdin=..., **env): smx in a new interpreter from the copy, in its own
    working directory, with its own cache and database."""
    work = tmp_path / "work"
    work.mkdir()

    def run(what, *, stdin: str | None = None, check_stderr: bool = True, **env: str | None):
        clean = {
            k: v for k, v in os.environ.items() if not k.upper().startswith(("SLACK_", "SMX_"))
        }
        clean.pop("PORT", None)
        clean.update(
            PYTHONPATH=str(site),
            XDG_CACHE_HOME=str(tmp_path / "xdg"),
            SMX_DB=str(tmp_path / "smx.db"),
        )
        for key, value in env.items():
            if value is None:
                clean.pop(key, None)
            else:
                clean[key] = value
        args = ["-c", what] if isinstance(what, str) else ["-m", "bot", *what]
        done = subprocess.run(
            [sys.executable, *args],
            cwd=work, env=clean, input=stdin, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if check_stderr:
            assert "Traceback" not in done.stderr, done.stderr
        return done

    run.work = work
    return run


def kept(tmp_path: Path, surface: str = "ask") -> dict[str, tuple[int, str]]:
    """The answers kept for `surface` (every file of it, merged)."""
    found: dict = {}
    for path in glob.glob(str(tmp_path / "xdg" / "smx" / f"answers-{surface}-*.marshal")):
        blob = Path(path).read_bytes()
        checksum, _, payload = blob[len(quick.MAGIC) :].partition(b"\n")
        assert int(checksum, 16) == zlib.crc32(payload)
        found.update(marshal.loads(payload)["answers"])
    return found


# Each query through bot/quick.py's main, in one interpreter: its exit code and what it printed;
# then which of smx's heavier modules that took.
ASK_ALL = (
    "import contextlib, io, sys\n"
    "from bot.quick import main\n"
    "for query in {queries!r}:\n"
    "    out = io.StringIO()\n"
    "    with contextlib.redirect_stdout(out):\n"
    "        code = main(['ask', *query.split(' ')])\n"
    "    print(repr((query, code, out.getvalue())))\n"
    "print(repr(sorted(m for m in ('pydantic', 'bot.cli', 'bot.router', 'knowledge', 'yaml', "
    "'rapidfuzz', 'asyncio') if m in sys.modules)))\n"
)


def ask_all(run, queries: list[str], **env: str) -> tuple[dict[str, tuple[int, str]], list]:
    done = run(ASK_ALL.format(queries=queries), **env)
    assert done.returncode == 0, done.stderr
    *answers, imported = [eval(line) for line in done.stdout.splitlines()]  # noqa: S307
    return {q: (code, text) for q, code, text in answers}, imported


def static_queries() -> list[str]:
    kb = knowledge.load()
    return [
        "help",
        "HELP",
        "help  me",
        "compare",
        "compare everything",
        "compare smo vs smm",
        "compare cost share",
        "compare cots",  # a typo: shown for the closest aspect
        "compare frobnicate",  # an error, with the aspects to choose from
        *[f"compare {a.key}" for a in kb.aspects],
        *[f"explain {t.key.replace('_', ' ')}" for t in kb.terms],
        "explain CPM",
        "explain what does roas stand for?",
        "explain cmp",  # close to several: suggestions
        "explain retarget",  # the start of one term's name
        "explain",  # nothing to explain: an error saying what to type
        "explain xyzzy",
    ]


def test_a_kept_answer_is_exactly_the_full_answer_for_every_static_query(run, tmp_path):
    queries = static_queries()
    assert len(queries) <= quick.MAX_ANSWERS
    full, imported = ask_all(run, queries)  # nothing kept yet: every one on the full path
    assert "pydantic" in imported
    assert "Commands" in full["help"][1] and full["explain xyzzy"][0] == 2
    assert set(kept(tmp_path)) == set(queries)
    again, imported = ask_all(run, queries)
    assert imported == []  # every one printed from the kept file
    assert again == full


@pytest.mark.parametrize(
    "argv",
    [["ask", "help"], ["ask", "compare"], ["ask", "explain", "roas"], ["ask", "explain", "xyzzy"]],
)
def test_python_m_bot_prints_and_exits_the_same_warm_as_cold(run, tmp_path, argv):
    cold = run(argv)
    assert kept(tmp_path)
    warm = run(argv)
    assert (warm.returncode, warm.stdout, warm.stderr) == (
        cold.returncode,
        cold.stdout,
        cold.stderr,
    )
    assert cold.stdout and cold.returncode == (2 if "xyzzy" in argv else 0)


def test_a_query_the_router_does_not_know_is_not_kept(run, tmp_path):
    run(["ask", "/smx", "explain", "roas"])  # `/smx` is no command in a terminal
    run(["ask", "nonsense"])
    assert kept(tmp_path) == {}


WATCH = (
    "import contextlib, io, sys\n"
    "from bot.quick import main\n"
    "out = io.StringIO()\n"
    "with contextlib.redirect_stdout(out):\n"
    "    code = main({argv!r})\n"
    "print(code, len(out.getvalue()) > 200)\n"
    "print(sorted(m for m in sys.modules if m.partition('.')[0] in\n"
    "             ('pydantic', 'pydantic_core', 'bot', 'knowledge', 'asyncio', 'argparse')))\n"
)


def watch(run, argv: list[str], **env: str) -> tuple[str, str]:
    done = run(WATCH.format(argv=argv), **env)
    assert done.returncode == 0, done.stderr
    first, modules = done.stdout.splitlines()
    return first, modules


@pytest.mark.parametrize("argv", [["ask", "help"], ["ask", "explain", "cpm"], ["ask", "compare"]])
def test_a_warm_static_query_imports_nothing_but_the_quick_module(run, argv):
    answered, modules = watch(run, argv)  # cold: the full path, which keeps the answer
    assert answered == "0 True" and "pydantic" in modules
    answered, modules = watch(run, argv)
    assert answered == "0 True"
    assert modules == "['bot', 'bot.quick']"


def test_the_consoles_first_answers_come_from_the_kept_file(run):
    code = (
        "import contextlib, io, sys\n"
        "sys.stdin = io.StringIO('help\\nexplain cpm\\n')\n"
        "from bot.quick import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    code = main(['console'])\n"
        "print(code, out.getvalue().count('smx> '), 'Commands' in out.getvalue())\n"
        "print('pydantic' in sys.modules, 'bot.console' in sys.modules)\n"
    )
    first = run(code).stdout.splitlines()
    assert first == ["0 3 True", "True True"]
    second = run(code).stdout.splitlines()
    assert second == ["0 3 True", "False False"]


# The console through bot/quick.py's main with stdin as given; stdout is the transcript, and
# stderr says, for each piece written, whether pydantic had been imported by then.
SESSION = (
    "import sys\n"
    "class Watched:\n"
    "    def __init__(self, out):\n"
    "        self.out, self.log = out, []\n"
    "    def write(self, text):\n"
    "        self.log.append(('pydantic' in sys.modules, text))\n"
    "        return self.out.write(text)\n"
    "    def flush(self):\n"
    "        self.out.flush()\n"
    "sys.stdout = Watched(sys.stdout)\n"
    "from bot.quick import main\n"
    "code = main({argv!r})\n"
    "print(code, repr(sys.stdout.log), file=sys.stderr)\n"
)


@pytest.mark.parametrize("command", ["console", "run"])
def test_a_console_session_reads_the_same_from_the_kept_file_and_after_it(run, tmp_path, command):
    """A session that starts with kept answers and goes on to lines that are not static (the
    full console carries on from the line the quick one could not answer) prints exactly what
    a session with nothing kept prints."""
    code = SESSION.format(argv=[command])
    run(code, stdin="help\nexplain cpm\ncompare cost\n")
    assert set(kept(tmp_path, "console")) == {"help", "explain cpm", "compare cost"}
    # A line that is not static (a note, which writes to the database) hands over to the full
    # console. (Not `notes`: its listing shows the minute, which two runs may not share.)
    session = (
        "help\n\n/smx explain cpm\nnote launch went live\nestimate budget=500 cpm=8\n"
        "help\nexplain cpm\nquit\n"
    )
    quick_ = run(code, stdin=session)
    shutil.rmtree(tmp_path / "xdg")
    full = run(code, stdin=session, SMX_DB=str(tmp_path / "other.db"))
    assert quick_.stdout == full.stdout
    assert full.stdout.count("No Slack credentials found") == (command == "run")
    assert full.stdout.count("smx console: type") == 1
    assert "Logged note #1" in full.stdout and "62,500 impressions" in full.stdout
    assert full.stdout.count("Commands") == 2 and full.stdout.count("Cost per mille") >= 2

    def written(done):
        status, log = done.stderr.split(" ", 1)
        assert status == "0"
        return eval(log)  # noqa: S307

    # The quick one wrote its first two answers before pydantic was imported; the full one never.
    before = "".join(text for loaded, text in written(quick_) if not loaded)
    assert before.count("Commands") == 1 and "Cost per mille" in before
    assert "Logged note" not in before
    assert "Commands" not in "".join(text for loaded, text in written(full) if not loaded)


def test_a_changed_knowledge_file_is_not_answered_from_the_kept_file(run, site):
    before = run(["ask", "explain", "cpm"])
    assert "CPM" in before.stdout
    glossary = site / "knowledge" / "glossary.yaml"
    glossary.write_text(
        glossary.read_text(encoding="utf-8").replace("name: CPM", "name: CPM (changed)", 1),
        encoding="utf-8",
    )
    os.utime(glossary, (OLD, OLD))  # the size alone tells
    after = run(["ask", "explain", "cpm"])
    assert after.returncode == 0 and "CPM (changed)" in after.stdout
    assert run(["ask", "explain", "cpm"]).stdout == after.stdout


def test_a_changed_source_file_is_not_answered_from_the_kept_file(run, site):
    assert "Show this list of commands." in run(["ask", "help"]).stdout
    router = site / "bot" / "router.py"
    source = router.read_text(encoding="utf-8")
    router.write_text(source.replace("Show this list of commands.", "Every command."), "utf-8")
    os.utime(router, (OLD, OLD))
    after = run(["ask", "help"]).stdout
    assert "Every command." in after and "Show this list" not in after


def test_a_source_file_touched_is_enough_to_answer_afresh(run, site):
    watch(run, ["ask", "help"])
    os.utime(site / "bot" / "reply.py", (OLD + 10, OLD + 10))  # same size, another time
    answered, modules = watch(run, ["ask", "help"])
    assert answered == "0 True" and "pydantic" in modules


def test_a_file_changed_just_before_smx_ran_keeps_nothing(run, site, tmp_path):
    """What was printed may come from the file as it was before: kept on a later run only."""
    os.utime(site / "bot" / "router.py")  # now: as if edited a moment ago
    run(["ask", "help"])
    assert kept(tmp_path) == {}
    os.utime(site / "bot" / "router.py", (OLD, OLD))
    run(["ask", "help"])
    assert set(kept(tmp_path)) == {"help"}


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[: len(blob) // 2],  # cut short
        lambda blob: blob[:-10] + b"\x00" * 10,  # bytes changed inside the payload
        lambda blob: blob[:20] + b"x" + blob[21:],  # the checksum changed
        lambda blob: quick.MAGIC + b"zz\n" + blob,
        lambda blob: b"not kept answers at all",
        lambda blob: b"",
    ],
)
def test_a_corrupt_file_is_ignored_and_replaced(run, tmp_path, damage):
    good = run(["ask", "help"])
    (path,) = (tmp_path / "xdg" / "smx").glob("answers-ask-*")
    path.write_bytes(damage(path.read_bytes()))
    again = run(["ask", "help"])
    assert (again.returncode, again.stdout, again.stderr) == (0, good.stdout, good.stderr)
    assert kept(tmp_path) == {"help": (0, good.stdout[:-1])}


def test_a_well_formed_file_of_another_shape_is_ignored(run, tmp_path):
    good = run(["ask", "help"])
    (path,) = (tmp_path / "xdg" / "smx").glob("answers-ask-*")
    checksum, _, payload = path.read_bytes()[len(quick.MAGIC) :].partition(b"\n")
    valid = marshal.loads(payload)
    odd = [{**valid, "answers": {"help": value}} for value in (5, ("0", "x"), (0,), None)]
    for record in ({"answers": []}, [1, 2], {"identity": None}, *odd):
        payload = marshal.dumps(record)
        path.write_bytes(quick.MAGIC + f"{zlib.crc32(payload):08x}\n".encode() + payload)
        again = run(["ask", "help"])
        assert (again.returncode, again.stdout) == (0, good.stdout)


def test_a_cache_that_cannot_be_read_or_written_is_harmless(run, tmp_path):
    good = run(["ask", "help"])
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    for env in (
        {"XDG_CACHE_HOME": str(blocker)},  # smx/ cannot be made under a file
        {"XDG_CACHE_HOME": "", "HOME": str(blocker)},  # nor ~/.cache
    ):
        for _ in range(2):
            done = run(["ask", "help"], **env)
            assert (done.returncode, done.stdout, done.stderr) == (0, good.stdout, "")
    (path,) = (tmp_path / "xdg" / "smx").glob("answers-ask-*")
    path.unlink()
    path.mkdir()  # a directory where the file should be: cannot be read, nor replaced
    for _ in range(2):
        done = run(["ask", "help"])
        assert (done.returncode, done.stdout, done.stderr) == (0, good.stdout, "")
    assert path.is_dir() and os.listdir(path.parent) == sorted(os.listdir(path.parent))
    assert not [n for n in os.listdir(path.parent) if n.endswith(".tmp")]  # none left behind


@pytest.mark.parametrize(
    "argv",
    [
        ["ask", "estimate", "budget=500", "cpm=8"],
        ["ask", "compare", "budget=500", "cpm=8"],  # compare's variant with numbers
        ["ask", "notes"],
        ["ask", "note", "launch", "went", "live"],
        ["ask", "digest", "status"],
        ["ask", "frobnicate"],
    ],
)
def test_what_is_not_static_is_never_kept(run, tmp_path, argv):
    run(["ask", "help"])
    for _ in range(2):
        run(argv)
    assert set(kept(tmp_path)) == {"help"}


def test_notes_are_never_answered_from_the_kept_file(run):
    assert "went live" not in run(["ask", "notes"]).stdout
    run(["ask", "note", "launch", "went", "live"])
    assert "went live" in run(["ask", "notes"]).stdout


def test_options_are_answered_by_the_full_path(run, tmp_path):
    run(["ask", "help"])
    as_json = run(["ask", "--json", "help"])
    assert as_json.stdout.startswith("{")
    assert run(["ask", "help", "--json"]).stdout.startswith("{")
    assert set(kept(tmp_path)) == {"help"}


def test_a_kept_answer_is_not_printed_once_the_settings_are_wrong(run, tmp_path):
    good = run(["ask", "help"])
    bad_port = run(["ask", "help"], PORT="http")
    assert bad_port.returncode == 1 and bad_port.stderr.startswith("smx: PORT is not valid")
    assert run(["ask", "help"], smx_log_level="loud").returncode == 1  # any case of the name
    (run.work / ".env").write_text("SMX_LOG_LEVEL=loud\n")
    assert run(["ask", "help"]).returncode == 1
    (run.work / ".env").write_text("SMX_DB=elsewhere/smx.db\n")
    missing = run(["ask", "help"], SMX_DB=None)
    assert missing.returncode == 1 and "elsewhere" in missing.stderr

    (run.work / ".env").unlink()
    folder = tmp_path / "folder"
    folder.mkdir()
    env = {"SMX_DB": str(folder / "smx.db")}
    assert run(["ask", "help"], **env).stdout == good.stdout  # kept with this SMX_DB
    folder.rmdir()
    gone = run(["ask", "help"], **env)
    assert gone.returncode == 1 and "does not exist" in gone.stderr
    folder.mkdir()
    (folder / "smx.db").mkdir()
    assert "is a directory" in run(["ask", "help"], **env).stderr


def test_a_dotenv_that_reads_other_variables_turns_the_quick_start_off(run, tmp_path):
    (run.work / ".env").write_text("SMX_DB=${DBDIR}/smx.db\n")
    folder = tmp_path / "folder"
    folder.mkdir()
    assert run(["ask", "help"], DBDIR=str(folder), SMX_DB=None).returncode == 0
    assert kept(tmp_path) == {}
    assert run(["ask", "help"], DBDIR=str(tmp_path / "nowhere"), SMX_DB=None).returncode == 1


def test_every_setting_is_among_the_variables_fingerprinted():
    from bot.config import _ALIAS

    assert all(quick.is_setting(name) for name in _ALIAS.values())
    assert all(quick.is_setting(name.lower()) for name in _ALIAS.values())


def test_the_answers_live_beside_the_knowledge_cache(monkeypatch, tmp_path):
    assert quick.cache_dir() == str(knowledge.cache_dir())  # conftest's XDG_CACHE_HOME
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert quick.cache_dir() == str(knowledge.cache_dir()) == str(tmp_path / ".cache" / "smx")
    monkeypatch.setenv("XDG_CACHE_HOME", "not/absolute")
    assert quick.cache_dir() == str(knowledge.cache_dir())


def test_concurrent_keepers_leave_one_whole_file(tmp_path, monkeypatch):
    """Eight writers at once, and a reader all along: the reader never sees half a file, and
    what is left is whole, with no temporary file beside it."""
    import threading
    import time

    from bot.config import Settings

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    settings = Settings(_env_file=None)
    # This test's own files were written moments ago: a start far ahead lets them be kept.
    ahead = time.time_ns() + 10**15
    barrier = threading.Barrier(9)
    errors: list[BaseException] = []
    torn: list[str] = []
    stop = threading.Event()

    def write(i: int) -> None:
        barrier.wait()
        try:
            for n in range(5):
                quick.Kept("ask", ahead).keep(f"query {i} {n}", 0, f"answer {i} {n}", settings)
        except BaseException as err:  # pragma: no cover - the failure being tested for
            errors.append(err)

    def read() -> None:
        barrier.wait()
        while not stop.is_set():
            for path in glob.glob(str(tmp_path / "xdg" / "smx" / "answers-ask-*")):
                blob = Path(path).read_bytes()
                checksum, _, payload = blob[len(quick.MAGIC) :].partition(b"\n")
                if int(checksum, 16) != zlib.crc32(payload):
                    torn.append(path)

    writers = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    reader = threading.Thread(target=read)
    for t in [*writers, reader]:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    reader.join()
    assert not errors and not torn
    (name,) = os.listdir(tmp_path / "xdg" / "smx")
    found = quick.Kept("ask", ahead)
    assert found.load() and found.get("query 0 4") in (None, (0, "answer 0 4"))
    assert len(found.answers) >= 1


def test_a_write_that_fails_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    import time

    from bot.config import Settings

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    settings = Settings(_env_file=None)
    ahead = time.time_ns() + 10**15  # as above: this test's own files are new
    quick.Kept("ask", ahead).keep("help", 0, "the first answer", settings)
    (path,) = (tmp_path / "xdg" / "smx").iterdir()
    before = path.read_bytes()

    def refuse(*args, **kwargs):
        raise PermissionError("read-only")

    monkeypatch.setattr(os, "replace", refuse)
    quick.Kept("ask", ahead).keep("compare", 0, "another answer", settings)  # no error
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == [path.name]  # no temporary file left behind


def test_the_kept_file_holds_no_setting_value_only_a_digest_of_them(run, tmp_path):
    secrets = {
        "SLACK_BOT_TOKEN": "xoxb-kept-secret-123",
        "SMX_DATABASE_URL": "postgresql://smx:db-password-000@127.0.0.1:9/smx",  # never opened
        "SLACK_SIGNING_SECRET": "signing-secret-456",
        "SMX_DB": None,  # the run fixture's SQLite file: one store or the other
    }
    (run.work / ".env").write_text("SLACK_APP_TOKEN=xapp-dotenv-secret-789\n")
    first = run(ASK_ALL.format(queries=["help"]), **secrets)
    assert first.returncode == 0, (first.stdout[-300:], first.stderr)
    files = glob.glob(str(tmp_path / "xdg" / "smx" / "answers-*.marshal"))
    assert files
    for path in files:
        blob = Path(path).read_bytes()
        for secret in ("xoxb-kept", "signing-secret", "xapp-dotenv", "db-password-000"):
            assert secret.encode() not in blob
    # and the digest still tells the settings apart: another token, another run of the full path
    warm = run(ASK_ALL.format(queries=["help"]), **secrets)
    assert eval(warm.stdout.splitlines()[-1]) == []  # noqa: S307 - kept: nothing heavy imported
    other = run(ASK_ALL.format(queries=["help"]), **{**secrets, "SLACK_BOT_TOKEN": "xoxb-other"})
    assert "pydantic" in eval(other.stdout.splitlines()[-1])  # noqa: S307


@pytest.mark.parametrize("target", ["file", "directory"])
def test_a_kept_file_another_user_could_write_is_not_printed(run, tmp_path, target):
    run(ASK_ALL.format(queries=["help"]))
    warm = run(ASK_ALL.format(queries=["help"]))
    assert eval(warm.stdout.splitlines()[-1]) == []  # noqa: S307 - kept, as it is
    (path,) = glob.glob(str(tmp_path / "xdg" / "smx" / "answers-ask-*.marshal"))
    os.chmod(
        path if target == "file" else os.path.dirname(path),
        0o777 if target == "directory" else 0o666,
    )
    warm = run(ASK_ALL.format(queries=["help"]))
    assert "pydantic" in eval(warm.stdout.splitlines()[-1])  # noqa: S307 - the full path answered
