"""Storage for smx: notes, processed events, digest subscriptions and runs, Slack installations.
Callers use `open_store(target)` and the `Store` protocol (bot/store/base.py); the backend is
SQLite for a file path and PostgreSQL for a postgresql:// URL."""

from __future__ import annotations

from bot.store.base import (
    FINAL_RUN_STATES,
    Audience,
    BackupUnsupported,
    CampaignTotals,
    DeleteOutcome,
    DigestRun,
    InstallationRecord,
    NewNote,
    Note,
    NotePage,
    Origin,
    RunState,
    SchemaTooNew,
    Store,
    StoreError,
    StoreUnavailable,
    Subscription,
    SubscriptionState,
    Viewer,
    WeekActivity,
    may_read,
)
from bot.store.schema import LATEST
from bot.store.sqlite import SqliteStore

__all__ = [
    "FINAL_RUN_STATES",
    "LATEST",
    "Audience",
    "BackupUnsupported",
    "CampaignTotals",
    "DeleteOutcome",
    "DigestRun",
    "InstallationRecord",
    "NewNote",
    "Note",
    "NotePage",
    "Origin",
    "RunState",
    "SchemaTooNew",
    "SqliteStore",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "Subscription",
    "SubscriptionState",
    "Viewer",
    "WeekActivity",
    "may_read",
    "open_store",
]


def open_store(path: str) -> SqliteStore:
    """The store for `path` (SMX_DB). Cheap: the file is opened and migrated by the first call made
    through it, in the store's own thread, so the event loop never waits for a migration."""
    return SqliteStore(str(path))
