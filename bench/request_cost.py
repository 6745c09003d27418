"""CPU time per request of our app, in process, without a network: the ASGI app called
directly, one request after another, with the production middleware and settings of
``make bench`` (the access log written to a null stream).

    python -m bench.request_cost --query typename --requests 2000 --rounds 4
    python -m bench.request_cost --query feed --database-url postgres://…/agora_bench_x

Used to measure one change at a time on a loaded machine: run it on the code before and after
(e.g. a ``git worktree`` of the earlier commit, ``PYTHONPATH`` first) alternately, and compare
the medians; or count instructions, which do not depend on the load, with
``--instructions`` under ``valgrind --tool=callgrind`` (the difference between two request
counts, divided by the difference, is the count per request).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bench.queries import NESTED_QUERY

QUERIES = {
    "typename": "{ __typename }",
    "feed": NESTED_QUERY,
}


def settings_for(database_url: str, *, response_cache: bool) -> Any:
    from core.settings import Settings

    return Settings(
        _env_file=None,
        app_env="production",
        database_url=database_url,
        jwt_secret=secrets.token_urlsafe(48),
        refresh_token_secret=secrets.token_urlsafe(48),
        metrics_token=secrets.token_urlsafe(48),
        smtp_host="127.0.0.1",
        smtp_port=2525,
        cors_allowed_origins=["http://127.0.0.1"],
        rate_limit_capacity=1_000_000_000,
        rate_limit_restore_rate=1_000_000_000,
        log_level="INFO",
        log_format="json",
        response_cache_enabled=response_cache,
        # A run under callgrind lasts minutes: with the default 60 s the cached users expire
        # a wall-clock-dependent number of times and the instruction counts wander.
        cache_ttl_users_seconds=86_400,
        mail_outbox_dir=tempfile.gettempdir(),
        storage_local_dir=tempfile.gettempdir(),
    )


class Caller:
    """One POST /graphql at a time through the ASGI app."""

    def __init__(self, app: Any, body: bytes) -> None:
        self.app = app
        self.body = body
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"host", b"127.0.0.1"),
                (b"content-type", b"application/json"),
                (b"accept", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }

    async def __call__(self) -> bytes:
        sent = False
        chunks: list[bytes] = []
        status = 0

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": self.body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(dict(self.scope, state={}), receive, send)
        if status != 200:
            raise RuntimeError(f"answered {status}: {b''.join(chunks)[:300]!r}")
        return b"".join(chunks)


async def run(args: argparse.Namespace) -> list[float]:
    from server.app import create_app
    from server.container import Container
    from server.database import close_database, init_database
    from services.seed import seed_scale

    settings = settings_for(args.database_url, response_cache=args.response_cache)
    await init_database(settings)
    from models.posts import Post

    if not await Post.exists():
        await seed_scale(args.scale)
    container = Container.from_settings(settings)
    app = create_app(settings, manage_database=False, container=container)
    # The access log's JSON lines go nowhere, but are still made.
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(io.StringIO() if args.keep_log else _Null())
    await container.start()
    call = Caller(app, orjson.dumps({"query": QUERIES[args.query]}))
    answer = orjson.loads(await call())
    if answer.get("errors"):
        raise RuntimeError(f"errors: {answer['errors']}")
    for _ in range(args.warmup):
        await call()
    per_request: list[float] = []
    try:
        for _ in range(args.rounds):
            started = time.process_time()
            for _ in range(args.requests):
                await call()
            per_request.append((time.process_time() - started) / args.requests * 1000)
    finally:
        await container.close()
        await close_database()
    return per_request


class _Null(io.StringIO):
    def write(self, text: str) -> int:
        return len(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.request_cost")
    parser.add_argument("--query", choices=sorted(QUERIES), default="typename")
    parser.add_argument("--requests", type=int, default=1000, help="per round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--scale", type=int, default=200, help="posts to seed an empty database")
    parser.add_argument("--response-cache", action="store_true")
    parser.add_argument("--keep-log", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--database-url",
        default=f"sqlite://{Path(tempfile.gettempdir()) / 'agora_request_cost.sqlite3'}",
    )
    args = parser.parse_args(argv)
    per_request = asyncio.run(run(args))
    rounds = " ".join(f"{value:.3f}" for value in per_request)
    print(
        f"{args.query}: median {statistics.median(per_request):.3f} ms CPU/request "
        f"(rounds: {rounds})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
