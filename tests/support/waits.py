"""Waiting for an outcome, never for a length of time: a slow machine only waits longer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

WAIT = 30.0  # generous deadline for anything a test waits on; never a measure of speed


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], within: float = WAIT, every: float = 0.01
) -> None:
    """Wait until `check()` (sync or async) is true, polling; fails after `within` seconds. For
    outcomes no event announces (a row a background task writes)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        done = check()
        if asyncio.iscoroutine(done):
            done = await done
        if done:
            return
        assert loop.time() < deadline, f"not true after {within} s: {check}"
        await asyncio.sleep(every)  # the polling interval, not a wait standing in for the outcome
