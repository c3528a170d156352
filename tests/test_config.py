import re

import pytest

from bot.config import load_settings
from bot.errors import ConfigError

SLACK_VARS = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_API_URL",
    "SMX_DB",
    "SMX_DATABASE_URL",
    "SMX_LOG_LEVEL",
    "PORT",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in SLACK_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_nothing_set_means_console():
    settings = load_settings()
    assert settings.mode == "console" and not settings.has_slack
    assert settings.slack_api_url == "https://slack.com/api/"


@pytest.mark.parametrize(
    "env,mode",
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, "http"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, "socket"),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "c", "SLACK_SIGNING_SECRET": "s"},
            "oauth",
        ),
    ],
)
def test_modes(monkeypatch, env, mode):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert load_settings().mode == mode


@pytest.mark.parametrize(
    "env,named",
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxp-1", "SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"}, "SLACK_APP_TOKEN"),
        ({"SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": "s"}, "SLACK_CLIENT_SECRET"),
        ({"SLACK_CLIENT_SECRET": "c", "SLACK_SIGNING_SECRET": "s"}, "SLACK_CLIENT_ID"),
        ({"SLACK_CLIENT_ID": "1", "SLACK_CLIENT_SECRET": "c"}, "SLACK_SIGNING_SECRET"),
        (
            {
                "SLACK_CLIENT_ID": "1",
                "SLACK_CLIENT_SECRET": "c",
                "SLACK_SIGNING_SECRET": "s",
                "SLACK_BOT_TOKEN": "xoxb-1",
            },
            "SLACK_BOT_TOKEN",
        ),
        ({"PORT": "http"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"SMX_LOG_LEVEL": "loud"}, "SMX_LOG_LEVEL"),
        ({"SMX_RETENTION_DAYS": "0"}, "SMX_RETENTION_DAYS"),
        ({"SMX_RETENTION_DAYS": "a year"}, "SMX_RETENTION_DAYS"),
        ({"SLACK_API_URL": "localhost:9"}, "SLACK_API_URL"),
    ],
)
def test_missing_or_contradictory_settings_fail_with_one_line_naming_them(monkeypatch, env, named):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ConfigError) as err:
        load_settings()
    message = str(err.value)
    assert named in message and "\n" not in message


def test_dotenv_is_read(tmp_path):
    (tmp_path / ".env").write_text(
        "SLACK_BOT_TOKEN=xoxb-9\nSLACK_SIGNING_SECRET=sec\nSMX_DB=x.db\n"
    )
    settings = load_settings()
    assert settings.mode == "http" and settings.db_path == "x.db"


def test_secrets_do_not_show_in_repr(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-very-secret")
    text = repr(load_settings()) + str(load_settings().model_dump())
    assert "very-secret" not in text


PASSWORD = "s3cr3t-pa55"
URL = f"postgresql://smx:{PASSWORD}@db.internal:5432/smx"


def test_a_database_url_selects_postgresql_and_smx_db_is_not_used(monkeypatch):
    monkeypatch.setenv("SMX_DATABASE_URL", URL)
    settings = load_settings()
    assert settings.database == URL  # what open_store is handed, password and all
    assert settings.database_setting == "SMX_DATABASE_URL"
    monkeypatch.setenv("SMX_DATABASE_URL", URL.replace("postgresql://", "postgres://"))
    assert load_settings().database.startswith("postgres://smx:")


def test_without_a_database_url_the_sqlite_file_is_the_database(monkeypatch, tmp_path):
    monkeypatch.setenv("SMX_DB", str(tmp_path / "team.db"))
    settings = load_settings()
    assert settings.database == str(tmp_path / "team.db")
    assert settings.database_setting == f"SMX_DB={tmp_path / 'team.db'}"
    monkeypatch.delenv("SMX_DB")
    assert load_settings().database == "smx.db"


def test_setting_both_database_variables_fails_naming_both(monkeypatch):
    monkeypatch.setenv("SMX_DATABASE_URL", URL)
    monkeypatch.setenv("SMX_DB", "smx.db")  # even set to its default value
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert "SMX_DATABASE_URL" in message and re.search(r"\bSMX_DB\b", message)
    assert "\n" not in message and PASSWORD not in message


def test_both_set_in_dotenv_fails_too(tmp_path):
    (tmp_path / ".env").write_text(f"SMX_DATABASE_URL={URL}\nSMX_DB=x.db\n")
    with pytest.raises(ConfigError, match="SMX_DATABASE_URL and SMX_DB are both set"):
        load_settings()


@pytest.mark.parametrize(
    "url,says",
    [
        (f"mysql://smx:{PASSWORD}@db:3306/smx", "not one starting with mysql://"),
        (f"sqlite:///{PASSWORD}.db", "not one starting with sqlite://"),
        (f"smx:{PASSWORD}@db:5432/smx", "not something without a scheme"),
        (f"postgresql://smx:{PASSWORD}@db:port/smx", "not a URL smx can read"),
        ("", "SMX_DATABASE_URL is empty"),
    ],
)
def test_a_database_url_that_is_not_postgresql_says_what_to_type(monkeypatch, url, says):
    monkeypatch.setenv("SMX_DATABASE_URL", url)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert says in message
    assert "postgresql://USER:PASSWORD@HOST:5432/DATABASE" in message
    assert PASSWORD not in message and "\n" not in message


def test_the_database_password_never_shows_in_repr_str_or_dump(monkeypatch):
    monkeypatch.setenv("SMX_DATABASE_URL", URL)
    settings = load_settings()
    from bot.context import Services

    shown = " ".join(
        [
            repr(settings),
            str(settings),
            str(settings.model_dump()),
            settings.model_dump_json(),
            repr(Services(settings)),
            settings.database_setting,
        ]
    )
    assert PASSWORD not in shown and "db.internal" not in shown
    assert settings.database_url is not None and PASSWORD in settings.database  # still usable


@pytest.mark.parametrize(
    "scheme", ["postgresql", "postgres", "POSTGRESQL", "Postgres", "PostgreSQL", "mysql", "pg"]
)
def test_the_settings_and_the_store_agree_on_which_schemes_are_postgresql(monkeypatch, scheme):
    """bot/config.py once accepted POSTGRESQL:// (it lowercases the scheme) and the store then
    refused it: either both take a URL or both say what to type."""
    from bot.store import StoreError, is_postgres
    from bot.store.postgres import Location

    url = f"{scheme}://smx:{PASSWORD}@db:5432/smx"
    monkeypatch.setenv("SMX_DATABASE_URL", url)
    try:
        load_settings()
        config_accepts = True
    except ConfigError:
        config_accepts = False
    try:
        location = Location(url)
        store_accepts = True
    except StoreError:
        store_accepts = False
    expected = scheme.lower() in ("postgresql", "postgres")
    assert config_accepts == store_accepts == is_postgres(url) == expected
    if store_accepts:
        assert location.url == f"{scheme.lower()}://smx:{PASSWORD}@db:5432/smx"
