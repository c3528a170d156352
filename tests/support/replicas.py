"""Several `smx serve` processes on one database, as a load balancer would have them.

`replicas(slack, workdir, database, mode)` starts N real `python -m bot serve` processes on free
ports of 127.0.0.1, all on the same database (a SQLite file through SMX_DB, or PostgreSQL
through SMX_DATABASE_URL), all calling the fake Web API, and yields them once every one answers
/healthz. Each runs in a directory of its own, so a replica that ignored the shared setting would
fall back to a file of its own and the cross-replica assertions would fail. They are stopped at
the end (SIGTERM, then SIGKILL if one hangs), also when the test fails, and their logs' tails are
printed, which pytest shows for a failed test.

A `Replica` sends what Slack sends exactly as the in-process harness does (RunningBot's signed
commands, events and pages), and can be SIGKILLed mid-work.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests.support.fake_slack import FakeSlack
from tests.support.slack_harness import BOT_TOKEN, SECRET, RunningBot, free_port, serve_argv
from tests.support.waits import eventually

START_WITHIN = 60.0  # seconds for a replica to answer /healthz: a deadline, never a measure
STOP_WITHIN = 30.0  # seconds for SIGTERM to end one before it is killed
LOG_TAIL = 6000
DEFAULT_DB = "smx.db"  # SMX_DB's default, relative to a replica's own directory  # characters of each replica's log printed at the end

# What makes `smx serve` a single-workspace app, or an OAuth app that many workspaces install.
SINGLE_WORKSPACE = {"SLACK_BOT_TOKEN": BOT_TOKEN}
CLIENT_ID = "111.222"
CLIENT_SECRET = "client-secret-xyz"
OAUTH = {"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET}
INSTALLED_TOKEN = "xoxb-installed-token"  # what the fake's oauth.v2.access hands out


@dataclass(frozen=True)
class Database:
    """Where the replicas' data is: `env` selects it for `smx serve`, `target` opens it here
    (bot.store.open_store)."""

    kind: str  # "sqlite" or "postgres"
    env: dict[str, str]
    target: str  # for PostgreSQL, the URL with its password: never to be shown
    password: str = ""


def sqlite_database(path: Path) -> Database:
    return Database("sqlite", {"SMX_DB": str(path)}, str(path))


def postgres_database(url: str) -> Database:
    return Database("postgres", {"SMX_DATABASE_URL": url}, url, urlsplit(url).password or "")


class Replica:
    """One `smx serve` process, spoken to as Slack speaks to it."""

    # The same signed requests as the in-process harness sends: these read only `self.slack`,
    # `self.url` and `self._session`.
    post = RunningBot.post
    get = RunningBot.get
    command = RunningBot.command
    event = RunningBot.event

    def __init__(
        self, name: str, slack: FakeSlack, workdir: Path, secrets: tuple[str, ...] = ()
    ) -> None:
        self.name = name
        self.secrets = tuple(s for s in secrets if s)  # what its log must never hold
        self.slack = slack
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "smx-serve.log"
        self.proc: asyncio.subprocess.Process | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def owns(self, claimed_by: str | None) -> bool:
        """Whether a digest run's holder is this process (the scheduler's owner is
        host:pid:random, bot/digest/scheduler.py)."""
        return bool(claimed_by) and claimed_by.split(":")[1] == str(self.pid)

    async def start(self, env: dict[str, str]) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        # A local file, closed once the process has been started (the child keeps its own copy).
        with open(self.log_path, "wb") as log:  # noqa: ASYNC230
            self.proc = await asyncio.create_subprocess_exec(
                *serve_argv(self.port),
                env=env,
                cwd=self.workdir,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,
            )
        self._session = aiohttp.ClientSession()

    async def healthy(self) -> bool:
        assert self.proc is not None and self._session is not None
        if self.proc.returncode is not None:
            raise AssertionError(
                f"replica {self.name} exited with {self.proc.returncode} before it was ready:\n"
                + self.log_tail()
            )
        try:
            async with self._session.get(f"{self.url}/healthz") as health:
                return health.status == 200
        except aiohttp.ClientConnectionError:
            return False

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self) -> str:
        """The end of the log, to show: a secret that leaked into it is blanked here too."""
        text = self.log_text()[-LOG_TAIL:]
        for secret in self.secrets:
            text = text.replace(secret, "[a secret the log must not hold]")
        return text

    def leaks(self) -> int:
        """How many of the secrets it was given its log holds (smx's logs must redact them)."""
        text = self.log_text()
        return sum(secret in text for secret in self.secrets)

    def logged(self, event: str) -> int:
        """How many of the replica's log lines (one JSON object each) are `event`."""
        count = 0
        for line in self.log_text().splitlines():
            with contextlib.suppress(ValueError):
                count += json.loads(line).get("event") == event
        return count

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when a host dies."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.proc.wait(), STOP_WITHIN)
        assert self.proc.returncode == -signal.SIGKILL

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), STOP_WITHIN)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


def alternate(running: list[Replica]) -> Iterator[Replica]:
    """The replicas in turn, forever: requests spread as a round-robin balancer spreads them."""
    return cycle(running)


@contextlib.asynccontextmanager
async def replicas(
    slack: FakeSlack,
    workdir: Path,
    database: Database,
    mode: dict[str, str],
    count: int = 2,
    **env: str,
) -> AsyncIterator[list[Replica]]:
    """`count` replicas of `smx serve` on `database`, in `mode` (SINGLE_WORKSPACE or OAUTH),
    started together; yields them once each answers /healthz."""
    secrets = (SECRET, BOT_TOKEN, CLIENT_SECRET, INSTALLED_TOKEN, database.password)
    started = [
        Replica(chr(ord("a") + i), slack, workdir / f"replica-{i}", secrets) for i in range(count)
    ]
    common = {
        **os.environ,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        **database.env,
        **mode,
        **env,
    }
    try:
        for replica in started:
            await replica.start(common)

        async def all_healthy() -> bool:
            return all(await asyncio.gather(*(r.healthy() for r in started)))

        await eventually(all_healthy, within=START_WITHIN, every=0.05)
        strays = [r.name for r in started if (r.workdir / DEFAULT_DB).exists()]
        assert not strays, f"replicas {strays} ignored {', '.join(database.env)}: each made a file"
        yield started
    finally:
        await asyncio.gather(*(r.stop() for r in started), return_exceptions=True)
        for replica in started:
            print(f"\n--- replica {replica.name} (port {replica.port}) log, last part ---")
            print(replica.log_tail())
    # Only once the body has passed (an assertion here must not hide the body's own failure).
    leaking = [r.name for r in started if r.leaks()]
    assert not leaking, f"replicas {leaking} wrote a token, secret or password to their log"


class HoldingSlack(FakeSlack):
    """The fake Web API, able to hold its answers to chat.postMessage: while held, a post is
    recorded as it arrives (it has reached Slack) and answered only once `release()` is called,
    so a replica can be killed with posts in flight. Holding is off until `hold()`."""

    def __init__(self) -> None:
        super().__init__()
        self._released = asyncio.Event()
        self._released.set()

    def hold(self) -> None:
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def digest_heads(self) -> list:
        """The first message of each digest that reached Slack (its metadata names the week)."""
        return [c for c in self.calls_to("chat.postMessage") if is_digest_head(c.args)]

    async def _api(self, request: web.Request) -> web.Response:
        response = await super()._api(request)
        if request.match_info["method"] == "chat.postMessage":
            await self._released.wait()  # held until the test releases it: the thing tested
        return response


def is_digest_head(args: dict) -> bool:
    metadata = args.get("metadata")
    return isinstance(metadata, dict) and "week" in (metadata.get("event_payload") or {})


def digest_key(args: dict) -> tuple[str, str]:
    """(channel, week) of a digest's first message."""
    return args["channel"], args["metadata"]["event_payload"]["week"]
