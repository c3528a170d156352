"""`smx serve` (HTTP) and `smx socket` (Socket Mode), and the choice `smx run` makes between them.

Both run the digest scheduler (bot/digest/scheduler.py) as a task beside the Slack traffic: it
starts with the server's aiohttp application and is stopped cleanly with it (digests in flight
get a few seconds to finish). Several replicas may run it at once; claims keep each digest single.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

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
    web_app[SERVICES] = services
    web_app[BOLT] = bolt
    web_app.router.add_get("/healthz", healthz)
    run_digests(web_app, settings, services)
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
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.slack.app import build_app

    bolt = build_app(settings, services)
    handler = AsyncSocketModeHandler(bolt, settings.slack_app_token.get_secret_value())
    # /healthz on PORT in Socket Mode too, so one container health check fits both modes.
    health = web.Application()
    health[SERVICES] = services
    health[SOCKET_HANDLER] = handler
    health.router.add_get("/healthz", healthz)
    run_digests(health, settings, services)
    runner = web.AppRunner(health, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", port).start()
    log.info("connecting to Slack in Socket Mode", extra={"health_port": port})
    try:
        await handler.start_async()
    finally:
        await runner.cleanup()
