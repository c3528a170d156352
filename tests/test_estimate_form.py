"""The estimate form answers once: one submission is one request in /metrics, however its values
were checked before the form closed."""

from __future__ import annotations

from tests.test_operations import sample
from tests.test_slack_e2e import submission

REQUESTS = "smx_requests_total"
ESTIMATE = {"surface": "command", "command": "estimate"}


async def test_a_good_submission_is_answered_and_counted_once(bot, slack):
    before = (await bot.get("/metrics")).body
    await bot.interact(submission({"budget": "$500", "cpm": "$8"}))
    posted = await slack.wait_for("chat.postEphemeral")
    await bot.idle()
    after = (await bot.get("/metrics")).body
    assert len(posted) == len(slack.calls_to("chat.postEphemeral")) == 1
    assert sample(after, REQUESTS, **ESTIMATE) - sample(before, REQUESTS, **ESTIMATE) == 1


async def test_values_not_enough_together_are_counted_once_as_a_user_error(bot, slack):
    before = (await bot.get("/metrics")).body
    answer = await bot.interact(submission({"ctr": "1%"}))
    assert answer.body["response_action"] == "errors"
    await bot.idle()
    after = (await bot.get("/metrics")).body
    assert sample(after, REQUESTS, **ESTIMATE) - sample(before, REQUESTS, **ESTIMATE) == 1
    errors = "smx_user_errors_total"
    assert sample(after, errors, **ESTIMATE) - sample(before, errors, **ESTIMATE) == 1
    assert not slack.calls_to("chat.postEphemeral")
