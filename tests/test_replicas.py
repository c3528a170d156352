"""Two `smx serve` replicas on one database, end to end (issue 12).

Real processes on two ports of 127.0.0.1, one database (PostgreSQL through SMX_DATABASE_URL, and
the same scenarios on one SQLite file through SMX_DB), signed Slack requests spread over both,
the fake Web API recording what reached Slack (tests/support/replicas.py):

- a note logged through one replica is listed and found through the other;
- the same event delivered to both (a Slack retry that reached the other replica) logs one note;
- 200 digests due at once, both schedulers running: each posted exactly once;
- SIGKILL of one replica with digests in flight: nothing posted twice, nothing lost beyond the
  crash window of bot/digest/scheduler.py (a run killed while `sending` may be lost, and its
  subscriber is told; a run killed while `claimed` is posted later, once);
- an OAuth install through one replica is served by the other, and an uninstall through either
  removes the tokens for both.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import timedelta

import aiohttp
import pytest

from bot.config import Settings
from bot.digest.scheduler import LEASE_SECONDS, TICK_SECONDS, Scheduler
from bot.digest.slots import utc_now
from bot.slack.digest_post import DigestPoster
from bot.store import FINAL_RUN_STATES, open_store
from tests.support.blockkit import shown
from tests.support.digest_support import subscription
from tests.support.replicas import (
    CLIENT_ID,
    INSTALLED_TOKEN,
    OAUTH,
    SINGLE_WORKSPACE,
    Database,
    HoldingSlack,
    Replica,
    alternate,
    digest_key,
    postgres_database,
    replicas,
    sqlite_database,
)
from tests.support.slack_harness import BOT_TOKEN, SECRET
from tests.support.waits import WAIT, eventually
from tests.test_slack_e2e import mention


@pytest.fixture(params=["postgres", "sqlite"])
def database(request, tmp_path) -> Database:
    if request.param == "postgres":
        return postgres_database(request.getfixturevalue("postgres_url"))
    return sqlite_database(tmp_path / "shared.db")


@pytest.fixture
async def slack():
    fake = await HoldingSlack().start()
    yield fake
    fake.release()  # a test that failed while holding must not leave answers hanging
    await fake.stop()


@pytest.fixture
async def store(database):
    """The replicas' database, opened by the test (to set up digests and read what happened)."""
    opened = open_store(database.target)
    opened.migrate()
    yield opened
    await opened.close()


# -- notes and events ---------------------------------------------------------------------------


async def test_a_note_logged_through_one_replica_is_listed_and_found_through_the_other(
    slack, tmp_path, database
):
    async with replicas(slack, tmp_path, database, SINGLE_WORKSPACE) as running:
        turn = alternate(running)
        logged_through: dict[str, Replica] = {}
        for n in range(4):
            replica = next(turn)
            answer = await replica.command(f"note spring-launch reel variant{n} got more saves")
            assert answer.status == 200 and "spring-launch" in shown(answer.body), answer
            logged_through[f"variant{n}"] = replica
        for replica in running:
            listing = await replica.command("notes spring-launch")
            assert listing.status == 200
            for word in logged_through:
                assert shown(listing.body).count(word) == 1, (replica.name, word, listing.body)
            found = await replica.command("notes search saves")
            assert all(word in shown(found.body) for word in logged_through), found.body
            prefix = await replica.command("notes search varia*")
            assert all(word in shown(prefix.body) for word in logged_through), prefix.body
        for word, origin in logged_through.items():
            other = next(r for r in running if r is not origin)
            found = await other.command(f"notes search {word}")
            assert word in shown(found.body), (other.name, word, found.body)
            assert all(w not in shown(found.body) for w in logged_through if w != word)


async def test_the_same_event_delivered_to_both_replicas_logs_one_note(slack, tmp_path, database):
    async with replicas(slack, tmp_path, database, SINGLE_WORKSPACE) as (a, b):
        event = mention("note spring-launch retried reel got saves")
        # Slack's retry (it gave up waiting on one replica) reaches the other at the same time.
        first, retried = await asyncio.gather(
            a.event(event, event_id="EvTwice"), b.event(event, event_id="EvTwice", retry=1)
        )
        assert first.status == 200 and retried.status == 200
        # One replica handles it and answers; the other finds it taken and says so in its log.
        skipped = "duplicate event ignored"

        def deliveries_done() -> int:  # answered, or logged as a duplicate
            return len(slack.calls_to("chat.postMessage")) + a.logged(skipped) + b.logged(skipped)

        await eventually(lambda: deliveries_done() >= 2)
        assert a.logged(skipped) + b.logged(skipped) == 1
        # A later retry, to either, changes nothing either.
        for replica, retry in ((a, 2), (b, 3)):
            assert (await replica.event(event, event_id="EvTwice", retry=retry)).status == 200
        await eventually(lambda: deliveries_done() >= 4)
        assert a.logged(skipped) + b.logged(skipped) == 3
        assert len(slack.calls_to("chat.postMessage")) == 1
        for replica in (a, b):
            listing = await replica.command("notes spring-launch")
            assert shown(listing.body).count("retried reel got saves") == 1, listing.body
    assert len(slack.calls_to("chat.postMessage")) == 1


# -- digests ------------------------------------------------------------------------------------


async def due_subscriptions(store, count: int, teams: int) -> list:
    """`count` channels whose weekly slot was two days ago (a day or more in the past, whatever
    the hour), so every one is due at once; include_empty, so every one is posted."""
    now = utc_now()
    subs = [
        subscription(
            f"C{i:03}",
            now - timedelta(days=8),
            team=f"T{i % teams}",
            include_empty=True,
            # Spread over that day, so the slots differ.
            hour=i % 24,
            minute=(7 * i) % 60,
            tz="UTC",
            weekday=(now - timedelta(days=2)).weekday(),
        )
        for i in range(count)
    ]
    for sub in subs:
        assert sub.next_run <= now
        await store.save_subscription(sub)
    return subs


async def settled(store) -> bool:
    runs = await store.list_runs()
    return bool(runs) and all(r.state in FINAL_RUN_STATES for r in runs)


async def test_200_digests_due_at_once_with_both_schedulers_running_are_each_posted_once(
    slack, tmp_path, database, store
):
    subs = await due_subscriptions(store, 200, teams=10)
    slack.hold()  # no post is answered before both schedulers run
    async with replicas(slack, tmp_path, database, SINGLE_WORKSPACE) as running:
        await eventually(lambda: all(r.logged("digest scheduler started") for r in running))
        slack.release()
        await eventually(lambda: len(slack.digest_heads()) >= len(subs), within=WAIT)
        await eventually(lambda: settled(store), within=WAIT)
        runs = await store.list_runs()
    # Both replicas are stopped: nothing more can reach the fake Slack.
    heads = Counter(digest_key(c.args) for c in slack.digest_heads())
    twice = {key: n for key, n in heads.items() if n > 1}
    assert not twice, f"posted more than once: {twice}"
    assert {channel for channel, _ in heads} == {s.channel for s in subs}
    assert len(runs) == len(subs)
    assert Counter(r.state for r in runs) == {"posted": len(subs)}
    assert all(heads[(r.channel, r.week)] == 1 for r in runs)
    by_replica = Counter(next(x.name for x in running if x.owns(r.claimed_by)) for r in runs)
    print(f"\nruns claimed by each replica: {dict(by_replica)}")


async def test_sigkill_of_one_replica_mid_pass_posts_nothing_twice_and_loses_only_what_was_sending(
    slack, tmp_path, database, store
):
    subs = await due_subscriptions(store, 40, teams=4)
    in_flight = 6  # posts reached Slack, answers held, when a replica is killed
    slack.hold()
    async with replicas(slack, tmp_path, database, SINGLE_WORKSPACE) as running:
        await slack.wait_for("chat.postMessage", count=in_flight, within=WAIT)
        before = await store.list_runs()
        # The replica with the most digests on their way to Slack dies.
        victim = max(
            running, key=lambda r: sum(r.owns(x.claimed_by) for x in before if x.state == "sending")
        )
        survivor = next(r for r in running if r is not victim)
        await victim.kill()
        slack.release()
        at_death = [r for r in await store.list_runs() if victim.owns(r.claimed_by)]
        sending = {(r.channel, r.week) for r in at_death if r.state == "sending"}
        claimed = {(r.channel, r.week) for r in at_death if r.state == "claimed"}
        assert sending, "the kill did not land while a digest was being sent"

        # The survivor claims what is left and finishes all it holds; the victim's runs wait for
        # their lease. A claim the kill cut short (its transaction rolled back) leaves that
        # subscription due, and the survivor's next pass, TICK_SECONDS later, takes it. Only then
        # may a clock jump past the lease: it would make the survivor's runs in flight look
        # abandoned too.
        async def survivor_idle() -> bool:
            if await store.due_subscriptions(utc_now()):
                return False  # read first: a claim moves next_run and writes its run at once
            runs = await store.list_runs()
            return all(r.state in FINAL_RUN_STATES for r in runs if not victim.owns(r.claimed_by))

        await eventually(survivor_idle, within=WAIT + TICK_SECONDS)

        # Once the lease has run out, a pass of any scheduler settles what the victim left: here
        # one in the test process, with its clock past the lease (there is no setting that
        # shortens the replicas' lease; LEASE_SECONDS is 600 s).
        poster = DigestPoster(
            Settings(
                SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.api_url
            ),
            backoff=0.01,
        )
        clock = {"now": utc_now() + timedelta(seconds=LEASE_SECONDS + 1)}
        last = Scheduler(store, poster, clock=lambda: clock["now"])
        await last.tick()
        clock["now"] += timedelta(minutes=10)  # past any retry delay
        await last.tick()
        runs = await store.list_runs()
        assert survivor.proc.returncode is None  # it served throughout

    heads = Counter(digest_key(c.args) for c in slack.digest_heads())
    twice = {key: n for key, n in heads.items() if n > 1}
    assert not twice, f"posted more than once: {twice}"
    by_key = {(r.channel, r.week): r for r in runs}
    assert {r.channel for r in runs} == {s.channel for s in subs} and len(runs) == len(subs)
    states = Counter(r.state for r in runs)
    assert set(states) <= {"posted", "lost"}, states
    lost = {key for key, r in by_key.items() if r.state == "lost"}
    # Only a digest killed while it was being sent may be lost (at most once): never one that
    # was merely claimed, never one of the survivor's.
    assert lost <= sending, (lost, sending)
    for key, run in by_key.items():
        if run.state == "posted":
            assert heads[key] == 1, (key, run)
        else:
            assert heads[key] <= 1 and run.told_at is not None, (key, run)
    for key in claimed:  # killed before anything was sent: posted later, exactly once
        assert by_key[key].state == "posted" and by_key[key].attempts >= 2, by_key[key]
    dms = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "U1"]
    assert len(dms) >= len(lost) and all("may not have been posted" in shown(c.args) for c in dms)
    print(
        f"\nkilled {victim.name} with {len(sending)} sending and {len(claimed)} claimed: "
        f"{dict(states)}, {sum(heads.values())} digests in Slack, {len(dms)} DMs"
    )


# -- OAuth --------------------------------------------------------------------------------------


async def begin_install(replica: Replica) -> tuple[str, str]:
    """Open the install page on `replica`: the state it issued and the browser's cookie."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{replica.url}/slack/install") as page,
    ):
        assert page.status == 200
        html = await page.text()
        cookie = page.headers["Set-Cookie"].split(";")[0]
    assert f"client_id={CLIENT_ID}" in html
    return re.search(r"state=([\w\-]+)", html).group(1), cookie


async def finish_install(replica: Replica, state: str, cookie: str) -> None:
    """Slack's redirect back, with the code, reaching `replica`."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{replica.url}/slack/oauth_redirect",
            params={"code": "c0de", "state": state},
            headers={"Cookie": cookie},
        ) as done,
    ):
        assert done.status == 200, await done.text()


async def served(replica: Replica, team: str) -> bool:
    """Whether `replica` answers `team`'s command (with a token: no installation, no answer)."""
    seen = len(replica.slack.calls_to("response_url"))
    answer = await replica.command("explain cpm", team=team)
    assert answer.status == 200, answer
    if "CPM" in str(answer.body):
        return True
    # Refused: Bolt found no installation and told the person through response_url instead.
    told = await replica.slack.wait_for("response_url", count=seen + 1, within=WAIT)
    assert "reinstall this app" in shown(told[-1].args), told[-1].args
    return False


async def test_an_oauth_install_through_one_replica_is_served_by_the_other_and_an_uninstall_through_either_removes_it(
    slack, tmp_path, database, store
):
    async with replicas(slack, tmp_path, database, OAUTH) as (a, b):
        for round_, (starts, ends) in enumerate(((a, b), (b, a))):
            # The balancer sends the install page to one replica and Slack's redirect to the other.
            state, cookie = await begin_install(starts)
            await finish_install(ends, state, cookie)
            assert await store.count_installations() == (1, 1)
            assert await served(a, "T9") and await served(b, "T9")
            for n, replica in enumerate((a, b)):
                seen = len(slack.calls_to("chat.postMessage"))
                await replica.event(
                    mention("explain ctr", ts=f"170000000{round_}.00010{n}"),
                    team="T9",
                    event_id=f"EvT9-{round_}-{replica.name}",
                )
                posted = await slack.wait_for("chat.postMessage", count=seen + 1, within=WAIT)
                assert posted[-1].headers["Authorization"] == f"Bearer {INSTALLED_TOKEN}"
            # Uninstalled through the replica that began this install: gone for both at once.
            uninstall = await starts.event(
                {"type": "app_uninstalled"}, team="T9", event_id=f"EvBye{round_}"
            )
            assert uninstall.status == 200

            async def gone() -> bool:
                return await store.count_installations() == (0, 0)

            await eventually(gone)
            assert not await served(a, "T9") and not await served(b, "T9")
