"""Work that runs after Slack was answered (lazy listeners), tracked so a shutdown can let it finish.

Slack does not re-send what it has had an acknowledgement for, so a reply still being computed or
posted when the process is asked to stop would be lost without this.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bot import telemetry
from bot.slack.failure import log_failure

log = logging.getLogger("smx.slack")
_running: set[asyncio.Task] = set()


UNREACHABLE = "I couldn't reach Slack to finish that just now. Please try again in a moment."


def tracked(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    # functools.wraps keeps the signature visible (Bolt injects arguments by parameter name).
    @functools.wraps(fn)
    async def run(*args: Any, **kwargs: Any) -> Any:
        task = asyncio.current_task()
        if task is not None:
            _running.add(task)
        try:
            return await fn(*args, **kwargs)
        except (aiohttp.ClientError, TimeoutError) as err:
            # Work after the ack talks only to Slack: a connection Slack dropped or let time out
            # (a response_url that would not take the reply, say) is Slack's outage, not smx's
            # bug. Logged and counted as such, and said in words where Slack may still listen.
            telemetry.SLACK_API_ERRORS.labels("after_ack", type(err).__name__).inc()
            log.warning(
                "Slack could not be reached after the ack",
                extra={"listener": fn.__name__, "error": repr(err)[:200]},
            )
            body = kwargs.get("body") or {}
            await _tell(body.get("response_url"), UNREACHABLE)
            return None
        except Exception as err:
            # Work after the ack has no HTTP answer to carry an error, so say it here: logged
            # (with an id, unless it is the database failing) and, where Slack gave a
            # response_url, told to the person in those words.
            body = kwargs.get("body") or {}
            telemetry.count_failure("after_ack", err)
            sentence = log_failure(log, "work after the ack failed", listener=fn.__name__)
            await _tell(body.get("response_url"), sentence)
            return None
        finally:
            _running.discard(task)  # type: ignore[arg-type]

    return run


async def _tell(response_url: str | None, text: str) -> None:
    if not response_url:
        return
    from slack_sdk.webhook.async_client import AsyncWebhookClient

    with contextlib.suppress(Exception):  # telling is best effort; the log already has the cause
        await AsyncWebhookClient(response_url).send(
            text=text, response_type="ephemeral", replace_original=False
        )


def pending() -> int:
    return sum(1 for t in _running if not t.done())


async def drain(grace: float) -> int:
    """Wait up to `grace` seconds for tracked work; returns how many were still running after."""
    waiting = [t for t in _running if not t.done()]
    if waiting:
        await asyncio.wait(waiting, timeout=grace)
    return pending()
