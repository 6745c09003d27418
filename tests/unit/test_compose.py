"""docker-compose.yml and the Dockerfile, checked by reading them (no Docker engine here):
the commands are ones the CLI accepts; two API replicas behind nginx, whose configuration is
present and sane; a one-off service creates the bucket the app is configured with before the
API and the worker start; the stack's settings are a valid production configuration; the
image holds every package and the migrations."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings, load_settings
from server.cli import build_parser
from server.websocket.registry import DRAIN_TIMEOUT_SECONDS
from tests.deploy_files import ROOT, compose, dockerfile_command, dockerfile_instructions

SETTING_NAMES = {name.upper() for name in Settings.model_fields}


def services() -> dict[str, Any]:
    return compose()["services"]  # type: ignore[no-any-return]


def app_env() -> dict[str, str]:
    return compose()["x-app-env"]  # type: ignore[no-any-return]


def nginx_config() -> tuple[Path, str]:
    [mount] = services()["nginx"]["volumes"]
    source, target, *_ = mount.split(":")
    assert target == "/etc/nginx/conf.d/default.conf"
    path = ROOT / source
    return path, path.read_text()


def seconds(duration: str) -> int:
    match = re.fullmatch(r"(\d+)s", duration)
    assert match, duration
    return int(match.group(1))


def test_every_service_built_from_the_image_runs_a_command_the_cli_accepts() -> None:
    parser = build_parser()
    assert dockerfile_command("ENTRYPOINT") == ["python", "-m", "server"]
    parser.parse_args(dockerfile_command("CMD"))
    built = {name: s for name, s in services().items() if s.get("build") == "."}
    assert set(built) == {"migrate", "api", "worker"}
    for service in built.values():
        parser.parse_args(service["command"])


def test_two_api_replicas_serve_behind_nginx_only() -> None:
    api = services()["api"]
    assert api["deploy"]["replicas"] == 2
    assert "ports" not in api  # one published port cannot go to two replicas
    assert services()["nginx"]["ports"] == ["8000:8000"]
    assert services()["nginx"]["depends_on"]["api"]["condition"] == "service_healthy"


def test_the_nginx_configuration_proxies_to_the_api_port() -> None:
    _, config = nginx_config()
    api = build_parser().parse_args(services()["api"]["command"])
    assert re.search(rf"^\s*server api:{api.port}\b", config, re.MULTILINE)
    assert "proxy_pass http://agora_api;" in config
    assert api.forwarded_allow_ips == "*"
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in config  # replaced, not appended


def test_the_nginx_configuration_passes_websockets_and_streams_and_uploads() -> None:
    _, config = nginx_config()
    assert "proxy_http_version 1.1;" in config
    assert "proxy_set_header Upgrade $http_upgrade;" in config
    assert "proxy_set_header Connection $connection_upgrade;" in config
    assert "proxy_buffering off;" in config
    [size] = re.findall(r"client_max_body_size (\d+)m;", config)
    assert int(size) * 1_048_576 > Settings().max_multipart_body_bytes


def test_the_nginx_configuration_is_well_formed() -> None:
    """Balanced braces; every line a block opening or closing, a comment or a statement
    ending in `;`; only directives nginx has in these contexts."""
    _, config = nginx_config()
    known = {
        "resolver", "upstream", "zone", "server", "keepalive", "map", "default", '""',
        "listen", "client_max_body_size", "location", "proxy_pass", "proxy_http_version",
        "proxy_set_header", "proxy_buffering", "proxy_read_timeout", "proxy_send_timeout",
        "proxy_next_upstream",
    }  # fmt: skip
    depth = 0
    for number, raw in enumerate(config.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        assert line.endswith((";", "{", "}")), f"line {number}: {raw!r}"
        assert line.split()[0] in known | {"}"}, f"line {number}: {raw!r}"
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"line {number} closes a block never opened"
    assert depth == 0


def test_a_one_off_service_creates_the_apps_bucket_before_the_api_and_the_worker_start():
    bucket = services()["minio-bucket"]
    assert bucket["environment"]["S3_BUCKET"] == app_env()["S3_BUCKET"]
    minio = services()["minio"]["environment"]
    assert bucket["environment"]["MINIO_ROOT_USER"] == minio["MINIO_ROOT_USER"]
    assert bucket["environment"]["MINIO_ROOT_PASSWORD"] == minio["MINIO_ROOT_PASSWORD"]
    assert (app_env()["AWS_ACCESS_KEY_ID"], app_env()["AWS_SECRET_ACCESS_KEY"]) == (
        minio["MINIO_ROOT_USER"],
        minio["MINIO_ROOT_PASSWORD"],
    )
    [script] = bucket["command"]
    assert "mc mb --ignore-existing" in script
    assert "http://minio:9000" in script
    assert app_env()["S3_ENDPOINT_URL"] == "http://minio:9000"
    assert "restart" not in bucket  # one-off
    for name in ("api", "worker"):
        depends = services()[name]["depends_on"]
        assert depends["minio-bucket"]["condition"] == "service_completed_successfully"
        assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_every_dependency_names_a_service() -> None:
    for name, service in services().items():
        assert set(service.get("depends_on", {})) <= set(services()) - {name}


def test_an_api_replica_is_given_time_to_drain_before_docker_kills_it() -> None:
    api = services()["api"]
    graceful = build_parser().parse_args(api["command"]).graceful_timeout
    assert seconds(api["stop_grace_period"]) >= DRAIN_TIMEOUT_SECONDS + graceful


def test_the_stack_settings_are_a_valid_production_configuration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    assert set(app_env()) <= SETTING_NAMES
    for name, value in app_env().items():
        monkeypatch.setenv(name, value)

    settings = load_settings(_env_file=None)

    assert settings.is_production
    assert settings.redis_url  # the replicas share pub/sub, buckets, caches and jobs
    assert not settings.smtp_starttls  # Mailpit speaks plain SMTP


def test_the_image_holds_every_package_and_the_migrations() -> None:
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    included = {pattern.rstrip("*") for pattern in packages["packages"]["find"]["include"]}
    copied: set[str] = set()
    for arguments in dockerfile_instructions("COPY"):
        if "--from=" in arguments:
            continue  # from the build stage, not the repository
        *sources, _ = [word for word in arguments.split() if not word.startswith("--")]
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such path"
            copied.add(source.rstrip("/"))
    assert included <= copied
    assert {"migrations", "pyproject.toml"} <= copied
