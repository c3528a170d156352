"""What the operator sees: /metrics after real traffic, /healthz when the database is gone, logs
that never carry a token or secret even at DEBUG with requests full of them."""

from __future__ import annotations

import io
import json
import logging
import re

from bot import logs
from tests.support.slack_harness import (
    BOT_TOKEN,
    SECRET,
    RunningBot,
    single_workspace_settings,
)
from tests.support.waits import eventually


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.match(rf"{name}\{{(.*)\}} (\S+)$", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return 0.0


async def test_a_scrape_after_a_few_requests_shows_their_counts(bot, slack):
    before = (await bot.get("/metrics")).body
    await bot.command("explain cpm")
    await bot.command("explain cpm")
    await bot.command("explain roaz")  # a user error
    slack.fail("chat.postMessage", error="channel_not_found")
    await bot.event(
        {
            "type": "app_mention",
            "user": "U1",
            "text": "<@UBOT> compare",
            "ts": "1.1",
            "channel": "C1",
        },
        event_id="EvM1",
    )
    await slack.wait_for("chat.postMessage")
    await bot.idle()  # the mention's work after the ack is counted when it ends
    after = await bot.get("/metrics")
    assert after.status == 200
    text = after.body

    def grew(name: str, **labels: str) -> float:
        return sample(text, name, **labels) - sample(before, name, **labels)

    assert grew("smx_requests_total", surface="command", command="explain") == 3
    assert grew("smx_user_errors_total", surface="command", command="explain") == 1
    assert grew("smx_requests_total", surface="mention", command="compare") == 1
    assert (
        grew("smx_slack_api_errors_total", method="chat.postMessage", error="channel_not_found")
        == 1
    )
    assert grew("smx_ack_seconds_count", kind="command") == 3
    assert grew("smx_ack_seconds_count", kind="event") == 1
    assert "smx_unexpected_errors_total" in text and "smx_digest_runs_total" in text


async def test_healthz_fails_when_the_database_is_unreachable(bot):
    assert (await bot.get("/healthz")).status == 200
    await bot.services.store.close()  # the store can no longer answer
    answer = await bot.get("/healthz")
    assert answer.status == 503
    assert json.loads(answer.body) == {"ok": False, "database": False}


async def test_healthz_is_503_while_the_database_file_is_gone_and_200_once_it_is_back(
    slack, tmp_path
):
    """A real failure: the directory holding the SQLite file moved away (a volume unmounted).
    Connections already open would still read the file, so /healthz must open it afresh."""
    import asyncio

    data = tmp_path / "data"
    await asyncio.to_thread(data.mkdir)
    bot = await RunningBot(slack, single_workspace_settings(slack, str(data / "smx.db"))).start()
    try:
        assert (await bot.get("/healthz")).status == 200
        await asyncio.to_thread(data.rename, tmp_path / "unmounted")
        down = await bot.get("/healthz")
        assert down.status == 503
        assert json.loads(down.body) == {"ok": False, "database": False}
        await asyncio.to_thread((tmp_path / "unmounted").rename, data)
        up = await bot.get("/healthz")
        assert up.status == 200 and json.loads(up.body) == {"ok": True, "database": True}
    finally:
        await bot.stop()


async def test_no_token_or_secret_reaches_the_log_even_at_debug(slack, tmp_path):
    stream = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    other_token = "xoxp-1234-5678-abcdefabcdef"
    app_token = "xapp-1-A1-999-feedfacefeed"
    logs.configure("DEBUG", [BOT_TOKEN, SECRET], stream=stream)
    bot = await RunningBot(
        slack, single_workspace_settings(slack, str(tmp_path / "smx.db"))
    ).start()
    try:
        await bot.command(f"note leak-test pasted {other_token} and {app_token} and {SECRET}")
        await bot.command(f"explain {BOT_TOKEN}")
        # Through Bolt (it asks users.info first), which logs what it handles at DEBUG.
        await bot.command(f"note delete {BOT_TOKEN}")
        await bot.event(
            {
                "type": "app_mention",
                "user": "U1",
                "channel": "C1",
                "ts": "2.2",
                "text": f"<@UBOT> note leak-test {BOT_TOKEN} {SECRET}",
            },
            event_id="EvLeak",
        )
        await slack.wait_for("chat.postMessage")
        await bot.idle()  # everything it logs while handling the note
    finally:
        await bot.stop()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    output = stream.getvalue()
    assert output.count("\n") > 5, "expected DEBUG logging from the app and Bolt"
    for secret in (BOT_TOKEN, SECRET, other_token, app_token):
        assert secret not in output, f"{secret[:6]}… reached the log"
    assert "[redacted" in output  # they were there, and were scrubbed
    for line in output.splitlines():
        json.loads(line)


async def test_retention_setting_prunes_old_notes_when_the_bot_starts(slack, tmp_path):
    from datetime import UTC, datetime, timedelta

    from bot.config import Settings
    from bot.store import NewNote, Viewer, open_store

    db = str(tmp_path / "smx.db")
    store = open_store(db)
    for days, text in ((120, "old campaign"), (5, "this week")):
        await store.add_note(
            NewNote(
                team="T1",
                workspace="T1",
                channel="C1",
                channel_kind="public",
                author="U1",
                campaign="spring",
                text=text,
                created_at=datetime.now(UTC) - timedelta(days=days),
            )
        )
    await store.close()
    settings = Settings(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.api_url,
        SMX_DB=db,
        SMX_RETENTION_DAYS="90",
    )
    bot = await RunningBot(slack, settings).start()
    try:

        async def texts() -> list[str]:
            return [n.text for n in await bot.services.store.export_notes(Viewer("T1", "C1"))]

        async def pruned() -> bool:  # by the upkeep task the server starts
            return await texts() == ["this week"]

        await eventually(pruned)
        assert await texts() == ["this week"]
    finally:
        await bot.stop()


async def test_old_event_ids_are_forgotten_when_the_bot_starts(slack, tmp_path):
    import sqlite3
    from datetime import UTC, datetime, timedelta

    from bot.store import open_store
    from bot.store.notes import db_time

    db = str(tmp_path / "smx.db")
    store = open_store(db)
    assert await store.claim_event("EvOld", "T1") and await store.claim_event("EvNew", "T1")
    await store.close()
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "UPDATE processed_events SET seen_at = ? WHERE event_id = 'EvOld'",
            [db_time(datetime.now(UTC) - timedelta(days=2))],
        )
    conn.close()
    bot = await RunningBot(slack, single_workspace_settings(slack, db)).start()
    try:
        # Forgotten by the upkeep task the server starts, so claimable again.
        await eventually(lambda: bot.services.store.claim_event("EvOld", "T1"))
        assert not await bot.services.store.claim_event("EvNew", "T1")
    finally:
        await bot.stop()


def test_the_database_password_is_hidden_from_the_log_however_the_url_gives_it(monkeypatch):
    """After the user name or as ?password=, raw or percent-encoded: every form the driver might
    repeat is on the log's list of secrets."""
    from bot.config import Settings
    from bot.slack.server import _secrets

    monkeypatch.setenv("SMX_DATABASE_URL", "postgresql://smx@db.internal/smx?password=hunter2%21x")
    hidden = _secrets(Settings())
    assert "hunter2!x" in hidden and "hunter2%21x" in hidden
    monkeypatch.setenv("SMX_DATABASE_URL", "postgresql://smx:s%40fe-pass@db.internal/smx")
    hidden = _secrets(Settings())
    assert "s@fe-pass" in hidden and "s%40fe-pass" in hidden
