"""`smx digest preview` and `smx digest tick` as an operator runs them: real processes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.store import Subscription, open_store
from tests.support.blockkit import assert_message_ok, shown
from tests.support.digest_support import note
from tests.support.fake_slack import FakeSlack
from tests.support.slack_harness import BOT_TOKEN, SECRET

ROOT = Path(__file__).resolve().parent.parent


def smx(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SMX_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, "PYTHONPATH": str(ROOT), **(env or {})},
        cwd=ROOT,
    )


async def seed(db: str, *, due: datetime | None = None) -> None:
    store = open_store(db)
    now = datetime.now(UTC)
    await store.add_note(note("C7", now - timedelta(hours=2), "launch went well", team="T7"))
    await store.add_note(note("C8", now - timedelta(hours=2), "another team's", team="T8"))
    if due is not None:
        await store.save_subscription(
            Subscription(
                team="T7", channel="C7", workspace="T7", enterprise=None, weekday=due.weekday(),
                hour=due.hour, minute=due.minute, tz="UTC", subscriber="U7", next_run=due,
            )
        )  # fmt: skip
    await store.close()


async def test_preview_prints_one_channels_digest(tmp_path):
    db = str(tmp_path / "smx.db")
    await seed(db)
    done = await asyncio.to_thread(
        smx, "digest", "preview", "--team", "T7", "--channel", "C7", env={"SMX_DB": db}
    )
    assert done.returncode == 0, done.stderr
    assert "Weekly digest" in done.stdout and "launch went well" in done.stdout
    assert "another team's" not in done.stdout
    as_json = await asyncio.to_thread(
        smx, "digest", "preview", "--team", "T7", "--channel", "C7", "--json", env={"SMX_DB": db}
    )
    answer = json.loads(as_json.stdout)
    assert answer["data"]["digest"]["notes"] == 1
    assert_message_ok(answer["blocks"], answer["text"])


async def test_tick_without_slack_says_what_it_needs(tmp_path):
    done = await asyncio.to_thread(smx, "digest", "tick", env={"SMX_DB": str(tmp_path / "x.db")})
    assert done.returncode == 1
    assert "`smx digest tick` posts to Slack: set SLACK_BOT_TOKEN" in done.stderr


async def test_tick_posts_what_is_due_once_however_often_cron_runs_it(tmp_path):
    db = str(tmp_path / "smx.db")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    await seed(db, due=now - timedelta(minutes=1))
    slack = await FakeSlack().start()
    env = {
        "SMX_DB": db,
        "SLACK_API_URL": slack.api_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
    }
    try:
        first = await asyncio.to_thread(smx, "digest", "tick", env=env)
        second = await asyncio.to_thread(smx, "digest", "tick", env=env)
    finally:
        await slack.stop()
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "1 digest due: 1 posted"
    assert second.stdout.strip() == "0 digests due"
    [posted] = slack.calls_to("chat.postMessage")
    assert posted.args["channel"] == "C7" and "launch went well" in shown(posted.args)
    assert BOT_TOKEN not in first.stderr + second.stderr  # logs never carry the token
