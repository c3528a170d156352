"""`smx import FILE`: the preview of an export, before anything is logged (a real process)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.blockkit import assert_message_ok
from tests.test_cli import smx

DATA = Path(__file__).parent / "data" / "imports"


def test_the_preview_of_a_linkedin_export_as_json(tmp_path):
    done = smx("import", str(DATA / "linkedin_campaign_manager.csv"), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    data = answer["data"]
    assert data["platform"] == "linkedin" and data["layout"] == "linkedin"
    assert data["rows"] == 3 and data["campaigns"] == ["q4-webinar-series", "hiring-brand"]
    assert data["dates"] == ["2026-11-01", "2026-11-08"]
    assert data["totals"] == {
        "spend": {"USD": 895.5}, "impressions": 27220, "clicks": 139, "conversions": 10
    }  # fmt: skip
    assert data["imported"] == 0 and data["skipped_duplicates"] == 0
    assert_message_ok(answer["blocks"], answer["text"])
    assert "nothing logged yet" in answer["text"]
    assert not (tmp_path / "smx.db").exists()  # a preview opens no database


def test_a_bad_file_exits_2_with_its_sentence(tmp_path):
    done = smx("import", str(DATA / "bad_mixed_currency.csv"), cwd=tmp_path)
    assert done.returncode == 2
    assert "mixes currencies" in done.stdout and "Traceback" not in done.stderr


def test_a_missing_file_exits_2_with_a_sentence(tmp_path):
    done = smx("import", str(tmp_path / "nope.csv"), cwd=tmp_path)
    assert done.returncode == 2
    assert "I can't open nope.csv" in done.stdout and "Traceback" not in done.stderr
