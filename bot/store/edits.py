"""Editing a note's text (`note edit ID TEXT`), on both backends: its author or an admin, a note
the editor can see, its figures re-read from the new text; its campaign, place and date stay.
The check and the change are one transaction, so they see the same note."""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Literal

from bot.store import notes
from bot.store.base import Viewer

EditOutcome = Literal["edited", "forbidden", "missing"]
# What an edit changes: the text and what the text says in numbers.
EDITED = (
    "text",
    "platform",
    "spend",
    "currency",
    "impressions",
    "clicks",
    "conversions",
    "metrics",
)


def sqlite_edit(
    conn: sqlite3.Connection,
    viewer: Viewer,
    note_id: int,
    is_admin: bool,
    values: dict[str, Any],
    by: str | None = None,
) -> EditOutcome:
    """Inside the caller's write transaction. The update trigger re-indexes the note's terms."""
    note = notes.get(conn, viewer, note_id)
    if note is None:
        return "missing"
    if note.author != (by or viewer.user) and not is_admin:
        return "forbidden"
    row = [
        json.dumps(values["metrics"], sort_keys=True) if c == "metrics" else values[c]
        for c in EDITED
    ]
    conn.execute(
        f"UPDATE notes SET {', '.join(f'{c} = ?' for c in EDITED)} WHERE id = ? AND team = ?",
        [*row, note_id, viewer.team],
    )
    return "edited"


async def postgres_edit(
    conn: Any,
    viewer: Viewer,
    note_id: int,
    is_admin: bool,
    values: dict[str, Any],
    by: str | None = None,
) -> EditOutcome:
    from psycopg.types.json import Jsonb

    from bot.store import postgres_schema as schema

    where, params = notes._visible(viewer, "%s")
    cursor = await conn.execute(
        f"SELECT n.author, n.campaign FROM notes AS n WHERE n.id = %s AND {where} FOR UPDATE",
        [note_id, *params],
    )
    found = await cursor.fetchone()
    if found is None:
        return "missing"
    if found["author"] != (by or viewer.user) and not is_admin:
        return "forbidden"
    row = [Jsonb(values["metrics"]) if c == "metrics" else values[c] for c in EDITED]
    searched = notes.search_text(f"{found['campaign']} {values['text']}")
    await conn.execute(
        f"UPDATE notes SET {', '.join(f'{c} = %s' for c in EDITED)}, "
        f"search = {schema.note_search_vector()} WHERE id = %s AND team = %s",
        [*row, searched, note_id, viewer.team],
    )
    return "edited"
