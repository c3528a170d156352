"""An answer's chart in Slack, end to end over signed HTTP and the fake Web API: a shared
estimate's chart goes up in the channel, an ephemeral one's in the person's DM only, and a failed
upload leaves the answer as it was and says so in one line."""

from __future__ import annotations

from tests.support.blockkit import shown
from tests.test_charts import size_of
from tests.test_slack_e2e import assert_quick_ok

LINE = "estimate budget=$2k platform=instagram,tiktok"


async def test_a_shared_estimate_uploads_its_chart_to_the_channel(bot, slack):
    answer = await bot.command(f"{LINE} share", channel="C1")
    assert_quick_ok(answer)
    (done,) = await slack.wait_for("files.completeUploadExternal")
    assert done.args["channel_id"] == "C1"
    (upload,) = slack.calls_to("upload")
    assert size_of(upload.args["bytes"])[0] == 800  # a real PNG
    (asked,) = slack.calls_to("files.getUploadURLExternal")
    assert "Instagram" in asked.args["alt_txt"] and "TikTok" in asked.args["alt_txt"]


async def test_an_ephemeral_estimate_sends_its_chart_to_the_dm_only(bot, slack):
    answer = await bot.command(LINE, channel="C1", user="U7")
    assert_quick_ok(answer)
    (done,) = await slack.wait_for("files.completeUploadExternal")
    assert done.args["channel_id"] == "D7"  # the person's DM with smx, never C1
    assert slack.calls_to("conversations.open")[0].args["users"] == "U7"


async def test_a_failed_upload_keeps_the_answer_and_says_so(bot, slack):
    slack.fail("files.getUploadURLExternal", error="not_allowed_token_type")
    answer = await bot.command(f"{LINE} share", channel="C1")
    assert "Instagram" in shown(answer.body)  # the answer itself, whole
    (said,) = await slack.wait_for("chat.postMessage")
    assert said.args["channel"] == "C1"
    assert "chart of that answer could not be uploaded" in said.args["text"]
    assert "not_allowed_token_type" in said.args["text"]


async def test_an_answer_with_nothing_to_draw_uploads_nothing(bot, slack):
    await bot.command("explain roas share", channel="C1")
    await bot.command("note spring spend=$40", channel="C1")
    await bot.idle()
    assert not slack.calls_to("files.getUploadURLExternal")


async def test_with_too_many_charts_waiting_the_answer_says_its_chart_is_not_coming(
    bot, slack, monkeypatch
):
    from bot.slack import charts

    monkeypatch.setattr(charts, "MAX_WAITING", 0)  # as if sixteen were waiting already
    answer = await bot.command(f"{LINE} share", channel="C1")
    assert_quick_ok(answer)
    assert "Instagram" in shown(answer.body) and charts.BUSY in shown(answer.body)
    await bot.idle()
    assert not slack.calls_to("files.getUploadURLExternal")


async def test_smx_charts_false_sends_text_only(bot, slack, monkeypatch):
    monkeypatch.setattr(bot.services.settings, "charts", False)
    answer = await bot.command(f"{LINE} share", channel="C1")
    assert "Instagram" in shown(answer.body) and "chart" not in shown(answer.body).lower()
    await bot.idle()
    assert not slack.calls_to("files.getUploadURLExternal")
