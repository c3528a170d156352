"""`smx serve` (HTTP) and `smx socket` (Socket Mode), and the choice `smx run` makes between them.

Both run the digest scheduler (bot/digest/scheduler.py) as a task beside the Slack traffic: it
starts with the server's aiohttp application and is stopped cleanly with it (digests in flight
get a few seconds to finish). Several replicas may run it at once; claims keep each digest single.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time

from aiohttp import web

from bot import logs
from bot.config import Settings
from bot.context import Services
from bot.errors import ConfigError

log = logging.getLogger("smx.server")
EVENTS_PATH = "/slack/events"
SERVICES = web.AppKey("services", Services)
BOLT = web.AppKey("bolt", object)
SOCKET_HANDLER = web.AppKey("socket_handler", object)
DIGESTS = web.AppKey("digests", object)


def _secrets(settings: Settings) -> list[str]:
    values = (
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.slack_client_secret,
    )
    return [v.get_secret_value() for v in values if v]


def prepare(settings: Settings) -> Services:
    """What every Slack mode does first: logs, the knowledge check, the database schema."""
    from bot.knowledge import load

    logs.configure(settings.log_level, _secrets(settings))
    load()  # a broken knowledge file stops the start, with the validation error
    services = Services(settings)
    services.store.migrate()
    return services


async def healthz(request: web.Request) -> web.Response:
    services: Services = request.app[SERVICES]
    checks: dict[str, bool] = {}
    try:
        await services.store.schema_version()
        checks["database"] = True
    except Exception:  # any failure here means "not healthy", whatever its kind
        log.exception("health check: database unreachable")
        checks["database"] = False
    socket = request.app.get(SOCKET_HANDLER)
    if socket is not None:
        checks["socket"] = bool(await socket.client.is_connected())
    healthy = all(checks.values())
    return web.json_response({"ok": healthy, **checks}, status=200 if healthy else 503)


async def metrics_page(request: web.Request) -> web.Response:
    from bot.metrics import render

    body, content_type = render()
    return web.Response(body=body, headers={"Content-Type": content_type})


@web.middleware
async def time_acks(request: web.Request, handler):
    """Time from a Slack request's arrival to its answer, by kind (command, event, interactive)."""
    if request.path != EVENTS_PATH or request.method != "POST":
        return await handler(request)
    from bot.metrics import ACK_SECONDS

    started = time.perf_counter()
    body = await request.read()  # aiohttp keeps it, so Bolt reads the same bytes
    kind = (
        "event"
        if body[:1] == b"{"
        else "interactive"
        if body.startswith(b"payload=")
        else "command"
    )
    try:
        return await handler(request)
    finally:
        ACK_SECONDS.labels(kind).observe(time.perf_counter() - started)


UPKEEP_EVERY = 24 * 3600.0
EVENT_IDS_KEPT = 24 * 3600.0  # Slack retries within minutes; a day is ample for de-duplication


def keep_tidy(web_app: web.Application, settings: Settings, services: Services) -> None:
    """Daily, from start: forget old Slack event ids, and with SMX_RETENTION_DAYS delete older notes."""
    from bot.store.maintenance import prune_notes

    async def upkeep_forever() -> None:
        while True:
            try:
                forgotten = await services.store.prune_events(EVENT_IDS_KEPT)
                removed = 0
                if settings.retention_days is not None:
                    removed = await asyncio.to_thread(
                        prune_notes, settings.db_path, settings.retention_days
                    )
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
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics_page)
    run_digests(web_app, settings, services)
    keep_tidy(web_app, settings, services)


def run_digests(web_app: web.Application, settings: Settings, services: Services) -> None:
    """Run the digest scheduler for as long as `web_app` runs (`web_app[DIGESTS]` is it)."""
    from bot.digest.scheduler import Scheduler
    from bot.metrics import DIGEST_RUNS
    from bot.slack.digest_post import DigestPoster

    scheduler = Scheduler(
        services.store,
        DigestPoster(settings),
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

    web_app.cleanup_ctx.append(lifetime)


def build_web_app(settings: Settings, services: Services | None = None) -> web.Application:
    """The aiohttp application `smx serve` runs: Slack's endpoints plus /healthz."""
    from bot.slack.app import build_app

    services = services or Services(settings)
    bolt = build_app(settings, services)
    web_app = bolt.web_app(path=EVENTS_PATH)
    web_app.middlewares.append(time_acks)
    web_app[BOLT] = bolt
    add_operations(web_app, settings, services)

    async def finish_replies(_app: web.Application) -> None:
        await _drain(GRACE_SECONDS)

    web_app.on_shutdown.append(finish_replies)
    return web_app


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
    if command == "socket":
        asyncio.run(_socket(settings, services, port or settings.port))
        return 0
    web_app = build_web_app(settings, services)
    bind_port = port or settings.port
    log.info(
        "serving Slack over HTTP",
        extra={"host": host or "0.0.0.0", "port": bind_port, "mode": mode},
    )
    web.run_app(web_app, host=host or "0.0.0.0", port=bind_port, print=None, access_log=None)
    return 0


async def _socket(settings: Settings, services: Services, port: int) -> None:
    """Socket Mode, with /healthz and /metrics on PORT; SIGTERM/SIGINT stop it gracefully."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_sdk.errors import SlackApiError

    from bot.slack.answer import slack_error
    from bot.slack.app import build_app

    app_token = settings.slack_app_token.get_secret_value()
    health = web.Application()
    runner = web.AppRunner(health, access_log=None)
    bolt = build_app(settings, services)
    handler = AsyncSocketModeHandler(bolt, app_token)
    health[SOCKET_HANDLER] = handler
    add_operations(health, settings, services)
    await runner.setup()
    try:
        # Bind first: a busy port is a setting to fix, said in one line, not a traceback.
        try:
            await web.TCPSite(runner, "0.0.0.0", port).start()
        except OSError as err:
            raise ConfigError(
                f"PORT {port} can't be used for /healthz and /metrics: {err.strerror}."
            ) from None
        # A rejected app token would otherwise be retried forever; check it once, up front.
        try:
            await bolt.client.apps_connections_open(app_token=app_token)
        except SlackApiError as err:
            raise ConfigError(
                f"SLACK_APP_TOKEN was refused by Slack ({slack_error(err)})."
            ) from None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        log.info("connecting to Slack in Socket Mode", extra={"health_port": port})
        await handler.connect_async()
        await stop.wait()
        log.info("stopping: closing the socket and finishing work already acknowledged")
        await handler.close_async()
        await _drain(GRACE_SECONDS)
    finally:
        with contextlib.suppress(Exception):  # on a failed start the client's session is still open
            await handler.client.close()
        await runner.cleanup()
        await services.store.close()


GRACE_SECONDS = 10.0


async def _drain(grace: float) -> None:
    """Let replies already acknowledged finish (Slack will not send those requests again)."""
    from bot.slack.inflight import drain

    left = await drain(grace)
    if left:
        log.warning("stopped with replies still running", extra={"abandoned": left})
