"""Each hand-written export of tests/data/imports/ logged on every backend: every figure of every
row lands on its note, and a second import logs nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.context import Context
from bot.imports.log import log_export
from bot.imports.read import read_export
from bot.store import Viewer
from tests.support.asking import services_over

DATA = Path(__file__).parent.parent / "data" / "imports"
FILES = [
    "meta_ads_manager.csv",
    "linkedin_campaign_manager.csv",
    "google_ads_utf16.csv",
    "meta_de_semicolon.csv",
    "smx_plain.csv",
    "google_ads.xlsx",
]
SIGN = {"USD": "$", "EUR": "€", "GBP": "£"}


def ctx_over(store) -> Context:
    return Context(
        team="T1", user="U1", channel="C1", channel_kind="public", surface="command",
        services=services_over(store),
    )  # fmt: skip


@pytest.mark.parametrize("name", FILES)
async def test_every_row_becomes_a_note_with_its_figures(backend, store, name):
    export = read_export((DATA / name).read_bytes(), name)
    reply = await log_export(ctx_over(store), export, name)
    assert reply.data["imported"] == len(export.rows) and reply.data["skipped_duplicates"] == 0
    logged = sorted(await store.export_notes(Viewer("T1", "C1")), key=lambda n: n.id)
    assert len(logged) == len(export.rows)
    for row, note in zip(export.rows, logged, strict=True):
        assert note.campaign == row.slug and note.platform == row.platform
        assert note.spend == row.figures.get("spend")
        assert note.currency == SIGN[row.currency]
        assert note.impressions == row.figures.get("impressions")
        assert note.clicks == row.figures.get("clicks")
        assert note.conversions == row.figures.get("conversions")
        for key in ("reach", "revenue"):
            assert note.metrics.get(key) == row.figures.get(key)
        assert note.created_at == datetime(row.end.year, row.end.month, row.end.day, 12, tzinfo=UTC)
        assert (note.channel, note.channel_kind, note.author) == ("C1", "public", "U1")
    again = await log_export(ctx_over(store), export, name)
    assert again.data["imported"] == 0 and again.data["skipped_duplicates"] == len(export.rows)
    assert "skipped" in again.intro
    assert len(await store.export_notes(Viewer("T1", "C1"))) == len(export.rows)
