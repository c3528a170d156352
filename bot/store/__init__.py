"""Storage for smx: notes and processed events today; subscriptions, digest runs and installations
next. Callers use `open_store(path)` and the `Store` protocol; the backend is SQLite."""

from __future__ import annotations

from bot.store.base import (
    CampaignTotals,
    DeleteOutcome,
    NewNote,
    Note,
    NotePage,
    Store,
    Viewer,
)
from bot.store.schema import LATEST, SchemaTooNew
from bot.store.sqlite import SqliteStore

__all__ = [
    "LATEST",
    "CampaignTotals",
    "DeleteOutcome",
    "NewNote",
    "Note",
    "NotePage",
    "SchemaTooNew",
    "SqliteStore",
    "Store",
    "Viewer",
    "open_store",
]


def open_store(path: str) -> SqliteStore:
    """The store for `path` (SMX_DB). Cheap: the file is opened and migrated by the first call made
    through it, in the store's own thread, so the event loop never waits for a migration."""
    return SqliteStore(str(path))
