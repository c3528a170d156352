import os

import pytest

# Settings come from the environment: tests start from none of the operator's (nor a proxy).
_CLEARED = (
    "SLACK_",
    "SMX_",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "ALL_PROXY",
    "PORT",
)


@pytest.fixture(scope="session")
def _cache_home(tmp_path_factory):
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch, _cache_home):
    for name in list(os.environ):
        if name.startswith(_CLEARED):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    # The knowledge cache (knowledge/__init__.py) of this run, not the user's ~/.cache/smx.
    monkeypatch.setenv("XDG_CACHE_HOME", str(_cache_home))


@pytest.fixture
async def slack():
    """A fake Slack Web API on 127.0.0.1 (tests/support/fake_slack.py); modules may override it."""
    from tests.support.fake_slack import FakeSlack

    fake = await FakeSlack().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def bot(slack, tmp_path):
    """The real app, one workspace, served over HTTP on 127.0.0.1 against `slack`."""
    from tests.support.slack_harness import RunningBot, single_workspace_settings

    running = await RunningBot(
        slack, single_workspace_settings(slack, str(tmp_path / "smx.db"))
    ).start()
    yield running
    await running.idle()
    await running.stop()


@pytest.fixture
async def store(tmp_path):
    """A store on a temp SQLite file (not :memory:: each of the store's threads would get a
    database of its own). Modules with a store of their own override it."""
    from bot.store import open_store

    opened = open_store(str(tmp_path / "smx.db"))
    yield opened
    await opened.close()


@pytest.fixture
def ask_where() -> dict:
    """Context fields a module's `ask` uses unless a call says otherwise (override per module)."""
    return {}


@pytest.fixture
def ask(store, ask_where):
    """`await ask(text, surface="console", shared=False, **context_fields)`: the router's reply
    over `store` (tests/support/asking.py)."""
    from tests.support.asking import Asker

    return Asker(store, **ask_where)


@pytest.fixture
def no_backoff(monkeypatch):
    """Retries still happen, in the same number; only the waits between them are cut: the SDK's
    backoff (0.5 s, 1 s, ...) and Retry-After waits, and the digest poster's backoff (1 s, 2 s,
    ...). For tests about what a fault leads to, not about how long smx waits."""
    import asyncio

    from slack_sdk.http_retry import builtin_async_handlers
    from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator

    from bot.slack.digest_post import DigestPoster

    class NoWait:  # the SDK's rate-limit handler sleeps Retry-After plus up to 1 s of jitter
        @staticmethod
        async def sleep(_seconds: float) -> None:
            await asyncio.sleep(0)

    monkeypatch.setattr(BackoffRetryIntervalCalculator, "calculate_sleep_duration", lambda *_: 0.0)
    monkeypatch.setattr(builtin_async_handlers, "asyncio", NoWait)
    monkeypatch.setattr(DigestPoster, "_backoff", lambda *_: 0.0)


@pytest.fixture(autouse=True)
def _forget_channel_facts():
    """What Slack said about a channel is cached per process; each test's fake Slack says anew."""
    from bot.slack import channels

    channels._cache.clear()
    yield
    channels._cache.clear()


@pytest.fixture(scope="session")
def postgres_server():
    """One throwaway PostgreSQL server for the whole run (tests/support/postgres.py), stopped and
    removed at the end, also when the run fails or is interrupted. Under pytest-xdist each worker
    starts its own."""
    import atexit

    from tests.support.postgres import PostgresServer

    server = PostgresServer().start()
    atexit.register(server.stop)  # should teardown itself be cut short; stop() is idempotent
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, empty database on the session's server: its URL, password included. Dropped
    after the test (each is several MB on disk), with any connection a test left open."""
    if not postgres_server.running:  # a test that took it away and failed before bringing it back
        postgres_server.start_again()
    url = postgres_server.create_database()
    yield url
    if postgres_server.running:
        postgres_server.drop_database(url.rsplit("/", 1)[1])
