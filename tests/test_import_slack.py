"""An export shared in Slack, end to end over signed HTTP and the fake Web API (files.info and
the download): the preview to the person alone, *Import* logging it once, *Cancel* logging
nothing, and a file from another conversation or another person refused."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.blockkit import assert_message_ok, shown

DATA = Path(__file__).parent / "data" / "imports"
META = (DATA / "meta_ads_manager.csv").read_bytes()


def shared(channel: str = "D1", text: str = "", file_id: str = "F1", im: bool = True) -> dict:
    event = {
        "type": "message" if im else "app_mention",
        "subtype": "file_share" if im else None,
        "user": "U1",
        "text": text,
        "ts": "1700000002.000100",
        "channel": channel,
        "event_ts": "1700000002.000100",
        "files": [{"id": file_id, "name": "meta.csv"}],
    }
    if im:
        event["channel_type"] = "im"
    else:
        event.pop("subtype")
    return event


def press(action: str, value: str, channel: str, user: str = "U1", url: str = "") -> dict:
    return {
        "type": "block_actions",
        "user": {"id": user, "team_id": "T1"},
        "channel": {"id": channel, "name": "x"},
        "response_url": url,
        "actions": [{"action_id": action, "block_id": "b", "type": "button", "value": value}],
    }


def button(blocks: list[dict], action: str) -> dict:
    return next(
        e
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action
    )


async def test_a_file_in_the_dm_is_previewed_then_imported_once(bot, slack):
    slack.files["F1"] = ("meta.csv", META)
    slack.file_channels["F1"] = ["D1"]
    await bot.event(shared(), event_id="EvF1")
    (preview,) = await slack.wait_for("chat.postMessage")
    assert preview.args["channel"] == "D1"
    text = shown(preview.args)
    assert "Import preview: meta.csv" in text and "nothing logged yet" in text
    assert "$1,839.75" in text and "Meta Ads Manager" in text
    assert_message_ok(preview.args["blocks"], preview.args["text"])
    (download,) = slack.calls_to("download")
    assert download.headers["Authorization"].startswith("Bearer xoxb")
    before = await bot.command("notes", channel="D1", channel_name="directmessage")
    assert "No notes" in shown(before.body)  # a preview logs nothing
    value = button(preview.args["blocks"], "smx_import_yes")["value"]
    await bot.interact(press("smx_import_yes", value, "D1", url=slack.response_url("imp")))
    (done,) = await slack.wait_for("response_url")
    assert "Logged 3 notes from 3 rows" in shown(done.args)
    assert done.args["replace_original"] is True
    again_url = slack.response_url("imp2")
    await bot.interact(press("smx_import_yes", value, "D1", url=again_url))
    second = await slack.wait_for("response_url", count=2)
    assert "had been logged before and were skipped" in shown(second[1].args)
    listed = await bot.command(
        "notes spring-launch-2026", channel="D1", channel_name="directmessage"
    )
    assert "2 notes" in shown(listed.body)


async def test_a_channel_mention_previews_to_the_person_alone_and_cancel_logs_nothing(bot, slack):
    slack.files["F2"] = ("meta.csv", META)
    slack.file_channels["F2"] = ["C1"]
    await bot.event(shared("C1", "<@UBOT> import", "F2", im=False), event_id="EvF2")
    (preview,) = await slack.wait_for("chat.postEphemeral")
    assert preview.args["channel"] == "C1" and preview.args["user"] == "U1"
    assert not slack.calls_to("chat.postMessage")  # nothing in front of the channel
    value = button(preview.args["blocks"], "smx_import_no")["value"]
    await bot.interact(press("smx_import_no", value, "C1", url=slack.response_url("c")))
    (cancelled,) = await slack.wait_for("response_url")
    assert "Nothing was imported" in shown(cancelled.args)
    assert "No notes" in shown((await bot.command("notes")).body)


async def test_another_person_or_another_conversation_cannot_import_it(bot, slack):
    slack.files["F3"] = ("meta.csv", META)
    slack.file_channels["F3"] = ["G9"]  # shared in a private channel only
    mine = json.dumps({"file": "F3", "user": "U1", "channel": "C1"})
    await bot.interact(press("smx_import_yes", mine, "C1", url=slack.response_url("a")))
    (refused,) = await slack.wait_for("response_url")
    assert "was not shared in this conversation" in shown(refused.args)
    theirs = json.dumps({"file": "F3", "user": "U1", "channel": "G9"})
    await bot.interact(
        press("smx_import_yes", theirs, "G9", user="U2", url=slack.response_url("b"))
    )
    second = await slack.wait_for("response_url", count=2)
    assert "Only the person who shared the file can import it" in shown(second[1].args)
    assert "No notes" in shown((await bot.command("notes", channel="C1")).body)


async def test_a_file_that_is_no_export_gets_its_sentence(bot, slack):
    slack.files["F4"] = ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    slack.file_channels["F4"] = ["D1"]
    await bot.event(shared(file_id="F4"), event_id="EvF4")
    (answer,) = await slack.wait_for("chat.postMessage")
    assert "is not a table I can read" in shown(answer.args)


async def test_an_import_that_crosses_a_target_posts_exactly_one_message(bot, slack):
    slack.files["F5"] = ("meta.csv", META)
    slack.file_channels["F5"] = ["C1"]
    await bot.command("target black-friday-push cpa<=15", channel="C1")  # its CPA is $20
    await bot.event(shared("C1", "<@UBOT> import", "F5", im=False), event_id="EvF5")
    (preview,) = await slack.wait_for("chat.postEphemeral")
    value = button(preview.args["blocks"], "smx_import_yes")["value"]
    await bot.interact(press("smx_import_yes", value, "C1", url=slack.response_url("x")))
    (done,) = await slack.wait_for("response_url")
    assert "Logged 3 notes" in shown(done.args) and "off track" in shown(done.args)
    await bot.interact(press("smx_import_yes", value, "C1", url=slack.response_url("y")))
    await slack.wait_for("response_url", count=2)  # the same file again: nothing new logged
    await bot.idle()
    posts = slack.calls_to("chat.postMessage")
    assert [p.args["channel"] for p in posts] == ["C1"]
    assert "*black-friday-push* is off track: CPA ≤ $15 ($20 realised)" in shown(posts[0].args)


async def test_a_crafted_value_cannot_import_someone_elses_file(bot, slack):
    slack.files["F6"] = ("meta.csv", META)
    slack.file_channels["F6"] = ["C1"]
    slack.file_users["F6"] = "U1"  # shared by U1; U2 names themself in the button's value
    value = json.dumps({"file": "F6", "user": "U2", "channel": "C1"})
    await bot.interact(press("smx_import_yes", value, "C1", user="U2", url=slack.response_url("z")))
    (refused,) = await slack.wait_for("response_url")
    assert "Only the person who shared meta.csv can import it" in shown(refused.args)
    assert "No notes" in shown((await bot.command("notes")).body)
