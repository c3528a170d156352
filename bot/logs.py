"""Structured logs: one JSON object per line, with tokens and secrets scrubbed before they leave."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid

# Slack tokens and anything that looks like one, wherever they appear in a message.
_TOKEN = re.compile(r"\b(xox[abposre]-[\w\-]+|xapp-[\w\-]+)")
POOL_LOGGER = "psycopg.pool"
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class Redactor:
    def __init__(self, secrets: list[str] | None = None) -> None:
        self.secrets = sorted(
            {s for s in (secrets or []) if s and len(s) >= 6}, key=len, reverse=True
        )

    def __call__(self, text: str) -> str:
        text = _TOKEN.sub("[redacted-token]", text)
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text


class JsonFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return self.redact(json.dumps(entry, default=str, ensure_ascii=False))


def configure(
    level: str = "INFO", secrets: list[str] | None = None, stream=None
) -> logging.Handler:
    """Route every logger (ours, Bolt's, aiohttp's) through one JSON, redacting handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(Redactor(secrets)))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # psycopg_pool logs each failed attempt to connect ("error connecting in 'smx': ...", several
    # a second while PostgreSQL is down); smx says the outage itself, once per failed query and
    # health check. Its errors still show, and everything at DEBUG.
    pool = logging.getLogger(POOL_LOGGER)
    pool.setLevel(logging.NOTSET if root.level <= logging.DEBUG else logging.ERROR)
    return handler


def new_error_id() -> str:
    return uuid.uuid4().hex[:8]
