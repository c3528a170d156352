import re

import pytest

from bot.config import Settings, load_settings
from bot.errors import ConfigError

# Every setting by the variable it is read from, the field it lands in, a value typed in the
# environment and what the field then holds. A variable renamed or dropped fails here.
EVERY_SETTING = (
    ("SLACK_BOT_TOKEN", "slack_bot_token", "xoxb-1", "xoxb-1"),
    ("SLACK_SIGNING_SECRET", "slack_signing_secret", "s", "s"),
    ("SLACK_APP_TOKEN", "slack_app_token", "xapp-1", "xapp-1"),
    ("SLACK_CLIENT_ID", "slack_client_id", "1.2", "1.2"),
    ("SLACK_CLIENT_SECRET", "slack_client_secret", "c", "c"),
    ("SLACK_API_URL", "slack_api_url", "http://127.0.0.1:9/api/", "http://127.0.0.1:9/api/"),
    ("SMX_DB", "db_path", "team.db", "team.db"),
    ("SMX_DATABASE_URL", "database_url", "postgresql://h/d", "postgresql://h/d"),
    ("SMX_LOG_LEVEL", "log_level", "debug", "debug"),
    ("PORT", "port", " 4000 ", 4000),
    ("SMX_RETENTION_DAYS", "retention_days", "30", 30),
    ("SMX_REQUEST_TIMEOUT", "request_timeout", "2.5", 2.5),
    ("SMX_KEEPALIVE_TIMEOUT", "keepalive_timeout", "90", 90.0),
    ("SMX_MAX_CONNECTIONS", "max_connections", "64", 64),
    ("SMX_CHARTS", "charts", "false", False),
)
SECRETS = {
    "slack_bot_token",
    "slack_signing_secret",
    "slack_app_token",
    "slack_client_secret",
    "database_url",
}
SLACK_VARS = tuple(name for name, *_ in EVERY_SETTING)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in SLACK_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)  # names are matched in any case
    monkeypatch.chdir(tmp_path)  # no stray .env


def _shown(settings: Settings, field: str) -> object:
    value = getattr(settings, field)
    return value.get_secret_value() if field in SECRETS else value


def test_the_settings_are_exactly_these_variables():
    assert {f.alias for f in Settings.model_fields.values()} == set(SLACK_VARS)


@pytest.mark.parametrize("name,field,typed,held", EVERY_SETTING)
def test_every_setting_is_read_from_its_variable_and_from_dotenv(
    monkeypatch, tmp_path, name, field, typed, held
):
    default = getattr(Settings(_env_file=None), field)  # type: ignore[call-arg]
    monkeypatch.setenv(name, typed)
    settings = Settings()
    assert _shown(settings, field) == held and type(_shown(settings, field)) is type(held)
    assert settings.model_fields_set == {field}  # what check() uses to see SMX_DB was set
    monkeypatch.delenv(name)
    (tmp_path / ".env").write_text(f"{name}={typed!r}\n")  # quoted, as python-dotenv reads it
    assert _shown(Settings(), field) == held
    assert getattr(Settings(_env_file=None), field) == default  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "name,bad,sentence",
    [
        ("PORT", "http", "Input should be a valid integer, unable to parse string as an integer"),
        ("PORT", "", "Input should be a valid integer, unable to parse string as an integer"),
        ("PORT", "3000.5", "Input should be a valid integer, unable to parse string as an integer"),
        ("SMX_RETENTION_DAYS", "a year", "Input should be a valid integer, unable to parse string as an integer"),
        ("SMX_RETENTION_DAYS", "None", "Input should be a valid integer, unable to parse string as an integer"),
        ("SMX_MAX_CONNECTIONS", "many", "Input should be a valid integer, unable to parse string as an integer"),
        ("SMX_REQUEST_TIMEOUT", "soon", "Input should be a valid number, unable to parse string as a number"),
        ("SMX_KEEPALIVE_TIMEOUT", "", "Input should be a valid number, unable to parse string as a number"),
    ],
)  # fmt: skip
def test_a_value_of_the_wrong_type_gives_one_sentence_naming_the_variable(
    monkeypatch, tmp_path, name, bad, sentence
):
    monkeypatch.setenv(name, bad)
    with pytest.raises(ConfigError) as from_env:
        load_settings()
    assert str(from_env.value) == f"{name} is not valid: {sentence}."
    monkeypatch.delenv(name)
    (tmp_path / ".env").write_text(f"{name}={bad}\n")
    with pytest.raises(ConfigError) as from_dotenv:
        load_settings()
    assert str(from_dotenv.value) == str(from_env.value)


def test_variable_names_are_matched_in_any_case(monkeypatch, tmp_path):
    monkeypatch.setenv("smx_db", "lower.db")
    monkeypatch.setenv("Port", "4000")
    (tmp_path / ".env").write_text("smx_log_level=debug\n")
    settings = load_settings()
    assert (settings.db_path, settings.port, settings.log_level) == ("lower.db", 4000, "debug")


def test_arguments_beat_the_environment_which_beats_dotenv(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text("SMX_DB=dot.db\nPORT=4001\nSMX_LOG_LEVEL=debug\n")
    monkeypatch.setenv("SMX_DB", "env.db")
    monkeypatch.setenv("PORT", "4002")
    settings = Settings(SMX_DB="arg.db")
    assert (settings.db_path, settings.port, settings.log_level) == ("arg.db", 4002, "debug")
    # a field's own name works as an argument too, and still beats the environment
    assert Settings(db_path="arg.db", port=5).db_path == "arg.db"
    assert Settings(db_path="arg.db", port=5).port == 5
    assert Settings(SLACK_BOT_TOKEN=None, smx_db="x.db").slack_bot_token is None
    unset = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (unset.db_path, unset.log_level) == ("env.db", "INFO")


def test_dotenv_is_read_as_python_dotenv_reads_it(monkeypatch, tmp_path):
    monkeypatch.setenv("SMX_SUFFIX", "db")
    (tmp_path / ".env").write_text(
        "# a comment\n"
        "export SMX_DB='quoted ${SMX_SUFFIX}.db'  # a comment after it\n"
        'PORT="4001"\n'
        "SMX_LOG_LEVEL\n"  # a name without a value sets nothing
        "SOMETHING_ELSE=ignored\n"
        "SMX_MAX_CONNECTIONS=5\nSMX_MAX_CONNECTIONS=6\n"  # the last one wins
    )
    settings = load_settings()
    assert settings.db_path == "quoted db.db"
    assert (settings.port, settings.log_level, settings.max_connections) == (4001, "INFO", 6)
    assert settings.model_fields_set == {"db_path", "port", "max_connections"}


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
