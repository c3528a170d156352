"""SIGKILL the scheduler at random points, many times, and count what reached Slack.

Scheduler processes (this file run as a script, see the bottom) run `Scheduler.run()` with the
real Slack poster, pointed at a fake Slack in the test process through SLACK_API_URL. Their clock
is a simulated one shared through the wall clock (one simulated hour per 20 ms), so a few seconds
hold weeks of weekly digests across a daylight-saving change. Two processes run at once; one or
both are killed with SIGKILL after a random delay and replaced, KILL_CYCLES times (a count, not a
time, so a slow machine runs the same test, only longer). Then one last pass
after the lease has expired settles what the dead left behind, and the test checks the documented
policy (bot/digest/scheduler.py): no digest posted twice, ever; every week of every subscription
has a run; a run is `posted` (exactly one message in Slack), `skipped` (an empty week, no message)
or `lost` (killed while sending: at most one message, and the subscriber was told).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from bot.digest.scheduler import Scheduler  # noqa: E402
from bot.digest.slots import Slot  # noqa: E402
from bot.slack.digest_post import DigestPoster  # noqa: E402
from bot.store import is_postgres, open_store  # noqa: E402
from tests.support.contract import database_fixture  # noqa: E402
from tests.support.digest_support import note, subscription  # noqa: E402
from tests.support.fake_slack import FakeSlack  # noqa: E402
from tests.support.slack_harness import BOT_TOKEN, SECRET, single_workspace_settings  # noqa: E402

BASE = datetime(2026, 3, 16, tzinfo=UTC)  # two weeks before Berlin's clocks go forward
SPEED = 3600 / 0.02  # simulated seconds per real second: an hour every 20 ms
LEASE = 6 * 3600.0  # simulated seconds (120 ms real)
KILL_CYCLES = 10  # every other one aimed just after a post reached Slack
# The schedulers run on at least until the simulated clock has passed both daylight-saving changes
# (Berlin 29 Mar, Sydney 5 Apr), however quickly the kill cycles went.
SPAN = timedelta(weeks=3)
# Per-step deadlines, far beyond what any step takes on a loaded machine: only a hung process or a
# scheduler that never posts again runs into them.
START_WITHIN = 60.0  # real seconds for a scheduler process to print "ready"
EXIT_WITHIN = 30.0  # real seconds for a SIGKILLed process to be reaped
POST_WITHIN = 5.0  # real seconds for the next post (a slot falls due every ~1 s real at most)
CHANNELS = 36
GROUPS = 6
ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC")


class SlowSlack(FakeSlack):
    """Answers chat.postMessage 5-15 ms after recording it, so kills land mid-request too."""

    async def _api(self, request):
        response = await super()._api(request)
        if request.match_info["method"] == "chat.postMessage":
            await asyncio.sleep(random.uniform(0.005, 0.015))  # deliberately slow: the thing tested
        return response


def simulated(epoch: float) -> datetime:
    return BASE + timedelta(seconds=(time.time() - epoch) * SPEED)


def start_scheduler(
    db: str, slack: FakeSlack, epoch: float, errors: IO[str]
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        # The database the test prepared: SQLite's file, or PostgreSQL's URL.
        **({"SMX_DATABASE_URL": db} if is_postgres(db) else {"SMX_DB": db}),
        "SLACK_API_URL": slack.api_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SMX_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, str(HERE), str(epoch)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        # A file, not a pipe: nobody reads it unless the process fails to start, and a full pipe
        # would stall a scheduler that logs many warnings.
        stderr=errors,
        text=True,
    )


async def prepare(db: str) -> list:
    store = open_store(db)
    subs = []
    try:
        for i in range(CHANNELS):
            # Each workspace's channels share a slot: due together, they queue (claimed) behind
            # the workspace's two delivery slots, so kills find claims that were never sent.
            group = i % GROUPS
            team = f"T{group}"
            when = {"weekday": group, "hour": (group * 5) % 24, "minute": 0, "tz": ZONES[group % 5]}
            sub = subscription(f"C{i}", BASE, team=team, include_empty=i % 7 == 0, **when)
            subs.append(sub)
            await store.save_subscription(sub)
            if i % 4 == 3:
                continue  # no notes at all: empty weeks (skipped, or posted if include_empty)
            for half_day in range(0, 2 * 7 * 8):  # eight weeks of notes, private to the channel
                at = BASE + timedelta(hours=12 * half_day + i)
                await store.add_note(
                    note(f"C{i}", at, f"day {half_day // 2}", team=team, kind="private")
                )
    finally:
        await store.close()
    return subs


async def wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), START_WITHIN)
    except TimeoutError:
        proc.kill()  # also ends the readline thread, which cannot be cancelled
        raise AssertionError(f"a scheduler process did not start within {START_WITHIN} s") from None
    if line.strip() != "ready":
        proc.kill()
        raise AssertionError(f"a scheduler process failed to start: {line!r}; see its stderr")


async def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    await asyncio.to_thread(proc.wait, EXIT_WITHIN)
    assert proc.returncode == -signal.SIGKILL


# Where the schedulers keep their runs: a SQLite file, or a fresh PostgreSQL database.
database = database_fixture()


async def test_sigkill_at_random_points_never_posts_twice_and_loses_only_within_policy(
    tmp_path, database
):
    db = database
    subs = await prepare(db)
    slack = await SlowSlack().start()
    rng = random.Random(2026)
    epoch = time.time()
    live: list[subprocess.Popen[str]] = []
    kills = 0
    errors = (tmp_path / "schedulers.err").open("a")
    try:
        for cycle in range(KILL_CYCLES):
            while len(live) < 2:
                proc = start_scheduler(db, slack, epoch, errors)
                live.append(proc)
                await wait_ready(proc)
            if cycle % 2 == 0:
                # Anywhere at all. This sleep is the thing tested (a random kill point), not a
                # wait for something.
                await asyncio.sleep(rng.uniform(0.02, 0.6))
                both = rng.random() < 0.3
            else:
                # Just after a post reached Slack: other digests of the same pass are then
                # claimed and waiting, and this one's answer is still on its way. Without a post
                # within the deadline the cycle kills anyway; the assertions below do not need
                # every aimed kill to land.
                seen = len(slack.calls_to("chat.postMessage"))
                with contextlib.suppress(TimeoutError):
                    await slack.wait_for("chat.postMessage", count=seen + 1, within=POST_WITHIN)
                await asyncio.sleep(rng.uniform(0, 0.02))  # the kill point, as above
                both = rng.random() < 0.5
            victims = list(live) if both else [rng.choice(live)]
            for proc in victims:
                await kill(proc)
                live.remove(proc)
                kills += 1
        while len(live) < 2:
            proc = start_scheduler(db, slack, epoch, errors)
            live.append(proc)
            await wait_ready(proc)
        # A fast machine gets through the cycles in less simulated time than SPAN: the last two
        # run on, unkilled, until the simulated clock (the wall clock, scaled) has passed it.
        await asyncio.sleep(max(0.0, (BASE + SPAN - simulated(epoch)).total_seconds() / SPEED))
        for proc in list(live):
            await kill(proc)
            live.remove(proc)
            kills += 1
        end = simulated(epoch)

        # What the dead left behind: one last scheduler, after every lease has expired.
        store = open_store(db)
        try:
            # Slack's settings for the poster; the store is the one opened above.
            settings = single_workspace_settings(slack, str(tmp_path / "unused.db"))
            final = end + timedelta(seconds=LEASE + 1)
            clock = {"now": final}
            last = Scheduler(
                store, DigestPoster(settings, backoff=0.01), clock=lambda: clock["now"]
            )
            await last.tick()
            clock["now"] = final + timedelta(minutes=10)  # past any retry delay
            await last.tick()
            runs = await store.list_runs()
        finally:
            await store.close()
    finally:
        for proc in live:
            proc.kill()
        # No quiet period needed: every call is recorded as it arrives, and nothing is left to
        # call (the killed processes are gone, the last scheduler's passes were awaited).
        await slack.stop()
        errors.close()
        print((tmp_path / "schedulers.err").read_text()[-4000:])  # shown when the test fails

    posts = slack.calls_to("chat.postMessage")
    heads = Counter(
        (c.args["channel"], c.args["metadata"]["event_payload"]["week"])
        for c in posts
        if "metadata" in c.args
    )
    twice = {key: n for key, n in heads.items() if n > 1}
    assert not twice, f"posted more than once: {twice}"

    by_key = {(r.channel, r.week): r for r in runs}
    states = Counter(r.state for r in runs)
    assert set(states) <= {"posted", "skipped", "lost"}, states
    expected = set()
    for sub in subs:
        slot = Slot(sub.weekday, sub.hour, sub.minute, sub.tz)
        due = sub.next_run
        while due <= final:
            expected.add((sub.channel, slot.week(due)))
            due = slot.next_after(due)
    missing = expected - set(by_key)
    assert not missing, f"weeks with no run at all: {sorted(missing)}"
    dms = Counter(c.args["channel"] for c in posts if c.args["channel"].startswith("U"))
    for key, run in by_key.items():
        if run.state == "posted":
            assert heads[key] == 1, (key, run)
        elif run.state == "skipped":
            assert heads[key] == 0, (key, run)
        else:  # lost: killed while sending; at most once, and not silently
            assert heads[key] <= 1, (key, run)
    assert dms["U1"] >= states["lost"]
    assert all(r.told_at is not None for r in runs if r.state == "lost")  # never silent
    retried = sum(1 for r in runs if r.attempts > 1)
    print(
        f"\n{kills} kills over {(end - BASE) / timedelta(weeks=1):.1f} simulated weeks: "
        f"{len(runs)} runs {dict(states)}, {retried} re-claimed after a crash before sending, "
        f"{sum(heads.values())} digests in Slack"
    )
    assert kills >= KILL_CYCLES + 2  # every cycle killed at least one, then the last two
    assert end >= BASE + SPAN
    assert retried + states["lost"] >= 1  # some kills did land between a claim and its end
    assert len(runs) >= CHANNELS * 2
    assert states["posted"] > states["lost"]


# -- the scheduler process ---------------------------------------------------------------------


async def _serve(epoch: float) -> None:
    from bot.config import load_settings

    settings = load_settings()
    store = open_store(settings.database)
    poster = DigestPoster(settings, backoff=0.01)
    scheduler = Scheduler(
        store, poster, clock=lambda: simulated(epoch), lease_seconds=LEASE, interval=0.01,
        post_timeout=5,
    )  # fmt: skip
    await store.schema_version()
    print("ready", flush=True)
    await scheduler.run()


if __name__ == "__main__":
    asyncio.run(_serve(float(sys.argv[1])))
