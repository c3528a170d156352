"""The terminal's quick start: a static answer printed from the answers kept on an earlier run,
before anything else of smx (pydantic, the router, the knowledge) is imported.

`smx ask help`, `smx ask explain cpm`, `smx ask compare` and the console's answers to such lines
depend on nothing but the words, the surface, the knowledge files and smx's code (`static` in
bot/router.py), and on the settings being valid. Importing pydantic alone costs a cold start
several times what the interpreter's own start does, so the terminal faces keep what they
printed for a static entry: one file per surface and installation under the knowledge cache's
directory ($XDG_CACHE_HOME/smx, else ~/.cache/smx), named `answers-SURFACE-ID.marshal`. A kept
answer is printed only while all of this is as it was when it was kept:

- the installation: Python's version and executable, sys.prefix, sys.path and where smx is;
- every file of every module that was loaded when the answer was printed (smx's own, pydantic,
  the standard library's) and the knowledge files: size and modification time of each;
- the settings' inputs: every environment variable that is or could be a setting (SLACK_*,
  SMX_*, PORT, in any case) and the bytes of `.env` in the working directory. A `.env` that
  expands `${VARIABLES}`, or is not a plain file, turns the quick start off;
- and, for the SQLite file, what Settings.check() looks at on disk (`db_file_problem`).

Anything else (no file, another installation, a changed file, corrupt, unreadable, a directory
that cannot be written, options on the command line) and the full path answers, as if nothing
were kept; it keeps the answer of a static entry for next time, and failing to is not an error.
Nothing that depends on a team, a person, stored notes or the clock is static, so none of it is
ever kept. To start afresh, delete the `answers-*` files (or the whole directory).
"""

from __future__ import annotations

import contextlib
import marshal
import os
import stat
import sys
import time
import zlib

MAGIC = b"smx-answers 1\n"
ENV_FILE = ".env"  # bot/config.py reads it from the working directory
MAX_ANSWERS = 128  # per file (the whole glossary fits); the oldest goes first
MAX_KEY = 300  # characters of a query worth keeping
MAX_TEXT = 64 * 1024  # characters of an answer worth keeping
SETTLED_NS = 2_000_000_000  # a file changed less than 2 s before a run keeps nothing of it

CONNECT_HINT = (
    "No Slack credentials found, so this is the local console.\n"
    "To connect to Slack, create the app from manifest.yml, then set SLACK_BOT_TOKEN and "
    "SLACK_SIGNING_SECRET (HTTP), add SLACK_APP_TOKEN for Socket Mode, or set SLACK_CLIENT_ID, "
    "SLACK_CLIENT_SECRET and SLACK_SIGNING_SECRET for OAuth installs (see README.md)."
)
BANNER = "smx console: type `help` for commands, `quit` to leave."
PROMPT = "smx> "
QUIT = {"quit", "exit", ":q"}
RED, RESET = "\033[31m", "\033[0m"
HISTORY = os.environ.get("SMX_HISTORY", os.path.join(os.path.expanduser("~"), ".smx_history"))


def cache_dir() -> str | None:
    """The knowledge cache's directory (knowledge.cache_dir()), or None without a home."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(base):
        return os.path.join(base, "smx")
    home = os.path.expanduser("~")
    return os.path.join(home, ".cache", "smx") if os.path.isabs(home) else None


def is_setting(name: str) -> bool:
    """Whether an environment variable is, or could be, one of bot/config.py's settings."""
    upper = name.upper()
    return upper.startswith(("SLACK_", "SMX_")) or upper == "PORT"


def settings_inputs() -> bytes | None:
    """A digest of everything the settings are read from, or None when that cannot be said
    cheaply. Only the digest is kept: the values are tokens, secrets and database passwords."""
    found = _settings_inputs()
    if found is None:
        return None
    from _blake2 import blake2b  # hashlib's own, without OpenSSL's start-up

    return blake2b(marshal.dumps(found), digest_size=32, person=b"smx-settings").digest()


def _settings_inputs() -> tuple | None:
    env = tuple((k, v) for k, v in os.environ.items() if is_setting(k))
    try:
        mode = os.stat(ENV_FILE).st_mode
    except FileNotFoundError:
        return (env, None)
    except OSError:
        return None
    if not stat.S_ISREG(mode):
        return None  # a FIFO (read once) or a directory: the full path decides
    try:
        with open(ENV_FILE, "rb") as fh:
            dotenv = fh.read()
    except OSError:
        return None
    # python-dotenv expands ${NAME} from the whole environment: more than is fingerprinted here.
    return None if b"$" in dotenv else (env, dotenv)


def db_file_problem(db_path: str) -> str | None:
    """What is wrong on disk with the SQLite file SMX_DB names (Settings.check()), or None."""
    from pathlib import Path

    db = Path(db_path).expanduser()
    if db.is_dir():
        return f"SMX_DB={db_path} is a directory: name a file in it, e.g. {db / 'smx.db'}."
    if not db.parent.is_dir():
        return f"SMX_DB={db_path}: the directory {db.parent} does not exist; create it first."
    return None


class Kept:
    """The answers kept for one surface of this installation, and how to keep another."""

    def __init__(self, surface: str, started_ns: int | None = None) -> None:
        self.surface = surface
        self.started_ns = time.time_ns() if started_ns is None else started_ns
        self.identity = (
            surface,
            sys.version,
            sys.executable,
            sys.prefix,
            tuple(sys.path),
            os.path.dirname(os.path.abspath(__file__)),
        )
        self.settings = settings_inputs()
        directory = cache_dir()
        name = f"answers-{surface}-{zlib.crc32(marshal.dumps(self.identity)):08x}.marshal"
        self.path = None if directory is None else os.path.join(directory, name)
        self.answers: dict[str, tuple[int, str]] = {}
        self.has_slack = True  # until a valid file says otherwise
        self.query: str | None = None  # `smx ask`'s words, as looked up
        # Set by the quick console when it hands over to the full one: the line still to
        # answer, with the banner printed and readline set up.
        self.pending: str | None = None
        self.greeted = False

    def load(self) -> bool:
        """Read the file; whether it holds answers for things exactly as they are now."""
        record = self._read()
        if record is None:
            return False
        self.answers, self.has_slack = record["answers"], record["has_slack"]
        return True

    def get(self, text: str) -> tuple[int, str] | None:
        """(exit code, text) kept for this query, if any."""
        hit = self.answers.get(text)
        if type(hit) is tuple and len(hit) == 2:
            code, answer = hit
            if type(code) is int and type(answer) is str:
                return code, answer
        return None

    def _read(self) -> dict | None:
        if self.path is None or self.settings is None:
            return None
        try:
            with open(self.path, "rb") as fh:
                if not _ours(os.fstat(fh.fileno())) or not _ours(
                    os.stat(os.path.dirname(self.path))
                ):
                    return None  # another user could have written it: not to be printed
                blob = fh.read()
            if not blob.startswith(MAGIC):
                return None
            checksum, _, payload = blob[len(MAGIC) :].partition(b"\n")
            if int(checksum, 16) != zlib.crc32(payload):
                return None
            record = marshal.loads(payload)
            if (
                record["identity"] != self.identity
                or record["settings"] != self.settings
                or not isinstance(record["answers"], dict)
            ):
                return None
            for path, size, mtime_ns in record["deps"]:
                found = os.stat(path)
                if found.st_size != size or found.st_mtime_ns != mtime_ns:
                    return None
            db = record["db"]
            if db is not None and db_file_problem(db) is not None:
                return None
            return record
        except Exception:  # missing, unreadable or damaged in any way: the full path answers
            return None

    def keep(self, text: str, code: int, answer: str, settings) -> None:
        """Keep the answer the full path printed for `text` (a static entry's), if it can be
        trusted later; failing to write is not an error."""
        if self.path is None or self.settings is None:
            return
        if len(text) > MAX_KEY or len(answer) > MAX_TEXT or not text.strip():
            return
        deps = _loaded_files()
        if any(mtime_ns >= self.started_ns - SETTLED_NS for _, _, mtime_ns in deps):
            # Changed while this ran, or just before (some file systems keep a modification
            # time to the second): what was printed may come from the file as it was before.
            return
        db = None if settings.database_url is not None or settings.db_path == ":memory:" else (
            settings.db_path
        )  # fmt: skip
        record = self._read()
        if record is not None and record["db"] == db and record["has_slack"] == settings.has_slack:
            answers = record["answers"]
            deps = tuple(sorted(set(deps) | set(record["deps"])))
        else:
            answers = {}
        answers.pop(text, None)
        answers[text] = (code, answer)
        while len(answers) > MAX_ANSWERS:
            answers.pop(next(iter(answers)))
        record = {
            "identity": self.identity,
            "settings": self.settings,
            "has_slack": settings.has_slack,
            "db": db,
            "deps": deps,
            "answers": answers,
        }
        _write(self.path, record)
        self.answers = answers


def _ours(st: os.stat_result) -> bool:
    """Owned by this user and writable by nobody else (a kept answer is printed as it is)."""
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _loaded_files() -> tuple[tuple[str, int, int], ...]:
    """(path, size, mtime_ns) of every loaded module's file and of the knowledge files."""
    paths = {
        m.__file__
        for m in list(sys.modules.values())
        if isinstance(getattr(m, "__file__", None), str)
    }
    knowledge = sys.modules.get("knowledge")
    if knowledge is not None:  # read by compare and explain (help reads none of it)
        paths.update(os.path.join(knowledge.HERE, name) for name in knowledge.FILES)
    found = []
    for path in paths:
        if not os.path.isabs(path):
            continue
        try:
            st = os.stat(path)
        except OSError:
            continue  # e.g. a frozen module's source that is not there: nothing to compare
        found.append((path, st.st_size, st.st_mtime_ns))
    return tuple(sorted(found))


def _write(path: str, record: dict) -> None:
    """The whole file or nothing: written beside it under a name of this process's own, then
    renamed over it (so a reader, or another writer, never sees half a file)."""
    tmp = None
    try:
        payload = marshal.dumps(record)
        blob = MAGIC + f"{zlib.crc32(payload):08x}\n".encode() + payload
        directory, name = os.path.split(path)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        tmp = os.path.join(directory, f".{name}.{os.getpid()}.{time.time_ns()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)
        tmp = None
    except (OSError, ValueError):
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _ask_text(argv: list[str]) -> str | None:
    """The query of `smx ask WORDS...` with no options, as bot/cli.py joins it; else None."""
    if len(argv) < 2 or argv[0] != "ask" or any(a.startswith("-") for a in argv[1:]):
        return None
    return " ".join(argv[1:])


def main(argv: list[str] | None = None) -> int:
    """`smx`: a kept static answer when there is one, else bot/cli.py's main."""
    started_ns = time.time_ns()
    argv = sys.argv[1:] if argv is None else list(argv)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")  # as bot/cli.py's main does
    text = _ask_text(argv)
    keep = None
    if text is not None:
        keep = _opened("ask", started_ns)
        hit = None
        if keep is not None:
            keep.query = text
            hit = keep.get(text)
        if hit is not None:
            code, answer = hit
            try:
                print(answer)
                sys.stdout.flush()
            except BrokenPipeError:
                sys.stderr.close()
                return 0
            return code
    elif argv in ([], ["run"], ["console"]):
        keep = _opened("console", started_ns)
        if keep is not None and keep.answers and (argv == ["console"] or not keep.has_slack):
            done = _console(keep, hint=argv != ["console"])
            if done is not None:
                return done
    from bot.cli import main as full

    return full(argv, keep=keep)


def _opened(surface: str, started_ns: int) -> Kept | None:
    """The surface's kept answers, loaded (none when the file cannot be trusted); None only if
    even that failed, and then nothing is kept either: the full path answers as it always did."""
    try:
        keep = Kept(surface, started_ns)
        if not keep.load():
            keep.answers = {}
        return keep
    except Exception:
        return None


def _console(keep: Kept, *, hint: bool) -> int | None:
    """The console, answering from `keep` until a line has no kept answer: None then, with
    that line in `keep.pending` for the full console to carry on from."""
    stdin, stdout = sys.stdin, sys.stdout
    interactive = stdin.isatty()
    if interactive:
        setup_readline()
    if hint:
        print(CONNECT_HINT)
    print(BANNER, file=stdout)
    keep.greeted = True
    while True:
        line = next_line(interactive, stdin, stdout)
        if line is None:
            return 0
        hit = keep.get(line)
        if hit is None:
            keep.pending = line
            return None
        code, text = hit
        colour = code != 0 and interactive and stdout.isatty()
        print(f"{RED}{text}{RESET}" if colour else text, file=stdout)


def next_line(interactive: bool, stdin, stdout) -> str | None:
    """The console's next line to answer, stripped and without a leading `/smx`; None when the
    session ends (end of input, Ctrl-C or a quit word). Blank lines are skipped."""
    while True:
        try:
            line = input(PROMPT) if interactive else read_line(stdin, stdout)
        except (EOFError, KeyboardInterrupt):
            print(file=stdout)
            return None
        line = line.strip()
        if not line:
            continue
        if line.lower() in QUIT:
            return None
        return line[4:].strip() if line.lower().startswith("/smx") else line


def read_line(stdin, stdout) -> str:
    """A line of a console that is not a terminal, after the prompt. Piped input is not echoed
    by a terminal, so the line is written after the prompt here: the output reads as a session
    (`smx> explain roas`, then its answer), not a prompt run into the answer."""
    print(PROMPT, end="", file=stdout, flush=True)
    line = stdin.readline()
    if not line:
        raise EOFError  # the caller ends the last prompt's line
    print(line.rstrip("\r\n"), file=stdout, flush=True)
    return line


def setup_readline() -> None:
    """Line editing, history and completion of command names for an interactive console."""
    try:
        import readline
    except ImportError:  # not every platform has it; the console still works without editing
        return

    matches: list[str] = []

    def complete(text: str, state: int) -> str | None:
        nonlocal matches
        if state == 0:
            from bot.console import completions  # the command table, on the first Tab

            typed = readline.get_line_buffer().lstrip()
            # readline replaces only the current word, so offer the rest from that word on.
            cut = len(typed) - len(text)
            matches = [m[cut:] for m in completions(typed) if len(m) >= cut]
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
