"""The one sentence a person reads when smx itself failed, and the log line that carries its id.

A bug must not show a traceback, nor look like the person's mistake: they get an id they can
quote, and whoever runs smx finds the same id in the log with the cause.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.logs import new_error_id

SORRY = (
    "Sorry, something went wrong on my side (error id `{id}`). Please try again; if it keeps "
    "happening, tell whoever runs smx that id."
)


def sorry(error_id: str) -> str:
    return SORRY.format(id=error_id)


def log_failure(log: logging.Logger, event: str, **extra: Any) -> str:
    """Log the exception being handled under a new error id; the sentence to tell the person."""
    error_id = new_error_id()
    log.exception(event, extra={"error_id": error_id, **extra})
    return sorry(error_id)
