"""Work that runs after Slack was answered (lazy listeners), tracked so a shutdown can let it finish.

Slack does not re-send what it has had an acknowledgement for, so a reply still being computed or
posted when the process is asked to stop would be lost without this.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

_running: set[asyncio.Task] = set()


def tracked(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    # functools.wraps keeps the signature visible (Bolt injects arguments by parameter name).
    @functools.wraps(fn)
    async def run(*args: Any, **kwargs: Any) -> Any:
        task = asyncio.current_task()
        if task is not None:
            _running.add(task)
        try:
            return await fn(*args, **kwargs)
        finally:
            _running.discard(task)  # type: ignore[arg-type]

    return run


def pending() -> int:
    return sum(1 for t in _running if not t.done())


async def drain(grace: float) -> int:
    """Wait up to `grace` seconds for tracked work; returns how many were still running after."""
    waiting = [t for t in _running if not t.done()]
    if waiting:
        await asyncio.wait(waiting, timeout=grace)
    return pending()
