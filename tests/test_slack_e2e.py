"""End to end over real HTTP: the real app on 127.0.0.1, signed requests, a fake Slack Web API."""

from __future__ import annotations

import pytest

from tests.support.blockkit import assert_message_ok, assert_view_ok, shown

ACK_LIMIT = 3.0  # Slack's rule: the HTTP answer within 3 seconds


def assert_quick_ok(answer):
    assert answer.status == 200, answer.body
    assert answer.seconds < ACK_LIMIT


async def test_help_answers_in_the_ack(bot):
    answer = await bot.command("help")
    assert_quick_ok(answer)
    assert answer.body["response_type"] == "ephemeral"
    assert "compare [ASPECT]" in str(answer.body["blocks"])
    assert_message_ok(answer.body["blocks"], answer.body["text"])


async def test_the_messages_text_is_a_short_headline_and_the_blocks_hold_the_answer(bot):
    # Slack shows `text` only in notifications and where blocks cannot be (issue 13).
    answer = await bot.command("explain cpm")
    assert_quick_ok(answer)
    assert answer.body["text"] == (
        "CPM (SMM) — Cost per mille: what 1,000 impressions cost, i.e. the price per thousand "
        "impressions."
    )
    assert "CPM = cost / impressions × 1000" in shown(answer.body["blocks"])
    error = await bot.command("estimate budget=abc")
    assert (
        error.body["text"] == "`budget=abc` is not an amount of money: write it like budget=$2,000."
    )


async def test_compare_and_aspect_in_the_ack_with_a_share_button(bot):
    answer = await bot.command("compare timeline")
    assert_quick_ok(answer)
    text = str(answer.body["blocks"])
    assert "Timeline" in text
    assert_message_ok(answer.body["blocks"], answer.body["text"])
    buttons = [b for b in answer.body["blocks"] if b["type"] == "actions"][0]["elements"]
    assert buttons[-1]["action_id"] == "smx_share" and buttons[-1]["value"] == "compare timeline"


async def test_share_keyword_posts_in_channel(bot):
    answer = await bot.command("explain roas share")
    assert_quick_ok(answer)
    assert answer.body["response_type"] == "in_channel"
    assert "smx_share" not in str(answer.body["blocks"])
    assert "ROAS" in shown(answer.body)


async def test_unknown_term_gets_suggestions_not_a_result(bot):
    answer = await bot.command("explain roaz")
    assert_quick_ok(answer)
    assert "ROAS" in shown(answer.body)
    assert "smx_share" not in str(answer.body["blocks"])


async def test_unknown_subcommand_says_what_to_type(bot):
    answer = await bot.command("comapre")
    assert_quick_ok(answer)
    assert "Did you mean `/smx compare`?" in shown(answer.body)


async def test_estimate_with_numbers(bot):
    answer = await bot.command("estimate budget=$500 cpm=8")
    assert_quick_ok(answer)
    assert "62,500" in shown(answer.body)
    assert_message_ok(answer.body["blocks"], answer.body["text"])


async def test_note_list_search_and_delete_round_trip(bot, slack):
    logged = await bot.command(
        "note spring-launch Reel got 3x saves spend=$400 clicks=1.2k impressions=60k"
    )
    assert_quick_ok(logged)
    assert "spring-launch" in shown(logged.body)
    listing = await bot.command("notes spring-launch")
    assert_quick_ok(listing)
    assert "Reel got 3x saves" in shown(listing.body)
    assert_message_ok(listing.body["blocks"], listing.body["text"])
    found = await bot.command("notes search saves")
    assert_quick_ok(found)
    assert "Reel got 3x saves" in shown(found.body)
    # Deleting asks users.info whether the person is an admin, so it answers through response_url.
    deleted = await bot.command("note delete 1")
    assert_quick_ok(deleted)
    responses = await slack.wait_for("response_url")
    assert "deleted" in shown(responses[-1].args).lower()
    assert slack.calls_to("users.info")[0].args["user"] == "U1"
    empty = await bot.command("notes search saves")
    assert "Reel got 3x saves" not in shown(empty.body)


async def test_someone_else_cannot_delete_a_note_but_an_admin_can(bot, slack):
    await bot.command("note spring-launch first day")
    await bot.command("note delete 1", user="U2")
    await slack.wait_for("response_url")
    assert "Reel" not in str(slack.calls_to("response_url")[-1].args)
    still = await bot.command("notes")
    assert "first day" in shown(still.body)
    slack.users["U3"] = {"is_admin": True}
    await bot.command("note delete 1", user="U3")
    await slack.wait_for("response_url", count=2)
    gone = await bot.command("notes")
    assert "first day" not in shown(gone.body)


async def test_bad_note_input_gets_a_sentence(bot):
    answer = await bot.command("note")
    assert_quick_ok(answer)
    assert "note spring-launch" in shown(answer.body)


async def test_export_uploads_a_csv_to_the_conversation(bot, slack):
    await bot.command("note spring-launch <!channel> look spend=$400")
    answer = await bot.command("notes export spring-launch")
    assert_quick_ok(answer)
    uploads = await slack.wait_for("upload")
    assert "spring-launch" in uploads[0].args["content"]
    assert "<!channel>" not in uploads[0].args["content"]
    complete = await slack.wait_for("files.completeUploadExternal")
    assert complete[0].args["channel_id"] == "C1"


async def test_export_failure_is_answered_politely(bot, slack):
    await bot.command("note spring-launch something")
    slack.fail("files.getUploadURLExternal", error="not_in_channel")
    await bot.command("notes export")
    responses = await slack.wait_for("response_url")
    assert "/invite @smx" in shown(responses[0].args)
    assert not slack.calls_to("upload")


async def test_estimate_alone_opens_the_modal(bot, slack):
    answer = await bot.command("estimate")
    assert_quick_ok(answer)
    opened = await slack.wait_for("views.open")
    view = opened[0].args["view"]
    assert opened[0].args["trigger_id"] == "1337.42.abcd"
    assert view["callback_id"] == "smx_estimate"
    assert_view_ok(view)


def submission(values: dict[str, str], platform: str | None = None) -> dict:
    state = {
        key: {"value": {"type": "plain_text_input", "value": value}}
        for key, value in values.items()
    }
    if platform:
        state["platform"] = {
            "value": {"type": "static_select", "selected_option": {"value": platform}}
        }
    return {
        "type": "view_submission",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "smx_estimate",
            "private_metadata": '{"channel": "C1"}',
            "state": {"values": state},
            "team_id": "T1",
        },
    }


async def test_modal_submission_with_bad_fields_returns_errors_by_block(bot, slack):
    answer = await bot.interact(submission({"budget": "lots", "cpm": "-3"}))
    assert_quick_ok(answer)
    assert answer.body["response_action"] == "errors"
    assert set(answer.body["errors"]) == {"budget", "cpm"}
    assert "budget" in answer.body["errors"]["budget"]
    await bot.idle()
    assert not slack.calls_to("chat.postEphemeral")


async def test_modal_submission_that_is_not_enough_says_what_would_be(bot):
    answer = await bot.interact(submission({"ctr": "1%"}))
    assert_quick_ok(answer)
    assert answer.body["response_action"] == "errors"
    assert "budget" in answer.body["errors"]["budget"].lower()


async def test_good_modal_submission_answers_the_user(bot, slack):
    answer = await bot.interact(submission({"budget": "$500", "cpm": "$8"}))
    assert_quick_ok(answer)
    assert not answer.body  # closes the modal
    posted = await slack.wait_for("chat.postEphemeral")
    assert posted[0].args["user"] == "U1" and posted[0].args["channel"] == "C1"
    assert "62,500" in shown(posted[0].args)
    assert_message_ok(posted[0].args["blocks"], posted[0].args["text"])


async def test_share_button_posts_in_the_channel(bot, slack):
    payload = {
        "type": "block_actions",
        "channel": {"id": "C1", "name": "general"},
        "response_url": slack.response_url("share"),
        "actions": [
            {"action_id": "smx_share", "block_id": "b", "type": "button", "value": "compare cost"}
        ],
    }
    answer = await bot.interact(payload)
    assert_quick_ok(answer)
    posted = await slack.wait_for("response_url")
    assert posted[0].args["response_type"] == "in_channel"
    assert "Cost" in shown(posted[0].args)
    assert_message_ok(posted[0].args["blocks"], posted[0].args["text"])


def mention(text: str, ts: str = "1700000000.000100", channel: str = "C1") -> dict:
    return {
        "type": "app_mention",
        "user": "U1",
        "text": f"<@UBOT> {text}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }


def dm(text: str, ts: str = "1700000001.000100") -> dict:
    return {
        "type": "message",
        "channel_type": "im",
        "user": "U1",
        "text": text,
        "ts": ts,
        "channel": "D1",
        "event_ts": ts,
    }


@pytest.mark.parametrize(
    "text,expected",
    [
        ("compare cost", "Cost"),
        ("what's the difference between smo and smm?", "Timeline"),
        ("how many impressions does $500 buy at $8 cpm?", "62,500"),
        ("explain roas", "ROAS"),
    ],
)
async def test_mention_in_grammar_and_plain_words_answers_in_thread(bot, slack, text, expected):
    answer = await bot.event(mention(text))
    assert_quick_ok(answer)
    posted = await slack.wait_for("chat.postMessage")
    assert posted[0].args["channel"] == "C1" and posted[0].args["thread_ts"] == "1700000000.000100"
    assert expected in shown(posted[0].args)
    assert_message_ok(posted[0].args["blocks"], posted[0].args["text"])


@pytest.mark.parametrize(
    "text,expected",
    [
        ("explain cpm", "CPM"),
        ("what is a lookalike audience?", "ookalike"),
        ("note for spring-launch: Reel got 3x saves", "spring-launch"),
    ],
)
async def test_dm_in_grammar_and_plain_words(bot, slack, text, expected):
    answer = await bot.event(dm(text))
    assert_quick_ok(answer)
    posted = await slack.wait_for("chat.postMessage")
    assert posted[0].args["channel"] == "D1" and "thread_ts" not in posted[0].args
    assert expected in shown(posted[0].args)


async def test_bots_and_own_messages_are_ignored(bot, slack):
    own = {**dm("explain cpm"), "user": "UBOT"}
    other_bot = {**dm("explain cpm"), "bot_id": "B9", "ts": "1700000002.1"}
    edited = {**dm("explain cpm"), "subtype": "message_changed", "ts": "1700000003.1"}
    for i, event in enumerate((own, other_bot, edited)):
        assert_quick_ok(await bot.event(event, event_id=f"EvBot{i}"))
    await bot.idle()
    assert not slack.calls_to("chat.postMessage")


async def test_a_retried_event_neither_repeats_the_note_nor_the_answer(bot, slack):
    event = mention("note spring-launch Reel got 3x saves")
    assert_quick_ok(await bot.event(event, event_id="EvSame"))
    await slack.wait_for("chat.postMessage")
    for retry in (1, 2):
        assert_quick_ok(await bot.event(event, event_id="EvSame", retry=retry))
    await bot.idle()
    assert len(slack.calls_to("chat.postMessage")) == 1
    listing = await bot.command("notes spring-launch")
    assert shown(listing.body).count("Reel got 3x saves") == 1


async def test_private_channel_mention_is_checked_with_conversations_info(bot, slack):
    slack.channels["C7"] = {"is_private": True}
    await bot.event(mention("note secret-plan launch on friday", channel="C7"), event_id="EvP")
    await slack.wait_for("chat.postMessage")
    assert slack.calls_to("conversations.info")[0].args["channel"] == "C7"
    elsewhere = await bot.command("notes", user="U2", channel="C1")
    assert "launch on friday" not in shown(elsewhere.body)
    inside = await bot.command("notes", user="U2", channel="C7", channel_name="privategroup")
    assert "launch on friday" in shown(inside.body)


async def test_app_home_publishes_a_valid_view(bot, slack):
    await bot.command("note spring-launch Reel got 3x saves")
    answer = await bot.event(
        {
            "type": "app_home_opened",
            "user": "U1",
            "channel": "D1",
            "tab": "home",
            "event_ts": "1700000000.1",
        },
        event_id="EvHome",
    )
    assert_quick_ok(answer)
    published = await slack.wait_for("views.publish")
    view = published[0].args["view"]
    assert published[0].args["user_id"] == "U1"
    assert view["type"] == "home"
    assert "Reel got 3x saves" in str(view["blocks"])
    assert {"smx_open_estimate", "smx_open_compare"} <= {
        e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
    }
    assert_view_ok(view)


@pytest.mark.parametrize(
    "action,callback", [("smx_open_estimate", "smx_estimate"), ("smx_open_compare", None)]
)
async def test_home_buttons_open_their_modals(bot, slack, action, callback):
    answer = await bot.interact(
        {
            "type": "block_actions",
            "view": {"id": "VH", "type": "home"},
            "actions": [{"action_id": action, "block_id": "b", "type": "button"}],
        }
    )
    assert_quick_ok(answer)
    view = (await slack.wait_for("views.open"))[0].args["view"]
    assert view.get("callback_id") == callback
    assert_view_ok(view)


async def test_bad_signature_and_stale_timestamp_are_refused_before_any_handler(bot, slack):
    import time as clock
    from urllib.parse import urlencode

    from tests.support.slack_harness import sign

    body = urlencode(
        {
            "command": "/smx",
            "text": "note x should-not-land",
            "team_id": "T1",
            "user_id": "U1",
            "channel_id": "C1",
            "channel_name": "general",
        }
    ).encode()
    forged = await bot.post(
        body, "application/x-www-form-urlencoded", signed=sign(body, secret="wrong-secret")
    )
    stale = await bot.post(
        body, "application/x-www-form-urlencoded", signed=sign(body, int(clock.time()) - 600)
    )
    unsigned = await bot.post(body, "application/x-www-form-urlencoded", signed={})
    assert [forged.status, stale.status, unsigned.status] == [401, 401, 401]
    assert max(forged.seconds, stale.seconds, unsigned.seconds) < ACK_LIMIT
    listing = await bot.command("notes")
    assert "should-not-land" not in shown(listing.body)
    # no handler ran: nothing of that request reached the Web API either
    assert all("should-not-land" not in str(c.args) for c in slack.calls)


async def test_rate_limit_is_waited_out_then_the_answer_goes_through(bot, slack, monkeypatch):
    import asyncio

    from slack_sdk.http_retry import builtin_async_handlers

    asked: list[float] = []

    class Clockless:  # the retry handler's asyncio: its wait is recorded, not spent
        @staticmethod
        async def sleep(seconds: float) -> None:
            asked.append(seconds)
            await asyncio.sleep(0)

    monkeypatch.setattr(builtin_async_handlers, "asyncio", Clockless)
    slack.fail("chat.postMessage", status=429, error="ratelimited", retry_after=7)
    answer = await bot.event(mention("explain ctr"), event_id="Ev429")
    assert_quick_ok(answer)
    calls = await slack.wait_for("chat.postMessage", count=2)
    assert asked and asked[0] >= 7  # Retry-After honoured: it waited what Slack asked, before
    assert "CTR" in shown(calls[1].args)


async def test_server_error_is_retried(bot, slack, no_backoff):  # retried, not how soon
    slack.fail("views.publish", status=500, error="internal_error")
    await bot.event(
        {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}, event_id="Ev500"
    )
    calls = await slack.wait_for("views.publish", count=2, within=8)
    assert len(calls) == 2


async def test_web_api_calls_go_to_the_configured_url_with_the_token(bot, slack):
    await bot.event(mention("explain cpc"), event_id="EvTok")
    posted = await slack.wait_for("chat.postMessage")
    assert posted[0].headers["Authorization"] == "Bearer xoxb-test-token-abcdef"


async def test_healthz(bot):
    answer = await bot.get("/healthz")
    assert answer.status == 200 and '"database": true' in answer.body


async def test_a_mention_never_shows_the_askers_private_notes_to_the_channel(bot, slack):
    await bot.command("note secret-camp DMONLY-SECRET", channel="D1", channel_name="directmessage")
    own = await bot.command("notes", channel="C1")  # ephemeral: only the author sees it
    assert "DMONLY-SECRET" in shown(own.body)
    await bot.event(mention("notes"), event_id="EvLeak1")
    await bot.event(mention("notes search DMONLY", ts="1700000000.000200"), event_id="EvLeak2")
    posted = await slack.wait_for("chat.postMessage", count=2)
    assert all("DMONLY-SECRET" not in str(c.args) for c in posted)


async def test_a_dm_export_is_uploaded_like_the_slash_command(bot, slack):
    await bot.command("note spring-launch from the dm", channel="D1", channel_name="directmessage")
    assert_quick_ok(await bot.event(dm("notes export"), event_id="EvDmExport"))
    uploads = await slack.wait_for("upload")
    assert "from the dm" in uploads[0].args["content"]
    assert (await slack.wait_for("files.completeUploadExternal"))[0].args["channel_id"] == "D1"
    await bot.idle()
    assert not slack.calls_to("chat.postMessage")  # the file is the answer


async def test_a_mention_delete_asks_who_is_an_admin(bot, slack):
    await bot.command("note spring-launch to remove")
    slack.users["U1"] = {"is_admin": True}
    await bot.event(mention("note delete 1"), event_id="EvDel")
    posted = await slack.wait_for("chat.postMessage")
    assert slack.calls_to("users.info") and "deleted" in shown(posted[0].args).lower()


async def test_a_dm_digest_on_uses_the_persons_time_zone(bot, slack):
    slack.users["U1"] = {"tz": "America/New_York"}
    await bot.event(dm("digest on"), event_id="EvDig")
    posted = await slack.wait_for("chat.postMessage")
    assert "America/New_York" in shown(posted[0].args)


async def test_a_form_that_cannot_open_is_explained(bot, slack):
    slack.fail("views.open", error="expired_trigger_id")
    assert_quick_ok(await bot.command("estimate"))
    told = await slack.wait_for("response_url")
    assert "couldn't open the estimate form" in shown(told[0].args)
    assert "expired_trigger_id" in shown(told[0].args) and "/smx estimate budget=" in shown(
        told[0].args
    )


async def test_a_failure_after_the_ack_is_told_with_an_error_id(bot, slack, monkeypatch):
    import bot.slack.listeners.commands as commands

    async def broken(*args, **kwargs):
        raise RuntimeError("export blew up")

    monkeypatch.setattr(commands, "upload", broken)
    await bot.command("note spring-launch x")
    assert_quick_ok(await bot.command("notes export"))
    told = await slack.wait_for("response_url")
    assert "error id `" in shown(told[0].args) and "blew up" not in shown(told[0].args)


async def test_a_note_in_a_private_channel_is_private_whatever_name_the_payload_gives(bot, slack):
    slack.channels["C9"] = {"is_private": True}
    logged = await bot.command(
        "note launch-plan quiet launch", channel="C9", channel_name="launch-room"
    )
    assert_quick_ok(logged)
    assert "Only this private channel and you can see it" in shown(logged.body)
    other = await bot.command("notes", user="U2", channel="C1")
    assert "quiet launch" not in shown(other.body)


async def test_an_invisible_character_in_the_command_word_still_asks_slack_who_reads(bot, slack):
    # `no\u200bte` is cleaned to `note` by the router; the face must read it the same way, or the
    # note's privacy would come from the payload's hint instead of conversations.info.
    slack.channels["C9"] = {"is_private": True}
    logged = await bot.command(
        "no\u200bte launch-plan quiet launch", channel="C9", channel_name="launch-room"
    )
    assert_quick_ok(logged)
    assert "Only this private channel and you can see it" in shown(logged.body)
    other = await bot.command("notes", user="U2", channel="C1")
    assert "quiet launch" not in shown(other.body)


async def test_a_note_in_a_slack_connect_channel_stays_there(bot, slack):
    slack.channels["C8"] = {"is_ext_shared": True}
    await bot.command("note partner-plan shared plan", channel="C8", channel_name="acme-partner")
    other = await bot.command("notes", user="U2", channel="C1")
    assert "shared plan" not in shown(other.body)


async def test_a_note_is_private_when_slack_cannot_say(bot, slack):
    slack.fail("conversations.info", error="channel_not_found")
    await bot.command("note unsure-plan maybe secret", channel="C6", channel_name="somewhere")
    other = await bot.command("notes", user="U2", channel="C1")
    assert "maybe secret" not in shown(other.body)


async def test_a_slow_answer_is_acknowledged_in_time_and_delivered_after(bot, slack, monkeypatch):
    import asyncio

    import bot.slack.listeners.commands as commands

    monkeypatch.setattr(commands, "ACK_BUDGET", 0.2)
    store = bot.services.store
    original = store.add_note

    held = asyncio.Event()  # a database held by another writer, until the test lets it go

    async def slow_add(*args, **kwargs):
        await held.wait()
        return await original(*args, **kwargs)

    monkeypatch.setattr(store, "add_note", slow_add)
    answer = await bot.command("note spring-launch slow day")
    assert_quick_ok(answer)  # Slack's 3-second rule
    assert "Working on it" in shown(answer.body)  # answered while the note could not be written
    held.set()
    later = await slack.wait_for("response_url")
    assert "Logged note #1" in shown(later[0].args) and later[0].args["replace_original"] is True


async def test_an_admin_may_pause_another_channels_digest_from_elsewhere(bot, slack):
    slack.members["C1"] = ["U1", "U2"]  # U2 is in C1 too, but did not set its digest up
    await bot.command("digest on mon 09:00", channel="C1")  # U1 sets it up in C1
    await slack.wait_for("response_url")
    await bot.event(
        {**mention("digest pause <#C1|general>", channel="C2"), "user": "U2"}, event_id="EvP1"
    )
    refused = await slack.wait_for("chat.postMessage")
    assert "Only the person who set it up or a workspace admin" in shown(refused[0].args)
    slack.users["U3"] = {"is_admin": True}
    await bot.event(
        {**mention("digest pause <#C1|general>", channel="C2", ts="1700000000.5"), "user": "U3"},
        event_id="EvP2",
    )
    paused = await slack.wait_for("chat.postMessage", count=2)
    assert "Paused the weekly digest" in shown(paused[1].args)


async def test_app_home_shows_the_digests_you_set_up(bot, slack):
    home = {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}
    await bot.event(home, event_id="EvHome1")
    first = (await slack.wait_for("views.publish"))[0].args["view"]
    assert "Weekly digest: none set up by you" in str(first["blocks"])
    slack.users["U1"] = {"tz": "Europe/Berlin"}
    await bot.command("digest on mon 09:00", channel="C1")
    await slack.wait_for("response_url")
    await bot.event(home, event_id="EvHome2")
    second = (await slack.wait_for("views.publish", count=2))[1].args["view"]
    text = str(second["blocks"])
    assert (
        "Weekly digests you set up: channel C1: next Mon" in text and "09:00 Europe/Berlin" in text
    )
    assert_view_ok(second)


async def test_a_slack_connect_channel_sees_only_its_own_notes(bot, slack):
    slack.channels["C8"] = {"is_ext_shared": True}
    await bot.command("note spring-launch TEAM-ONLY plan")  # public C1: team-wide
    await bot.command(
        "note partner-plan shared with partner", channel="C8", channel_name="acme-partner"
    )
    listing = await bot.command("notes", channel="C8", channel_name="acme-partner")
    assert "shared with partner" in shown(listing.body) and "TEAM-ONLY" not in shown(listing.body)
    found = await bot.command("notes search plan", channel="C8", channel_name="acme-partner")
    assert "TEAM-ONLY" not in shown(found.body)
    await bot.event(mention("notes", channel="C8"), event_id="EvExt")
    posted = await slack.wait_for("chat.postMessage")
    assert "TEAM-ONLY" not in shown(posted[0].args) and "shared with partner" in shown(
        posted[0].args
    )
    refused = await bot.command("digest preview", channel="C8", channel_name="acme-partner")
    assert "shared with another organisation" in shown(refused.body)
    await bot.command("digest on", channel="C8", channel_name="acme-partner")
    told = await slack.wait_for("response_url")
    assert "shared with another organisation" in shown(told[-1].args)


@pytest.mark.parametrize(
    "text,method,said",
    [
        ("note delete 1", "users.info", "Only its author or a workspace admin"),
        ("digest on #marketing", "conversations.list", "I can't find the channel `#marketing`"),
        ("notes export", "files.getUploadURLExternal", "The upload failed"),
        ("estimate", "views.open", "couldn't open the estimate form"),
    ],
)
async def test_a_connection_slack_drops_after_the_ack_is_answered_in_words(
    bot, slack, text, method, said, no_backoff
):
    await bot.command("note spring-launch written by someone else", user="U2")
    slack.fail(method, drop=True, times=10)  # past the client's own retries
    assert_quick_ok(await bot.command(text))
    told = await slack.wait_for("response_url", within=20)
    assert said in shown(told[0].args) and "error id" not in shown(told[0].args)
