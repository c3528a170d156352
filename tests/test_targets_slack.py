"""A target moved off track, end to end over signed HTTP and the fake Web API: one message in
the channel where it was set, whichever conversation the note came from, and none while it stays
off track."""

from __future__ import annotations

from tests.support.blockkit import shown
from tests.test_slack_e2e import assert_quick_ok


async def test_one_message_where_the_target_was_set(bot, slack):
    assert_quick_ok(await bot.command("target spring cpa<=20", channel="C5"))
    await bot.command("note spring spend=$300 conversions=15", channel="C1")  # $20: on track
    answer = await bot.command("note spring spend=$100 conversions=1", channel="C1")  # $25
    assert_quick_ok(answer)
    assert "off track" in shown(answer.body)
    (posted,) = await slack.wait_for("chat.postMessage")
    assert posted.args["channel"] == "C5"
    assert "*spring* is off track: CPA ≤ $20 ($25 realised)" in shown(posted.args)
    # Still off track: the next note posts nothing. A note that brings it back, then one that
    # takes it off again, posts once more.
    await bot.command("note spring spend=$10 conversions=0", channel="C1")
    await bot.command("note spring spend=$10 conversions=20", channel="C1")  # $420 / 36
    await bot.command("note spring spend=$400 conversions=0", channel="C1")  # $820 / 36
    await bot.idle()  # every answer's follow-up work is done: what was posted is all there is
    posts = slack.calls_to("chat.postMessage")
    assert [p.args["channel"] for p in posts] == ["C5", "C5"]
    listed = await bot.command("targets spring", channel="C5")
    assert "off track" in shown(listed.body)
