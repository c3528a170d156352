"""`smx ask` and `smx console` as a person runs them: real processes, real exit codes."""

import io
import json
import os
import subprocess
import sys

from bot.config import Settings
from bot.console import completions, run_console
from tests.support.blockkit import assert_message_ok


def smx(*args: str, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SMX_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, **(env or {})},
        cwd=cwd,
    )


def test_ask_json_help_is_one_object_with_valid_blocks(tmp_path):
    done = smx("ask", "--json", "help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert set(answer) >= {"text", "blocks", "data"}
    assert "compare" in answer["text"]
    assert answer["blocks"][0]["type"] == "header"
    assert_message_ok(answer["blocks"], answer["text"])


def test_ask_unknown_command_exits_2_and_still_prints(tmp_path):
    done = smx("ask", "compair", cwd=tmp_path)
    assert done.returncode == 2
    assert "Did you mean `compare`?" in done.stdout


def test_ask_does_not_import_bolt_or_aiohttp(tmp_path):
    code = (
        "import sys, runpy; sys.argv=['smx','ask','help'];\n"
        "try:\n runpy.run_module('bot', run_name='__main__')\n"
        "except SystemExit: pass\n"
        "bad=[m for m in sys.modules if m.split('.')[0] in ('slack_bolt','slack_sdk','aiohttp')]\n"
        "print('HEAVY', bad)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert "HEAVY []" in done.stdout, done.stdout + done.stderr


def test_bad_setting_fails_at_start_with_one_line(tmp_path):
    done = smx("ask", "help", env={"SLACK_BOT_TOKEN": "xoxb-1"}, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "SLACK_SIGNING_SECRET" in done.stderr


def test_run_without_credentials_opens_the_console_and_says_how_to_connect(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        input="help\nquit\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
    )
    assert done.returncode == 0, done.stderr
    assert "No Slack credentials found" in done.stdout
    assert "SLACK_BOT_TOKEN" in done.stdout
    assert "smx> " in done.stdout and "compare [ASPECT]" in done.stdout


def test_console_session_answers_each_line_and_strips_slash_smx(tmp_path):
    out = io.StringIO()
    code = run_console(
        Settings(SMX_DB=str(tmp_path / "c.db")),
        stdin=io.StringIO("/smx help\n\nnope\nexit\n"),
        stdout=out,
    )
    text = out.getvalue()
    assert code == 0
    assert "compare [ASPECT]" in text
    assert "I couldn't read “nope” as a question or a command" in text


def test_console_ends_cleanly_at_end_of_input(tmp_path):
    out = io.StringIO()
    assert (
        run_console(
            Settings(SMX_DB=str(tmp_path / "c.db")), stdin=io.StringIO("help\n"), stdout=out
        )
        == 0
    )


def test_console_completion_comes_from_the_table():
    assert "compare" in completions("comp")
    assert completions("he") == ["help"]
    assert completions("zz") == []


def test_options_after_the_query_are_taken(tmp_path):
    env = {"SMX_DB": str(tmp_path / "o.db")}
    assert smx("ask", "note", "spring", "day", "one", env=env, cwd=tmp_path).returncode == 0
    done = smx("ask", "notes", "export", "--out", str(tmp_path / "n.csv"), env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert "day one" in (tmp_path / "n.csv").read_text()
    as_json = smx("ask", "explain", "cpm", "--json", env=env, cwd=tmp_path)
    assert json.loads(as_json.stdout)["data"]["term"] == "cpm"


def test_unusable_database_fails_with_one_line(tmp_path):
    (tmp_path / "junk.db").write_text("not sqlite")
    for db, says in (
        (tmp_path / "missing" / "x.db", "does not exist"),
        (tmp_path, "is a directory"),
        (tmp_path / "junk.db", "file is not a database"),
    ):
        done = smx("ask", "notes", env={"SMX_DB": str(db)}, cwd=tmp_path)
        assert done.returncode == 1
        assert done.stderr.count("\n") == 1 and "SMX_DB=" in done.stderr and says in done.stderr
        assert "Traceback" not in done.stderr


def test_a_closed_pipe_is_not_an_error(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SMX_"))},
        "SMX_DB": str(tmp_path / "p.db"),
    }
    done = subprocess.run(
        f"{sys.executable} -m bot ask compare | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert "Traceback" not in done.stderr and len(done.stdout) == 10


def test_console_exports_never_overwrite(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    lines = "note spring one\nnotes export\nnotes export\nquit\n"
    run_console(Settings(SMX_DB=str(tmp_path / "c.db")), stdin=io.StringIO(lines), stdout=out)
    written = sorted(p.name for p in tmp_path.glob("*.csv"))
    assert len(written) == 2 and written[0] != written[1]


def test_a_terminal_that_cannot_show_every_character_still_gets_the_answer(tmp_path):
    # An ASCII-only terminal (or a pipe with PYTHONIOENCODING=ascii) cannot show smx's own
    # punctuation; the answer is printed with those characters replaced, not a traceback.
    done = smx("ask", "help", cwd=tmp_path, env={"PYTHONIOENCODING": "ascii"})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "compare" in done.stdout


def test_the_console_says_when_the_database_is_unreachable_and_goes_on(tmp_path):
    from bot.errors import DATABASE_UNREACHABLE

    data = tmp_path / "data"
    data.mkdir()
    settings = Settings(SMX_DB=str(data / "c.db"))
    data.rmdir()  # the volume went away after smx started: opening the file fails
    out = io.StringIO()
    code = run_console(settings, stdin=io.StringIO("notes\nexplain cpm\n"), stdout=out)
    assert code == 0
    text = out.getvalue()
    assert DATABASE_UNREACHABLE in text
    assert "Traceback" not in text and "error id" not in text
    assert "CPM" in text.split(DATABASE_UNREACHABLE, 1)[1]  # the next line is answered


def test_db_backup_on_postgresql_says_to_use_pg_dump(tmp_path):
    url = "postgresql://smx:pw-never-shown@127.0.0.1:1/smx"
    done = smx("db", "backup", "b.db", env={"SMX_DATABASE_URL": url}, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "pg_dump" in done.stderr
    assert "pw-never-shown" not in done.stderr + done.stdout and "Traceback" not in done.stderr
    assert not (tmp_path / "b.db").exists()


def test_setting_both_databases_fails_at_start_naming_both(tmp_path):
    env = {"SMX_DATABASE_URL": "postgresql://smx:pw-never-shown@db/smx", "SMX_DB": "x.db"}
    done = smx("ask", "notes", env=env, cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert "SMX_DATABASE_URL" in done.stderr and "SMX_DB " in done.stderr
    assert "pw-never-shown" not in done.stderr


def test_an_unreachable_postgresql_fails_a_query_with_one_line_naming_the_host(tmp_path):
    from tests.support.slack_harness import free_port

    port = free_port()  # nobody listens there
    url = f"postgresql://smx:pw-never-shown@127.0.0.1:{port}/smx"
    done = smx("ask", "notes", env={"SMX_DATABASE_URL": url}, cwd=tmp_path)
    assert done.returncode == 1, done.stdout
    assert done.stderr.count("\n") == 1 and f"127.0.0.1:{port}" in done.stderr
    assert "SMX_DATABASE_URL" in done.stderr
    assert "pw-never-shown" not in done.stderr + done.stdout and "Traceback" not in done.stderr


def test_ask_and_console_on_postgresql_exit_cleanly_having_closed_their_store(postgres_url):
    """A one-shot `smx ask` and a console session end their event loop with the PostgreSQL pool
    closed in it: no "Task was destroyed" or pool-worker noise on stderr, and no hang at exit (an
    unclosed pool cancelled mid-connect could keep asyncio.run from returning). Several runs: the
    noise came from a race with the pool's background connect."""
    env = {"SMX_DATABASE_URL": postgres_url}
    logged = smx("ask", "note", "spring-launch", "story did well", env=env)
    assert logged.returncode == 0, logged.stderr
    for _ in range(4):
        listed = smx("ask", "notes", env=env)
        assert listed.returncode == 0 and "story did well" in listed.stdout
        assert listed.stderr == ""
    session = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input="notes\nhelp\nquit\n",
        capture_output=True,
        text=True,
        timeout=60,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("SMX_")}, **env},
    )
    assert session.returncode == 0 and "story did well" in session.stdout
    assert session.stderr == ""


def test_a_piped_console_session_reads_as_a_session(tmp_path):
    """Piped lines are not echoed by a terminal: each is written after its prompt, so the prompt
    never runs into the answer, and the last prompt (at the end of the input) ends its line."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input="explain roas\nhelp\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
        },
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "smx> explain roas" in lines
    assert lines[lines.index("smx> explain roas") + 1] == "ROAS (SMM)"
    assert "smx> help" in lines
    assert lines[-1] == "smx> "
    assert done.stdout.endswith("smx> \n")
