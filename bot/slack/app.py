"""Build the Bolt AsyncApp from the settings: one workspace, Socket Mode, or OAuth for many."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot import telemetry
from bot.config import Settings
from bot.context import Services

log = logging.getLogger("smx.slack")

# The bot scopes the listeners need; manifest.yml lists the same (a test keeps them in step).
BOT_SCOPES = (
    "app_mentions:read",
    "channels:read",
    "chat:write",
    "commands",
    "files:read",
    "files:write",
    "groups:read",
    "im:history",
    "im:read",
    "im:write",
    "mpim:read",
    "users:read",
)


class _Counted:
    """Counts each failed attempt the retry handler sees (429, 5xx, connection errors) in /metrics."""

    async def _can_retry_async(self, *, state, request, response=None, error=None) -> bool:
        retry = await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )
        if retry:
            code = f"http_{response.status_code}" if response is not None else type(error).__name__
            telemetry.SLACK_API_ERRORS.labels(request.url.rsplit("/", 1)[-1], code).inc()
        return retry


class CountedConnectionErrorRetryHandler(_Counted, AsyncConnectionErrorRetryHandler):
    pass


class CountedRateLimitErrorRetryHandler(_Counted, AsyncRateLimitErrorRetryHandler):
    pass


class CountedServerErrorRetryHandler(_Counted, AsyncServerErrorRetryHandler):
    pass


def web_client(settings: Settings, token: str | None = None) -> AsyncWebClient:
    """The one configured client; Bolt copies its base URL and retry handlers into every request."""
    base_url = (
        settings.slack_api_url
        if settings.slack_api_url.endswith("/")
        else settings.slack_api_url + "/"
    )
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=10,
        retry_handlers=[
            CountedConnectionErrorRetryHandler(max_retry_count=2),
            CountedRateLimitErrorRetryHandler(max_retry_count=3),
            CountedServerErrorRetryHandler(max_retry_count=2),
        ],
    )


class _QuietTokenNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment by itself and then warns that the client we
    give it (which carries that same token) wins. That is the intended set-up, not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_bolt_log = logging.getLogger("smx.bolt")
_bolt_log.addFilter(_QuietTokenNotice())


def _secret(value) -> str | None:
    return value.get_secret_value() if value else None


def build_app(settings: Settings, services: Services | None = None) -> AsyncApp:
    from bot.slack.listeners import register_all

    services = services or Services(settings)
    common = {
        "signing_secret": _secret(settings.slack_signing_secret) or "",
        # Answers leave as soon as they are ready instead of after Bolt's 10 ms ack poll;
        # anything slow runs in lazy listeners after the answer (reference/slack.md, Latency).
        "process_before_response": True,
        # Over HTTP the gate (bot/slack/guard.py) has verified every request over its raw bytes
        # before Bolt sees it, and hands Bolt a body it may have re-spelled (see read_body), so
        # Bolt's own check is off. Socket Mode has none (the socket is authenticated instead).
        "request_verification_enabled": False,
        "logger": _bolt_log,
    }
    if settings.mode == "oauth":
        from bot.slack.installations import StoreInstallationStore, StoreOAuthStateStore

        installations = StoreInstallationStore(services.store)
        app = AsyncApp(
            client=web_client(settings),
            installation_store=installations,
            oauth_settings=AsyncOAuthSettings(
                client_id=settings.slack_client_id,
                client_secret=_secret(settings.slack_client_secret),
                scopes=list(BOT_SCOPES),
                installation_store=installations,
                state_store=StoreOAuthStateStore(services.store, expiration_seconds=600),
                install_path="/slack/install",
                redirect_uri_path="/slack/oauth_redirect",
            ),
            **common,
        )
        # app_uninstalled and tokens_revoked delete what the store holds for the team
        # (bot/slack/listeners/events.py; Bolt's built-in ones miss org-wide installs).
    else:
        app = AsyncApp(client=web_client(settings, _secret(settings.slack_bot_token)), **common)
    register_all(app, services)
    return app
