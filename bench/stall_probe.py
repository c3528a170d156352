"""Run `smx` (bot.cli.main) with a loop-lag probe in every event loop it creates; no bot/ edits.

    SMX_BENCH_STALLS=/tmp/stalls.json python bench/stall_probe.py serve --port 3000

The probe is a callback due every TICK seconds; how late it runs is how long the loop was held
by something else (a stall is at least that long, and at most TICK longer). For each wall-clock
tenth of a second the worst lateness is kept, and written to SMX_BENCH_STALLS as JSON when the
process exits, so the benchmark can take the longest stall inside each of its measured windows.
The garbage collector's pauses are kept the same way (a likely cause of a stall, timed apart).
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import json
import os
import sys
import time

TICK = 0.005
worst: dict[int, float] = {}  # wall-clock tenth of a second -> worst lateness in seconds
gc_worst: dict[int, tuple[float, int]] = {}  # the same for GC pauses: (seconds, generation)
_gc_started = 0.0


def on_gc(phase: str, info: dict) -> None:
    global _gc_started
    if phase == "start":
        _gc_started = time.perf_counter()
        return
    took = time.perf_counter() - _gc_started
    if took > 0.001:
        slot = int(time.time() * 10)
        if took > gc_worst.get(slot, (0.0, 0))[0]:
            gc_worst[slot] = (took, info.get("generation", -1))


def probe(loop: asyncio.AbstractEventLoop) -> None:
    due = loop.time() + TICK

    def tick() -> None:
        nonlocal due
        now = loop.time()
        late = now - due
        if late > 0.001:
            slot = int(time.time() * 10)
            if late > worst.get(slot, 0.0):
                worst[slot] = late
        due = now + TICK
        loop.call_at(due, tick)

    loop.call_at(due, tick)


class ProbedPolicy(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        loop = super().new_event_loop()
        probe(loop)
        return loop


def write() -> None:
    path = os.environ.get("SMX_BENCH_STALLS")
    if path:
        with open(path, "w") as out:
            json.dump(
                {
                    "tick_s": TICK,
                    "worst": {str(k / 10): v for k, v in worst.items()},
                    "gc": {str(k / 10): v for k, v in gc_worst.items()},
                },
                out,
            )


if __name__ == "__main__":
    asyncio.set_event_loop_policy(ProbedPolicy())
    atexit.register(write)
    gc.callbacks.append(on_gc)
    from bot.cli import main

    sys.exit(main(sys.argv[1:]))
