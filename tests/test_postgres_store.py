"""What only the PostgreSQL backend has to get right, against a real throwaway server: its pool
(opened in the loop that uses it, no prepared statements for PgBouncer), migrations under an
advisory lock, outages (StoreUnavailable naming host and port, never the password, and working
again once the server is back), SKIP LOCKED claims, and tsquery building.

The general behaviour of every backend is the contract suite's (tests/contract/), not here.
"""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.store import (
    BackupUnsupported,
    StoreError,
    StoreUnavailable,
    Subscription,
    Viewer,
)
from bot.store.notes import search_text
from bot.store.postgres import Location, PostgresStore, tsquery_text
from bot.store.postgres_schema import LATEST, SEARCH_CONFIG
from tests.support.contract import note
from tests.support.postgres import PostgresServer
from tests.support.waits import WAIT, eventually

VIEWER = Viewer("T1", "C1", "U1")
NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
async def pg(postgres_url):
    store = PostgresStore(postgres_url)
    yield store
    await store.close()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the pool ------------------------------------------------------------------------------------


async def test_nothing_is_opened_before_the_first_call_and_nothing_is_prepared(
    postgres_url,
) -> None:
    store = PostgresStore(postgres_url, pool_min=1, pool_max=1)
    try:
        assert store._pool is None  # the constructor connects to nothing
        await store.open()
        assert store._pool is not None
        for _ in range(12):  # past psycopg's default threshold (5) for preparing a statement
            await store.add_note(note("reel saves up"))
            await store.search_notes(VIEWER, "reel")
        async with store._pool.connection() as conn:  # the pool's one connection
            assert conn.prepare_threshold is None
            cursor = await conn.execute("SELECT count(*) AS n FROM pg_prepared_statements")
            assert (await cursor.fetchone())["n"] == 0
    finally:
        await store.close()
    assert store._pool is None


async def test_a_quiet_connection_is_lent_without_a_round_trip_and_a_dropped_one_is_replaced(
    postgres_url, monkeypatch
) -> None:
    """The pool's check (`_check_lent`) asks the server only when something arrived on the
    connection unasked: a note on a connection handed back idle makes no extra round trip, and
    one whose backend the server terminated meanwhile is seen, checked, replaced, and the note
    still logged."""
    from psycopg_pool import AsyncConnectionPool

    asked: list[object] = []
    real_check = AsyncConnectionPool.check_connection

    async def counted_check(conn) -> None:
        asked.append(conn)
        await real_check(conn)

    monkeypatch.setattr(AsyncConnectionPool, "check_connection", staticmethod(counted_check))
    store = PostgresStore(postgres_url, pool_min=1, pool_max=1)
    try:
        await store.add_note(note("first"))
        for _ in range(5):
            await store.add_note(note("quiet"))
        assert asked == []  # each lend found the connection idle and its socket silent
        async with store._pool.connection() as conn:
            cursor = await conn.execute("SELECT pg_backend_pid() AS pid")
            pid = (await cursor.fetchone())["pid"]
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])

        async def said_so() -> bool:  # the server's FATAL and its close reach the socket
            return not _quiet_now(store)

        await eventually(said_so)
        found = await store.add_note(note("after the backend went"))
        assert found is not None
        assert len(asked) == 1  # that connection was checked (and failed), then replaced
        page = await store.list_notes(VIEWER, limit=20)
        assert [n.text for n in page.notes][:1] == ["after the backend went"]
    finally:
        await store.close()


def _varied_notes() -> list:
    """A batch with every field used: figures whole and fractional, tiny and huge, a metrics
    object, text JSON must escape, times with and without microseconds, and None throughout."""
    when = datetime(2025, 3, 3, 9, 0, 0, 123456, tzinfo=UTC)
    return [
        note(
            'quotes " and \\ backslash, tab\t, line\nbreak, é ü 漢字 🚀',
            campaign="spring-launch",
            platform="instagram",
            spend=400.0,
            currency="€",
            impressions=1.2e6,
            clicks=0.1 + 0.2,
            conversions=3.0,
            metrics={"revenue": 1234.5, "ctr": 0.012, "views": 1e-300},
            created_at=when,
        ),
        note("plain", channel="C2", channel_kind="private", author="U2"),
        note("huge", spend=1.7976931348623157e308, clicks=5e-324, created_at=NOW),
        note("{json-looking} [text] null", campaign="q3", metrics={}),
    ]


async def test_a_batch_written_as_json_reads_back_as_the_arrays_write_it(pg, monkeypatch) -> None:
    """`_insert_notes` hands a batch to PostgreSQL as one JSON text (`_json_rows`); the same batch
    written the way it was before, a parameter array per column, must read back equal, field
    for field, in the batch's order."""
    import bot.store.postgres as backend

    async def written() -> list:
        async with pg._connection() as conn:
            ids = await backend._insert_notes(conn, _varied_notes())
        assert ids == sorted(ids) and len(ids) == 4
        return [await pg.get_note(Viewer("T1", "C1", "U2"), i) for i in ids]

    as_json = await written()
    monkeypatch.setattr(backend, "_json_rows", lambda new: None)  # the arrays, as before
    as_arrays = await written()
    given = [n.created_at is not None for n in _varied_notes()]  # the others: "now"

    def fields(read: list) -> list[dict]:
        return [
            {k: v for k, v in n.__dict__.items() if k != "id" and (k != "created_at" or timed)}
            for n, timed in zip(read, given, strict=True)
        ]

    assert fields(as_json) == fields(as_arrays)
    assert as_json[0].created_at == datetime(2025, 3, 3, 9, 0, 0, 123456, tzinfo=UTC)
    assert as_json[0].clicks == 0.1 + 0.2 and as_json[2].clicks == 5e-324
    hits = await pg.search_notes(Viewer("T1", "C1", "U2"), "backslash")
    assert len(hits) == 2  # the search text went in too, both ways


def test_a_value_json_cannot_hold_sends_the_batch_as_arrays() -> None:
    from bot.store.postgres import _json_rows

    assert _json_rows([note("ok", spend=float("nan"))]) is None
    assert _json_rows([note("ok", metrics={"revenue": float("inf")})]) is None
    assert _json_rows([note("ok", spend=1.5)]) is not None


def _quiet_now(store: PostgresStore) -> bool:
    from bot.store.postgres import _quiet

    pool = store._pool
    assert pool is not None
    idle = list(pool._pool)  # the connections waiting to be lent
    return all(_quiet(conn) for conn in idle)


def test_a_store_serves_one_event_loop_after_another(postgres_url) -> None:
    """`smx ask` runs one loop per query: each gets a pool of its own, made in that loop."""
    store = PostgresStore(postgres_url)

    async def add() -> int | None:
        try:
            return await store.add_note(note("first loop"))
        finally:
            await store.close()

    async def read() -> list[str]:
        try:
            return [n.text for n in (await store.list_notes(VIEWER)).notes]
        finally:
            await store.close()

    assert asyncio.run(add()) == 1
    assert asyncio.run(read()) == ["first loop"]


# -- migrations ----------------------------------------------------------------------------------


def test_replicas_migrating_one_empty_database_at_once_apply_each_version_once(
    postgres_url,
) -> None:
    stores = [PostgresStore(postgres_url) for _ in range(4)]
    start = threading.Barrier(len(stores))
    results: list[object] = [None] * len(stores)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = stores[i].migrate()
        except Exception as err:  # reported below, with the others
            results[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert results == [LATEST] * len(stores)
    with psycopg.connect(postgres_url) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
    assert versions == list(range(1, LATEST + 1))


async def test_notes_written_before_search_existed_are_found_after_the_upgrade(
    postgres_url,
) -> None:
    from bot.store import postgres_schema

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        assert postgres_schema.migrate(conn, target=1) == 1
        conn.execute(
            "INSERT INTO notes (team, workspace, channel, channel_kind, author, campaign, text,"
            " created_at) VALUES ('T1', 'T1', 'C1', 'public', 'U1', 'spring', 'Carousels"
            " converting nicely', now())"
        )
    store = PostgresStore(postgres_url)
    try:
        assert store.migrate() == LATEST
        found = await store.search_notes(VIEWER, "convert carousel")
        assert [n.text for n in found] == ["Carousels converting nicely"]
    finally:
        await store.close()


# -- outages -------------------------------------------------------------------------------------


def _assert_names_place_not_password(err: BaseException, port: int, password: str) -> None:
    message = str(err)
    assert f"127.0.0.1:{port}" in message, message
    assert password not in message
    assert "\n" not in message and "Traceback" not in message
    assert isinstance(err.__cause__, psycopg.Error)  # the driver's error, kept for the log


async def test_nothing_listening_is_unavailable_naming_host_and_port_never_the_password() -> None:
    port, password = _free_port(), "s3cret-Pa55word"
    store = PostgresStore(f"postgresql://smx:{password}@127.0.0.1:{port}/smx", pool_timeout=1)
    try:
        with pytest.raises(StoreUnavailable) as at_start:
            store.migrate()
        _assert_names_place_not_password(at_start.value, port, password)
        for call in (store.ping(), store.add_note(note()), store.list_notes(VIEWER)):
            with pytest.raises(StoreUnavailable) as caught:
                await asyncio.wait_for(call, WAIT)
            _assert_names_place_not_password(caught.value, port, password)
    finally:
        await store.close()


async def test_a_wrong_password_is_a_store_error_that_does_not_repeat_it(postgres_server) -> None:
    url = postgres_server.url("postgres", password="not-the-Real-one")
    store = PostgresStore(url)
    with pytest.raises(StoreError) as caught:
        store.migrate()
    assert "not-the-Real-one" not in str(caught.value)
    assert postgres_server.password not in str(caught.value)
    assert f"127.0.0.1:{postgres_server.port}" in str(caught.value)


@pytest.fixture(scope="module")
def own_server():
    """A server of this module's own, for the test that takes it away mid-run."""
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


async def test_a_server_that_goes_away_is_unavailable_then_serves_again_when_back(
    own_server,
) -> None:
    url = own_server.create_database()
    store = PostgresStore(url, pool_timeout=2)
    try:
        first = await store.add_note(note("before the outage"))
        await store.ping()
        own_server.stop_temporarily()
        try:
            for call in (store.ping(), store.get_note(VIEWER, first)):
                with pytest.raises(StoreUnavailable) as caught:
                    await asyncio.wait_for(call, WAIT)
                _assert_names_place_not_password(caught.value, own_server.port, own_server.password)
        finally:
            own_server.start_again()

        async def answers() -> bool:
            try:
                await store.ping()
            except StoreUnavailable:
                return False
            return True

        await eventually(answers)  # the pool replaces its broken connections by itself
        await store.add_note(note("after the outage"))
        page = await store.list_notes(VIEWER)
        assert [n.text for n in page.notes] == ["after the outage", "before the outage"]
    finally:
        await store.close()


@pytest.fixture
def log_stream():
    """What smx's own logging (bot.logs.configure, at INFO) writes, the previous logging put
    back afterwards."""
    import io
    import logging

    from bot import logs

    root, pool = logging.getLogger(), logging.getLogger("psycopg.pool")
    handlers, root_level, pool_level = root.handlers[:], root.level, pool.level
    stream = io.StringIO()
    logs.configure("INFO", stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:] = handlers
        root.setLevel(root_level)
        pool.setLevel(pool_level)


async def test_an_outage_is_not_a_pool_log_line_for_every_attempt_to_reconnect(
    own_server, log_stream
) -> None:
    """psycopg_pool logged "error connecting in 'smx': ..." several times a second (17 lines in
    about 15 s); smx's own lines (/healthz, the failed query) say the outage."""
    url = own_server.create_database()
    store = PostgresStore(url, pool_timeout=1)
    try:
        await store.ping()
        own_server.stop_temporarily()
        try:
            for _ in range(2):
                with pytest.raises(StoreUnavailable):
                    await asyncio.wait_for(store.ping(), WAIT)
            pool = store._pool
            assert pool is not None
            assert pool.get_stats().get("connections_errors", 0) >= 1  # it did try, and failed
        finally:
            own_server.start_again()
    finally:
        await store.close()
    logged = log_stream.getvalue()
    assert "error connecting" not in logged and '"psycopg.pool"' not in logged, logged


def test_the_pools_errors_still_show_and_at_debug_everything_does(log_stream) -> None:
    import io
    import logging

    from bot import logs

    pool = logging.getLogger("psycopg.pool")
    pool.warning("error connecting in 'smx': refused")
    pool.error("pool task failed")
    lines = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    assert [(e["level"], e["event"]) for e in lines] == [("error", "pool task failed")]
    debug = io.StringIO()
    logs.configure("DEBUG", stream=debug)
    pool.warning("error connecting in 'smx': refused")
    assert "error connecting" in debug.getvalue()


# -- URLs and what the store says about itself -----------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "mysql://smx:hunter2-secret@db:3306/smx",
        "postgresql://smx:hunter2-secret@db:notaport/smx",
        "postgresql://smx:hunter2-secret@db/smx?nonsense_option=1",
        "hunter2-secret",
    ],
)
def test_a_url_that_is_not_postgresql_is_one_sentence_without_the_password(url: str) -> None:
    with pytest.raises(StoreError) as caught:
        PostgresStore(url)
    message = str(caught.value)
    assert "postgresql://USER:PASSWORD@HOST:PORT/DATABASE" in message
    assert "hunter2-secret" not in message


async def test_describe_and_backup_name_the_database_and_pg_dump_never_the_password(
    postgres_server, pg
) -> None:
    port = postgres_server.port
    assert pg.describe().startswith(f"PostgreSQL at 127.0.0.1:{port}/")
    with pytest.raises(BackupUnsupported) as caught:
        await pg.backup("/tmp/anywhere")
    assert "pg_dump" in str(caught.value) and f"--port={port}" in str(caught.value)
    assert postgres_server.password not in str(caught.value) + pg.describe()


def test_the_pg_dump_hint_names_the_urls_user_and_never_its_password() -> None:
    store = PostgresStore("postgresql://marketing:hunter2-secret@db.internal:6432/smx")
    with pytest.raises(BackupUnsupported) as caught:
        asyncio.run(store.backup("/tmp/anywhere"))
    hint = str(caught.value)
    assert "--host=db.internal --port=6432 --username=marketing smx " in hint, hint
    assert "hunter2-secret" not in hint


@pytest.mark.parametrize("password", ["p", "o", "t", "5", "ab", "pw1"])
async def test_a_short_wrong_password_leaves_the_drivers_words_whole(
    postgres_server, password
) -> None:
    """A password was once scrubbed as a bare substring: "p" made the driver's "port 5432" into
    "***ort 5432". A short one goes only where it stands on its own."""
    store = PostgresStore(postgres_server.url("postgres", password=password))
    with pytest.raises(StoreError) as caught:
        store.migrate()
    message = str(caught.value)
    assert f"port {postgres_server.port} failed" in message, message
    assert "password authentication failed" in message, message
    assert "***" not in message, message


@pytest.mark.parametrize(
    "secret,text,scrubbed",
    [
        ("p", 'password "p" for port 5432', 'password "***" for port 5432'),
        ("p", "postgresql://u:p@h/db?password=p", "postgresql://u:***@h/db?password=***"),
        ("ab", "ab, cab, abc, (ab), ab_db", "***, cab, abc, (***), ***_db"),
        ("long-secret", "xlong-secretx 'long-secret'", "x***x '***'"),
        ("four", "fourteen four", "***teen ***"),  # from 4 characters, wherever it appears
    ],
)
def test_scrub_hides_every_standalone_password_and_a_long_one_everywhere(
    secret: str, text: str, scrubbed: str
) -> None:
    location = Location(f"postgresql://u:{secret}@h/db")
    assert location.scrub(text) == scrubbed


@pytest.mark.parametrize(
    "url,hidden",
    [
        ("postgresql://smx@db/smx?password=hunter2-secret", "hunter2-secret"),
        ("postgresql://smx@db/smx?sslmode=disable&password=a%2Fb%40c", "a/b@c"),
        ("postgresql://smx:first-secret@db/smx?password=second-secret", "first-secret"),
        ("postgresql://smx:first-secret@db/smx?password=second-secret", "second-secret"),
    ],
)
def test_a_password_given_as_a_query_parameter_is_a_secret_too(url: str, hidden: str) -> None:
    location = Location(url)
    assert hidden in location.secrets
    assert hidden not in location.scrub(f"the driver said {url} and {hidden}.")
    assert hidden not in str(location)


async def test_an_upper_case_scheme_is_accepted_as_bot_config_accepts_it(postgres_url) -> None:
    scheme, rest = postgres_url.split("://", 1)
    store = PostgresStore(f"{scheme.upper()}://{rest}")
    try:
        assert store.migrate() == LATEST
        assert await store.add_note(note("upper case scheme")) is not None
    finally:
        await store.close()


async def test_a_url_without_a_host_names_the_unix_socket_libpq_tries(monkeypatch) -> None:
    monkeypatch.delenv("PGHOST", raising=False)
    port = _free_port()
    store = PostgresStore(f"postgresql://smx:hunter2-secret@/smx?port={port}", pool_timeout=1)
    try:
        assert store.describe() == (
            f"PostgreSQL at the local Unix socket (libpq's default directory, port {port}), "
            "database smx"
        )
        with pytest.raises(StoreUnavailable) as caught:
            store.migrate()
        message = str(caught.value)
        assert "localhost" not in message and "Unix socket" in message, message
        assert "hunter2-secret" not in message
    finally:
        await store.close()
    socket_dir = PostgresStore(f"postgresql://smx@/smx?host=/run/pg&port={port}")
    assert (
        socket_dir.describe()
        == f"PostgreSQL at the Unix socket /run/pg/.s.PGSQL.{port}, database smx"
    )


# -- a database shared with other applications ------------------------------------------------------


async def test_a_purge_leaves_another_applications_tables_and_views_alone(postgres_url, pg) -> None:
    """The database, even its `public` schema, is often shared: a table or view of someone
    else's with a `team` column is not smx's to empty (nor to fail on)."""
    await pg.add_note(note("ours", team="T-LOCAL", workspace="T-LOCAL"))
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE billing_accounts (team text, balance int)")
        conn.execute("INSERT INTO billing_accounts VALUES ('T-LOCAL', 100), ('T-OTHER', 5)")
        conn.execute("CREATE VIEW team_balances AS SELECT team, balance FROM billing_accounts")
        conn.execute(  # a view that cannot be deleted from: it made the whole purge fail
            "CREATE VIEW team_totals AS SELECT team, sum(balance) AS total"
            " FROM billing_accounts GROUP BY team"
        )
        conn.execute("CREATE TABLE audit_log (enterprise_id text, workspace text, what text)")
        conn.execute("INSERT INTO audit_log VALUES ('T-LOCAL', 'T-LOCAL', 'installed')")
    removed = await pg.purge_team("T-LOCAL")
    assert removed == {"notes": 1}
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        assert conn.execute("SELECT team, balance FROM billing_accounts ORDER BY 1").fetchall() == [
            ("T-LOCAL", 100),
            ("T-OTHER", 5),
        ]
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone() == (1,)
    assert (await pg.list_notes(Viewer("T-LOCAL", "C1"))).total == 0


# -- SKIP LOCKED ----------------------------------------------------------------------------------


def _subscription(channel: str, next_run: datetime = NOW) -> Subscription:
    return Subscription(
        team="T1", channel=channel, workspace="T1", enterprise=None, weekday=0, hour=9,
        minute=0, tz="UTC", subscriber="U1", next_run=next_run,
    )  # fmt: skip


async def _claim(store: PostgresStore, sub: Subscription, owner: str):
    return await store.claim_run(
        sub, week="2025-W10", due=sub.next_run, late=False, owner=owner, now=NOW,
        next_run=sub.next_run + timedelta(weeks=1),
    )  # fmt: skip


async def test_a_row_another_scheduler_is_taking_is_skipped_not_waited_for(
    postgres_url, pg
) -> None:
    """Without SKIP LOCKED each of these would wait for the other transaction (the test would
    time out); with it, the locked row is someone else's and the call answers None at once."""
    sub = _subscription("C1")
    await pg.save_subscription(sub)
    with psycopg.connect(postgres_url) as other:  # another host, mid-transaction
        other.execute("SELECT * FROM digest_subscriptions WHERE channel = 'C1' FOR UPDATE")
        assert await asyncio.wait_for(_claim(pg, sub, "A"), WAIT) is None
        other.rollback()
    run = await _claim(pg, sub, "A")
    assert run is not None and run.claimed_by == "A"

    # A run waiting for a retry, and a stale one to reap, both locked by the other host.
    assert await pg.update_run(run, owner="A", expect=("claimed",), state="retry", now=NOW,
                               retry_at=NOW)  # fmt: skip
    with psycopg.connect(postgres_url) as other:
        other.execute("SELECT * FROM digest_runs FOR UPDATE")
        assert await asyncio.wait_for(pg.claim_retry(run, owner="B", now=NOW), WAIT) is None
        other.rollback()
    retried = await pg.claim_retry(run, owner="B", now=NOW)
    assert retried is not None and retried.claimed_by == "B"
    later = NOW + timedelta(hours=1)
    with psycopg.connect(postgres_url) as other:
        other.execute("SELECT * FROM digest_runs FOR UPDATE")
        reaped = await asyncio.wait_for(pg.reap_runs(later, lease_seconds=60), WAIT)
        assert reaped == []
        assert (await pg.get_run("T1", "C1", "2025-W10")).state == "claimed"
        other.rollback()
    await pg.reap_runs(later, lease_seconds=60)
    assert (await pg.get_run("T1", "C1", "2025-W10")).state == "retry"


async def test_two_stores_claiming_the_same_due_slots_at_once_claim_each_once(
    postgres_url,
) -> None:
    first, second = PostgresStore(postgres_url), PostgresStore(postgres_url)
    try:
        subs = [_subscription(f"C{i}") for i in range(40)]
        for sub in subs:
            await first.save_subscription(sub)
        claims = await asyncio.gather(
            *(_claim(store, sub, name) for sub in subs for store, name in
              ((first, "A"), (second, "B")))
        )  # fmt: skip
        taken = [c for c in claims if c is not None]
        assert sorted(c.channel for c in taken) == sorted(s.channel for s in subs)
        assert len(await first.list_runs("T1")) == len(subs)
        assert {c.claimed_by for c in taken} <= {"A", "B"}
    finally:
        await first.close()
        await second.close()


# -- search: what anyone types is a valid tsquery ---------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["it's", "a & b", "a | b", "!reel", "reel:*", "(reel", "a\\", "\\'", "'", "''", "x\x00y",
     "reel:A", "<->", "a <-> b", "***", "reel*", "'reel'*", "é*", "\\"],
)  # fmt: skip
async def test_tsquery_syntax_typed_is_only_text(pg, typed: str) -> None:
    await pg.add_note(note("reel got 3x saves"))
    found = await pg.search_notes(VIEWER, typed)
    assert isinstance(found, list)
    if typed.strip("!(:*' ") == "reel":  # punctuation around the one word: still found
        assert [n.text for n in found] == ["reel got 3x saves"]


_WORDS = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF, blacklist_categories=("Cs",)),
    max_size=40,
)


async def test_healthz_is_503_while_postgresql_is_down_and_200_once_it_is_back(
    own_server, slack
) -> None:
    """The load balancer's view of an outage: `smx serve`'s /healthz on a PostgreSQL store says
    503 within the ping's few seconds while the server is gone, and 200 again once it is back,
    without a restart; neither answer carries the password."""
    from bot.config import Settings
    from tests.support.slack_harness import BOT_TOKEN, SECRET, RunningBot

    url = own_server.create_database()
    settings = Settings(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.api_url,
        SMX_DATABASE_URL=url,
    )
    bot = await RunningBot(slack, settings).start()
    try:
        assert (await bot.get("/healthz")).status == 200
        own_server.stop_temporarily()
        try:
            down = await asyncio.wait_for(bot.get("/healthz"), WAIT)
            assert down.status == 503
            assert json.loads(down.body) == {"ok": False, "database": False}
            assert own_server.password not in down.body
        finally:
            own_server.start_again()

        async def healthy() -> bool:
            return (await bot.get("/healthz")).status == 200

        await eventually(healthy)  # the pool replaces its broken connections by itself
        reply = await bot.command("note spring-launch back after the outage")
        assert reply.status == 200 and "spring-launch" in json.dumps(reply.body)
        page = await bot.services.store.list_notes(VIEWER)
        assert [n.text for n in page.notes] == ["back after the outage"]
    finally:
        await bot.stop()


@pytest.fixture(scope="module")
def search_conn(own_server):
    url = own_server.create_database()
    store = PostgresStore(url)
    store.migrate()  # the search configuration
    with psycopg.connect(url, autocommit=True) as conn:
        yield conn


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(typed=st.one_of(_WORDS, st.text(max_size=40)))
def test_any_typed_text_builds_a_tsquery_postgresql_accepts(search_conn, typed: str) -> None:
    text = tsquery_text(typed)
    if text is None:
        return
    search_conn.execute(f"SELECT to_tsquery('{SEARCH_CONFIG}', %s)", [text])  # must not raise


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=st.lists(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyzXYZ0123456789-'.&|!:()\\", min_size=1,
                max_size=12),
        min_size=1, max_size=5,
    )
)  # fmt: skip
def test_a_note_holding_every_typed_word_is_found(search_conn, words: list[str]) -> None:
    typed = " ".join(words)
    text = tsquery_text(typed)
    if text is None:
        return
    row = search_conn.execute(  # the note's vector as add_note writes it
        f"SELECT to_tsvector('{SEARCH_CONFIG}', %s) @@ to_tsquery('{SEARCH_CONFIG}', %s)",
        [search_text(typed), text],
    ).fetchone()
    assert row[0], (typed, text)


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet=st.characters(max_codepoint=127)) | st.text(max_size=30))
def test_search_text_reads_ascii_as_it_reads_any_text(text: str) -> None:
    """The quick reading of ASCII text (what most notes are) is the character-by-character one."""
    from bot.store.notes import unicode_search_text

    assert search_text(text) == unicode_search_text(text)
    assert search_text("Reel got 3x saves, CTR 1.2%; v2.1 /promo") == (
        "reel got 3x saves ctr 1 2 v2 1 promo"
    )


def test_tsquery_text_quotes_each_word_and_keeps_prefixes() -> None:
    assert tsquery_text("Reel sav*") == "'reel' & 'sav':*"
    # punctuation inside a word splits it into a phrase of its parts, as SQLite's tokenizer does
    assert tsquery_text("it's a\\b v2.1 Été") == "'it s' & 'a b' & 'v2 1' & 'ete'"
    assert tsquery_text("&& || !! ( '' \\") is None


def test_a_statement_the_server_refuses_is_a_store_error_not_an_outage(postgres_url) -> None:
    """psycopg files "cannot delete from view" and "connection refused" alike under
    OperationalError; only the second is the database being unreachable (StoreUnavailable, try
    again later). The first is a plain StoreError, said as a failure, not as an outage."""
    store = PostgresStore(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE VIEW totals AS SELECT 1 AS one GROUP BY 1")
        with pytest.raises(StoreError) as refused, store._errors():
            conn.execute("DELETE FROM totals")
    assert not isinstance(refused.value, StoreUnavailable)
    assert isinstance(refused.value.__cause__, psycopg.OperationalError)
    assert "failed" in str(refused.value) and "cannot be reached" not in str(refused.value)

    port = _free_port()  # nothing listens on it
    down = PostgresStore(f"postgresql://smx:pw@127.0.0.1:{port}/smx")
    with pytest.raises(StoreUnavailable, match="cannot be reached"), down._errors():
        psycopg.connect(f"postgresql://smx:pw@127.0.0.1:{port}/smx", connect_timeout=3)
