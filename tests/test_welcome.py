"""The DM's welcome (issue 14): the first opening of smx's Messages tab gets four suggested
questions as buttons; a button asks its question in the DM. End to end over signed HTTP against
the fake Web API."""

from __future__ import annotations

from bot.phrasing import read
from bot.router import find
from bot.slack.welcome import ASK_ACTION, SUGGESTED, welcome_message
from tests.support.blockkit import assert_message_ok, shown


def opened(tab: str = "messages", channel: str = "D1", user: str = "U1") -> dict:
    return {"type": "app_home_opened", "user": user, "channel": channel, "tab": tab}


async def test_the_first_opening_of_the_messages_tab_posts_the_welcome(bot, slack):
    answer = await bot.event(opened(), event_id="EvW1")
    assert answer.status == 200
    posted = (await slack.wait_for("chat.postMessage"))[0].args
    assert posted["channel"] == "D1"
    buttons = [e for b in posted["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(b["text"]["text"], b["value"]) for b in buttons] == list(SUGGESTED)
    assert len({b["action_id"] for b in buttons}) == 4
    assert slack.calls_to("conversations.history")[0].args["channel"] == "D1"
    assert_message_ok(posted["blocks"], posted["text"])
    assert not slack.calls_to("views.publish")  # the Messages tab is no Home tab


async def test_a_dm_that_already_has_messages_is_not_welcomed_again(bot, slack):
    slack.history["D1"] = [{"type": "message", "text": "hi", "ts": "1700000000.1"}]
    await bot.event(opened(), event_id="EvW2")
    await slack.wait_for("conversations.history")
    # Nothing else is coming: the Home tab opened next is the next thing smx does.
    await bot.event(opened("home"), event_id="EvW3")
    await slack.wait_for("views.publish")
    assert not slack.calls_to("chat.postMessage")


async def test_a_failed_history_call_costs_only_the_welcome(bot, slack):
    slack.fail("conversations.history", error="missing_scope")
    await bot.event(opened(), event_id="EvW4")
    await slack.wait_for("conversations.history")
    await bot.event(opened("home"), event_id="EvW5")
    await slack.wait_for("views.publish")
    assert not slack.calls_to("chat.postMessage")


async def test_a_suggested_question_is_answered_in_the_dm(bot, slack):
    title, question = SUGGESTED[1]
    answer = await bot.interact(
        {
            "type": "block_actions",
            "channel": {"id": "D1", "name": "directmessage"},
            "container": {"type": "message", "channel_id": "D1", "is_ephemeral": False},
            "actions": [
                {
                    "action_id": f"{ASK_ACTION}_1",
                    "block_id": "smx_welcome",
                    "type": "button",
                    "value": question,
                }
            ],
        }
    )
    assert answer.status == 200
    posted = (await slack.wait_for("chat.postMessage"))[0].args
    assert posted["channel"] == "D1"
    text = shown(posted["blocks"])
    assert "Instagram" in text and "TikTok" in text and "Most clicks" in text


async def test_a_forged_button_value_cannot_run_a_command_that_writes(bot, slack):
    answer = await bot.interact(
        {
            "type": "block_actions",
            "channel": {"id": "D1", "name": "directmessage"},
            "actions": [
                {
                    "action_id": f"{ASK_ACTION}_0",
                    "block_id": "smx_welcome",
                    "type": "button",
                    "value": "note for launch: written by a forged button",
                }
            ],
        }
    )
    assert answer.status == 200
    posted = (await slack.wait_for("chat.postMessage"))[0].args
    assert "only asks a question" in shown(posted["blocks"]) + posted["text"]
    listed = await bot.command("notes launch")
    assert "forged button" not in shown(listed.body)


def test_each_suggested_question_reads_as_a_command_that_answers():
    for _, question in SUGGESTED:
        command = read(question).command
        assert command and find(command.split()) is not None
    message = welcome_message()
    assert len(message["blocks"][1]["elements"]) == 4
