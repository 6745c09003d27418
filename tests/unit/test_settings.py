"""Configuration: read from the environment and `.env`, checked as a whole; production refuses
to start with missing or weak secrets and names every problem at once."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from core.settings import MIN_SECRET_BYTES, ConfigurationError, Settings, load_settings

POSTGRES_URL = "postgres://agora:secret@db.internal:5432/agora"
STRONG_JWT_SECRET = "j" * MIN_SECRET_BYTES
STRONG_REFRESH_SECRET = "r" * MIN_SECRET_BYTES
STRONG_METRICS_TOKEN = "m" * MIN_SECRET_BYTES
SETTING_NAMES = frozenset(Settings.model_fields)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting leaks in from the developer's shell or a `.env` in the working directory."""
    for name in list(os.environ):
        if name.lower() in SETTING_NAMES:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def production(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "_env_file": None,
        "app_env": "production",
        "database_url": POSTGRES_URL,
        "jwt_secret": STRONG_JWT_SECRET,
        "refresh_token_secret": STRONG_REFRESH_SECRET,
        "metrics_token": STRONG_METRICS_TOKEN,
        "cors_allowed_origins": ["https://app.example.com"],
        "smtp_host": "smtp.example.com",
    }
    values.update(overrides)
    return values


def refusal(**overrides: Any) -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(**overrides)
    return caught.value.problems


def test_development_defaults_load_without_any_configuration() -> None:
    settings = load_settings(_env_file=None)

    assert settings.app_env == "development"
    assert settings.is_sqlite
    assert settings.redis_url is None
    assert settings.introspection_enabled
    assert settings.graphiql_enabled


def test_valid_production_settings_load() -> None:
    settings = load_settings(**production())

    assert settings.is_production
    assert not settings.is_sqlite
    assert not settings.introspection_enabled
    assert not settings.graphiql_enabled
    assert settings.jwt_signing_secret == STRONG_JWT_SECRET


def test_production_without_secrets_names_every_missing_secret_at_once() -> None:
    problems = refusal(**production(jwt_secret=None, refresh_token_secret=None, metrics_token=None))

    assert problems == [
        "JWT_SECRET is required in production",
        "REFRESH_TOKEN_SECRET is required in production",
        "METRICS_TOKEN is required in production",
    ]


def test_the_error_message_lists_every_problem() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(_env_file=None, app_env="production")

    message = str(caught.value)
    for name in ("JWT_SECRET", "REFRESH_TOKEN_SECRET", "METRICS_TOKEN", "DATABASE_URL"):
        assert name in message


@pytest.mark.parametrize("field", ["jwt_secret", "refresh_token_secret", "metrics_token"])
def test_a_secret_shorter_than_32_bytes_is_rejected_in_production(field: str) -> None:
    problems = refusal(**production(**{field: "x" * (MIN_SECRET_BYTES - 1)}))

    assert problems == [f"{field.upper()} is too weak: it must be at least 32 bytes"]


def test_secret_strength_is_measured_in_bytes_not_characters() -> None:
    sixteen_two_byte_characters = "é" * 16

    settings = load_settings(**production(jwt_secret=sixteen_two_byte_characters))

    assert settings.jwt_secret == sixteen_two_byte_characters


def test_production_refuses_the_same_secret_for_access_and_refresh_tokens() -> None:
    problems = refusal(**production(refresh_token_secret=STRONG_JWT_SECRET))

    assert problems == ["JWT_SECRET and REFRESH_TOKEN_SECRET must differ"]


def test_production_refuses_sqlite() -> None:
    problems = refusal(**production(database_url="sqlite://./data/agora.sqlite3"))

    assert problems == ["DATABASE_URL must point at PostgreSQL in production, not SQLite"]


def test_production_refuses_a_wildcard_cors_origin() -> None:
    problems = refusal(**production(cors_allowed_origins=["*"]))

    assert problems == ["CORS_ALLOWED_ORIGINS must list origins, not '*', in production"]


def test_secrets_are_optional_outside_production() -> None:
    settings = load_settings(_env_file=None, app_env="test", jwt_secret="short")

    assert settings.jwt_secret == "short"


def test_cors_origins_are_read_from_a_comma_separated_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", " https://a.example.com, https://b.example.com ,")

    settings = load_settings(_env_file=None)

    assert settings.cors_allowed_origins == ["https://a.example.com", "https://b.example.com"]


def test_a_query_cost_limit_above_the_bucket_capacity_is_rejected() -> None:
    problems = refusal(_env_file=None, query_max_cost=3000, rate_limit_capacity=2000)

    assert len(problems) == 1
    assert problems[0].startswith("QUERY_MAX_COST must not exceed RATE_LIMIT_CAPACITY")


def test_an_unparsable_number_in_the_environment_is_reported_by_setting_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUERY_MAX_DEPTH", "abc")

    problems = refusal(_env_file=None)

    assert len(problems) == 1
    assert problems[0].startswith("QUERY_MAX_DEPTH: ")


def test_every_invalid_value_is_reported_not_only_the_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUERY_MAX_DEPTH", "abc")
    monkeypatch.setenv("LOG_LEVEL", "loud")
    monkeypatch.setenv("DB_POOL_MAX", "0")

    problems = refusal(_env_file=None)

    assert sorted(problem.split(":", 1)[0] for problem in problems) == [
        "DB_POOL_MAX",
        "LOG_LEVEL",
        "QUERY_MAX_DEPTH",
    ]


def test_a_malformed_value_is_reported_with_every_rule_the_others_break(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUERY_MAX_COST", "abc")
    monkeypatch.setenv("DB_POOL_MIN", "5")
    monkeypatch.setenv("DB_POOL_MAX", "2")

    problems = refusal(**production(jwt_secret=None))

    assert [problem.split(":", 1)[0] for problem in problems] == [
        "QUERY_MAX_COST",
        "DB_POOL_MIN must not be greater than DB_POOL_MAX",
        "JWT_SECRET is required in production",
    ]


def test_a_rule_about_a_malformed_value_is_not_judged_on_its_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """QUERY_MAX_COST's default (1000) exceeds this capacity; the operator's value is unknown."""
    monkeypatch.setenv("QUERY_MAX_COST", "abc")
    monkeypatch.setenv("RATE_LIMIT_CAPACITY", "500")

    [problem] = refusal(_env_file=None)

    assert problem.startswith("QUERY_MAX_COST: ")


def test_logs_are_console_lines_by_default_in_development() -> None:
    assert load_settings(_env_file=None).log_format == "console"


@pytest.mark.parametrize("app_env", ["test", "production"])
def test_logs_are_json_by_default_outside_development(app_env: str) -> None:
    overrides = production() if app_env == "production" else {"_env_file": None}

    assert load_settings(**{**overrides, "app_env": app_env}).log_format == "json"


def test_an_explicit_log_format_wins_over_the_environment_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "json")

    assert load_settings(_env_file=None).log_format == "json"


@pytest.mark.parametrize("seconds", ["0", "-1", "61", "soon"])
def test_the_database_connect_timeout_is_positive_and_at_most_a_minute(
    monkeypatch: pytest.MonkeyPatch, seconds: str
) -> None:
    monkeypatch.setenv("DB_CONNECT_TIMEOUT_SECONDS", seconds)

    problems = refusal(_env_file=None)

    assert [problem.split(":", 1)[0] for problem in problems] == ["DB_CONNECT_TIMEOUT_SECONDS"]


def test_settings_are_read_from_a_dotenv_file_in_the_working_directory() -> None:
    Path(".env").write_text("APP_ENV=test\nQUERY_MAX_DEPTH=7\n", encoding="utf-8")

    settings = load_settings()

    assert settings.app_env == "test"
    assert settings.query_max_depth == 7


def test_the_environment_overrides_the_dotenv_file(monkeypatch: pytest.MonkeyPatch) -> None:
    Path(".env").write_text("QUERY_MAX_DEPTH=7\n", encoding="utf-8")
    monkeypatch.setenv("QUERY_MAX_DEPTH", "12")

    assert load_settings().query_max_depth == 12


def test_production_requires_an_smtp_server() -> None:
    """Without SMTP the outbox would write account links into production logs."""
    problems = refusal(**production(smtp_host=None))

    assert problems == ["SMTP_HOST is required in production (the outbox logs account links)"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PASSWORD_HASH_CONCURRENCY", "0"),
        ("PASSWORD_HASH_QUEUE", "-1"),
        ("RATE_LIMIT_OUTAGE_FRACTION", "1.5"),
        ("RATE_LIMIT_OUTAGE_FRACTION", "-0.1"),
        ("RATE_LIMIT_FAIL_CLOSED", "perhaps"),
        ("LOG_REPEAT_INTERVAL_SECONDS", "-1"),
    ],
)
def test_out_of_range_hashing_outage_and_log_settings_are_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)

    [problem] = refusal(_env_file=None)

    assert problem.startswith(f"{name}: ")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("S3_CONNECT_TIMEOUT_SECONDS", "0"),
        ("S3_CONNECT_TIMEOUT_SECONDS", "61"),
        ("S3_READ_TIMEOUT_SECONDS", "-1"),
        ("S3_READ_TIMEOUT_SECONDS", "301"),
        ("S3_MAX_ATTEMPTS", "0"),
        ("S3_MAX_ATTEMPTS", "11"),
        ("FCM_TIMEOUT_SECONDS", "0"),
        ("FCM_TIMEOUT_SECONDS", "121"),
    ],
)
def test_unbounded_or_zero_dependency_timeouts_are_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)

    [problem] = refusal(_env_file=None)

    assert problem.startswith(f"{name}: ")


@pytest.mark.parametrize("value", ["0", "-5", "many"])
def test_a_field_repeat_limit_that_is_not_a_positive_integer_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("QUERY_MAX_FIELD_REPEATS", value)

    [problem] = refusal(_env_file=None)

    assert problem.startswith("QUERY_MAX_FIELD_REPEATS: ")


def test_library_shortcuts_are_on_unless_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIBRARY_SHORTCUTS", raising=False)
    assert Settings(_env_file=None).library_shortcuts is True

    monkeypatch.setenv("LIBRARY_SHORTCUTS", "false")
    assert Settings(_env_file=None).library_shortcuts is False


def test_a_library_shortcuts_value_that_is_not_a_boolean_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIBRARY_SHORTCUTS", "sometimes")

    problems = refusal(_env_file=None)

    assert len(problems) == 1
    assert problems[0].startswith("LIBRARY_SHORTCUTS: ")


def test_trusted_documents_need_a_manifest_file_that_exists(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as missing:
        load_settings(_env_file=None, trusted_documents_mode="audit")
    with pytest.raises(ConfigurationError) as absent:
        load_settings(
            _env_file=None,
            trusted_documents_mode="allow-list",
            trusted_documents_manifest=str(tmp_path / "nowhere.json"),
        )

    assert missing.value.problems == [
        "TRUSTED_DOCUMENTS_MODE=audit needs TRUSTED_DOCUMENTS_MANIFEST "
        "(the JSON file of hash → document)"
    ]
    assert absent.value.problems == [
        f"TRUSTED_DOCUMENTS_MANIFEST: no such file: {tmp_path / 'nowhere.json'}"
    ]


def test_an_unknown_trusted_documents_mode_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as refused:
        load_settings(_env_file=None, trusted_documents_mode="strict")

    assert refused.value.problems[0].startswith("TRUSTED_DOCUMENTS_MODE: Input should be")
