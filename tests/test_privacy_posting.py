"""Privacy where answers are posted: digests of other conversations, Slack Connect channels, the
share button, and the last-step check every posting path goes through.

Over real HTTP against the fake Slack (tests/support/fake_slack.py), which says which channels are private
or shared with another organisation (`slack.channels`) and who is in them (`slack.members`).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest

from bot.digest.scheduler import Scheduler
from bot.reply import Reply, Source, render_text
from bot.slack.answer import WITHHELD, cleared
from bot.slack.digest_post import DigestPoster
from bot.store import Audience, Viewer, may_read, open_store
from tests.support.blockkit import shown
from tests.support.digest_support import Clock, note, subscription
from tests.support.slack_harness import mention_of, single_workspace_settings

ACK_LIMIT = 3.0


def quick(answer) -> None:
    assert answer.status == 200, answer.body
    assert answer.seconds < ACK_LIMIT


async def told(slack, count: int) -> str:
    """The text of the `count`th answer sent through response_url (lazy listeners answer there)."""
    calls = await slack.wait_for("response_url", count=count)
    return shown(calls[count - 1].args)


def posted_to(slack, channel: str) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == channel]


def everything_sent(slack) -> str:
    out = []
    for call in slack.calls:
        if call.method in ("chat.postMessage", "chat.postEphemeral", "response_url", "upload"):
            out.append(json.dumps(call.args))
        elif call.method.startswith("views."):
            out.append(json.dumps(call.args.get("view")))
    return "\n".join(out)


# -- defect 1: no digest in a channel shared with another organisation -----------------------------


async def test_a_digest_of_a_slack_connect_channel_named_from_elsewhere_is_refused(bot, slack):
    slack.channels["CAEXT"] = {"is_ext_shared": True, "name": "partners"}
    slack.members["CAEXT"] = ["U1"]
    quick(await bot.command("note spring-launch TEAM-WIDE-PLAN spend=$400"))  # public C1

    quick(await bot.command("digest on <#CAEXT|partners>"))
    said = await told(slack, 1)
    assert "shared with another organisation" in said and "Weekly digest on" not in said
    assert await bot.services.store.get_subscription("T1", "CAEXT") is None

    quick(await bot.command("digest now <#CAEXT|partners>"))
    said = await told(slack, 2)
    assert "shared with another organisation" in said and "Posted" not in said
    await bot.idle()  # what the refused command's work after the ack did, all of it
    assert not posted_to(slack, "CAEXT")
    assert "TEAM-WIDE-PLAN" not in json.dumps([c.args for c in slack.calls_to("chat.postMessage")])


async def test_digest_now_asks_slack_afresh_at_posting_time(bot, slack):
    """What Slack said a minute ago is cached for answers; a post asks again."""
    slack.members["C5"] = ["U1"]
    quick(await bot.command("note spring-launch TEAM-WIDE-PLAN", channel="C1"))
    listing = await bot.command("notes", channel="C5", channel_name="launch")  # cached: internal
    assert "TEAM-WIDE-PLAN" in shown(listing.body)
    slack.channels["C5"] = {"is_ext_shared": True}  # shared with a partner since
    quick(await bot.command("digest now", channel="C5", channel_name="launch"))
    said = await told(slack, 1)
    assert "shared with another organisation" in said
    await bot.idle()  # what the refused command's work after the ack did, all of it
    assert not posted_to(slack, "C5")


async def test_the_weekly_run_stops_when_its_channel_becomes_shared(slack, tmp_path):
    path = str(tmp_path / "smx.db")
    store = open_store(path)
    clock = Clock(datetime(2026, 11, 29, 12, tzinfo=UTC))
    try:
        await store.add_note(note("C1", clock.now, "TEAM-WIDE-PLAN"))
        await store.add_note(note("C5", clock.now, "in the channel itself"))
        await store.save_subscription(subscription("C5", clock.now, tz="UTC", subscriber="U5"))
        slack.channels["C5"] = {"is_ext_shared": True}  # set up inside; shared since
        clock.set(datetime(2026, 11, 30, 9, 0, 10, tzinfo=UTC))
        poster = DigestPoster(single_workspace_settings(slack, path))
        report = await Scheduler(store, poster, clock=clock).tick()
        assert not posted_to(slack, "C5")
        assert slack.calls_to("conversations.info")[0].args["channel"] == "C5"
        [dm] = posted_to(slack, "U5")
        assert "shared with another organisation" in shown(dm.args)
        assert "TEAM-WIDE-PLAN" not in shown(dm.args)
        sub = await store.get_subscription("T1", "C5")
        assert sub.state == "paused" and "shared with another organisation" in sub.paused_reason
        assert report.outcomes == {"failed": 1}
        [run] = await store.list_runs("T1", "C5")
        assert run.state == "failed"
        # The next week's pass posts nothing there either: the subscription is paused.
        clock.advance(days=7)
        await Scheduler(store, poster, clock=clock).tick()
        assert not posted_to(slack, "C5")
    finally:
        await store.close()


async def test_a_digest_paused_because_its_channel_became_shared_is_not_resumed(bot, slack):
    store = bot.services.store
    await store.save_subscription(subscription("C5", datetime.now(UTC), tz="UTC"))
    await store.set_subscription_state(
        "T1", "C5", "paused", reason="shared with another organisation"
    )
    slack.channels["C5"] = {"is_ext_shared": True}
    answer = await bot.command("digest resume", channel="C5", channel_name="launch")
    quick(answer)
    assert "shared with another organisation" in shown(answer.body)
    assert (await store.get_subscription("T1", "C5")).state == "paused"


async def test_a_weekly_run_that_cannot_ask_slack_is_not_posted_but_retried(slack, tmp_path):
    path = str(tmp_path / "smx.db")
    store = open_store(path)
    clock = Clock(datetime(2026, 11, 29, 12, tzinfo=UTC))
    try:
        await store.add_note(note("C5", clock.now, "in the channel"))
        await store.save_subscription(subscription("C5", clock.now, tz="UTC"))
        slack.fail("conversations.info", status=503, error="service_unavailable", times=50)
        clock.set(datetime(2026, 11, 30, 9, 0, 10, tzinfo=UTC))
        settings = single_workspace_settings(slack, path)
        poster = DigestPoster(settings, backoff=0.01, max_wait=0.3)
        report = await Scheduler(store, poster, clock=clock).tick()
        assert report.outcomes == {"retry": 1} and not posted_to(slack, "C5")
        slack.failures.clear()  # Slack answers again
        clock.advance(minutes=2)
        again = await Scheduler(store, poster, clock=clock).tick()
        assert again.outcomes == {"posted": 1} and len(posted_to(slack, "C5")) == 1
    finally:
        await store.close()


# -- defect 2: another conversation's digest needs its membership or an admin ----------------------


async def private_channel_with_notes(bot, slack) -> None:
    slack.channels["GAPRIV"] = {"is_private": True, "name": "x"}
    slack.members["GAPRIV"] = ["U1", "U7"]
    for text in ("PRIVATE-ONE", "PRIVATE-TWO"):
        quick(await bot.command(f"note secret-plan {text}", channel="GAPRIV", channel_name="x"))


async def test_an_outsider_can_neither_set_up_nor_post_a_private_channels_digest(bot, slack):
    await private_channel_with_notes(bot, slack)
    quick(await bot.command("digest on <#GAPRIV|x>", user="U2", channel="C9"))
    said = await told(slack, 1)
    assert "member" in said and "Weekly digest on" not in said
    assert await bot.services.store.get_subscription("T1", "GAPRIV") is None

    quick(await bot.command("digest now <#GAPRIV|x>", user="U2", channel="C9"))
    said = await told(slack, 2)
    assert "member" in said and "Posted" not in said and "note" not in said.split("member")[0]
    await bot.idle()  # what the refused command's work after the ack did, all of it
    assert not posted_to(slack, "GAPRIV")
    assert "2 notes" not in everything_sent(slack)
    asked = slack.calls_to("conversations.members")
    assert asked and all(c.args["channel"] == "GAPRIV" for c in asked)


async def test_someone_elses_dm_digest_is_refused_to_an_outsider(bot, slack):
    slack.members["DOTHER"] = ["U1", "UBOT"]
    logged = await bot.command(
        "note secret-plan DM-THOUGHT", channel="DOTHER", channel_name="directmessage"
    )
    quick(logged)
    quick(await bot.command("digest on <#DOTHER>", user="U2", channel="C9"))
    assert "member" in await told(slack, 1)
    assert await bot.services.store.get_subscription("T1", "DOTHER") is None
    quick(await bot.command("digest now <#DOTHER>", user="U2", channel="C9"))
    said = await told(slack, 2)
    assert "member" in said and "Posted" not in said
    await bot.idle()  # what the refused command's work after the ack did, all of it
    assert not posted_to(slack, "DOTHER") and "DM-THOUGHT" not in everything_sent(slack)


async def test_a_member_may_post_it_from_elsewhere_but_is_not_told_its_count(bot, slack):
    await private_channel_with_notes(bot, slack)
    slack.members["GAPRIV"] = [f"U{i}X" for i in range(1500)] + ["U7"]  # on the second page
    quick(await bot.command("digest on <#GAPRIV|x>", user="U7", channel="C9"))
    assert "Weekly digest on for channel `GAPRIV`" in await told(slack, 1)
    assert len(slack.calls_to("conversations.members")) == 2  # paged
    quick(await bot.command("digest now <#GAPRIV|x>", user="U7", channel="C9"))
    said = await told(slack, 2)
    assert "Posted the digest of the last 7 days in channel `GAPRIV`." in said
    assert "2 notes" not in said and "PRIVATE" not in said
    [digest] = posted_to(slack, "GAPRIV")
    assert "PRIVATE-ONE" in shown(digest.args)


async def test_an_admin_outside_the_channel_may_manage_its_digest(bot, slack):
    await private_channel_with_notes(bot, slack)
    slack.users["U3"] = {"is_admin": True}
    quick(await bot.command("digest on <#GAPRIV|x> fri 10:00", user="U3", channel="C9"))
    assert "Weekly digest on for channel `GAPRIV`" in await told(slack, 1)
    assert not slack.calls_to("conversations.members")  # an admin need not be asked about


async def test_membership_that_slack_cannot_confirm_means_no(bot, slack):
    await private_channel_with_notes(bot, slack)
    slack.fail("conversations.members", error="fatal_error", times=5)
    quick(await bot.command("digest on <#GAPRIV|x>", user="U7", channel="C9"))
    said = await told(slack, 1)
    assert "member" in said and "Weekly digest on" not in said
    assert await bot.services.store.get_subscription("T1", "GAPRIV") is None


# -- defect 3: the share button re-checks privacy for the channel it posts to ----------------------


def share(slack, value: str, channel: str = "C1", user: str = "U1") -> dict:
    return {
        "type": "block_actions",
        "user": {"id": user, "team_id": "T1"},
        "channel": {"id": channel, "name": "general"},
        "response_url": slack.response_url("share"),
        "actions": [{"action_id": "smx_share", "block_id": "b", "type": "button", "value": value}],
    }


async def notes_everywhere(bot, slack) -> None:
    slack.channels["G1"] = {"is_private": True}
    slack.channels["C8"] = {"is_ext_shared": True}
    quick(await bot.command("note camp TEAM-NOTE", channel="C1"))
    quick(await bot.command("note camp DM-NOTE", channel="D1", channel_name="directmessage"))
    quick(await bot.command("note camp PRIVATE-NOTE", channel="G1", channel_name="privategroup"))
    quick(await bot.command("note camp CONNECT-NOTE", channel="C8", channel_name="partners"))


@pytest.mark.parametrize("value", ["notes", "notes camp", "notes search camp*"])
async def test_a_hand_built_share_of_notes_shows_only_what_the_channel_may_read(bot, slack, value):
    await notes_everywhere(bot, slack)
    quick(await bot.interact(share(slack, value)))
    [posted] = await slack.wait_for("response_url")
    shown = json.dumps(posted.args)
    for secret in ("DM-NOTE", "PRIVATE-NOTE", "CONNECT-NOTE"):
        assert secret not in shown, (value, shown)
    assert "TEAM-NOTE" in shown and posted.args["response_type"] == "in_channel"


async def test_a_share_in_a_slack_connect_channel_shows_only_its_own_notes(bot, slack):
    await notes_everywhere(bot, slack)
    quick(await bot.interact(share(slack, "notes", channel="C8")))
    [posted] = await slack.wait_for("response_url")
    shown = json.dumps(posted.args)
    assert "CONNECT-NOTE" in shown and "TEAM-NOTE" not in shown and "DM-NOTE" not in shown


@pytest.mark.parametrize("value", ["note delete 1", "note camp logged by a button", "digest off"])
async def test_a_share_button_never_runs_a_command_that_changes_something(bot, slack, value):
    await notes_everywhere(bot, slack)
    quick(await bot.command("digest on mon 09:00", channel="C1"))
    await told(slack, 1)
    quick(await bot.interact(share(slack, value)))
    said = await told(slack, 2)
    assert (
        "type" in said.lower()
        and (await slack.wait_for("response_url", count=2))[1].args["response_type"] == "ephemeral"
    )
    listing = await bot.command("notes", channel="C1")
    assert "TEAM-NOTE" in shown(listing.body) and "logged by a button" not in shown(listing.body)
    assert await bot.services.store.get_subscription("T1", "C1") is not None


async def test_the_share_button_still_shares_a_comparison(bot, slack):
    quick(await bot.interact(share(slack, "compare cost")))
    [posted] = await slack.wait_for("response_url")
    assert posted.args["response_type"] == "in_channel" and "Cost" in shown(posted.args)


async def test_a_channel_slack_cannot_describe_is_read_as_if_shared_until_it_can(bot, slack):
    """It might be a Slack Connect channel: only its own notes, and the person is told why."""
    quick(await bot.command("note camp TEAM-NOTE", channel="C1"))
    slack.fail("conversations.info", error="fatal_error")
    unsure = await bot.command("notes", channel="C6", channel_name="somewhere")
    quick(unsure)
    assert "TEAM-NOTE" not in shown(unsure.body)
    assert "Slack didn't say whether this conversation is shared" in shown(unsure.body)
    again = await bot.command("notes", channel="C6", channel_name="somewhere")
    assert "TEAM-NOTE" in shown(again.body) and "didn't say" not in shown(again.body)


# -- the last-step check: whatever built the answer ------------------------------------------------


def test_may_read_is_the_privacy_rule():
    def src(channel="C1", kind="public", author="U1", team="T1"):
        return Source(team=team, channel=channel, channel_kind=kind, author=author)

    channel = Audience("T1", "C2", "public")
    alone = Audience("T1", "C2", "public", user="U1")
    connect = Audience("T1", "C8", "private", shared_externally=True, user="U1")
    assert may_read(src(), channel) and may_read(src(kind="console"), channel)
    assert not may_read(src(team="T2"), channel)  # another tenant's, even team-wide
    assert not may_read(src("G1", "private"), channel)
    assert may_read(src("G1", "private"), alone)  # its author, in an answer only they see
    assert not may_read(src("G1", "private", author="U2"), alone)
    assert may_read(src("C2", "private", author="U2"), channel)  # logged in this conversation
    assert not may_read(src(), connect)  # Slack Connect: that channel's notes only
    assert not may_read(src("D1", "im"), connect)
    assert may_read(src("C8", "private", author="U9"), connect)


def test_cleared_withholds_an_answer_with_any_note_its_reader_may_not_read(caplog):
    team_note = Source(note=1, team="T1", channel="C1", channel_kind="public", author="U1")
    dm_note = Source(note=2, team="T1", channel="D1", channel_kind="im", author="U1")
    reply = Reply(intro="two notes: DM-SECRET", sources=[team_note, dm_note])
    assert cleared(reply, Audience("T1", "C1", "public", user="U1"), path="test") is reply
    with caplog.at_level(logging.ERROR, logger="smx.slack"):
        withheld = cleared(reply, Audience("T1", "C1", "public"), path="test")
    assert withheld.is_error and withheld.intro == WITHHELD and not withheld.sources
    assert "DM-SECRET" not in render_text(withheld)
    [record] = [r for r in caplog.records if r.getMessage() == "privacy check withheld an answer"]
    assert record.notes == [2] and record.path == "test" and "DM-SECRET" not in str(record.__dict__)


@pytest.fixture
def wrong_viewer(monkeypatch):
    """A deliberately wrong Viewer for every notes command: the asker's private notes from
    everywhere and team-wide notes, whoever reads the answer and wherever (a path that forgot)."""
    from bot.notes import commands

    def careless(ctx, *, personal=True):
        return Viewer(ctx.owner, ctx.channel, ctx.user, confined=False)

    monkeypatch.setattr(commands, "_viewer", careless)


async def test_the_check_alone_stops_a_mention_from_showing_private_notes(
    bot, slack, wrong_viewer, caplog
):
    await notes_everywhere(bot, slack)
    with caplog.at_level(logging.ERROR, logger="smx.slack"):
        await bot.event(mention_of("notes"), event_id="EvWrong1")
        [posted] = await slack.wait_for("chat.postMessage")
    assert WITHHELD[:40] in shown(posted.args)
    sent = json.dumps(posted.args)
    assert "DM-NOTE" not in sent and "PRIVATE-NOTE" not in sent
    assert any(r.getMessage() == "privacy check withheld an answer" for r in caplog.records)


async def test_the_check_alone_stops_a_slack_connect_listing(bot, slack, wrong_viewer):
    await notes_everywhere(bot, slack)
    answer = await bot.command("notes", channel="C8", channel_name="partners")
    quick(answer)
    assert WITHHELD[:40] in shown(answer.body) and answer.body["response_type"] == "ephemeral"
    assert "TEAM-NOTE" not in json.dumps(answer.body)


async def test_the_check_alone_stops_a_share_and_an_export(bot, slack, wrong_viewer):
    await notes_everywhere(bot, slack)
    quick(await bot.interact(share(slack, "notes")))
    shared = await told(slack, 1)
    assert WITHHELD[:40] in shared
    assert (await slack.wait_for("response_url"))[0].args["response_type"] == "ephemeral"
    quick(await bot.command("notes export", channel="C1"))
    assert WITHHELD[:40] in await told(slack, 2)
    assert not slack.calls_to("upload") and not slack.calls_to("files.completeUploadExternal")
    assert "DM-NOTE" not in everything_sent(slack)


async def test_the_check_alone_stops_app_home_showing_another_teams_notes(bot, slack, monkeypatch):
    from bot.notes import commands

    await notes_everywhere(bot, slack)
    monkeypatch.setattr(commands, "_viewer", lambda ctx, personal=True: Viewer("T1", "C1", "U1"))
    home = {"type": "app_home_opened", "user": "U1", "channel": "D9", "tab": "home"}
    await bot.event(home, event_id="EvHomeWrong", team="T2")  # another workspace's person
    [view] = await slack.wait_for("views.publish")
    shown = json.dumps(view.args["view"])
    assert "TEAM-NOTE" not in shown and WITHHELD[:40] in shown


async def test_the_check_alone_stops_a_digest_composed_with_the_wrong_viewer(
    slack, tmp_path, monkeypatch
):
    from bot.digest import compose

    path = str(tmp_path / "smx.db")
    store = open_store(path)
    clock = Clock(datetime(2026, 11, 29, 12, tzinfo=UTC))
    # The composer reads as the subscriber would privately: their DM notes come along.
    monkeypatch.setattr(compose, "Viewer", lambda team, channel: Viewer(team, channel, "U1"))
    try:
        await store.add_note(note("C5", clock.now, "in the channel"))
        await store.add_note(note("D1", clock.now, "DM-SECRET", kind="im", author="U1"))
        await store.save_subscription(subscription("C5", clock.now, tz="UTC", subscriber="U1"))
        clock.set(datetime(2026, 11, 30, 9, 0, 10, tzinfo=UTC))
        poster = DigestPoster(single_workspace_settings(slack, path))
        report = await Scheduler(store, poster, clock=clock).tick()
        assert report.outcomes == {"failed": 1} and not posted_to(slack, "C5")
        assert "DM-SECRET" not in everything_sent(slack)
        sub = await store.get_subscription("T1", "C5")
        assert sub.state == "paused"
        assert "may not read" in shown(posted_to(slack, "U1")[0].args)
    finally:
        await store.close()
