"""Storage for smx: notes, processed events, digest subscriptions and digest runs. Callers use
`open_store(path)` and the `Store` protocol; the backend is SQLite."""

from __future__ import annotations

from bot.store.base import (
    FINAL_RUN_STATES,
    Audience,
    CampaignTotals,
    DeleteOutcome,
    DigestRun,
    NewNote,
    Note,
    NotePage,
    Origin,
    RunState,
    Store,
    Subscription,
    SubscriptionState,
    Viewer,
    WeekActivity,
    may_read,
)
from bot.store.schema import LATEST, SchemaTooNew
from bot.store.sqlite import SqliteStore

__all__ = [
    "FINAL_RUN_STATES",
    "LATEST",
    "Audience",
    "CampaignTotals",
    "DeleteOutcome",
    "DigestRun",
    "NewNote",
    "Note",
    "NotePage",
    "Origin",
    "RunState",
    "SchemaTooNew",
    "SqliteStore",
    "Store",
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
