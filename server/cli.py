"""``python -m server``: serve, check-port, migrate, seed, export-schema, schema-diff,
check-config, trusted-documents verify."""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from core.settings import ConfigurationError, Settings, load_settings


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from exc


def _manifest_problems(settings: Settings, path: str) -> list[str]:
    from schema import build_schema, document_limits
    from server.trusted_documents import verify_manifest

    schema = build_schema(settings)
    return verify_manifest(path, schema._schema, document_limits(settings))[1]


def _trusted_documents_or_exit(settings: Settings) -> None:
    """With trusted documents on, the manifest must load and verify (exit 2 naming every
    problem): the server would refuse to start."""
    path = settings.trusted_documents_manifest
    if settings.trusted_documents_mode == "off" or not path:
        return
    if problems := _manifest_problems(settings, path):
        print(
            ConfigurationError([f"TRUSTED_DOCUMENTS_MANIFEST {path}: {p}" for p in problems]),
            file=sys.stderr,
        )
        raise SystemExit(2)


def _run_with_database(settings: Settings, work: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    from server.database import close_database, init_database

    async def run() -> Any:
        await init_database(settings)
        try:
            return await work()
        finally:
            await close_database()

    return asyncio.run(run())


def cmd_check_port(args: argparse.Namespace) -> int:
    from server.ports import listen_problem

    if problem := listen_problem(args.host, args.port):
        print(problem, file=sys.stderr)
        return 1
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from core.logging import configure_logging
    from server.shared_metrics import shared_metrics_dir

    settings = _settings_or_exit()
    _trusted_documents_or_exit(settings)
    if cmd_check_port(args) != 0:
        return 1
    configure_logging(settings.log_level, settings.log_format, settings.log_repeat_interval_seconds)
    with shared_metrics_dir(args.workers):
        _run_uvicorn(args)
    return 0


def _run_uvicorn(args: argparse.Namespace) -> None:
    import uvicorn

    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        # Events are small JSON frames: per-message deflate costs CPU per delivery and memory
        # per connection for next to nothing (README, "make bench-subscriptions").
        ws_per_message_deflate=False,
        server_header=False,
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        timeout_graceful_shutdown=args.graceful_timeout,
        log_config=None,
        access_log=False,
    )


def cmd_migrate(_: argparse.Namespace) -> int:
    from server.database import migrate

    settings = _settings_or_exit()
    applied = asyncio.run(migrate(settings))
    print("\n".join(applied) if applied else "database is up to date")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    """Exit 1 when the data is in but Redis did not answer: the API's replicas still serve
    the responses they cached before (see ``forget_cached_responses``)."""
    from services.redis_pools import RedisUnreachable
    from services.seed import SeedReport, seed_demo_data, seed_scale

    settings = _settings_or_exit()
    if args.scale is not None and args.scale < 1:
        print("--scale must be at least 1", file=sys.stderr)
        return 2

    async def seed() -> tuple[SeedReport, RedisUnreachable | None]:
        report = await (seed_demo_data() if args.scale is None else seed_scale(args.scale))
        try:
            await forget_cached_responses(settings)
        except RedisUnreachable as exc:
            return report, exc
        return report, None

    report, unreachable = _run_with_database(settings, seed)
    print(report.summary())
    if unreachable is not None:
        print(f"{CACHED_RESPONSES_KEPT}: {unreachable}", file=sys.stderr)
        return 1
    return 0


CACHED_RESPONSES_KEPT = (
    "the data is seeded, but the API's cached responses were not dropped "
    "(run `python -m server seed` again once Redis answers: with data in the database it "
    "only drops them)"
)


async def forget_cached_responses(settings: Settings, key_prefix: str | None = None) -> None:
    """After a bulk write: with ``REDIS_URL``, what the API's replicas cached there is dropped.
    (Without it each API process has its own memory: restart it, or wait for the TTLs.)
    Raises ``RedisUnreachable`` when Redis does not answer a PING within the bounds of
    ``services/redis_pools.py`` (nothing dropped)."""
    from services.entity_changes import DEFAULT_KEY_PREFIX, build_entity_changes
    from services.redis_pools import PoolBounds, bounded_client, require_reachable

    if not settings.redis_url:
        return
    redis = bounded_client(settings.redis_url, PoolBounds.shared(settings), client_name="agora-cli")
    changes = build_entity_changes(settings, redis, key_prefix or DEFAULT_KEY_PREFIX)
    try:
        await require_reachable(redis, settings.redis_url)
        await changes.everything_changed()
    finally:
        await changes.cache.close()
        await redis.aclose()


def cmd_worker(args: argparse.Namespace) -> int:
    """Exit 1 when Redis does not answer at startup."""
    from core.logging import configure_logging
    from services.jobs.worker import run_worker
    from services.redis_pools import RedisUnreachable

    settings = _settings_or_exit()
    configure_logging(settings.log_level, settings.log_format, settings.log_repeat_interval_seconds)
    if not settings.redis_url:
        print(
            "the worker needs REDIS_URL: without it jobs run inside the API process",
            file=sys.stderr,
        )
        return 2
    if args.metrics_port is not None:
        _serve_worker_metrics(args.metrics_host, args.metrics_port)
    try:
        _run_with_database(settings, lambda: run_worker(settings))
    except RedisUnreachable:
        return 1  # logged by the worker ("job worker cannot start: Redis at … is unreachable")
    return 0


def _serve_worker_metrics(host: str, port: int) -> None:
    """The worker's jobs counters, GC pauses and process figures on ``/metrics`` (any path,
    in fact), served by prometheus_client's thread. It has no bearer token: expose the port
    to the scraper only."""
    from prometheus_client import start_http_server

    from core.metrics import REGISTRY
    from core.process_metrics import observe_gc_pauses

    observe_gc_pauses()
    start_http_server(port, host, registry=REGISTRY)
    threading.Thread(target=_drain_gc_pauses_forever, name="gc-pauses", daemon=True).start()


def _drain_gc_pauses_forever() -> None:
    from core.process_metrics import drain_gc_pauses

    while True:
        time.sleep(1.0)
        drain_gc_pauses()


def cmd_create_user(args: argparse.Namespace) -> int:
    from models.user import Role
    from services.accounts import create_active_user
    from services.errors import AppError, ValidationFailed
    from services.passwords import PasswordHasher

    settings = _settings_or_exit()

    async def create() -> str:
        user = await create_active_user(
            PasswordHasher.from_settings(settings),
            args.name,
            args.email,
            args.password,
            Role(args.role),
        )
        return f"created {user.role.value} user {user.id} <{user.email}>"

    try:
        print(_run_with_database(settings, create))
    except ValidationFailed as exc:
        for problem in exc.problems:
            print(f"{problem.field}: {problem.message}", file=sys.stderr)
        return 2
    except AppError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    return 0


def cmd_export_schema(_: argparse.Namespace) -> int:
    from schema import export_sdl

    sys.stdout.write(export_sdl())
    return 0


def cmd_schema_diff(args: argparse.Namespace) -> int:
    from server.schema_diff import SchemaUnreadable, diff

    try:
        old = Path(args.old).read_text(encoding="utf-8")
        new = Path(args.new).read_text(encoding="utf-8")
        announcements = Path(args.announcements)
        announced = announcements.read_text(encoding="utf-8") if announcements.exists() else ""
        result = diff(old, new, announced)
    except (OSError, UnicodeDecodeError, SchemaUnreadable) as exc:
        print(f"schema-diff: {exc}", file=sys.stderr)
        return 2
    for line in result.report():
        print(line)
    if result.ok:
        print(f"schema-diff: no unannounced breaking change ({len(result.breaking)} announced)")
        return 0
    return 1


def cmd_check_config(_: argparse.Namespace) -> int:
    settings = _settings_or_exit()
    _trusted_documents_or_exit(settings)
    print(f"configuration is valid (APP_ENV={settings.app_env})")
    return 0


def cmd_verify_trusted_documents(args: argparse.Namespace) -> int:
    """Every problem of a manifest, one per line (exit 1), or a count of its documents."""
    from server.trusted_documents import read_manifest

    settings = _settings_or_exit()
    if problems := _manifest_problems(settings, args.manifest):
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{args.manifest}: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    count = len(read_manifest(args.manifest)[0])
    print(f"{args.manifest}: {count} trusted document(s), all valid against the schema")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m server", description="Agora API server")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API with uvicorn")
    _address_arguments(serve)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--forwarded-allow-ips",
        default="127.0.0.1",
        help="proxies trusted for X-Forwarded-For (the client IP keys the cost bucket)",
    )
    serve.add_argument("--graceful-timeout", type=int, default=20)
    serve.set_defaults(handler=cmd_serve)

    check_port = commands.add_parser(
        "check-port", help="exit 1 with a one-line reason when `serve` could not listen there"
    )
    _address_arguments(check_port)
    check_port.set_defaults(handler=cmd_check_port)

    commands.add_parser("migrate", help="apply migrations").set_defaults(handler=cmd_migrate)
    seed = commands.add_parser("seed", help="load demo data into an empty database")
    seed.add_argument(
        "--scale",
        type=int,
        metavar="N",
        help="instead: a large data set for benchmarks (N posts, ~5 comments each)",
    )
    seed.set_defaults(handler=cmd_seed)
    worker = commands.add_parser("worker", help="run the saq job worker (needs REDIS_URL)")
    worker.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="serve the worker's Prometheus metrics on this port (off unless given)",
    )
    worker.add_argument("--metrics-host", default="127.0.0.1")
    worker.set_defaults(handler=cmd_worker)
    create_user = commands.add_parser("create-user", help="create an ACTIVE, verified user")
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--password", required=True)
    create_user.add_argument("--name", required=True)
    create_user.add_argument("--role", choices=["ADMIN", "MODERATOR", "USER"], default="USER")
    create_user.set_defaults(handler=cmd_create_user)
    commands.add_parser("export-schema", help="print the SDL").set_defaults(
        handler=cmd_export_schema
    )
    schema_diff = commands.add_parser(
        "schema-diff",
        help="exit 1 when NEW breaks clients of OLD without announcing it (schema-changes.md)",
    )
    schema_diff.add_argument("old", help="the previous SDL file")
    schema_diff.add_argument("new", help="the new SDL file")
    schema_diff.add_argument(
        "--announcements",
        default="schema-changes.md",
        help="the file announcing breaking changes (default: schema-changes.md)",
    )
    schema_diff.set_defaults(handler=cmd_schema_diff)
    commands.add_parser("check-config", help="validate settings and exit").set_defaults(
        handler=cmd_check_config
    )
    trusted = commands.add_parser("trusted-documents", help="trusted documents (allow-list)")
    trusted_commands = trusted.add_subparsers(dest="trusted_command", required=True)
    verify = trusted_commands.add_parser(
        "verify",
        help="check a manifest: ids are their documents' digests, documents validate",
    )
    verify.add_argument("manifest", help="the JSON manifest (relay, graphql-codegen, Apollo)")
    verify.set_defaults(handler=cmd_verify_trusted_documents)
    return parser


def _address_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)
