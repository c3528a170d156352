"""Plain questions on every face (issue 14): a slash command, a mention, a DM, `smx ask` and the
console each accept "how many clicks will $500 get me on instagram?" as they accept the grammar,
and a plain question about notes goes through the same privacy checks as `notes` typed."""

from __future__ import annotations

import io
import json

from bot.config import Settings
from bot.console import run_console
from tests.support.blockkit import shown
from tests.test_cli import smx
from tests.test_slack_e2e import assert_quick_ok, dm, mention

QUESTION = "how many clicks will $500 get me on instagram?"
GRAMMAR = "estimate budget=$500 platform=instagram want=clicks"


def test_smx_ask_json_answers_a_plain_question_with_its_figures(tmp_path):
    done = smx("ask", "--json", QUESTION, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)["data"]
    assert data["budget"] == 500 and data["asked"] == "clicks"
    # Clicks from the budget through the published CPM and CTR it filled in, as the formula says.
    expected = data["budget"] / data["cpm"] * 1000 * data["ctr"]
    assert abs(data["clicks"] - expected) <= 1e-9 * expected
    low, high = data["ranges"]["clicks"]
    assert low <= data["clicks"] <= high
    typed = json.loads(smx("ask", "--json", GRAMMAR, cwd=tmp_path).stdout)["data"]
    assert data == typed


def test_the_console_answers_plain_questions(tmp_path):
    out = io.StringIO()
    code = run_console(
        Settings(SMX_DB=str(tmp_path / "c.db")),
        stdin=io.StringIO(f"{QUESTION}\nwhat is roas?\nsmo or smm for a small bakery?\nexit\n"),
        stdout=out,
    )
    text = out.getvalue()
    assert code == 0
    assert "Estimate for Instagram" in text and "clicks" in text
    assert "Return on ad spend" in text or "ROAS" in text
    assert "Quick decision" in text
    assert "I don't know the command" not in text and "I couldn't read" not in text


async def test_a_slash_command_in_plain_words_is_answered_in_the_ack(bot):
    answer = await bot.command(QUESTION)
    assert_quick_ok(answer)
    text = shown(answer.body)
    assert "Estimate for Instagram" in text
    headline = text.split("Estimate for Instagram", 1)[1]
    assert headline.lstrip(" \n*").split("·")[0].rstrip().endswith("clicks")  # leads with clicks


async def test_a_mention_and_a_dm_in_plain_words_are_answered(bot, slack):
    await bot.event(mention("what does $2k get me on instagram vs tiktok?"), event_id="EvPl1")
    posted = (await slack.wait_for("chat.postMessage"))[0].args
    assert "Instagram vs TikTok" in shown(posted)
    await bot.event(dm("budget for 50 sign-ups on facebook"), event_id="EvPl2")
    posted = (await slack.wait_for("chat.postMessage", count=2))[1].args
    assert posted["channel"] == "D1" and "Estimate for Facebook" in shown(posted)
    assert "budget" in shown(posted).split("Estimate for Facebook", 1)[1][:80]


async def test_notes_asked_in_plain_words_keep_to_the_privacy_rule(bot, slack):
    # A note logged in a private channel, then asked for in plain words from a public one by
    # someone else: the public channel must not see it, exactly as with `notes` typed.
    slack.channels["C7"] = {"is_private": True}
    await bot.command(
        "note secret-plan launch on friday", channel="C7", channel_name="privategroup"
    )
    plain = await bot.command("show me the notes for secret-plan", user="U2", channel="C1")
    typed = await bot.command("notes secret-plan", user="U2", channel="C1")
    assert "launch on friday" not in shown(plain.body)
    assert shown(plain.body) == shown(typed.body)
    inside = await bot.command(
        "show me the notes for secret-plan", user="U2", channel="C7", channel_name="privategroup"
    )
    assert "launch on friday" in shown(inside.body)


async def test_a_note_in_plain_words_is_logged_where_it_was_said(bot, slack):
    await bot.command("log a note on summer-sale - boosted the reel spend=$40")
    listed = await bot.command("notes summer-sale")
    assert "boosted the reel" in shown(listed.body)
