"""The package as `pip install .` builds it: the wheel holds `bot` and `knowledge` with its data,
and answers from a directory with nothing of the repository in it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_answers_from_anywhere(tmp_path):
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("smx-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for data in (
        "knowledge/__init__.py",
        "knowledge/models.py",
        "knowledge/glossary.yaml",
        "knowledge/benchmarks.yaml",
        "knowledge/aspects.yaml",
        "knowledge/concepts.yaml",
        "bot/guide.py",
    ):
        assert data in names, data
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SMX_"))}
    # The unpacked wheel comes first on the path, ahead of the editable install of the checkout.
    env["PYTHONPATH"] = str(site)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import bot, knowledge, sys; "
            "assert 'site' in bot.__file__ and 'site' in knowledge.__file__, (bot, knowledge); "
            "from bot.cli import main; sys.exit(main(['ask', 'explain', 'roas']))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=elsewhere,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "Return on ad spend" in done.stdout
