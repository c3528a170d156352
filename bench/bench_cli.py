"""Cold start of the terminal face: wall time of `smx ask ...` as fresh processes (median, max).

.venv/bin/python bench/bench_cli.py [RUNS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

QUERIES = ("help", "compare timeline", "explain cpm", "estimate budget=500 cpm=8 ctr=1%", "notes")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SMX_"))}
    with tempfile.TemporaryDirectory() as tmp:
        env["SMX_DB"] = os.path.join(tmp, "bench.db")
        for query in QUERIES:
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-m", "bot", "ask", *query.split()],
                    env=env,
                    cwd=tmp,
                    stdout=subprocess.DEVNULL,
                    check=False,
                )
                times.append(time.perf_counter() - started)
            print(
                f"smx ask {query:<36} median {statistics.median(times) * 1000:6.0f} ms   "
                f"max {max(times) * 1000:6.0f} ms   ({runs} runs)"
            )


if __name__ == "__main__":
    main()
