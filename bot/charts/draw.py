"""Where a server draws its charts: a worker process of its own, so drawing never holds the
interpreter lock the event loop needs.

Drawing in a thread kept it off the loop but not off the lock: matplotlib's drawing and the PNG
encoder hold it for tens of milliseconds at a time, and a loop beside a thread drawing digest
charts one after another answered a 5 ms tick up to 90 ms late (bench/bench_charts.py, docs/
BENCHMARKS.md section 7). One worker process, started ('spawn') on the first chart and kept, does
the drawing; a Chart goes to it and PNG bytes come back. One worker is enough: a digest pass
queues its charts one at a time (bot/slack/digest_chart.py), so a person's chart waits behind at
most one. If the worker cannot be started or dies, the chart is drawn in a thread instead (and
the worker started again next time): a chart is never lost to the pool.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
from concurrent.futures import Executor
from typing import Any

log = logging.getLogger("smx.charts")
_lock = threading.Lock()
_pool: Executor | None = None


def _executor() -> Executor:
    global _pool
    with _lock:
        if _pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            _pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
            atexit.register(_at_exit)  # ended before the interpreter takes its modules away
        return _pool


def _at_exit() -> None:
    with _lock:
        pool = _pool
    if pool is not None:
        pool.shutdown(wait=True)


def _forget(pool: Executor) -> None:
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False)  # a broken pool has failed its futures already


async def draw(chart: Any) -> bytes:
    """`chart` as PNG bytes (bot/charts/render.py png), drawn in the worker process."""
    from concurrent.futures.process import BrokenProcessPool

    from bot.charts.render import png

    pool = None
    try:
        pool = _executor()
        future = pool.submit(png, chart)
    except (BrokenProcessPool, OSError, RuntimeError) as err:
        # No worker to be had (processes cannot be started here, or the pool is shut): a thread.
        return await _in_thread(pool, chart, err)
    try:
        return await asyncio.wrap_future(future)
    except BrokenProcessPool as err:  # the worker died under this chart
        return await _in_thread(pool, chart, err)
    # Anything else is the chart's own failure (png raised): the caller says the chart is
    # missing; the worker is fine and the charts queued behind it are left alone.


async def _in_thread(pool: Executor | None, chart: Any, err: BaseException) -> bytes:
    from bot.charts.render import png

    log.warning("chart worker unavailable; drawing in a thread", extra={"error": repr(err)})
    if pool is not None:
        _forget(pool)
    return await asyncio.to_thread(png, chart)


def stop() -> None:
    """End the worker (tests; a process exiting ends it anyway)."""
    with _lock:
        pool = _pool
    if pool is not None:
        _forget(pool)
