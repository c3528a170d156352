"""`smx serve` (HTTP) and `smx socket` (Socket Mode), and the choice `smx run` makes between them.

Both run the digest scheduler (bot/digest/scheduler.py) as a task beside the Slack traffic: it
starts with the server's aiohttp application and is stopped cleanly with it (digests in flight
get a few seconds to finish). Several replicas may run it at once; claims keep each digest single.

Both listen through `serve_http`, which the tests use too: every connection is watched for slow
or idle clients and the number open is capped below the open-file limit (bot/slack/guard.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web

from bot import logs
from bot.config import Settings
from bot.context import Services
from bot.errors import ConfigError
from bot.slack.guard import Connections, Limits

log = logging.getLogger("smx.server")
EVENTS_PATH = "/slack/events"
SERVICES = web.AppKey("services", Services)
BOLT = web.AppKey("bolt", object)
DIRECT = web.AppKey("direct", object)  # the gate's way past Bolt (bot/slack/direct.py)
SOCKET_HANDLER = web.AppKey("socket_handler", object)
DIGESTS = web.AppKey("digests", object)


def _secrets(settings: Settings) -> list[str]:
    values = (
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.slack_client_secret,
        settings.database_url,
    )
    found = [v.get_secret_value() for v in values if v]
    if settings.database_url:
        from bot.store.base import StoreError
        from bot.store.postgres import Location

        # The URL's password alone too (after the user name or as ?password=, raw and decoded),
        # in case a driver's message repeats just that part. A URL the store cannot read is
        # refused at start-up anyway.
        with contextlib.suppress(StoreError):
            found += Location(settings.database_url.get_secret_value()).secrets
    return found


def prepare(settings: Settings) -> Services:
    """What every Slack mode does first: logs, the knowledge check, the database schema.

    A database that cannot be reached or was written by a newer smx raises its StoreError (one
    sentence naming where, never a password), which `smx` prints as its one line."""
    from knowledge import load

    logs.configure(settings.log_level, _secrets(settings))
    load()  # a broken knowledge file stops the start, with the validation error
    services = Services(settings)
    services.store.migrate()
    return services


HEALTH_TIMEOUT = 5.0  # a load balancer's health check usually gives up after 5-10 s


async def healthz(request: web.Request) -> web.Response:
    from bot.store.base import StoreError

    services: Services = request.app[SERVICES]
    checks: dict[str, bool] = {}
    try:
        await asyncio.wait_for(services.store.ping(), HEALTH_TIMEOUT)
        checks["database"] = True
    except (StoreError, TimeoutError) as err:
        log.warning(
            "health check: the database does not answer",
            extra={"database": services.store.describe(), "error": str(err) or "timed out"},
        )
        checks["database"] = False
    except Exception:  # any other failure means "not healthy" too, and is a bug to look at
        log.exception("health check failed")
        checks["database"] = False
    socket = request.app.get(SOCKET_HANDLER)
    if socket is not None:
        checks["socket"] = bool(await socket.client.is_connected())
    healthy = all(checks.values())
    return web.json_response({"ok": healthy, **checks}, status=200 if healthy else 503)


async def metrics_page(request: web.Request) -> web.Response:
    from bot.telemetry import render

    body, content_type = render()
    return web.Response(body=body, headers={"Content-Type": content_type})


UPKEEP_EVERY = 24 * 3600.0
EVENT_IDS_KEPT = 24 * 3600.0  # Slack retries within minutes; a day is ample for de-duplication


def keep_tidy(web_app: web.Application, settings: Settings, services: Services) -> None:
    """Daily, from start: forget old Slack event ids, and with SMX_RETENTION_DAYS delete older notes."""

    async def upkeep_forever() -> None:
        while True:
            try:
                forgotten = await services.store.prune_events(EVENT_IDS_KEPT)
                removed = 0
                if settings.retention_days is not None:
                    removed = await services.store.prune_notes(settings.retention_days)
                log.info(
                    "upkeep pass",
                    extra={
                        "event_ids_forgotten": forgotten,
                        "notes_removed": removed,
                        "keep_days": settings.retention_days,
                    },
                )
            except Exception:  # a failed pass is retried tomorrow; the bot keeps serving
                log.exception("upkeep pass failed")
            await asyncio.sleep(UPKEEP_EVERY)

    async def lifetime(_app: web.Application):
        task = asyncio.create_task(upkeep_forever(), name="smx-upkeep")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    web_app.cleanup_ctx.append(lifetime)


def add_operations(web_app: web.Application, settings: Settings, services: Services) -> None:
    """What both modes serve besides Slack: /healthz, /metrics, the digest scheduler, retention."""
    web_app[SERVICES] = services
    web_app.on_startup.append(open_database)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics_page)
    run_digests(web_app, settings, services)
    keep_tidy(web_app, settings, services)


async def open_database(web_app: web.Application) -> None:
    """Open the store in the loop that serves (a PostgreSQL pool belongs to one loop) before the
    first request. prepare() has migrated it already; if it went away since, the server still
    starts: /healthz says 503 and every call tries again."""
    from bot.store.base import StoreError

    store = web_app[SERVICES].store
    try:
        await store.open()
    except StoreError as err:
        log.warning(
            "the database could not be opened at start; retrying on use",
            extra={"database": store.describe(), "error": str(err)},
        )


def run_digests(web_app: web.Application, settings: Settings, services: Services) -> None:
    """Run the digest scheduler for as long as `web_app` runs (`web_app[DIGESTS]` is it)."""
    from bot.digest.scheduler import Scheduler
    from bot.slack.digest_post import DigestPoster
    from bot.telemetry import DIGEST_RUNS

    scheduler = Scheduler(
        services.store,
        DigestPoster(settings, store=services.store, charts=True),
        observe=lambda outcome: DIGEST_RUNS.labels(outcome).inc(),
    )
    web_app[DIGESTS] = scheduler

    async def lifetime(_app: web.Application):
        task = asyncio.create_task(scheduler.run(), name="smx-digests")
        yield
        await scheduler.stop()  # returns once its loop has ended, or after its grace period
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        from bot.slack.digest_chart import drop_waiting

        await drop_waiting()  # charts not yet uploaded: extras, never waited for at shutdown

    web_app.cleanup_ctx.append(lifetime)


def build_web_app(settings: Settings, services: Services | None = None) -> web.Application:
    """The aiohttp application `smx serve` runs: Slack's endpoints plus /healthz and /metrics.

    POST /slack/events goes through the gate (bot/slack/guard.py), which verifies and checks
    every request before Bolt dispatches it; the OAuth pages go straight to Bolt's OAuth flow.
    """
    from bot.slack.app import build_app
    from bot.slack.guard import SlackGate

    secret = (
        settings.slack_signing_secret.get_secret_value().strip()
        if settings.slack_signing_secret
        else ""
    )
    if not secret:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is missing: `smx serve` needs it to verify requests from Slack."
        )
    services = services or Services(settings)
    bolt = build_app(settings, services)
    web_app = web.Application()  # the gate times its acks itself (smx_ack_seconds)
    from bot.slack.direct import DirectAnswers

    direct = DirectAnswers(bolt, services)
    gate = SlackGate(secret, bolt, body_timeout=settings.request_timeout, direct=direct)
    web_app.router.add_post(EVENTS_PATH, gate.handle)
    if bolt.oauth_flow is not None:
        add_oauth_pages(web_app, bolt.oauth_flow)
    web_app[BOLT] = bolt
    web_app[DIRECT] = direct
    add_operations(web_app, settings, services)

    async def finish_replies(_app: web.Application) -> None:
        await _drain(GRACE_SECONDS)

    web_app.on_shutdown.append(finish_replies)
    return web_app


def add_oauth_pages(web_app: web.Application, flow) -> None:
    """/slack/install and /slack/oauth_redirect, answered by Bolt's OAuth flow."""
    from slack_bolt.adapter.aiohttp import to_aiohttp_response
    from slack_bolt.request.async_request import AsyncBoltRequest

    def page(handle):
        async def answer(request: web.Request) -> web.StreamResponse:
            # A GET has no body worth reading (and an odd charset would make reading it fail).
            bolt_request = AsyncBoltRequest(
                body="", query=request.query_string, headers=dict(request.headers)
            )
            return await to_aiohttp_response(await handle(bolt_request))

        return answer

    web_app.router.add_get(flow.install_path, page(flow.handle_installation))
    web_app.router.add_get(flow.redirect_uri_path, page(flow.handle_callback))


RESERVED_FILES = 128  # descriptors kept free of clients: the database, Web API calls, logs


def raise_open_file_limit() -> int:
    """Lift the soft limit on open files to the hard limit (many hosts start at 1,024 while
    allowing far more); returns the soft limit now in force."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as err:  # e.g. macOS caps it below an unlimited hard limit
            log.warning("could not raise the open-file limit", extra={"error": str(err)})
    return soft


def connection_limits(settings: Settings) -> Limits:
    """The settings' limits, with the connection cap kept below the open-file limit, so the
    process never runs out of descriptors ("Too many open files") however many clients come."""
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 20
    room = soft - min(RESERVED_FILES, soft // 4)
    return Limits(
        request_timeout=settings.request_timeout,
        keepalive_timeout=settings.keepalive_timeout,
        max_connections=max(1, min(settings.max_connections, room)),
    )


class WatchedSite(web.BaseSite):
    """aiohttp's TCP site, with each connection handed to Connections as it is accepted."""

    def __init__(
        self, runner: web.BaseRunner, host: str, port: int, connections: Connections
    ) -> None:
        super().__init__(runner)
        self._host = host
        self.port = port  # the bound port once started (port 0 picks a free one)
        self.connections = connections

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self.port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None
        self._server = await loop.create_server(
            self.connections.protocol_factory(server), self._host, self.port, backlog=self._backlog
        )
        self.port = self._server.sockets[0].getsockname()[1]


async def serve_http(
    web_app: web.Application,
    settings: Settings,
    host: str,
    port: int,
    purpose: str = "Slack's requests",
) -> tuple[web.AppRunner, WatchedSite]:
    """Start serving `web_app` on host:port with the connection limits; the one way smx listens
    (`smx serve`, the health port of `smx socket`, and the tests' RunningBot)."""
    limits = connection_limits(settings)
    connections = Connections(limits)
    web_app.middlewares.insert(0, connections.middleware())
    runner = web.AppRunner(
        web_app,
        access_log=None,
        # aiohttp's own idle timer agrees with ours; a body left unread after an answer is
        # drained for at most as long as a request may take.
        keepalive_timeout=limits.keepalive_timeout,
        lingering_time=limits.request_timeout,
    )
    await runner.setup()
    site = WatchedSite(runner, host, port, connections)
    try:
        await site.start()
    except OSError as err:
        await runner.cleanup()
        raise ConfigError(f"PORT {port} can't be used for {purpose}: {err.strerror}.") from None
    log.info(
        "listening",
        extra={
            "host": host,
            "port": site.port,
            "request_timeout": limits.request_timeout,
            "keepalive_timeout": limits.keepalive_timeout,
            "max_connections": limits.max_connections,
        },
    )
    return runner, site


def start(
    command: str, settings: Settings, host: str | None = None, port: int | None = None
) -> int:
    mode = settings.mode
    if command == "run":
        command = "socket" if mode == "socket" else "serve"
    if command == "serve" and mode in ("console", "socket") and not settings.slack_signing_secret:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is missing: `smx serve` needs it to verify requests from Slack."
        )
    if command == "serve" and mode == "console":
        raise ConfigError(
            "SLACK_BOT_TOKEN is missing: `smx serve` needs a bot token (or OAuth settings)."
        )
    if command == "socket" and mode != "socket":
        raise ConfigError(
            "SLACK_APP_TOKEN is missing: `smx socket` needs an app-level token (xapp-...)."
        )
    services = prepare(settings)
    raise_open_file_limit()
    if command == "socket":
        asyncio.run(_socket(settings, services, port or settings.port))
        return 0
    web_app = build_web_app(settings, services)
    bind_port = port or settings.port
    log.info(
        "serving Slack over HTTP",
        extra={"host": host or "0.0.0.0", "port": bind_port, "mode": mode},
    )
    asyncio.run(_serve(web_app, settings, host or "0.0.0.0", bind_port))
    return 0


def settle_memory() -> None:
    """Once started: everything loaded so far (modules, the knowledge, the app) lives as long as
    the process, so the garbage collector is told to leave it out of its full collections; those
    would otherwise walk all of it again and again, holding the event loop tens of milliseconds
    each time (bench/bench_ack.py reports the pauses)."""
    import gc

    from bot.router import COMMANDS

    for command in COMMANDS:  # the handlers' modules, imported now rather than mid-request
        for handler in (command.handler, *(v.handler for v in command.variants)):
            _import_handler(handler)
    # The plain-question reader and what it loads on first use (the fuzzy matcher, the metric
    # phrases): the first question after start-up would otherwise pay ~0.1 s on the loop.
    from bot.phrasing import read

    read("how many clicks will $500 get me on instagram?")
    read("explian roas")
    gc.collect()
    gc.freeze()


def _import_handler(path: str) -> None:
    import importlib

    importlib.import_module(path.partition(":")[0])


async def _serve(web_app: web.Application, settings: Settings, host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT, then stop gracefully (replies in flight may finish)."""
    runner, _site = await serve_http(web_app, settings, host, port)
    settle_memory()
    try:
        await _until_stopped()
        log.info("stopping: finishing work already acknowledged")
    finally:
        await runner.cleanup()
        # After the scheduler and the replies in flight have stopped: a PostgreSQL pool's
        # connections are handed back to the server instead of being cut.
        await web_app[SERVICES].store.close()


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _socket(settings: Settings, services: Services, port: int) -> None:
    """Socket Mode, with /healthz and /metrics on PORT; SIGTERM/SIGINT stop it gracefully."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_sdk.errors import SlackApiError

    from bot.slack.answer import slack_error
    from bot.slack.app import build_app

    app_token = settings.slack_app_token.get_secret_value()
    health = web.Application()
    bolt = build_app(settings, services)
    handler = AsyncSocketModeHandler(bolt, app_token)
    health[SOCKET_HANDLER] = handler
    add_operations(health, settings, services)
    runner: web.AppRunner | None = None
    try:
        # Bind first: a busy port is a setting to fix, said in one line, not a traceback.
        runner, _site = await serve_http(
            health, settings, "0.0.0.0", port, purpose="/healthz and /metrics"
        )
        # A rejected app token would otherwise be retried forever; check it once, up front.
        try:
            await bolt.client.apps_connections_open(app_token=app_token)
        except SlackApiError as err:
            raise ConfigError(
                f"SLACK_APP_TOKEN was refused by Slack ({slack_error(err)})."
            ) from None
        log.info("connecting to Slack in Socket Mode", extra={"health_port": port})
        await handler.connect_async()
        settle_memory()
        await _until_stopped()
        log.info("stopping: closing the socket and finishing work already acknowledged")
        await handler.close_async()
        await _drain(GRACE_SECONDS)
    finally:
        with contextlib.suppress(Exception):  # on a failed start the client's session is still open
            await handler.client.close()
        if runner is not None:
            await runner.cleanup()
        await services.store.close()


GRACE_SECONDS = 10.0


async def _drain(grace: float) -> None:
    """Let replies already acknowledged finish (Slack will not send those requests again)."""
    from bot.slack.inflight import drain

    left = await drain(grace)
    if left:
        log.warning("stopped with replies still running", extra={"abandoned": left})
