"""The digest poster splits and renders a digest in a worker thread, not on the event loop that
answers slash commands (bot/slack/digest_post.py), and posts exactly what it rendered."""

from __future__ import annotations

import threading

from bot.slack import digest_post
from tests.test_digest_slack import long_digest, poster


async def test_a_digest_is_split_and_rendered_off_the_loop(slack, tmp_path, monkeypatch):
    loop_thread = threading.get_ident()
    rendered_on: list[int] = []
    real_split, real_message = digest_post.split, digest_post.message

    def split(reply):
        rendered_on.append(threading.get_ident())
        return real_split(reply)

    def message(reply):
        rendered_on.append(threading.get_ident())
        return real_message(reply)

    monkeypatch.setattr(digest_post, "split", split)
    monkeypatch.setattr(digest_post, "message", message)
    reply = long_digest()
    delivery = await poster(slack, tmp_path)("T1", "C1", reply)
    calls = slack.calls_to("chat.postMessage")
    assert delivery.outcome == "posted" and len(calls) >= 3
    assert rendered_on and loop_thread not in rendered_on
    parts = real_split(reply)
    assert [c.args["blocks"] for c in calls] == [real_message(p)["blocks"] for p in parts]
