"""Slack installations and OAuth state on every backend: the newest install of a key is the one in
force, deletes are seen by every process on the database at once, a state is good once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.store import InstallationRecord


def record(team="T1", *, enterprise="", user="", at=1_700_000_000.0, token="xoxb-1", org=False):
    return InstallationRecord(
        enterprise=enterprise,
        team=team,
        user=user,
        is_enterprise_install=org,
        installed_at=at,
        data={"bot_token": token, "team_id": team or None, "nested": {"scopes": ["chat:write"]}},
    )


async def test_the_newest_bot_of_a_key_is_the_one_in_force(store) -> None:
    await store.save_bot(record(token="xoxb-old", at=100.0))
    await store.save_bot(record(token="xoxb-new", at=200.0))
    await store.save_bot(record(token="xoxb-older", at=50.0))  # saved last, installed earlier
    await store.save_bot(record("T2", token="xoxb-other", at=300.0))
    bot = await store.find_bot("", "T1")
    assert bot.data["bot_token"] == "xoxb-new" and bot.installed_at == 200.0
    assert bot.data["nested"] == {"scopes": ["chat:write"]} and bot.data["team_id"] == "T1"
    assert (bot.enterprise, bot.team, bot.is_enterprise_install) == ("", "T1", False)
    assert await store.find_bot("", "T3") is None
    assert await store.find_bot("E1", "T1") is None  # the enterprise is part of the key


async def test_the_same_installed_at_goes_to_the_one_saved_last(store) -> None:
    await store.save_bot(record(token="xoxb-first", at=100.0))
    await store.save_bot(record(token="xoxb-second", at=100.0))
    assert (await store.find_bot("", "T1")).data["bot_token"] == "xoxb-second"


async def test_installations_by_team_and_by_user(store) -> None:
    await store.save_installation(record(user="U1", token="xoxb-a", at=100.0))
    await store.save_installation(record(user="U2", token="xoxb-b", at=200.0))
    newest = await store.find_installation("", "T1")
    assert newest.user == "U2" and newest.data["bot_token"] == "xoxb-b"
    mine = await store.find_installation("", "T1", "U1")
    assert mine.user == "U1" and mine.data["bot_token"] == "xoxb-a"
    assert await store.find_installation("", "T1", "U9") is None
    org = record("", enterprise="E1", user="U5", org=True, at=300.0)
    await store.save_installation(org)
    found = await store.find_installation("E1", "")
    assert found.is_enterprise_install and found.enterprise == "E1" and found.team == ""
    assert await store.count_installations() == (3, 0)  # save_installation saves no bot


async def test_deletes_remove_only_their_key_and_count(store) -> None:
    for user in ("U1", "U2"):
        await store.save_installation(record(user=user))
    await store.save_installation(record("T2", user="U1"))
    for team in ("T1", "T1", "T2"):
        await store.save_bot(record(team))
    assert await store.count_installations() == (3, 3)
    assert await store.delete_installations("", "T1", "U1") == 1
    assert await store.find_installation("", "T1", "U1") is None
    assert (await store.find_installation("", "T1")).user == "U2"
    assert await store.delete_installations("", "T1") == 1
    assert await store.delete_bots("", "T1") == 2
    assert await store.delete_bots("", "T1") == 0
    assert await store.count_installations() == (1, 1)
    assert (await store.find_bot("", "T2")) is not None


async def test_an_uninstall_seen_by_one_process_is_seen_by_all_at_once(backend, store) -> None:
    other = await backend.open()
    await store.save_bot(record(token="xoxb-1"))
    assert (await other.find_bot("", "T1")).data["bot_token"] == "xoxb-1"  # warms any cache
    await other.delete_bots("", "T1")
    assert await store.find_bot("", "T1") is None
    await other.save_bot(record(token="xoxb-2", at=2e9))
    assert (await store.find_bot("", "T1")).data["bot_token"] == "xoxb-2"


async def test_an_oauth_state_is_good_once_and_only_before_it_expires(backend, store) -> None:
    other = await backend.open()
    now = datetime.now(UTC)
    await store.issue_oauth_state("s-good", now + timedelta(minutes=10))
    await store.issue_oauth_state("s-expired", now + timedelta(seconds=5))
    await store.issue_oauth_state("s-raced", now + timedelta(minutes=10))
    assert await other.consume_oauth_state("s-good", now) is True  # another replica's callback
    assert await store.consume_oauth_state("s-good", now) is False  # one use, ever
    assert await store.consume_oauth_state("s-expired", now + timedelta(seconds=6)) is False
    assert await store.consume_oauth_state("s-expired", now) is False  # gone, not kept
    assert await store.consume_oauth_state("never-issued", now) is False
    both = await asyncio.gather(
        store.consume_oauth_state("s-raced", now), other.consume_oauth_state("s-raced", now)
    )
    assert sorted(both) == [False, True]
