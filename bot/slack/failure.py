"""The one sentence a person reads when smx itself failed, and the log line that carries its id.

A bug must not show a traceback, nor look like the person's mistake: they get an id they can
quote, and whoever runs smx finds the same id in the log with the cause. A database that failed
(a StoreError) is not a bug of smx's to quote an id for: it is said as what it is, so the person
knows to try again in a while, and the log has the store's own sentence.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from bot.errors import database_sentence
from bot.logs import new_error_id
from bot.store.base import StoreError

SORRY = (
    "Sorry, something went wrong on my side (error id `{id}`). Please try again; if it keeps "
    "happening, tell whoever runs smx that id."
)


def sorry(error_id: str) -> str:
    return SORRY.format(id=error_id)


def log_failure(log: logging.Logger, event: str, **extra: Any) -> str:
    """Log the exception being handled; the sentence to tell the person. A store failure is said
    as one (and logged with the store's sentence); anything else gets a new error id."""
    err = sys.exc_info()[1]
    if isinstance(err, StoreError):
        log.error(
            f"{event}: the database failed",
            extra={"error": str(err), "kind": type(err).__name__, **extra},
        )
        return database_sentence(err)
    error_id = new_error_id()
    log.exception(event, extra={"error_id": error_id, **extra})
    return sorry(error_id)
