"""Python's full garbage collections held off, and the GIL handed on sooner, while a burst of work
runs (a digest pass).

A full (generation 2) collection walks every object the process tracks and holds the GIL, so
the event loop, for as long as that takes: during a pass over 10,000 digests, whose pages of
notes and replies are alive at once, single collections took 80-320 ms and were most of the
slow acks (bench/bench_digest.py, the acks phase). Young collections stay on, so short-lived
cycles (a request's) are still collected within milliseconds; only the full ones wait until the
last burst ends, and the objects a burst leaves behind are freed by reference counting as
before. Measured with a 1,000-channel pass: ack p99 77 -> 14 ms, longest stall 97 -> 16 ms,
peak RSS unchanged (117 MB).

The middle (generation 1) collections are held off too. A burst's objects that outlive one young
collection (a page's weeks and replies, the deliveries' tasks) are alive for the page's life,
and each middle collection walked them again: a second walk of every one, and half of the
collector's time in a 10,000-channel pass (gc 1.1-1.6 s -> 0.54-0.56 s in the pass, 0.7-0.9 s
-> about 0.4 s in composing alone, bench/bench_digest.py). What that costs: a cycle that
outlives one young collection waits for the burst's end to be collected, as a full one waits.

While a burst runs, the interpreter also hands the GIL between threads every SWITCH seconds
instead of every 5 ms: the burst's worker threads (a page's build, the store's reads) hold it
in long CPU stretches, and the event loop, which needs it back after every wait, got it only
when one of them had run its 5 ms. Measured with a 10,000-channel pass on a busy 2-core
machine: ack p99 74 -> 34 ms, p50 7.7 -> 3.3 ms, the pass no slower.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable

# Middle and full collections are due after this many of the generation below: never within
# a burst.
HELD = 1_000_000
SWITCH = 0.001  # seconds a thread holds the GIL before it is handed on, within a burst

_lock = threading.Lock()
_holders = 0
_saved: tuple[int, int, int] | None = None
_saved_switch: float | None = None


def hold_full_collections() -> Callable[[], None]:
    """Hold off full collections until the returned function is called (once; more calls do
    nothing). Bursts may overlap: the thresholds come back when the last one ends."""
    global _holders, _saved, _saved_switch
    with _lock:
        if _holders == 0:
            _saved = gc.get_threshold()
            young, _middle, _full = _saved
            gc.set_threshold(young, HELD, HELD)
            _saved_switch = sys.getswitchinterval()
            sys.setswitchinterval(min(SWITCH, _saved_switch))
        _holders += 1
    released = False

    def release() -> None:
        global _holders, _saved, _saved_switch
        nonlocal released
        with _lock:
            if released:
                return
            released = True
            _holders -= 1
            if _holders == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
            if _holders == 0 and _saved_switch is not None:
                sys.setswitchinterval(_saved_switch)
                _saved_switch = None

    return release


def holding() -> bool:
    with _lock:
        return _holders > 0
