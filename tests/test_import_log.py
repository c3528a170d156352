"""Logging exports (bot/imports/log.py): every figure of every row lands on its note, a second
import of the same or an overlapping file logs nothing twice; on both backends."""

from __future__ import annotations

import json
from pathlib import Path

from bot.context import Context
from bot.imports.log import log_export
from bot.imports.read import read_export
from tests.support.asking import services_over
from tests.test_cli import smx

DATA = Path(__file__).parent / "data" / "imports"


def ctx_over(store) -> Context:
    return Context(
        team="T1", user="U1", channel="C1", channel_kind="public", surface="command",
        services=services_over(store),
    )  # fmt: skip


async def test_an_overlapping_export_logs_only_its_new_rows(store):
    text = (DATA / "meta_ads_manager.csv").read_text()
    header, first, second, third = text.strip().splitlines()
    ctx = ctx_over(store)
    one = read_export(f"{header}\n{first}\n{second}\n".encode(), "week1.csv")
    two = read_export(f"{header}\n{second}\n{third}\n".encode(), "week2.csv")
    assert (await log_export(ctx, one, "week1.csv")).data["imported"] == 2
    done = await log_export(ctx, two, "week2.csv")
    assert (done.data["imported"], done.data["skipped_duplicates"]) == (1, 1)


def test_smx_import_yes_logs_and_a_second_run_skips(tmp_path):
    env = {"SMX_DB": str(tmp_path / "i.db")}
    path = str(DATA / "google_ads_utf16.csv")
    first = json.loads(smx("import", path, "--yes", "--json", env=env, cwd=tmp_path).stdout)
    assert first["data"]["imported"] == 3 and first["data"]["skipped_duplicates"] == 0
    second = json.loads(smx("import", path, "--yes", "--json", env=env, cwd=tmp_path).stdout)
    assert second["data"]["imported"] == 0 and second["data"]["skipped_duplicates"] == 3
    listed = smx("ask", "--json", "notes", "spring-launch-search", env=env, cwd=tmp_path)
    assert json.loads(listed.stdout)["data"]["total"] == 3


def test_a_preview_logs_nothing(tmp_path):
    env = {"SMX_DB": str(tmp_path / "p.db")}
    done = smx("import", str(DATA / "smx_plain.csv"), env=env, cwd=tmp_path)
    assert done.returncode == 0 and "--yes" in done.stdout
    listed = smx("ask", "--json", "notes", env=env, cwd=tmp_path)
    assert json.loads(listed.stdout)["data"]["total"] == 0


async def test_a_formula_in_an_export_is_stored_as_text_and_exported_defused(store):
    import csv
    import io

    from bot.notes.render import to_csv
    from bot.store import Viewer

    export = read_export((DATA / "bad_formula.csv").read_bytes(), "f.csv")
    await log_export(ctx_over(store), export, "f.csv")
    (logged,) = await store.export_notes(Viewer("T1", "C1"))
    assert '=HYPERLINK("http://evil.example","click me")' in logged.text  # as text, whole
    assert "@SUM(A1:A9)" in logged.text
    # A note whose text itself starts with a formula (smx's own CSV has a text column).
    sheet = b"campaign,date,spend,text\nx,2026-11-20,5,=cmd|' /C calc'!A0\n"
    await log_export(ctx_over(store), read_export(sheet, "s.csv"), "s.csv")
    notes = await store.export_notes(Viewer("T1", "C1"))
    assert any(n.text.startswith("=cmd") for n in notes)  # kept as typed in the store
    rows = list(csv.reader(io.StringIO(to_csv(notes))))
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


async def test_the_same_days_at_another_level_are_warned_about(store):
    ctx = ctx_over(store)
    by_ad_set = read_export((DATA / "meta_ads_manager.csv").read_bytes(), "sets.csv")
    first = await log_export(ctx, by_ad_set, "sets.csv")
    assert not [n for n in first.notices if "count twice" in n.text]
    campaign_level = (
        "Campaign name,Reporting starts,Reporting ends,Amount spent (USD)\n"
        "Spring Launch 2026,2026-11-16,2026-11-22,599.75\n"
    )
    done = await log_export(ctx, read_export(campaign_level.encode(), "c.csv"), "c.csv")
    assert done.data["imported"] == 1
    warned = [n.text for n in done.notices if "count twice" in n.text]
    assert warned and "`spring-launch-2026` already had 2 imported notes" in warned[0]
    # The same file again logs nothing, and still says the two levels overlap.
    again = await log_export(ctx, by_ad_set, "sets.csv")
    assert again.data["imported"] == 0
    assert any("already had 1 imported note" in n.text for n in again.notices)
