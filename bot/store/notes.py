"""SQL for notes. Plain functions over a connection, run in the store's threads (sqlite.py).

Every query goes through `_visible`, which keys it by team and applies the privacy rule of
PRODUCT.md: public (and console) notes are team-wide; a private channel's, DM's or group DM's notes
are seen in that conversation and, in answers only they see, by their author.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.store import search_terms
from bot.store.base import (
    PUBLIC_KINDS,
    CampaignTotals,
    DeleteOutcome,
    NewNote,
    Note,
    NotePage,
    Origin,
    Viewer,
    WeekActivity,
)

COLUMNS = (
    "team", "workspace", "channel", "channel_kind", "author", "campaign", "text", "created_at",
    "platform", "spend", "currency", "impressions", "clicks", "conversions", "metrics",
)  # fmt: skip
_INSERT = f"INSERT INTO notes ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
_PUBLIC = ", ".join(f"'{kind}'" for kind in PUBLIC_KINDS)


def db_time(moment: datetime) -> str:
    """Fixed-width UTC text, so comparing strings compares times (and an index can serve it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    elif moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    if moment.year >= 1000:
        # strftime's text, in half the time: a pass of 10,000 digests formats about 100,000.
        return utc_text(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_text() -> str:
    """db_time(datetime.now(UTC)), the insert's default, made faster (utc_text)."""
    return utc_text(datetime.now(UTC))


def utc_text(moment: datetime) -> str:
    """db_time of an aware UTC moment, in a quarter of the time (isoformat, not strftime): the
    same text for any year from 1000 on."""
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"


def as_time(value: str | datetime | None) -> datetime | None:
    """A time read back from either backend (SQLite's UTC text, PostgreSQL's timestamptz) as an
    aware UTC datetime."""
    if value is None or value == "":
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def utc(moment: datetime) -> datetime:
    """A time to hand PostgreSQL: aware and in UTC (a naive one is taken as UTC, as db_time does)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _visible(viewer: Viewer, mark: str = "?") -> tuple[str, list[object]]:
    """The privacy rule as a WHERE clause over `notes AS n`, for both backends: `mark` is the
    driver's placeholder ("?" for sqlite3, "%s" for psycopg)."""
    if viewer.confined:
        return f"n.team = {mark} AND n.channel = {mark}", [viewer.team, viewer.channel]
    sql = f"n.team = {mark} AND (n.channel_kind IN ({_PUBLIC}) OR n.channel = {mark}"
    params: list[object] = [viewer.team, viewer.channel]
    if viewer.user is not None:
        sql += f" OR n.author = {mark}"
        params.append(viewer.user)
    return sql + ")", params


@dataclass(frozen=True)
class Filter:
    viewer: Viewer
    campaign: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def sql(
        self, mark: str = "?", time: Callable[[datetime], object] = db_time
    ) -> tuple[str, list[object]]:
        """The WHERE clause and its parameters: `mark` is the driver's placeholder, `time` turns
        a datetime into what the backend stores (SQLite's text, PostgreSQL's timestamptz)."""
        sql, params = _visible(self.viewer, mark)
        if self.campaign is not None:
            sql += f" AND n.campaign = {mark}"
            params.append(self.campaign)
        if self.since is not None:
            sql += f" AND n.created_at >= {mark}"
            params.append(time(self.since))
        if self.until is not None:
            sql += f" AND n.created_at < {mark}"
            params.append(time(self.until))
        return sql, params


class SearchBatch:
    """The search terms of a batch's notes, written to notes_search in one statement at the end.

    FTS5 writes what it holds in memory to disk (a new segment, later merged) whenever a
    statement or a savepoint begins after it was given rows, so one INSERT into notes_search per
    note made a segment per note: about 40% of what a note cost to write in a batch of 16.
    Inside `search_batch`, `insert` leaves each note's terms here instead, and the row in
    notes_search_writer stands for the whole batch."""

    def __init__(self) -> None:
        self.params: list[object] = []

    def add(self, note_id: int, note: NewNote) -> None:
        self.params += (
            note_id,
            search_terms.keyed(note.team, note.campaign),
            search_terms.keyed(note.team, note.text),
        )


class SearchBatchFailed(Exception):
    """The one statement writing a batch's search terms failed; the transaction was rolled back,
    so its notes can be written again one at a time (sqlite.py), each failing alone."""


@contextmanager
def search_batch(conn: sqlite3.Connection) -> Iterator[SearchBatch]:
    """Inside a write transaction: the notes inserted with the batch this yields are indexed
    together when the block ends (SearchBatch). Leaves notes_search_writer empty, as `insert`
    does; an exception rolls everything back with the caller's transaction."""
    batch = SearchBatch()
    conn.execute("INSERT INTO notes_search_writer DEFAULT VALUES")
    yield batch
    rows = len(batch.params) // 3
    if rows:
        try:
            conn.execute(
                "INSERT INTO notes_search (rowid, campaign, text) VALUES "
                + ", ".join(("(?, ?, ?)",) * rows),
                batch.params,
            )
        except sqlite3.Error as err:
            raise SearchBatchFailed(str(err)) from err
    conn.execute("DELETE FROM notes_search_writer")


def _row(note: NewNote) -> list[object]:
    values = dict(note.__dict__)
    values["created_at"] = db_time(note.created_at) if note.created_at else now_text()
    # Most notes have no other metric: "{}" is what json.dumps writes for them.
    values["metrics"] = json.dumps(note.metrics, sort_keys=True) if note.metrics else "{}"
    return [values[c] for c in COLUMNS]


def insert(conn: sqlite3.Connection, note: NewNote, batch: SearchBatch | None = None) -> int:
    """Insert `note` and index it; with `batch` (from search_batch), its terms go in with the
    rest of the batch's instead of at once."""
    # Raw SQL rather than sqlite-utils' insert(): this is the hot path, and sqlite-utils would
    # re-read the table's columns on every call.
    if batch is not None:
        note_id = conn.execute(_INSERT, _row(note)).lastrowid
        assert note_id is not None
        batch.add(note_id, note)
        return note_id
    # The note's full-text terms are written here, the same the triggers would make in SQL
    # (bot/store/search_terms.py) at a fraction of the cost; the row in notes_search_writer, for
    # this statement only, tells the insert trigger so.
    conn.execute("INSERT INTO notes_search_writer DEFAULT VALUES")
    try:
        cursor = conn.execute(_INSERT, _row(note))
        note_id = cursor.lastrowid
        assert note_id is not None
        conn.execute(
            "INSERT INTO notes_search (rowid, campaign, text) VALUES (?, ?, ?)",
            [
                note_id,
                search_terms.keyed(note.team, note.campaign),
                search_terms.keyed(note.team, note.text),
            ],
        )
    finally:
        conn.execute("DELETE FROM notes_search_writer")
    return note_id


def to_note(row: Mapping[str, Any] | sqlite3.Row) -> Note:
    """A row of notes from either backend (metrics as JSON text or already decoded)."""
    values = {c: row[c] for c in COLUMNS}
    values["created_at"] = as_time(row["created_at"])
    metrics = row["metrics"]
    values["metrics"] = json.loads(metrics) if isinstance(metrics, str) else dict(metrics)
    return Note(id=row["id"], **values)


# A note's columns in the order of Note's fields, for reading many as plain tuples (to_notes).
NOTE_FIELDS = (
    "team", "workspace", "channel", "channel_kind", "author", "campaign", "text", "platform",
    "spend", "currency", "impressions", "clicks", "conversions", "metrics", "created_at", "id",
)  # fmt: skip


def to_notes(rows: Iterable[Sequence[Any]]) -> dict[int, Note]:
    """Rows of NOTE_FIELDS (from either backend) as Notes by id: what to_note makes of each, for
    the many a batch of digests quotes, without a mapping per row."""
    out = {}
    for r in rows:
        *head, metrics, created_at, note_id = r
        if isinstance(metrics, str):
            metrics = {} if metrics == "{}" else json.loads(metrics)
        else:
            metrics = dict(metrics)
        out[note_id] = Note(*head, metrics, as_time(created_at), note_id)
    return out


def get(conn: sqlite3.Connection, viewer: Viewer, note_id: int) -> Note | None:
    where, params = _visible(viewer)
    row = conn.execute(f"SELECT n.* FROM notes AS n WHERE n.id = ? AND {where}", [note_id, *params])
    found = row.fetchone()
    return to_note(found) if found else None


def page(conn: sqlite3.Connection, where: Filter, limit: int, offset: int) -> NotePage:
    sql, params = where.sql()
    total = conn.execute(f"SELECT count(*) FROM notes AS n WHERE {sql}", params).fetchone()[0]
    rows = conn.execute(
        f"SELECT n.* FROM notes AS n WHERE {sql} ORDER BY n.created_at DESC, n.id DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return NotePage([to_note(r) for r in rows], total)


def export(conn: sqlite3.Connection, where: Filter) -> list[Note]:
    sql, params = where.sql()
    rows = conn.execute(
        f"SELECT n.* FROM notes AS n WHERE {sql} ORDER BY n.created_at, n.id", params
    )
    return [to_note(r) for r in rows]


def fts_query(text: str, team: str) -> str | None:
    """What a person typed, as an FTS5 query over notes_search for `team`'s notes: every word
    must appear.

    Each word becomes the phrase of its terms as notes hold them (search_terms.terms), each with the
    team's key, quoted: what was typed is never FTS syntax (`AND`, `NEAR`, `(`, `:`, `^`, quotes
    are read as the tokenizer reads them, mostly as nothing). A trailing `*` keeps its meaning
    (prefix search), applied to the phrase's last term by us. A word of no term is left out, as
    FTS5 did with the quoted word before; None when no word is left."""
    key = search_terms.search_key(team)
    phrases = []
    for word, prefix in search_words(text):
        terms = search_terms.terms(word)
        if terms:
            phrases.append('"' + " ".join(key + t for t in terms) + '"' + ("*" if prefix else ""))
    return " ".join(phrases) or None


def search_text(text: str) -> str:
    """Text as SQLite's tokenizer (unicode61, remove_diacritics 2) reads it, for a backend whose
    own parser reads it otherwise (PostgreSQL's keeps "v2.1" or "/promo/page.html" whole, and
    folds case and accents only as the database's locale allows): lower case, accents removed,
    every character that is not a letter or a digit a space between words."""
    if text.isascii():
        # No accent to remove and no character NFKD changes: the letters and digits, lowered,
        # and one space for each run of anything else (what the loop below makes of ASCII).
        return _NOT_ASCII_ALNUM.sub(" ", text.lower()).strip()
    return unicode_search_text(text)


_NOT_ASCII_ALNUM = re.compile(r"[^a-z0-9]+")


def unicode_search_text(text: str) -> str:
    """search_text for any text, a character at a time."""
    kept = []
    for ch in unicodedata.normalize("NFKD", text.lower()):
        if unicodedata.category(ch) != "Mn":  # a combining accent, split off by NFKD
            kept.append(ch if ch.isalnum() else " ")
    return " ".join("".join(kept).split())


def search_words(text: str) -> list[tuple[str, bool]]:
    """What a person typed as (word, is_prefix) pairs, for every backend's search: a trailing
    `*` marks a prefix and is removed; a NUL separates words (SQLite would read it as the end of
    the query, PostgreSQL refuses it); punctuation alone is dropped, since it tokenises to
    nothing and would match nothing."""
    words = []
    for word in text.replace("\x00", " ").split():
        core = word.rstrip("*")
        if any(ch.isalnum() for ch in core):
            words.append((core, word.endswith("*")))
    return words


def search(conn: sqlite3.Connection, viewer: Viewer, text: str, limit: int) -> list[Note]:
    query = fts_query(text, viewer.team)
    if query is None:
        return []
    where, params = _visible(viewer)
    # notes_search holds every team's notes under keys of their own (schema v8), so the match
    # walks the viewer's team's hits only, and bm25 counts a word's notes among the team's. The
    # ids the viewer may read come first, from the covering index notes_team_reader (v7), into
    # a list each hit is looked up in, cheaper than the notes table's pages (the unary + keeps
    # the list from being handed to FTS5 as rowids to seek one by one). Only the best `limit`
    # hits are then read from notes: joined before the sort, every hit's row was read (2-5x the
    # time for a word in most of a team's thousand notes).
    rows = conn.execute(
        "SELECT n.* FROM (SELECT rowid AS id, rank FROM notes_search"
        "  WHERE notes_search MATCH ?"
        f"  AND +rowid IN (SELECT n.id FROM notes AS n WHERE {where})"
        "  ORDER BY rank, rowid DESC LIMIT ?) AS hit"
        " JOIN notes AS n ON n.id = hit.id ORDER BY hit.rank, hit.id DESC",
        [query, *params, limit],
    )
    return [to_note(r) for r in rows]


def _pair(num: str, den: str) -> str:
    both = f"n.{num} IS NOT NULL AND n.{den} IS NOT NULL"
    return f"sum(CASE WHEN {both} THEN n.{num} END), sum(CASE WHEN {both} THEN n.{den} END)"


RATIO_PAIRS = (
    ("spend", "impressions"),
    ("spend", "clicks"),
    ("clicks", "impressions"),
    ("spend", "conversions"),
)


# One origin as text: unit separators between its fields and a record separator after it, since
# SQLite's group_concat(DISTINCT ...) joins with a comma only.
_ORIGIN = (
    "n.team || char(31) || n.channel || char(31) || n.channel_kind || char(31) || n.author"
    " || char(30)"
)


def _origins(joined: str | None) -> tuple[Origin, ...]:
    out = []
    for record in (joined or "").split("\x1e"):
        record = record.removeprefix(",")
        if record:
            team, channel, kind, author = record.split("\x1f")
            out.append(Origin(team, channel, kind, author))  # type: ignore[arg-type]
    return tuple(out)


def totals(conn: sqlite3.Connection, where: Filter) -> list[CampaignTotals]:
    sql, params = where.sql()
    rows = conn.execute(
        "SELECT n.campaign, count(*), group_concat(DISTINCT n.platform),"
        " group_concat(DISTINCT n.currency), sum(n.spend), sum(n.impressions), sum(n.clicks),"
        f" sum(n.conversions), {', '.join(_pair(a, b) for a, b in RATIO_PAIRS)},"
        f" group_concat(DISTINCT {_ORIGIN})"
        f" FROM notes AS n WHERE {sql} GROUP BY n.campaign"
        " ORDER BY coalesce(sum(n.spend), 0) DESC, max(n.created_at) DESC",
        params,
    )
    out = []
    for r in rows:
        ratios = [(r[i], r[i + 1]) if r[i] is not None else None for i in range(8, 16, 2)]
        out.append(
            CampaignTotals(
                campaign=r[0],
                notes=r[1],
                platforms=tuple(sorted(r[2].split(","))) if r[2] else (),
                currencies=tuple(sorted(r[3].split(","))) if r[3] else (),
                spend=r[4],
                impressions=r[5],
                clicks=r[6],
                conversions=r[7],
                spend_per_impression=ratios[0],
                spend_per_click=ratios[1],
                clicks_per_impression=ratios[2],
                spend_per_conversion=ratios[3],
                origins=_origins(r[16]),
            )
        )
    return out


def delete(
    conn: sqlite3.Connection, viewer: Viewer, note_id: int, is_admin: bool, by: str | None = None
) -> DeleteOutcome:
    """Run inside a write transaction, so the check and the delete see the same note. `by`: who
    asks (a mention's Viewer leaves the person out, since the channel reads its answer)."""
    note = get(conn, viewer, note_id)
    if note is None:
        return "missing"
    if note.author != (by or viewer.user) and not is_admin:
        return "forbidden"
    conn.execute("DELETE FROM notes WHERE id = ? AND team = ?", [note_id, viewer.team])
    return "deleted"


def activity(conn: sqlite3.Connection, where: Filter, per_campaign: int) -> WeekActivity:
    """A digest's reading of one window: run inside one read transaction (sqlite.py)."""
    campaigns = totals(conn, where)
    sql, params = where.sql()
    contributors = conn.execute(
        f"SELECT count(DISTINCT n.author) FROM notes AS n WHERE {sql}", params
    ).fetchone()[0]
    highlights: dict[str, list[Note]] = {}
    if per_campaign > 0 and campaigns:
        rows = conn.execute(
            "SELECT * FROM (SELECT n.*, row_number() OVER (PARTITION BY n.campaign"
            f" ORDER BY n.created_at DESC, n.id DESC) AS place FROM notes AS n WHERE {sql})"
            " WHERE place <= ? ORDER BY campaign, place",
            [*params, per_campaign],
        )
        for row in rows:
            highlights.setdefault(row["campaign"], []).append(to_note(row))
    return WeekActivity(campaigns, contributors, highlights)
