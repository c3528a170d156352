"""What a `/smx` request costs on its way through Bolt: an answer complete in the ack starts no
lazy listener (Bolt deep-copies the whole request for each one), while a command that needs the
Web API still acks first and finishes after the ack."""

from __future__ import annotations

import pytest
from slack_bolt.listener import asyncio_runner

from tests.test_slack_e2e import assert_quick_ok

IN_THE_ACK = (
    "help",
    "compare",
    "compare timeline",
    "explain cpm",
    "estimate budget=$500 cpm=8",
    "note spring-launch Reel got 3x saves",
    "notes spring-launch",
    "comapre",
)


@pytest.fixture
def lazy_starts(monkeypatch) -> list[str]:
    """The lazy listeners Bolt starts and the requests it copies for them, as they happen."""
    seen: list[str] = []
    start = asyncio_runner.AsyncioListenerRunner._start_lazy_function
    copy = asyncio_runner.create_copy

    def counted_start(self, lazy_func, request):
        seen.append(f"lazy {lazy_func.__name__}")
        return start(self, lazy_func, request)

    def counted_copy(value):
        seen.append("copy")
        return copy(value)

    monkeypatch.setattr(asyncio_runner.AsyncioListenerRunner, "_start_lazy_function", counted_start)
    monkeypatch.setattr(asyncio_runner, "create_copy", counted_copy)
    return seen


@pytest.mark.parametrize("text", IN_THE_ACK)
async def test_an_answer_complete_in_the_ack_starts_no_lazy_listener(bot, lazy_starts, text):
    answer = await bot.command(text)
    assert_quick_ok(answer)
    assert answer.body["blocks"], answer.body
    await bot.idle()
    assert lazy_starts == []


async def test_a_command_that_needs_the_web_api_still_finishes_after_the_ack(
    bot, slack, lazy_starts
):
    logged = await bot.command("note spring-launch Reel got 3x saves")
    assert_quick_ok(logged)
    deleted = await bot.command("note delete 1")  # asks users.info whether they are an admin
    assert_quick_ok(deleted)
    assert deleted.body is None  # the bare ack: the answer follows through response_url
    responses = await slack.wait_for("response_url")
    assert "deleted" in responses[-1].args["text"].lower()
    form = await bot.command("estimate")  # opens a modal with the request's trigger_id
    assert_quick_ok(form)
    await slack.wait_for("views.open")
    await bot.idle()
    assert lazy_starts == ["lazy finish_smx", "copy"] * 2
