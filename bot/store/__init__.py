"""Storage for smx: notes, processed events, digest subscriptions and runs, Slack installations.
Callers use `open_store(target)` and the `Store` protocol (bot/store/base.py); the backend is
SQLite for a file path and PostgreSQL for a postgresql:// URL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
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
    "is_postgres",
    "may_read",
    "open_store",
]


def __getattr__(name: str) -> Any:
    """The SQLite backend and the schema (sqlite3 with them) load on first use, so code that only
    needs the store's types or errors (the console, `smx ask` on its error path) imports no driver."""
    if name == "SqliteStore":
        from bot.store.sqlite import SqliteStore

        return SqliteStore
    if name == "LATEST":
        from bot.store.schema import LATEST

        return LATEST
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(target: str) -> bool:
    """Whether `target` names a PostgreSQL database (a postgresql:// or postgres:// URL)."""
    return target.lower().startswith(POSTGRES_SCHEMES)


def open_store(target: str) -> Store:
    """The store for `target` (Settings.database): PostgreSQL for a postgresql:// or postgres://
    URL, else the SQLite file at that path. Cheap: nothing is opened until `migrate()` or the
    first call, and the PostgreSQL driver is imported only when a URL asks for it."""
    target = str(target)
    if is_postgres(target):
        from bot.store.postgres import PostgresStore

        return PostgresStore(target)
    from bot.store.sqlite import SqliteStore

    return SqliteStore(target)
