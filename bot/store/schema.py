"""The schema's versions, one list for both backends, and the SQLite migrations and their runner.

`VERSIONS` is the one list: every backend has exactly one migration for each of its versions
(SQLite's here, PostgreSQL's in bot/store/postgres_schema.py), checked when the module loads, so a
version added for one backend and forgotten for the other fails every test at once.

A database remembers which migrations it has had in `schema_version`; opening it applies the rest,
in one transaction, so a file made by any older smx upgrades in place with its data intact and a
crash half-way leaves it as it was. Migrations are append-only: never edit a released one, add
the next (digest subscriptions and runs came this way, as v4).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.store.base import SchemaTooNew
from bot.store.transaction import write_transaction

if TYPE_CHECKING:  # imported when a migration runs: a one-shot `smx ask` skips its 35 ms
    from sqlite_utils import Database


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Database], None]


def _run(db: Database, *statements: str) -> None:
    # One statement at a time: executescript() would COMMIT the surrounding transaction.
    for statement in statements:
        db.execute(statement)


def _v1_notes(db: Database) -> None:
    _run(
        db,
        # AUTOINCREMENT: an id that was answered and then deleted is never handed out again.
        """
        CREATE TABLE notes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            team TEXT NOT NULL,
            workspace TEXT NOT NULL,
            channel TEXT NOT NULL,
            channel_kind TEXT NOT NULL
                CHECK (channel_kind IN ('public', 'private', 'im', 'mpim', 'console')),
            author TEXT NOT NULL,
            campaign TEXT NOT NULL,
            text TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 4000),
            created_at TEXT NOT NULL,
            platform TEXT,
            spend REAL,
            currency TEXT,
            impressions REAL,
            clicks REAL,
            conversions REAL,
            metrics TEXT NOT NULL DEFAULT '{}'
        )
        """,
        # Listings are "this team, newest first", optionally for one campaign; both served by an
        # index that starts with the team, so one tenant's reads never scan another's notes.
        "CREATE INDEX notes_team_time ON notes (team, created_at)",
        "CREATE INDEX notes_team_campaign_time ON notes (team, campaign, created_at)",
    )


def _v2_notes_search(db: Database) -> None:
    _run(
        db,
        # External content: the text lives once, in notes; the triggers keep the index in step
        # with every insert, update and delete, whoever makes it.
        """
        CREATE VIRTUAL TABLE notes_fts USING fts5(
            campaign, text,
            content='notes', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2'
        )
        """,
        """
        CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes BEGIN
            INSERT INTO notes_fts (rowid, campaign, text) VALUES (new.id, new.campaign, new.text);
        END
        """,
        """
        CREATE TRIGGER notes_fts_delete AFTER DELETE ON notes BEGIN
            INSERT INTO notes_fts (notes_fts, rowid, campaign, text)
                VALUES ('delete', old.id, old.campaign, old.text);
        END
        """,
        """
        CREATE TRIGGER notes_fts_update AFTER UPDATE OF campaign, text ON notes BEGIN
            INSERT INTO notes_fts (notes_fts, rowid, campaign, text)
                VALUES ('delete', old.id, old.campaign, old.text);
            INSERT INTO notes_fts (rowid, campaign, text) VALUES (new.id, new.campaign, new.text);
        END
        """,
        # Notes written before this version become searchable too.
        "INSERT INTO notes_fts (notes_fts) VALUES ('rebuild')",
    )


def _v3_processed_events(db: Database) -> None:
    # Slack re-delivers events it thinks failed; a side effect runs only for the first delivery.
    db["processed_events"].create(
        {"event_id": str, "team": str, "seen_at": str},
        pk="event_id",
        not_null={"team", "seen_at"},
    )
    db["processed_events"].create_index(["seen_at"], index_name="processed_events_seen_at")


def _v4_digests(db: Database) -> None:
    _run(
        db,
        # One weekly digest per channel of a tenant. next_run is UTC text (notes.db_time), always
        # computed from the local slot (bot/digest/slots.py), so "due" is a string compare.
        """
        CREATE TABLE digest_subscriptions (
            team TEXT NOT NULL,
            channel TEXT NOT NULL,
            workspace TEXT NOT NULL,
            enterprise TEXT NOT NULL DEFAULT '',
            weekday INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
            hour INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
            minute INTEGER NOT NULL CHECK (minute BETWEEN 0 AND 59),
            tz TEXT NOT NULL,
            subscriber TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused')),
            paused_reason TEXT,
            include_empty INTEGER NOT NULL DEFAULT 0,
            next_run TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (team, channel)
        )
        """,
        "CREATE INDEX digest_subscriptions_due ON digest_subscriptions (state, next_run)",
        "CREATE INDEX digest_subscriptions_workspace ON digest_subscriptions (workspace, state)",
        # The primary key is the claim: a week's digest for a channel can be inserted once.
        """
        CREATE TABLE digest_runs (
            team TEXT NOT NULL,
            channel TEXT NOT NULL,
            week TEXT NOT NULL,
            due TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('claimed', 'sending', 'retry', 'posted',
                'skipped', 'failed', 'lost', 'dropped')),
            late INTEGER NOT NULL DEFAULT 0,
            claimed_by TEXT,
            claimed_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            retry_at TEXT,
            ts TEXT,
            notes INTEGER,
            error TEXT,
            finished_at TEXT,
            PRIMARY KEY (team, channel, week)
        )
        """,
        "CREATE INDEX digest_runs_open ON digest_runs (state, claimed_at)",
    )


def _v5_digest_notices(db: Database) -> None:
    # When the subscriber was told about a lost digest: telling is retried until it is recorded,
    # so a process that dies between marking a run lost and sending the DM does not keep it quiet.
    _run(db, "ALTER TABLE digest_runs ADD COLUMN told_at TEXT")


def _v6_installations(db: Database) -> None:
    # IF NOT EXISTS: before v6 the Slack face created these tables itself, in the same file, with
    # this same layout; a file from then keeps its installations.
    _run(
        db,
        """
        CREATE TABLE IF NOT EXISTS slack_installations (
            id INTEGER PRIMARY KEY,
            enterprise_id TEXT NOT NULL DEFAULT '',
            team_id TEXT NOT NULL DEFAULT '',
            user_id TEXT NOT NULL DEFAULT '',
            is_enterprise_install INTEGER NOT NULL DEFAULT 0,
            installed_at REAL NOT NULL,
            data TEXT NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS slack_installations_team"
        " ON slack_installations (enterprise_id, team_id, user_id, installed_at)",
        """
        CREATE TABLE IF NOT EXISTS slack_bots (
            id INTEGER PRIMARY KEY,
            enterprise_id TEXT NOT NULL DEFAULT '',
            team_id TEXT NOT NULL DEFAULT '',
            is_enterprise_install INTEGER NOT NULL DEFAULT 0,
            installed_at REAL NOT NULL,
            data TEXT NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS slack_bots_team"
        " ON slack_bots (enterprise_id, team_id, installed_at)",
        # expires_at: seconds since the epoch (REAL), as the Slack face wrote it before v6.
        "CREATE TABLE IF NOT EXISTS slack_oauth_states"
        " (state TEXT PRIMARY KEY, expires_at REAL NOT NULL)",
    )


def _v7_search_by_team(db: Database) -> None:
    # What decides whether a note may be read (notes._visible), in one index by team: a search
    # lists the ids its viewer may read from it without touching the notes (notes.search), and
    # a listing counts its total there. PostgreSQL's v7 keys its full-text index by team
    # (postgres_schema.py); FTS5 has one index over every team's notes and cannot be.
    # IF NOT EXISTS and built from the rows already there: a file full of notes upgrades as is.
    _run(
        db,
        "CREATE INDEX IF NOT EXISTS notes_team_reader"
        " ON notes (team, channel_kind, channel, author)",
    )


# v8: full-text search keyed by team. Every word of a note is indexed as `<key>_<word>`, the key
# being the team's id in hex (search_terms.search_key), so a search walks its own team's postings
# only, and bm25 counts the notes that hold a word among the team's notes, not every team's: how
# often other teams use a word no longer shows in a team's order (a side channel before, besides
# the cost: tens of ms for a word nearly every note holds). bm25's other two figures, the table's
# note count and average length, are still the whole table's (README, "search"). The words are still SQLite's: each
# note is tokenised by the same tokenizer as before, in a scratch table (search_words), and its
# terms, in order, put after the key and handed to notes_search, whose `ascii` tokenizer reads
# each back as it is. The triggers do it in SQL, so every writer keeps the index in step (the
# sqlite3 shell, a tool, retention and purge deletes), with no function to register on each
# connection; smx's own inserts make the same terms in Python instead (search_terms.py, cached:
# the whole insert takes about half the time), say so with a row in notes_search_writer that
# lives for the one statement, and the insert trigger stands aside.
_V8_SCRATCH = """
    CREATE VIRTUAL TABLE search_words USING fts5(
        campaign, text, content='', columnsize=0,
        tokenize='porter unicode61 remove_diacritics 2'
    )
"""
# The note's terms as notes_search reads them: the key before each, in the note's order (a phrase
# such as "v2.1" is two terms side by side), or NULL for a column with no word.
_V8_TERMS = (
    "(SELECT group_concat({key} || term, ' ') FROM"
    " (SELECT term FROM search_words_terms WHERE col = '{col}' ORDER BY offset))"
)


def _v8_row(note: str) -> str:
    """The keyed campaign and text of `note` (new or old), after search_words was given it."""
    key = f"lower(hex({note}.team)) || '_'"
    return ", ".join(_V8_TERMS.format(key=key, col=col) for col in ("campaign", "text"))


def _v8_index(note: str) -> str:
    return f"""
        INSERT INTO search_words (rowid, campaign, text)
            VALUES ({note}.id, {note}.campaign, {note}.text);
        INSERT INTO notes_search (rowid, campaign, text) SELECT {note}.id, {_v8_row(note)};
        INSERT INTO search_words (search_words) VALUES ('delete-all');
    """


def _v8_unindex(note: str) -> str:
    # notes_search keeps no copy of what it indexed (contentless), so a delete hands it the
    # same terms again, made the same way from the same row, as an external-content index does.
    return f"""
        INSERT INTO search_words (rowid, campaign, text)
            VALUES ({note}.id, {note}.campaign, {note}.text);
        INSERT INTO notes_search (notes_search, rowid, campaign, text)
            SELECT 'delete', {note}.id, {_v8_row(note)};
        INSERT INTO search_words (search_words) VALUES ('delete-all');
    """


def _v8_search_keyed_by_team(db: Database) -> None:
    _run(
        db,
        _V8_SCRATCH,
        "CREATE VIRTUAL TABLE search_words_terms USING fts5vocab(search_words, instance)",
        # Terms are letters and digits (unicode61's) with a key of hex digits and `_` before
        # them: `ascii` with `_` a token character reads each back as one term, unchanged.
        """
        CREATE VIRTUAL TABLE notes_search USING fts5(
            campaign, text, content='', tokenize="ascii tokenchars '_'"
        )
        """,
        # Never holds a row once a statement is done: notes.insert adds one around its own.
        "CREATE TABLE notes_search_writer (writing INTEGER)",
        "CREATE TRIGGER notes_search_insert AFTER INSERT ON notes"
        f" WHEN NOT EXISTS (SELECT 1 FROM notes_search_writer) BEGIN {_v8_index('new')} END",
        f"CREATE TRIGGER notes_search_delete AFTER DELETE ON notes BEGIN {_v8_unindex('old')} END",
        "CREATE TRIGGER notes_search_update AFTER UPDATE OF team, campaign, text ON notes BEGIN"
        f" {_v8_unindex('old')} {_v8_index('new')} END",
        "DROP TRIGGER notes_fts_insert",
        "DROP TRIGGER notes_fts_delete",
        "DROP TRIGGER notes_fts_update",
        "DROP TABLE notes_fts",
    )
    rebuild_search(db.conn)


INDEX_BATCH = 5_000


def rebuild_search(conn: sqlite3.Connection, batch: int = INDEX_BATCH) -> int:
    """Index every note afresh, a batch at a time, with the terms the triggers make one note at a
    time (the same strings, byte for byte: tests/support/search_index.py compares them): v8 over
    the notes already there, and a bulk load that inserted with the triggers off (bench/).
    Inside the caller's transaction; returns how many notes it indexed."""
    conn.execute("INSERT INTO notes_search (notes_search) VALUES ('delete-all')")
    done, last = 0, 0
    while True:
        row = conn.execute(
            "SELECT max(id), count(*) FROM (SELECT id FROM notes WHERE id > ? ORDER BY id LIMIT ?)",
            (last, batch),
        ).fetchone()
        if not row[1]:
            return done
        span = (last + 1, row[0])
        conn.execute(
            "INSERT INTO search_words (rowid, campaign, text)"
            " SELECT id, campaign, text FROM notes WHERE id BETWEEN ? AND ?",
            span,
        )
        # Each note's terms in order, joined, then the note's key put before each (terms hold no
        # space): what the insert trigger makes with the key inside group_concat. The batch's ids
        # join in with no term, so a note of no word is a row too (NULL, NULL), as the trigger
        # makes it.
        conn.execute(
            "INSERT INTO notes_search (rowid, campaign, text)"
            " SELECT w.doc, k || replace(w.campaign, ' ', ' ' || k),"
            " k || replace(w.text, ' ', ' ' || k)"
            " FROM (SELECT doc,"
            "  group_concat(CASE col WHEN 'campaign' THEN term END, ' ') AS campaign,"
            "  group_concat(CASE col WHEN 'text' THEN term END, ' ') AS text"
            "  FROM (SELECT doc, col, offset, term FROM search_words_terms"
            "   UNION ALL SELECT id, NULL, NULL, NULL FROM notes WHERE id BETWEEN ? AND ?"
            "   ORDER BY 1, 2, 3)"
            "  GROUP BY doc) AS w"
            " JOIN (SELECT id, lower(hex(team)) || '_' AS k FROM notes) AS n ON n.id = w.doc"
            " ORDER BY w.doc",
            span,
        )
        conn.execute("INSERT INTO search_words (search_words) VALUES ('delete-all')")
        done += row[1]
        last = row[0]


# What a digest reads of each note in its window (bot/store/digests.py: the batch read's sums
# and its ranking of the newest notes), in one index: the read is served from the index alone,
# never from the table, whose pages hold few notes each (the text is most of a row). The id is
# in it as the rowid. Built from the rows already there: a file full of notes upgrades as is.
DIGEST_INDEX = "notes_digest"
DIGEST_INDEX_COLUMNS = (
    "team", "created_at", "channel_kind", "channel", "campaign", "author", "platform",
    "currency", "spend", "impressions", "clicks", "conversions",
)  # fmt: skip


def _v9_digest_index(db: Database) -> None:
    _run(
        db,
        f"CREATE INDEX IF NOT EXISTS {DIGEST_INDEX} ON notes ({', '.join(DIGEST_INDEX_COLUMNS)})",
    )


def _v10_search_where_v8_was_empty(db: Database) -> None:
    # For a while main's version 8 was an empty placeholder (held for the search change, merged
    # a few commits later): a file opened then is at version 9 without v8's index. It gets it now;
    # a file that had the real version 8 has it already and is left as it is.
    if "notes_search" not in db.table_names():
        _v8_search_keyed_by_team(db)


# v11: an imported row's identity (bot/imports/read.py's Row.key), unique per team and
# conversation, so that the same row imported twice in one place is logged once (and a private
# import elsewhere neither hides it nor is revealed by it); and campaign targets, one per
# campaign, figure and conversation, with the status the notes last left them in.
IMPORT_KEY_INDEX = (
    "CREATE UNIQUE INDEX notes_import_key ON notes (team, channel, import_key)"
    " WHERE import_key IS NOT NULL"
)
TARGETS_TABLE = """
    CREATE TABLE targets (
        team TEXT NOT NULL,
        workspace TEXT NOT NULL,
        campaign TEXT NOT NULL,
        key TEXT NOT NULL,
        op TEXT NOT NULL CHECK (op IN ('<=', '>=', '<', '>')),
        value {real} NOT NULL,
        currency TEXT,
        channel TEXT NOT NULL,
        channel_kind TEXT NOT NULL,
        author TEXT NOT NULL,
        set_at {time} NOT NULL,
        status TEXT NOT NULL DEFAULT 'no figures'
            CHECK (status IN ('on track', 'off track', 'no figures')),
        PRIMARY KEY (team, campaign, key, channel)
    )
"""


def _v11_imports_and_targets(db: Database) -> None:
    _run(
        db,
        "ALTER TABLE notes ADD COLUMN import_key TEXT",
        IMPORT_KEY_INDEX,
        TARGETS_TABLE.format(real="REAL", time="TEXT"),
    )


# (version, what it adds): append-only, in order, shared by every backend.
VERSIONS: tuple[tuple[int, str], ...] = (
    (1, "notes"),
    (2, "full-text search over notes"),
    (3, "processed Slack events"),
    (4, "digest subscriptions and runs"),
    (5, "digest notices to subscribers"),
    (6, "Slack installations and OAuth state"),
    (7, "full-text search keyed by team"),
    (8, "full-text index keyed by team"),
    (9, "the notes a digest reads, in one covering index"),
    (10, "full-text index keyed by team, where version 8 was once empty"),
    (11, "imported rows logged once, and campaign targets"),
)


# The tables that hold a team's rows and the columns that name the team in each: what a purge
# (`smx db purge --team T`) deletes from, on every backend, and nothing else: a PostgreSQL
# database or schema is often shared with other applications, whose tables may have a `team`
# column too. A migration that adds a table with one of TEAM_COLUMNS lists it here as well
# (tests/contract/test_upkeep.py fails until it does). A row matches when any of its columns
# equals the team: a note of a Grid org logged in a workspace belongs to both, an org-wide
# installation is keyed by its enterprise_id alone.
TEAM_COLUMNS = ("team", "team_id", "workspace", "enterprise_id", "enterprise")
TEAM_TABLES: dict[str, tuple[str, ...]] = {
    "notes": ("team", "workspace"),
    "processed_events": ("team",),
    "digest_subscriptions": ("team", "workspace", "enterprise"),
    "digest_runs": ("team",),
    "slack_installations": ("enterprise_id", "team_id"),
    "slack_bots": ("enterprise_id", "team_id"),
    "targets": ("team", "workspace"),
}


def check_versions(backend: str, versions: list[int]) -> None:
    """Raise at import when a backend's migrations are not exactly VERSIONS, in order."""
    wanted = [v for v, _ in VERSIONS]
    if versions != wanted:
        raise RuntimeError(f"{backend} migrations are {versions}, the schema's versions {wanted}")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "notes", _v1_notes),
    Migration(2, "full-text search over notes", _v2_notes_search),
    Migration(3, "processed Slack events", _v3_processed_events),
    Migration(4, "digest subscriptions and runs", _v4_digests),
    Migration(5, "digest notices to subscribers", _v5_digest_notices),
    Migration(6, "Slack installations and OAuth state", _v6_installations),
    Migration(7, "full-text search keyed by team", _v7_search_by_team),
    Migration(8, "full-text index keyed by team", _v8_search_keyed_by_team),
    Migration(9, "the notes a digest reads, in one covering index", _v9_digest_index),
    Migration(
        10,
        "full-text index keyed by team, where version 8 was once empty",
        _v10_search_where_v8_was_empty,
    ),
    Migration(11, "imported rows logged once, and campaign targets", _v11_imports_and_targets),
)
check_versions("SQLite", [m.version for m in MIGRATIONS])
LATEST = VERSIONS[-1][0]


def current_version(conn: sqlite3.Connection) -> int:
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if found is None:
        return 0
    return conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0


def migrate(conn: sqlite3.Connection, *, target: int = LATEST) -> int:
    """Bring the database up to `target` (the latest by default) and return its version.

    BEGIN IMMEDIATE takes the write lock before reading the version, so two processes opening the
    same new file cannot both apply migration 1.
    """
    if current_version(conn) == target:
        return target  # the usual case: nothing to lock, nothing to import
    from sqlite_utils import Database

    db = Database(conn)
    with write_transaction(conn):
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        version = current_version(conn)
        if version > LATEST:
            raise SchemaTooNew(
                f"The database is at schema version {version}, newer than this smx knows "
                f"({LATEST}); upgrade smx before opening it."
            )
        for migration in MIGRATIONS:
            if version < migration.version <= target:
                migration.apply(db)
                db.execute(
                    "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                    [migration.version, migration.description, datetime.now(UTC).isoformat()],
                )
                version = migration.version
    return version
