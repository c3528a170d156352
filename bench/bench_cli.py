"""Cold start of the terminal faces against `python -c pass`, side by side in one run.

.venv/bin/python bench/bench_cli.py [RUNS] [--as-is] [--imports]

Each case is a fresh process: `smx ask help`, `smx ask explain cpm`, `smx ask explain roas`,
`smx ask compare`, `smx ask estimate budget=500 cpm=8`, `smx ask notes` (opens the database),
and the console's first answer (time from start until `help`'s answer and the next prompt are
printed). The static ones (help, explain, compare, the console's `help`) are printed from the
answers kept by an earlier run (bot/quick.py); `smx ask help, nothing kept` deletes them before
each run, so it is the full path a first run after an upgrade or an edit takes (keeping included). Every run of a case is paired with a run of `python -c pass` just before it,
alternating, so both see the same machine; the table gives the medians and their ratio (the
goal: `help` at most 3x).

`--imports` adds, for each `smx ask` case, where its import time goes (one run with
`python -X importtime`): each module's own time is counted for the first package outside smx
on its import chain, so pydantic's dependencies count as pydantic and asyncio's (ssl, socket,
concurrent.futures) as asyncio; smx's own modules include building their pydantic models.
`-X importtime` slows imports down, and it leaves out work done after importing and the
interpreter's teardown at exit, so its figures add up to less than the medians above.

An installed smx has its bytecode compiled (pip does it); a checkout run with
PYTHONDONTWRITEBYTECODE=1 recompiles every module of smx on each start. So the children get a
bytecode cache of their own (PYTHONPYCACHEPREFIX in a temporary directory, warmed first) and
the knowledge cache in a temporary XDG_CACHE_HOME, warmed too. `--as-is` runs them with the
environment exactly as given instead (no bytecode written, knowledge cache where it is).
"""

from __future__ import annotations

import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time

ASKS = ("help", "explain cpm", "explain roas", "compare", "estimate budget=500 cpm=8", "notes")
OWN = ("bot", "knowledge")  # smx's own packages
# Imported by name from inside pydantic (its lazy attributes), so they show under whoever asked.
FAMILY = {m: "pydantic" for m in ("pydantic_core", "annotated_types", "typing_inspection",
                                  "typing_extensions")}  # fmt: skip
# What `python -c pass` imports as well: the interpreter's start.
STARTUP = ("site", "encodings", "codecs", "io", "abc", "os", "stat", "posixpath", "genericpath",
           "_collections_abc", "_sitebuiltins", "zipimport", "_distutils_hack", "time")  # fmt: skip
CONSOLE = "console: first answer"
UNKEPT = "smx ask help, nothing kept"


def _ask(query: str, env: dict, cwd: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot", "ask", *query.split()],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return time.perf_counter() - started


def _console(env: dict, cwd: str) -> float:
    """Seconds until the console has printed its first answer and prompts again."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "console"],
        env=env,
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"help\n")
    proc.stdin.flush()
    seen = b""
    # The banner's prompt, then the answer, then the second prompt: the answer is complete.
    while seen.count(b"smx> ") < 2:
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        seen += chunk
    elapsed = time.perf_counter() - started
    proc.stdin.close()
    proc.wait()
    proc.stdout.close()
    return elapsed


def import_times(stderr: str) -> dict[str, float]:
    """Milliseconds of import per package, from `-X importtime` output (see the docstring)."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, _, name = line[len("import time:") :].split("|")
        rows.append(((len(name) - len(name.lstrip()) - 1) // 2, name.strip(), int(own)))
    totals: dict[str, float] = {}
    chain: list[str] = []
    for depth, name, own in reversed(rows):  # a parent is printed after its children
        chain[depth:] = [name]
        tops = [m.partition(".")[0] for m in chain]
        if tops[0] in STARTUP or tops[0].startswith("__editable__"):
            group = "interpreter start"
        else:
            group = next((t for t in tops if t not in OWN), "smx (own modules)")
            group = FAMILY.get(group, group)
        totals[group] = totals.get(group, 0.0) + own / 1000
    return totals


def _print_imports(env: dict, cwd: str) -> None:
    print("\nImport time by package (-X importtime, median of 5 runs each; ms):")
    for query in ASKS:
        seen: dict[str, list[float]] = {}
        for _ in range(5):
            done = subprocess.run(
                [sys.executable, "-X", "importtime", "-m", "bot", "ask", *query.split()],
                env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                check=False,
            )  # fmt: skip
            for name, ms in import_times(done.stderr).items():
                seen.setdefault(name, []).append(ms)
        totals = {name: statistics.median(v + [0.0] * (5 - len(v))) for name, v in seen.items()}
        shown = sorted(totals.items(), key=lambda kv: -kv[1])
        parts = ", ".join(f"{name} {ms:.0f}" for name, ms in shown[:7])
        print(f"  smx ask {query:<28} {sum(totals.values()):5.0f} total: {parts}")


def _unkept(env: dict, cwd: str) -> float:
    """`smx ask help` with no kept answers: the full path (the file removed before, untimed)."""
    for path in glob.glob(os.path.join(env["XDG_CACHE_HOME"], "smx", "answers-*")):
        os.unlink(path)
    return _ask("help", env, cwd)


def _pass(env: dict, cwd: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], env=env, cwd=cwd, check=False)
    return time.perf_counter() - started


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    as_is = "--as-is" in sys.argv
    runs = int(args[0]) if args else 9
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SMX_"))}
    with tempfile.TemporaryDirectory() as tmp:
        env["SMX_DB"] = os.path.join(tmp, "bench.db")
        if not as_is:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
            env["XDG_CACHE_HOME"] = os.path.join(tmp, "xdg")
        cases = {f"smx ask {q}": (lambda q=q: _ask(q, env, tmp)) for q in ASKS}
        cases[CONSOLE] = lambda: _console(env, tmp)
        if not as_is:  # a cache directory of its own: the other cases keep theirs
            unkept = {**env, "XDG_CACHE_HOME": os.path.join(tmp, "xdg-unkept")}
            cases[UNKEPT] = lambda: _unkept(unkept, tmp)
        for run in cases.values():  # warm: bytecode, knowledge cache, database file, page cache
            run()
        times: dict[str, list[float]] = {name: [] for name in cases}
        passes: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(runs):
            for name, run in cases.items():
                passes[name].append(_pass(env, tmp))
                times[name].append(run())
        print(
            f"Cold start, {runs} runs each, alternating with `python -c pass` "
            f"({'environment as is' if as_is else 'bytecode and knowledge caches warm'}); "
            f"{sys.executable}, Python {sys.version.split()[0]}"
        )
        print(f"{'case':<40} {'median':>9} {'max':>9} {'pass':>9} {'ratio':>7}")
        for name in cases:
            median, baseline = statistics.median(times[name]), statistics.median(passes[name])
            print(
                f"{name:<40} {median * 1000:7.0f}ms {max(times[name]) * 1000:7.0f}ms "
                f"{baseline * 1000:7.0f}ms {median / baseline:6.1f}x"
            )
        print("goal: `smx ask help` at most 3.0x `python -c pass`")
        if "--imports" in sys.argv:
            _print_imports(env, tmp)


if __name__ == "__main__":
    main()
