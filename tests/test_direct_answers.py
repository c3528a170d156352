"""`/smx` answers complete in the ack leave from the gate without Bolt's dispatch
(bot/slack/direct.py): the same answers Bolt's listener gives, the same authorization, and static
answers rendered once per knowledge load."""

from __future__ import annotations

import pytest

from bot import telemetry
from bot.slack.direct import DirectAnswers
from bot.slack.listeners import commands
from bot.slack.server import BOLT
from tests.support.slack_harness import RunningBot, single_workspace_settings
from tests.test_slack_e2e import assert_quick_ok

# Every kind of answer that is complete in the ack: static, computed, notes, errors, shared.
IN_THE_ACK = (
    "help",
    "",
    "compare",
    "compare timeline",
    "compare share",
    "compare budget=$1000 followers=5000 platform=instagram",
    "explain cpm",
    "explain roas share",
    "explain",
    "explain zzqqxx",
    "comapre",
    "estimate budget=$500 cpm=8",
    "estimate budget=abc",
    "note spring-launch Reel got 3x saves spend=$400 clicks=1.2k",
    "notes spring-launch",
    "notes search reel",
    "notes",
    "compare",  # again: from what was rendered the first time
    "explain cpm",
)


def count_dispatches(running: RunningBot) -> list[int]:
    """How many requests Bolt dispatched, as they happen."""
    seen = [0]
    bolt = running.web_app[BOLT]
    real = bolt.async_dispatch

    async def counting(request):
        seen[0] += 1
        return await real(request)

    bolt.async_dispatch = counting
    return seen


@pytest.fixture
async def two_bots(slack, tmp_path):
    """Two apps on their own databases: one as served, one with the direct path turned off."""
    direct = await RunningBot(
        slack, single_workspace_settings(slack, str(tmp_path / "a.db"))
    ).start()
    through_bolt = await RunningBot(
        slack, single_workspace_settings(slack, str(tmp_path / "b.db"))
    ).start()
    yield direct, through_bolt
    for running in (direct, through_bolt):
        await running.idle()
        await running.stop()


async def test_answers_in_the_ack_leave_without_bolt_and_equal_bolts_own(two_bots, monkeypatch):
    direct, through_bolt = two_bots
    direct_dispatches = count_dispatches(direct)
    bolt_dispatches = count_dispatches(through_bolt)
    answers = {}
    for text in IN_THE_ACK:
        answer = await direct.command(text)
        assert_quick_ok(answer)
        answers.setdefault(text, []).append(answer.body)
    assert direct_dispatches == [0]

    async def to_bolt(self, body):
        return None

    monkeypatch.setattr(DirectAnswers, "respond", to_bolt)
    for i, text in enumerate(IN_THE_ACK):
        answer = await through_bolt.command(text)
        assert_quick_ok(answer)
        first = IN_THE_ACK.index(text)
        assert answer.body == answers[text][0 if i == first else 1], text
    assert bolt_dispatches == [len(IN_THE_ACK)]


@pytest.mark.parametrize(
    "text", ["note delete 1", "estimate", "digest on", "notes export", "digest now"]
)
async def test_commands_that_need_the_web_api_still_go_through_bolt(bot, text):
    dispatches = count_dispatches(bot)
    answer = await bot.command(text)
    assert_quick_ok(answer)
    await bot.idle()
    assert dispatches == [1]


async def test_the_bot_token_is_checked_once_and_a_failed_check_is_left_to_bolt(bot, slack):
    dispatches = count_dispatches(bot)
    slack.fail("auth.test", error="invalid_auth", times=2)  # smx's check, then Bolt's own
    refused = await bot.command("explain cpm")
    assert refused.status == 200
    assert "CPM" not in str(refused.body)  # Bolt's "please install" answer, not smx's
    assert dispatches == [1]
    assert len(slack.calls_to("auth.test")) == 2
    for _ in range(3):
        answer = await bot.command("explain cpm")
        assert_quick_ok(answer)
        assert "CPM" in answer.body["text"]
    # Bolt had cached nothing (its own check failed), so its next dispatch would ask again; the
    # direct path asked once, succeeded, and trusts the token from then on.
    assert dispatches == [1]
    assert len(slack.calls_to("auth.test")) == 3


async def test_a_failure_on_the_direct_path_is_a_sentence_with_an_error_id(bot, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(commands, "command_answer", broken)
    before = telemetry.UNEXPECTED_ERRORS.labels("listener")._value.get()
    answer = await bot.command("estimate budget=$500 cpm=8")
    assert_quick_ok(answer)
    assert "error id `" in answer.body["text"] and "boom" not in str(answer.body)
    assert answer.body["response_type"] == "ephemeral" and answer.body["blocks"]
    assert telemetry.UNEXPECTED_ERRORS.labels("listener")._value.get() == before + 1


# -- static answers rendered once ----------------------------------------------------------------


@pytest.fixture
def renders(monkeypatch) -> list[str]:
    """The title of every reply rendered into blocks for an ack."""
    from bot.slack import answer as answer_module

    seen: list[str] = []
    render = answer_module.render_blocks

    def counted(reply, **kwargs):
        seen.append(reply.title)
        return render(reply, **kwargs)

    monkeypatch.setattr(answer_module, "render_blocks", counted)
    return seen


async def test_a_static_answer_is_rendered_once_and_still_counted(bot, renders):
    counter = telemetry.REQUESTS.labels("command", "compare")
    before = counter._value.get()
    bodies = [(await bot.command("compare")).body for _ in range(3)]
    assert len(renders) == 1
    assert bodies[0] == bodies[1] == bodies[2]
    assert counter._value.get() == before + 3  # each request counted as one
    shared = await bot.command("compare share")  # other words: rendered for them
    assert shared.body["response_type"] == "in_channel"
    assert len(renders) == 2


@pytest.mark.parametrize(
    "text",
    [
        "estimate budget=$500 cpm=8",  # reads no notes, but not static (the team's numbers may count)
        "compare budget=$1000 followers=5000",  # the numbers variant of a static entry
        "notes",
        "note spring-launch Reel got 3x saves",
    ],
)
async def test_answers_that_are_not_static_are_rendered_every_time(bot, renders, text):
    await bot.command(text)
    await bot.command(text)
    assert len(renders) == 2


async def test_a_new_knowledge_load_is_rendered_anew(bot, renders, monkeypatch):
    import knowledge

    await bot.command("explain cpm")
    await bot.command("explain cpm")
    assert len(renders) == 1
    fresh = knowledge.load_from(knowledge.HERE)
    monkeypatch.setattr(knowledge, "load", lambda: fresh)
    await bot.command("explain cpm")
    assert len(renders) == 2


def test_what_is_kept_is_bounded_oldest_first():
    kept = commands.Rendered()
    for i in range(kept.MAX + 1):
        kept.put(f"explain term{i}", commands.Acked({"text": str(i)}))
    assert kept.get("explain term0") is None
    assert kept.get("explain term1").args == {"text": "1"}
    assert kept.get(f"explain term{kept.MAX}").args == {"text": str(kept.MAX)}


async def test_two_apps_in_one_process_keep_their_own(slack, tmp_path, renders):
    one = await RunningBot(slack, single_workspace_settings(slack, str(tmp_path / "1.db"))).start()
    two = await RunningBot(slack, single_workspace_settings(slack, str(tmp_path / "2.db"))).start()
    try:
        await one.command("help")
        await two.command("help")
        assert len(renders) == 2
    finally:
        await one.stop()
        await two.stop()


async def test_a_static_answer_that_failed_is_not_kept_for_the_next_person(bot, monkeypatch):
    import bot.guide as guide

    real = guide.explain
    calls = []

    def once_broken(ctx, args):
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return real(ctx, args)

    monkeypatch.setattr(guide, "explain", once_broken)
    failed = await bot.command("explain cpm")
    assert "error id `" in failed.body["text"]
    again = await bot.command("explain cpm", user="U2")
    assert "error id" not in str(again.body) and "CPM" in again.body["text"]
    assert len(calls) == 2


@pytest.fixture
async def oauth_bot(slack, tmp_path):
    from tests.support.slack_harness import oauth_settings

    running = await RunningBot(slack, oauth_settings(slack, str(tmp_path / "smx.db"))).start()
    yield running
    await running.idle()
    await running.stop()


async def test_with_oauth_a_database_that_fails_is_a_sentence_not_a_500(oauth_bot, monkeypatch):
    from bot.errors import database_sentence
    from bot.slack.installations import StoreInstallationStore
    from bot.store.base import StoreUnavailable

    down = StoreUnavailable("the database is down")

    async def unreachable(self, **kwargs):
        raise down

    monkeypatch.setattr(StoreInstallationStore, "async_find_installation", unreachable)
    answer = await oauth_bot.command("explain cpm", team="T9")
    assert_quick_ok(answer)
    assert answer.body["text"] == database_sentence(down)
    assert "CPM" not in str(answer.body)
