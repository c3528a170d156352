"""Settings from the environment and `.env`; a bad combination fails at start with one line.

The fields are a pydantic model, which checks each value's type; reading them from the
environment and `.env` is done here rather than by pydantic-settings, whose import alone took
more than a cold `smx ask help` should (about 50 ms of it, asyncio included). The rules are the
ones pydantic-settings applied: a setting's name is its alias, matched without regard to case;
keyword arguments beat the environment, which beats `.env` (read with python-dotenv, and only
when the file exists); `_env_file=None` reads no file; names that are not settings are ignored.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from bot.errors import ConfigError
from bot.quick import db_file_problem

Mode = Literal["console", "socket", "http", "oauth"]

DEFAULT_API_URL = "https://slack.com/api/"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
ENV_FILE = ".env"
EnvFile = str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_client_id: str | None = Field(default=None, alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(default=None, alias="SLACK_CLIENT_SECRET")
    slack_api_url: str = Field(default=DEFAULT_API_URL, alias="SLACK_API_URL")
    db_path: str = Field(default="smx.db", alias="SMX_DB")
    # PostgreSQL instead of the SQLite file (several replicas on one database). Secret: it
    # usually holds a password, which no message, repr or log may show.
    database_url: SecretStr | None = Field(default=None, alias="SMX_DATABASE_URL")
    log_level: str = Field(default="INFO", alias="SMX_LOG_LEVEL")
    port: int = Field(default=3000, alias="PORT")
    # Notes older than this many days are deleted (daily, by the running bot); unset keeps them all.
    retention_days: int | None = Field(default=None, alias="SMX_RETENTION_DAYS")
    # The HTTP server's connection hygiene (bot/slack/guard.py): a client has this many seconds
    # from a request's first byte to its whole body (Slack sends within milliseconds and gives
    # up at 3 s), an idle keep-alive connection is closed after SMX_KEEPALIVE_TIMEOUT (longer
    # than a load balancer's usual 60 s idle timeout, so the balancer closes first), and at most
    # SMX_MAX_CONNECTIONS are open at once (fewer if the open-file limit is lower).
    request_timeout: float = Field(default=5.0, alias="SMX_REQUEST_TIMEOUT")
    keepalive_timeout: float = Field(default=75.0, alias="SMX_KEEPALIVE_TIMEOUT")
    max_connections: int = Field(default=1000, alias="SMX_MAX_CONNECTIONS")
    # Charts with answers and digests in Slack (issue 16); off: text only, nothing drawn.
    charts: bool = Field(default=True, alias="SMX_CHARTS")

    def __init__(self, _env_file: EnvFile = ENV_FILE, **values: Any) -> None:
        super().__init__(**_gather(_env_file, values))

    @property
    def mode(self) -> Mode:
        """Which face `smx run` starts, after `check()` has passed."""
        if self.slack_client_id:
            return "oauth"
        if self.slack_app_token:
            return "socket"
        if self.slack_bot_token:
            return "http"
        return "console"

    @property
    def has_slack(self) -> bool:
        return self.mode != "console"

    @property
    def database(self) -> str:
        """What `bot.store.open_store` opens: SMX_DATABASE_URL (password included: hand it to
        the store only, never show it) when set, else the SQLite file SMX_DB."""
        url = _value(self.database_url)
        return url or self.db_path

    @property
    def database_setting(self) -> str:
        """The setting that names the database, for messages: never the URL itself."""
        return "SMX_DATABASE_URL" if _value(self.database_url) else f"SMX_DB={self.db_path}"

    def check(self) -> Settings:
        """Raise ConfigError naming the first missing or contradictory setting."""
        bot = _value(self.slack_bot_token)
        app = _value(self.slack_app_token)
        secret = _value(self.slack_signing_secret)
        client_secret = _value(self.slack_client_secret)
        if self.log_level.upper() not in LOG_LEVELS:
            raise ConfigError(
                f"SMX_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {self.log_level!r}."
            )
        if not self.slack_api_url.startswith(("http://", "https://")):
            raise ConfigError(f"SLACK_API_URL must be an http(s) URL, not {self.slack_api_url!r}.")
        if not 0 < self.port < 65536:
            raise ConfigError(f"PORT must be between 1 and 65535, not {self.port}.")
        if self.retention_days is not None and self.retention_days < 1:
            raise ConfigError(
                f"SMX_RETENTION_DAYS must be a number of days of at least 1, not {self.retention_days}."
            )
        if not 0 < self.request_timeout <= 60:
            raise ConfigError(
                f"SMX_REQUEST_TIMEOUT must be a number of seconds above 0 and at most 60, "
                f"not {self.request_timeout:g}."
            )
        if not 0 < self.keepalive_timeout <= 3600:
            raise ConfigError(
                f"SMX_KEEPALIVE_TIMEOUT must be a number of seconds above 0 and at most 3600, "
                f"not {self.keepalive_timeout:g}."
            )
        if not 1 <= self.max_connections <= 1_000_000:
            raise ConfigError(
                f"SMX_MAX_CONNECTIONS must be between 1 and 1000000, not {self.max_connections}."
            )
        if self.database_url is not None:
            _check_database_url(_value(self.database_url))
            if "db_path" in self.model_fields_set:
                raise ConfigError(
                    "SMX_DATABASE_URL and SMX_DB are both set: SMX_DATABASE_URL selects "
                    "PostgreSQL and SMX_DB the SQLite file; unset one of them."
                )
        elif not self.db_path.strip():
            raise ConfigError("SMX_DB must name a file (or :memory:), not be empty.")
        elif self.db_path != ":memory:":
            # The same check as the quick start's before it prints a kept answer (bot/quick.py).
            problem = db_file_problem(self.db_path)
            if problem is not None:
                raise ConfigError(problem)
        if bot and not bot.startswith("xoxb-"):
            raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-.")
        if app and not app.startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-.")
        if self.slack_client_id or client_secret:
            if not (self.slack_client_id and client_secret):
                missing = "SLACK_CLIENT_SECRET" if self.slack_client_id else "SLACK_CLIENT_ID"
                raise ConfigError(
                    f"{missing} is missing: OAuth needs both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET."
                )
            if bot:
                raise ConfigError(
                    "SLACK_BOT_TOKEN contradicts SLACK_CLIENT_ID: with OAuth each workspace's token "
                    "comes from its install; unset one of them."
                )
            if app:
                raise ConfigError(
                    "SLACK_APP_TOKEN contradicts SLACK_CLIENT_ID: this app serves OAuth installs over "
                    "HTTP only; unset one of them."
                )
            if not secret:
                raise ConfigError(
                    "SLACK_SIGNING_SECRET is missing: OAuth (HTTP) mode needs it to verify requests."
                )
        elif app and not bot:
            raise ConfigError(
                "SLACK_BOT_TOKEN is missing: Socket Mode needs it beside SLACK_APP_TOKEN."
            )
        elif bot and not app and not secret:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is missing: HTTP mode needs it to verify requests from Slack."
            )
        elif secret and not bot:
            raise ConfigError(
                "SLACK_BOT_TOKEN is missing: SLACK_SIGNING_SECRET is set but no token goes with it."
            )
        return self


DATABASE_URL_EXAMPLE = "postgresql://USER:PASSWORD@HOST:5432/DATABASE"


def _check_database_url(url: str) -> None:
    """A PostgreSQL URL, or a ConfigError that says what to type. Only the part before `://`
    of what was typed is ever repeated: the rest may hold a password."""
    from urllib.parse import urlsplit

    if not url:
        raise ConfigError(
            f"SMX_DATABASE_URL is empty: set it to a URL like {DATABASE_URL_EXAMPLE}, "
            "or unset it to use the SQLite file SMX_DB."
        )
    scheme, sep, _ = url.partition("://")
    if not sep or scheme.lower() not in ("postgresql", "postgres"):
        shown = f"one starting with {scheme[:20]}://" if sep else "something without a scheme"
        raise ConfigError(
            f"SMX_DATABASE_URL must be a PostgreSQL URL like {DATABASE_URL_EXAMPLE} "
            f"(postgresql:// or postgres://), not {shown}."
        )
    try:
        urlsplit(url).port  # noqa: B018 -- a port that is not a number raises here
    except ValueError:
        raise ConfigError(
            f"SMX_DATABASE_URL is not a URL smx can read: write it like {DATABASE_URL_EXAMPLE}."
        ) from None


def _gather(env_file: EnvFile, values: dict[str, Any]) -> dict[str, Any]:
    """What the model validates: each setting found in `.env`, then the environment, then the
    keyword arguments, a later source replacing an earlier one; keyed by the setting's name
    (its alias), or by the field's name when a keyword argument used that."""
    data = _pick(_read_env_files(env_file))
    data.update(_pick(os.environ))
    for key, value in values.items():
        name = key if key in _ALIAS else _FIELD_OF.get(key.lower())
        if name is None:
            data[key] = value  # not a setting: the model ignores it, as before
            continue
        alias = _ALIAS[name]
        data.pop(alias, None)
        data.pop(name, None)
        # pydantic names a bad value by the key it came under: the field's own name typed
        # exactly (`port=`) stays, any other spelling of the setting becomes its alias; so
        # the messages read as they did with pydantic-settings.
        by_name = key == name or key.lower() != alias.lower()
        data[name if by_name else alias] = value
    return data


def _pick(source: Mapping[str, str | None]) -> dict[str, str]:
    """The settings in `source`, whatever the case of their names (the last spelling wins);
    a name without a value (a bare `SMX_DB` line in `.env`) is not set."""
    lowered = {key.lower(): value for key, value in source.items()}
    found = {}
    for alias in _ALIAS.values():
        value = lowered.get(alias.lower())
        if value is not None:
            found[alias] = value
    return found


def _read_env_files(env_file: EnvFile) -> dict[str, str | None]:
    if env_file is None:
        return {}
    files = [env_file] if isinstance(env_file, str | os.PathLike) else list(env_file)
    found: dict[str, str | None] = {}
    for file in files:
        path = Path(file).expanduser()
        if path.is_file() or path.is_fifo():
            from dotenv import dotenv_values  # only when there is a file to read

            found.update(dotenv_values(path, encoding="utf-8"))
    return found


_ALIAS: dict[str, str] = {
    name: field.alias or name for name, field in Settings.model_fields.items()
}
# A keyword argument may name a setting by its alias or its field name, in any case.
_FIELD_OF: dict[str, str] = {
    **{name.lower(): name for name in _ALIAS},
    **{alias.lower(): name for name, alias in _ALIAS.items()},
}


def _value(secret: SecretStr | None) -> str:
    return secret.get_secret_value().strip() if secret else ""


def load_settings(**overrides: object) -> Settings:
    """Read and check the settings; every problem becomes a one-line ConfigError."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        first = err.errors()[0]
        name = str(first["loc"][0]) if first.get("loc") else "a setting"
        raise ConfigError(f"{name} is not valid: {first['msg']}.") from None
    return settings.check()
