"""Validated configuration: one settings object read from the environment and `.env`."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_SECRET_BYTES = 32
DEV_JWT_SECRET = "development-only-jwt-secret-do-not-use-in-production"  # noqa: S105
DEV_REFRESH_SECRET = "development-only-refresh-secret-do-not-use-in-prod"  # noqa: S105
# RFC 9110 token characters.
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
DEFAULT_CORS_ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept",
    "X-Request-ID",
    # Apollo's CSRF-prevention headers and its client awareness (Apollo Client, iOS, Kotlin).
    "Apollo-Require-Preflight",
    "X-Apollo-Operation-Name",
    "Apollographql-Client-Name",
    "Apollographql-Client-Version",
    # W3C trace context and baggage (OpenTelemetry instrumented browsers).
    "Traceparent",
    "Tracestate",
    "Baggage",
    # A client revalidating a cached GET query itself (server/http_cache.py).
    "If-None-Match",
)


class ConfigurationError(Exception):
    """Settings that cannot run; ``problems`` names every one of them."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "Invalid configuration:\n" + "\n".join(f"  - {problem}" for problem in problems)
        )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    app_env: Literal["development", "test", "production"] = "development"
    app_url: str = "http://127.0.0.1:8000"

    database_url: str = "sqlite://./data/agora.sqlite3"
    db_pool_min: int = Field(default=1, ge=1)
    db_pool_max: int = Field(default=10, ge=1)
    db_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    redis_url: str | None = None
    # Bounds of the Redis connection pools of each process: the shared client (cost bucket,
    # publishing, APQ, response cache) and the model cache's; the pub/sub subscriber is one
    # dedicated connection. A caller finding its pool busy waits up to
    # REDIS_POOL_WAIT_SECONDS for a connection, then fails like any Redis fault (a cache
    # miss, the bucket's outage policy, a publish to this process only).
    redis_pool_max_connections: int = Field(default=32, ge=1, le=10_000)
    redis_cache_pool_max_connections: int = Field(default=32, ge=1, le=10_000)
    redis_pool_wait_seconds: float = Field(default=0.5, gt=0, le=30)

    jwt_secret: str | None = None
    refresh_token_secret: str | None = None
    # Rotation: keys replaced by JWT_SECRET / REFRESH_TOKEN_SECRET, still accepted (never used
    # to sign or hash anew) until what they signed has expired (docs/RUNBOOK.md).
    jwt_previous_secrets: Annotated[list[str], NoDecode] = Field(default_factory=list)
    refresh_token_previous_secrets: Annotated[list[str], NoDecode] = Field(default_factory=list)

    jwt_issuer: str = "agora"
    jwt_audience: str = "agora-api"
    access_token_ttl_seconds: int = Field(default=900, ge=60)
    refresh_token_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=300)
    refresh_cookie_name: str = "agora_refresh"
    email_verification_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    password_reset_ttl_seconds: int = Field(default=3600, ge=60)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_cost_kib: int = Field(default=65536, ge=1024)
    argon2_parallelism: int = Field(default=4, ge=1)
    # Concurrent argon2 hashes per process (each a CPU-bound hash in a worker thread), and
    # how many more may wait for one; past that, RATE_LIMITED.
    password_hash_concurrency: int = Field(default=2, ge=1, le=64)
    password_hash_queue: int = Field(default=8, ge=0, le=10_000)
    login_max_failures: int = Field(default=5, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    account_email_max_requests: int = Field(default=3, ge=1)
    account_email_window_seconds: int = Field(default=900, ge=1)

    cors_allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # Unset: console in development, json otherwise (see _log_format_for_the_environment).
    log_format: Literal["json", "console"] = "json"
    log_repeat_interval_seconds: float = Field(default=60.0, ge=0)

    # OpenTelemetry tracing (core/tracing.py), named as the specification's environment
    # variables. Off unless OTEL_TRACES_EXPORTER names an exporter (the specification's
    # default is otlp; ours is none, so that no process exports by surprise).
    otel_sdk_disabled: bool = False
    otel_traces_exporter: Literal["none", "otlp", "console"] = "none"
    otel_exporter_otlp_endpoint: str = "http://localhost:4318"
    otel_traces_sampler: Literal[
        "always_on",
        "always_off",
        "traceidratio",
        "parentbased_always_on",
        "parentbased_always_off",
        "parentbased_traceidratio",
    ] = "parentbased_always_on"
    otel_traces_sampler_arg: float = Field(default=1.0, ge=0, le=1)
    otel_service_name: str = Field(default="agora", min_length=1, max_length=200)

    query_max_cost: int = Field(default=1000, ge=1)
    query_max_depth: int = Field(default=10, ge=1)
    query_max_fields: int = Field(default=500, ge=1)
    query_max_field_repeats: int = Field(default=50, ge=1)
    query_max_tokens: int = Field(default=2000, ge=1)
    query_max_aliases: int = Field(default=15, ge=0)
    query_max_directives: int = Field(default=20, ge=0)
    query_max_directives_per_location: int = Field(default=3, ge=0)
    query_max_operations: int = Field(default=5, ge=1)
    # Operations in one batched POST (a JSON array); Apollo's BatchHttpLink sends up to 10.
    query_max_batch: int = Field(default=10, ge=1, le=100)
    # IDs one `nodes(ids:)` may ask for; at most 100, the size its @listSize declares.
    nodes_max_ids: int = Field(default=100, ge=1, le=100)
    rate_limit_capacity: int = Field(default=2000, ge=1)
    rate_limit_restore_rate: float = Field(default=100.0, gt=0)
    # While Redis is down: a client's in-process bucket starts with this fraction of the
    # capacity (refilled at the usual rate), or with fail-closed every operation is refused.
    rate_limit_outage_fraction: float = Field(default=0.1, ge=0, le=1)
    rate_limit_fail_closed: bool = False

    # false: graphql-core's, Strawberry's and Tortoise's own paths instead of our shortcuts
    # around their internals (docs/ARCHITECTURE.md, "Fenced library internals").
    library_shortcuts: bool = True

    enable_introspection: bool | None = None
    enable_graphiql: bool | None = None
    metrics_token: str | None = None
    # How often each process samples its event-loop lag, pool, job queue and (with several
    # workers) its process figures.
    metrics_sample_interval_seconds: float = Field(default=1.0, ge=0.01, le=60)

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "Agora <no-reply@agora.test>"
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    mail_outbox_dir: str = "./data/outbox"

    job_backend: Literal["auto", "inprocess", "saq"] = "auto"
    job_max_attempts: int = Field(default=3, ge=1)
    job_retry_delay_seconds: float = Field(default=5.0, ge=0)
    job_timeout_seconds: int = Field(default=60, ge=1)

    cache_ttl_users_seconds: int = Field(default=60, ge=1)
    cache_ttl_products_seconds: int = Field(default=60, ge=1)
    cache_ttl_pages_seconds: int = Field(default=30, ge=1)
    # The longest max-age a GET /graphql response is given (the @cacheControl hints above it
    # are lowered to it); 0 answers every response no-store.
    http_cache_max_age_seconds: int = Field(default=300, ge=0, le=86_400)
    # The server-side response cache of anonymous PUBLIC queries (services.response_cache). Off
    # by default: SQL written outside the application, and without Redis another process's
    # writes, do not invalidate it. The bound holds per process in memory, in all in Redis.
    response_cache_enabled: bool = False
    response_cache_max_entries: int = Field(default=10_000, ge=1, le=1_000_000)

    storage_backend: Literal["local", "s3"] = "local"
    storage_local_dir: str = "./data/files"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    # One S3 operation (every attempt and the backoff between them) is abandoned after
    # S3_MAX_ATTEMPTS x (connect + read timeout): a request never waits longer on S3.
    s3_connect_timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    s3_read_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    s3_max_attempts: int = Field(default=2, ge=1, le=10)
    file_url_ttl_seconds: int = Field(default=900, ge=60)
    upload_max_bytes: int = Field(default=5 * 1_048_576, ge=1)
    upload_max_files: int = Field(default=5, ge=1)

    push_backend: Literal["log", "fcm"] = "log"
    fcm_project_id: str | None = None
    fcm_service_account_file: str | None = None
    fcm_endpoint: str = "https://fcm.googleapis.com"
    fcm_token_uri: str = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL
    fcm_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    ws_max_subscriptions_per_connection: int = Field(default=20, ge=1)
    ws_max_connections_per_user: int = Field(default=10, ge=1)
    # Anonymous real-time connections (websockets and HTTP subscription streams, this
    # process) per client address: the address the rest of the server uses (uvicorn's, with
    # X-Forwarded-For from --forwarded-allow-ips proxies).
    ws_max_anonymous_connections_per_ip: int = Field(default=100, ge=1, le=1_000_000)
    ws_connection_init_timeout_seconds: float = Field(default=10.0, gt=0)
    # Subscriptions over HTTP (graphql-sse, Apollo multipart): a heartbeat after this long
    # without a message, so that proxies do not close an idle stream.
    http_stream_heartbeat_seconds: float = Field(default=10.0, gt=0, le=300)

    cron_cleanup: str = "0 0 * * *"
    cron_weekly_report: str = "0 9 * * 1"

    # Automatic persisted queries (Apollo's protocol): documents stored by their SHA-256 in
    # the cache backend (in-process, or Redis with REDIS_URL), bounded per document and in
    # number.
    apq_enabled: bool = True
    apq_max_document_bytes: int = Field(default=16_384, ge=64, le=1_048_576)
    apq_max_entries: int = Field(default=2_000, ge=1, le=1_000_000)
    apq_ttl_seconds: int = Field(default=24 * 3600, ge=1, le=30 * 24 * 3600)
    # Trusted documents: `allow-list` runs only the manifest's documents; `audit` serves them
    # by id and runs anything else too, counting and logging what is not in the manifest.
    trusted_documents_mode: Literal["off", "audit", "allow-list"] = "off"
    trusted_documents_manifest: str | None = None

    max_json_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_multipart_body_bytes: int = Field(default=30 * 1_048_576, ge=1024)
    csrf_header: str = "X-Requested-With"
    # Request headers a browser may send cross-origin (the CORS preflight's allow-list);
    # CSRF_HEADER is always added.
    cors_allowed_headers: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_CORS_ALLOWED_HEADERS)
    )

    @field_validator(
        "cors_allowed_origins",
        "cors_allowed_headers",
        "jwt_previous_secrets",
        "refresh_token_previous_secrets",
        mode="before",
    )
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("cors_allowed_headers")
    @classmethod
    def _header_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if name == "*":
                raise ValueError("list header names, not '*' (credentials are allowed)")
            if not HEADER_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not an HTTP header name")
        return value

    @model_validator(mode="before")
    @classmethod
    def _log_format_for_the_environment(cls, data: object) -> object:
        """Without LOG_FORMAT: lines for a developer's terminal, JSON for collectors elsewhere."""
        if isinstance(data, dict) and "log_format" not in data:
            app_env = data.get("app_env", cls.model_fields["app_env"].default)
            return {**data, "log_format": "console" if app_env == "development" else "json"}
        return data

    @field_validator("otel_exporter_otlp_endpoint")
    @classmethod
    def _otlp_endpoint(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError("must be an http(s) URL such as http://collector:4318")
        return value

    @field_validator("otel_traces_exporter", "otel_traces_sampler", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def introspection_enabled(self) -> bool:
        if self.enable_introspection is not None:
            return self.enable_introspection
        return not self.is_production

    @property
    def graphiql_enabled(self) -> bool:
        if self.is_production:
            return False
        return True if self.enable_graphiql is None else self.enable_graphiql

    @property
    def jwt_signing_secret(self) -> str:
        return self.jwt_secret or DEV_JWT_SECRET

    @property
    def refresh_signing_secret(self) -> str:
        return self.refresh_token_secret or DEV_REFRESH_SECRET

    @property
    def tracing_enabled(self) -> bool:
        return not self.otel_sdk_disabled and self.otel_traces_exporter != "none"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def problems(self) -> list[str]:
        """Every reason these settings must not run, empty when they are fine."""
        found: list[str] = []
        if self.db_pool_min > self.db_pool_max:
            found.append("DB_POOL_MIN must not be greater than DB_POOL_MAX")
        if self.query_max_cost > self.rate_limit_capacity:
            found.append(
                "QUERY_MAX_COST must not exceed RATE_LIMIT_CAPACITY "
                "(a query within the cost limit must fit in a full bucket)"
            )
        if self.storage_backend == "s3" and not self.s3_bucket:
            found.append("STORAGE_BACKEND=s3 needs S3_BUCKET")
        if self.push_backend == "fcm" and not (
            self.fcm_project_id and self.fcm_service_account_file
        ):
            found.append("PUSH_BACKEND=fcm needs FCM_PROJECT_ID and FCM_SERVICE_ACCOUNT_FILE")
        if self.trusted_documents_mode != "off":
            if not self.trusted_documents_manifest:
                found.append(
                    f"TRUSTED_DOCUMENTS_MODE={self.trusted_documents_mode} needs "
                    "TRUSTED_DOCUMENTS_MANIFEST (the JSON file of hash → document)"
                )
            elif not Path(self.trusted_documents_manifest).is_file():
                found.append(
                    f"TRUSTED_DOCUMENTS_MANIFEST: no such file: {self.trusted_documents_manifest}"
                )
        if self.job_backend == "saq" and not self.redis_url:
            found.append("JOB_BACKEND=saq needs REDIS_URL")
        found.extend(
            _previous_secrets_problems(
                "JWT", self.jwt_signing_secret, self.jwt_previous_secrets, self.is_production
            )
        )
        found.extend(
            _previous_secrets_problems(
                "REFRESH_TOKEN",
                self.refresh_signing_secret,
                self.refresh_token_previous_secrets,
                self.is_production,
            )
        )
        if self.is_production:
            found.extend(_secret_problem("JWT_SECRET", self.jwt_secret))
            found.extend(_secret_problem("REFRESH_TOKEN_SECRET", self.refresh_token_secret))
            found.extend(_secret_problem("METRICS_TOKEN", self.metrics_token))
            if self.jwt_secret and self.jwt_secret == self.refresh_token_secret:
                found.append("JWT_SECRET and REFRESH_TOKEN_SECRET must differ")
            jwt_keys = {self.jwt_secret, *self.jwt_previous_secrets}
            refresh_keys = {self.refresh_token_secret, *self.refresh_token_previous_secrets}
            shared = (jwt_keys & refresh_keys) - {None}
            if self.jwt_secret == self.refresh_token_secret:
                shared.discard(self.jwt_secret)  # reported just above
            if shared:
                found.append(
                    "JWT_PREVIOUS_SECRETS and REFRESH_TOKEN_PREVIOUS_SECRETS must share no "
                    "secret with the other kind's keys"
                )
            if "*" in self.cors_allowed_origins:
                found.append("CORS_ALLOWED_ORIGINS must list origins, not '*', in production")
            if self.is_sqlite:
                found.append("DATABASE_URL must point at PostgreSQL in production, not SQLite")
            if not self.smtp_host:
                found.append("SMTP_HOST is required in production (the outbox logs account links)")
        return found

    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        location = self.database_url.split("://", 1)[1].split("?", 1)[0]
        return None if location == ":memory:" else Path(location)


def _secret_problem(name: str, value: str | None) -> list[str]:
    if not value:
        return [f"{name} is required in production"]
    if len(value.encode()) < MIN_SECRET_BYTES:
        return [f"{name} is too weak: it must be at least {MIN_SECRET_BYTES} bytes"]
    return []


def _previous_secrets_problems(
    prefix: str, current: str, previous: list[str], production: bool
) -> list[str]:
    name = f"{prefix}_PREVIOUS_SECRETS"
    found: list[str] = []
    if current in previous:
        found.append(f"{name} must not contain {prefix}_SECRET (the key that signs now)")
    if len(set(previous)) != len(previous):
        found.append(f"{name} lists one secret twice")
    if production and any(len(secret.encode()) < MIN_SECRET_BYTES for secret in previous):
        found.append(f"{name}: each secret must be at least {MIN_SECRET_BYTES} bytes")
    return found


def load_settings(**overrides: object) -> Settings:
    """Read and check the settings; raise ConfigurationError naming every problem: each value
    that does not parse and each rule the others break."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        malformed = [_field_of(error) for error in exc.errors()]
        raise ConfigurationError(
            [
                f"{field.upper() or 'settings'}: {error['msg']}"
                for field, error in zip(malformed, exc.errors(), strict=True)
            ]
            + _rules_broken_beside(overrides, set(malformed))
        ) from exc
    if problems := settings.problems():
        raise ConfigurationError(problems)
    return settings


def _field_of(error: ErrorDetails) -> str:
    location = error["loc"]
    return str(location[0]) if location else ""


def _rules_broken_beside(overrides: dict[str, object], malformed: set[str]) -> list[str]:
    """The rules the well-formed values break, each malformed one standing at its default.

    A rule that names a malformed setting is left out: it would judge the stand-in, not the
    operator's value."""
    if "" in malformed:
        return []
    stand_ins = {
        name: Settings.model_fields[name].get_default(call_default_factory=True, validated_data={})
        for name in malformed
    }
    try:
        settings = Settings(**{**overrides, **stand_ins})
    except ValidationError:
        return []
    names = re.compile(r"\b(" + "|".join(name.upper() for name in sorted(malformed)) + r")\b")
    return [problem for problem in settings.problems() if not names.search(problem)]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, loaded once."""
    return load_settings()
