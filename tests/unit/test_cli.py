"""``python -m server``: the commands an operator runs, exercised as a real process.

Each run gets a clean environment (no setting inherited from the developer's shell) and an
empty working directory (no developer `.env` is read); the code is found via PYTHONPATH.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

from core.settings import Settings
from tests.e2e.conftest import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SETTING_NAMES = frozenset(Settings.model_fields)


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        name: value for name, value in os.environ.items() if name.lower() not in SETTING_NAMES
    }
    environment["PYTHONPATH"] = str(PROJECT_ROOT)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_config_accepts_the_development_defaults(tmp_path: Path) -> None:
    result = run_cli("check-config", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "configuration is valid (APP_ENV=development)" in result.stdout


def test_check_config_refuses_production_without_secrets_and_names_every_problem(
    tmp_path: Path,
) -> None:
    result = run_cli("check-config", cwd=tmp_path, env={"APP_ENV": "production"})

    assert result.returncode == 2
    assert "valid" not in result.stdout
    for problem in (
        "JWT_SECRET is required in production",
        "REFRESH_TOKEN_SECRET is required in production",
        "METRICS_TOKEN is required in production",
        "DATABASE_URL must point at PostgreSQL in production",
    ):
        assert problem in result.stderr


def test_check_config_accepts_a_complete_production_configuration(tmp_path: Path) -> None:
    result = run_cli(
        "check-config",
        cwd=tmp_path,
        env={
            "APP_ENV": "production",
            "DATABASE_URL": "postgres://agora:secret@db.internal:5432/agora",
            "JWT_SECRET": "j" * 40,
            "REFRESH_TOKEN_SECRET": "r" * 40,
            "METRICS_TOKEN": "m" * 40,
            "CORS_ALLOWED_ORIGINS": "https://app.example.com",
            "SMTP_HOST": "smtp.example.com",
        },
    )

    assert result.returncode == 0, result.stderr
    assert "configuration is valid (APP_ENV=production)" in result.stdout


def test_check_config_names_a_setting_that_does_not_parse(tmp_path: Path) -> None:
    result = run_cli("check-config", cwd=tmp_path, env={"QUERY_MAX_DEPTH": "abc"})

    assert result.returncode == 2
    assert "QUERY_MAX_DEPTH" in result.stderr


def test_check_config_lists_a_malformed_value_with_every_other_problem(tmp_path: Path) -> None:
    result = run_cli(
        "check-config", cwd=tmp_path, env={"APP_ENV": "production", "QUERY_MAX_COST": "abc"}
    )

    assert result.returncode == 2
    for problem in (
        "QUERY_MAX_COST: Input should be a valid integer",
        "JWT_SECRET is required in production",
        "DATABASE_URL must point at PostgreSQL in production",
    ):
        assert problem in result.stderr


def test_migrate_on_a_new_sqlite_database_says_it_created_the_schema(tmp_path: Path) -> None:
    result = run_cli("migrate", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("schema created from the models (SQLite, ")


def test_migrate_on_an_up_to_date_sqlite_database_says_so(tmp_path: Path) -> None:
    run_cli("migrate", cwd=tmp_path)

    result = run_cli("migrate", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "database is up to date\n"


def test_migrate_names_the_tables_it_had_to_add(tmp_path: Path) -> None:
    run_cli("migrate", cwd=tmp_path)
    with sqlite3.connect(tmp_path / "data" / "agora.sqlite3") as database:
        database.execute("DROP TABLE comments")

    result = run_cli("migrate", cwd=tmp_path)

    assert result.stdout == "created from the models (SQLite): comments\n"


def test_check_port_accepts_a_free_port(tmp_path: Path) -> None:
    result = run_cli("check-port", "--port", str(free_port()), cwd=tmp_path)

    assert result.returncode == 0, result.stderr


def test_serve_on_a_taken_port_exits_at_once_with_one_line_naming_it(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]

        result = run_cli("serve", "--port", str(port), cwd=tmp_path)

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"cannot serve on 127.0.0.1:{port}: the port is already in use (another server?); "
        "choose another: make run PORT=…, or serve --port …"
    ]


def test_make_run_checks_the_port_before_migrate_and_seed() -> None:
    plan = subprocess.run(
        ["make", "--dry-run", "--always-make", "run", "HOST=0.0.0.0", "PORT=8123"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    commands = [line for line in plan.stdout.splitlines() if "-m server" in line]
    assert [command.split("-m server ", 1)[1] for command in commands] == [
        "check-port --host 0.0.0.0 --port 8123",
        "migrate",
        "seed",
        "serve --host 0.0.0.0 --port 8123",
    ]


def test_export_schema_prints_the_committed_contract(tmp_path: Path) -> None:
    result = run_cli("export-schema", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    committed = (PROJECT_ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert result.stdout == committed, "schema.graphql is stale: run `make export-schema`"


def test_a_missing_command_prints_usage_and_exits_2(tmp_path: Path) -> None:
    result = run_cli(cwd=tmp_path)

    assert result.returncode == 2
    assert "usage: python -m server" in result.stderr


def _manifest(path: Path, documents: dict[str, str]) -> Path:
    path.write_text(json.dumps(documents), encoding="utf-8")
    return path


GOOD_DOCUMENTS = {
    hashlib.sha256(text.encode()).hexdigest(): text
    for text in ("query Me { me { id } }", "query Posts { posts(first: 2) { totalCount } }")
}


def test_trusted_documents_verify_accepts_a_manifest_whose_documents_validate(
    tmp_path: Path,
) -> None:
    manifest = _manifest(tmp_path / "persisted-documents.json", GOOD_DOCUMENTS)

    result = run_cli("trusted-documents", "verify", str(manifest), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert f"{manifest}: 2 trusted document(s), all valid against the schema" in result.stdout


def test_trusted_documents_verify_prints_every_problem_and_exits_1(tmp_path: Path) -> None:
    broken = "query Broken { me { noSuchField } }"
    manifest = _manifest(
        tmp_path / "persisted-documents.json",
        {
            hashlib.sha256(broken.encode()).hexdigest(): broken,
            "0" * 64: "query Me { me { id } }",
            "not-a-digest": "{ me { id } }",
            hashlib.sha256(b"{ me {").hexdigest(): "{ me {",
        },
    )

    result = run_cli("trusted-documents", "verify", str(manifest), cwd=tmp_path)

    assert result.returncode == 1
    problems = result.stderr.splitlines()
    assert problems[-1] == f"{manifest}: 4 problem(s)"
    text = "\n".join(problems)
    assert "Cannot query field 'noSuchField' on type 'User'" in text
    assert f"'{'0' * 64}': the id is not the SHA-256 digest of its document" in text
    assert "'not-a-digest': the id is not a lower-case hex" in text
    assert "does not parse" in text


def test_check_config_refuses_an_allow_list_without_a_manifest(tmp_path: Path) -> None:
    result = run_cli("check-config", cwd=tmp_path, env={"TRUSTED_DOCUMENTS_MODE": "allow-list"})

    assert result.returncode == 2
    assert "TRUSTED_DOCUMENTS_MODE=allow-list needs TRUSTED_DOCUMENTS_MANIFEST" in result.stderr


def test_check_config_names_the_problems_of_a_broken_manifest(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path / "persisted-documents.json", {"0" * 64: "{ me { id } }"})

    result = run_cli(
        "check-config",
        cwd=tmp_path,
        env={"TRUSTED_DOCUMENTS_MODE": "allow-list", "TRUSTED_DOCUMENTS_MANIFEST": str(manifest)},
    )

    assert result.returncode == 2
    assert "valid" not in result.stdout
    assert f"TRUSTED_DOCUMENTS_MANIFEST {manifest}: '{'0' * 64}': the id is not" in result.stderr


def test_serve_refuses_to_start_with_a_broken_manifest(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path / "persisted-documents.json", {"0" * 64: "{ me { id } }"})

    result = run_cli(
        "serve",
        "--port",
        str(free_port()),
        cwd=tmp_path,
        env={"TRUSTED_DOCUMENTS_MODE": "allow-list", "TRUSTED_DOCUMENTS_MANIFEST": str(manifest)},
    )

    assert result.returncode == 2
    assert "the id is not the SHA-256 digest of its document" in result.stderr
