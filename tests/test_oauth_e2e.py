"""Many workspaces: install through OAuth, answer the installed team with its token, uninstall."""

from __future__ import annotations

import base64
import re

import aiohttp
import pytest

from bot.slack.installations import StoreInstallationStore, StoreOAuthStateStore
from tests.support.blockkit import shown
from tests.support.slack_harness import RunningBot, oauth_settings


@pytest.fixture
async def bot(slack, tmp_path):
    running = await RunningBot(slack, oauth_settings(slack, str(tmp_path / "smx.db"))).start()
    yield running
    await running.idle()
    await running.stop()


async def install(bot) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{bot.url}/slack/install") as page:
            assert page.status == 200
            html = await page.text()
            # The browser-binding cookie is Secure; a browser would send it back over https.
            cookie = page.headers["Set-Cookie"].split(";")[0]
        state = re.search(r"state=([\w\-]+)", html).group(1)
        assert "client_id=111.222" in html and "chat%3Awrite" in html.replace(":", "%3A")
        params = {"code": "c0de", "state": state}
        headers = {"Cookie": cookie}
        async with session.get(
            f"{bot.url}/slack/oauth_redirect", params=params, headers=headers
        ) as done:
            assert done.status == 200, await done.text()


async def test_install_then_commands_use_the_installed_token_then_uninstall_deletes_it(
    bot, slack, tmp_path
):
    await install(bot)
    call = slack.calls_to("oauth.v2.access")[0]
    assert call.args["code"] == "c0de"
    # The app's credentials travel as HTTP Basic auth, as Slack's oauth.v2.access accepts them.
    assert (
        call.headers["Authorization"]
        == "Basic " + base64.b64encode(b"111.222:client-secret-xyz").decode()
    )
    store = StoreInstallationStore(bot.services.store)
    assert await store.count() == (1, 1)
    found = await store.async_find_bot(enterprise_id=None, team_id="T9")
    assert found is not None and found.bot_token == "xoxb-installed-token"

    answer = await bot.command("explain cpm", team="T9")
    assert answer.status == 200 and "CPM" in shown(answer.body)
    await bot.event(
        {
            "type": "app_mention",
            "user": "U1",
            "text": "<@UBOT> explain ctr",
            "ts": "1.1",
            "channel": "C1",
        },
        team="T9",
        event_id="EvT9",
    )
    posted = await slack.wait_for("chat.postMessage")
    assert posted[0].headers["Authorization"] == "Bearer xoxb-installed-token"

    uninstall = await bot.event({"type": "app_uninstalled"}, team="T9", event_id="EvBye")
    assert uninstall.status == 200
    await bot.idle()  # the uninstall is handled after the ack
    assert await store.count() == (0, 0)
    # Without an installation the team's requests are no longer authorised.
    after = await bot.command("explain cpm", team="T9")
    assert after.status != 200 or "CPM" not in str(after.body)


async def test_a_team_that_never_installed_is_not_served(bot):
    answer = await bot.command("help", team="T-UNKNOWN")
    assert answer.status != 200 or "compare" not in str(answer.body)


async def test_oauth_callback_with_a_forged_state_installs_nothing(bot, slack, tmp_path):
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{bot.url}/slack/oauth_redirect", params={"code": "c0de", "state": "forged"}
        ) as r,
    ):
        assert r.status >= 400
    assert not slack.calls_to("oauth.v2.access")
    assert await StoreInstallationStore(bot.services.store).count() == (0, 0)


async def test_state_is_single_use_and_expires(store):
    states = StoreOAuthStateStore(store, expiration_seconds=600)
    state = await states.async_issue()
    assert await states.async_consume(state) is True
    assert await states.async_consume(state) is False
    assert await states.async_consume("never-issued") is False
    expired = StoreOAuthStateStore(store, expiration_seconds=-1)
    assert await expired.async_consume(await expired.async_issue()) is False


async def test_enterprise_install_answers_every_workspace_of_the_org(store):
    from slack_sdk.oauth.installation_store import Installation

    store = StoreInstallationStore(store)
    await store.async_save(
        Installation(
            app_id="A1",
            enterprise_id="E1",
            team_id=None,
            user_id="U1",
            bot_token="xoxb-org",
            bot_id="B1",
            bot_user_id="UB",
            is_enterprise_install=True,
        )
    )
    bot = await store.async_find_bot(enterprise_id="E1", team_id="T5", is_enterprise_install=True)
    assert bot is not None and bot.bot_token == "xoxb-org"
    assert (
        await store.async_find_bot(enterprise_id="E2", team_id="T5", is_enterprise_install=True)
        is None
    )
    await store.async_delete_all(enterprise_id="E1", team_id=None, is_enterprise_install=True)
    assert await store.count() == (0, 0)


async def test_an_org_wide_uninstall_event_deletes_the_org_install(bot, slack, tmp_path):
    import json as jsonlib

    from slack_sdk.oauth.installation_store import Installation

    store = StoreInstallationStore(bot.services.store)
    await store.async_save(
        Installation(
            app_id="A1",
            enterprise_id="E1",
            team_id=None,
            user_id="U1",
            bot_token="xoxb-org",
            bot_id="B1",
            bot_user_id="UB",
            is_enterprise_install=True,
        )
    )
    await store.async_save(
        Installation(
            app_id="A1",
            team_id="T7",
            user_id="U1",
            bot_token="xoxb-t7",
            bot_id="B7",
            bot_user_id="UB7",
        )
    )
    envelope = {
        "token": "legacy",
        "team_id": "T5",
        "enterprise_id": "E1",
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": "EvOrgBye",
        "event_time": 1,
        "event": {"type": "app_uninstalled"},
        "authorizations": [
            {
                "enterprise_id": "E1",
                "team_id": None,
                "user_id": "UB",
                "is_bot": True,
                "is_enterprise_install": True,
            }
        ],
        "is_ext_shared_channel": False,
    }
    answer = await bot.post(jsonlib.dumps(envelope).encode(), "application/json")
    assert answer.status == 200
    await bot.idle()  # the revocation is handled after the ack
    assert await store.count() == (1, 1)  # the org's rows are gone, the other workspace's stay
    assert await store.async_find_bot(enterprise_id=None, team_id="T7") is not None


async def test_tokens_revoked_deletes_the_named_tokens(bot, slack, tmp_path):
    await install(bot)
    store = StoreInstallationStore(bot.services.store)
    assert await store.count() == (1, 1)
    await bot.event(
        {"type": "tokens_revoked", "tokens": {"oauth": ["U9"], "bot": ["UBOT"]}},
        team="T9",
        event_id="EvRevoke",
    )
    await bot.idle()  # the revocation is handled after the ack
    assert await store.count() == (0, 0)


def installation(team: str, user: str, bot_token: str, installed_at: float, **extra):
    from slack_sdk.oauth.installation_store import Installation

    return Installation(
        app_id="A1",
        team_id=team,
        user_id=user,
        bot_token=bot_token,
        bot_id="B" + team,
        bot_user_id="UB" + team,
        user_token=f"xoxp-{user}",
        installed_at=installed_at,
        **extra,
    )


async def test_what_one_replica_installs_or_uninstalls_the_other_sees_at_once(tmp_path):
    """Two stores on one database, as two processes would hold them: nothing is cached."""
    from bot.store import open_store

    path = str(tmp_path / "shared.db")
    first_store, second_store = open_store(path), open_store(path)
    first, second = StoreInstallationStore(first_store), StoreInstallationStore(second_store)
    try:
        assert await second.async_find_bot(enterprise_id=None, team_id="T9") is None
        await first.async_save(installation("T9", "U1", "xoxb-one", 1000.0))
        found = await second.async_find_installation(enterprise_id=None, team_id="T9")
        assert found is not None and found.bot_token == "xoxb-one" and found.user_token == "xoxp-U1"
        await second.async_delete_all(enterprise_id=None, team_id="T9")
        assert await first.async_find_bot(enterprise_id=None, team_id="T9") is None
        assert await first.async_find_installation(enterprise_id=None, team_id="T9") is None
        assert await first.count() == (0, 0)
    finally:
        await first_store.close()
        await second_store.close()


async def test_a_users_installation_carries_the_newest_bot_token(store):
    installs = StoreInstallationStore(store)
    await installs.async_save(installation("T1", "U1", "xoxb-old", 1000.0))
    await installs.async_save(installation("T1", "U2", "xoxb-new", 2000.0))
    mine = await installs.async_find_installation(enterprise_id=None, team_id="T1", user_id="U1")
    assert mine is not None and mine.user_token == "xoxp-U1"  # U1's own row...
    assert mine.bot_token == "xoxb-new"  # ...with the bot token in force now
    newest = await installs.async_find_installation(enterprise_id=None, team_id="T1")
    assert newest is not None and newest.user_id == "U2"
    assert (
        await installs.async_find_installation(enterprise_id=None, team_id="T1", user_id="U-NONE")
        is None
    )
    await installs.async_delete_installation(enterprise_id=None, team_id="T1", user_id="U2")
    assert await installs.count() == (1, 2)  # U1's installation, both bot records
    bot = await installs.async_find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and bot.bot_token == "xoxb-new"


async def test_token_expiry_times_survive_the_store(store):
    from datetime import UTC, datetime

    installs = StoreInstallationStore(store)
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    await installs.async_save(
        installation(
            "T1",
            "U1",
            "xoxe.xoxb-rotating",
            1000.0,
            bot_refresh_token="xoxe-1-refresh",
            bot_token_expires_at=int(expires.timestamp()),
        )
    )
    bot = await installs.async_find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and bot.bot_refresh_token == "xoxe-1-refresh"
    assert bot.bot_token_expires_at == int(expires.timestamp())
