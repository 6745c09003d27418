"""A/B of two executors on the feed query, in one process: CPU time per request.

    .venv/bin/python -m bench.execution_ab [--rounds 8] [--requests 200] [--posts 400]
    valgrind --tool=callgrind .venv/bin/python -m bench.execution_ab --only plans --no-gc \
        --requests 50

Builds the app on an in-memory SQLite database or DATABASE_URL (an empty PostgreSQL
database: SQLite's datetime parsing would drown the executor's share) seeded with
``seed_scale(--posts)``, then alternates rounds of ``--requests`` feed requests through the
whole ASGI app (middleware, view, extensions, execution) between the executors: A is the
compiled plans (``CompiledExecutionContext``), B the executor before them
(``ModelAwareExecutionContext``). Alternating in one process cancels most of the drift of a
shared machine; the report is the CPU time per request (``time.process_time``) of each
round, the medians and their ratio. Both must answer the same JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import time
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Route
from tortoise import Tortoise

from bench.queries import NESTED_QUERY
from core.settings import Settings
from schema import AgoraSchema
from schema.execution import CompiledExecutionContext, ModelAwareExecutionContext
from server.app import create_app
from server.database import close_database, init_database
from services.seed import seed_scale

VARIANTS: dict[str, type[Any]] = {
    "A compiled plans": CompiledExecutionContext,
    "B executor without plans": ModelAwareExecutionContext,
}
RELAY_QUERY = (
    "{ posts(first: 20) { edges { cursor node { id title author { id name } "
    "comments(first: 5) { edges { cursor node { id body } } pageInfo { hasNextPage } } } } "
    "pageInfo { hasNextPage endCursor } } }"
)
QUERIES = {"feed": NESTED_QUERY, "relay": RELAY_QUERY}
SHORT_NAMES = {"plans": "A compiled plans", "no-plans": "B executor without plans"}


def schema_of(app: Starlette) -> AgoraSchema:
    """The schema of the app's GraphQL view."""
    [route] = [r for r in app.routes if isinstance(r, Route) and r.path == "/graphql"]
    schema: AgoraSchema = route.endpoint.schema  # type: ignore[attr-defined]
    return schema


def settings() -> Settings:
    return Settings(
        _env_file=None,
        app_env="test",
        database_url=os.environ.get("DATABASE_URL") or "sqlite://:memory:",
        redis_url=None,
        log_level="WARNING",
        # users stay cached for the whole run: under callgrind a run lasts minutes, and a
        # 60 s TTL made the count depend on how many times they expired meanwhile
        cache_ttl_users_seconds=86_400,
        query_max_cost=100_000,
        rate_limit_capacity=10_000_000,
        rate_limit_restore_rate=1_000_000,
    )


async def run(
    rounds: int, requests: int, posts: int, only: str | None = None, query: str = NESTED_QUERY
) -> None:
    config = settings()
    await init_database(config)
    await Tortoise.generate_schemas(safe=True)  # a fresh PostgreSQL database too
    await seed_scale(posts)
    app = create_app(config, manage_database=False)
    schema = schema_of(app)
    body = {"query": query}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench"
    ) as client:
        if only is not None:  # one variant, no A/B: for instruction counts (callgrind)
            schema.execution_context_class = VARIANTS[only]
            for _ in range(3 + requests):
                await client.post("/graphql", json=body)
            await close_database()
            return
        answers = {}
        for name, executor in VARIANTS.items():
            schema.execution_context_class = executor
            for _ in range(3):  # warm: caches, and the plan compiled on the second run
                answers[name] = (await client.post("/graphql", json=body)).json()
        first, second = answers.values()
        assert "errors" not in first, first
        assert first["data"] == second["data"], "the executors answer differently"
        per_request: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for _ in range(rounds):
            for name, executor in VARIANTS.items():
                schema.execution_context_class = executor
                gc.collect()
                started = time.process_time()
                for _ in range(requests):
                    await client.post("/graphql", json=body)
                per_request[name].append((time.process_time() - started) / requests * 1000)
    await close_database()
    medians = {name: statistics.median(values) for name, values in per_request.items()}
    for name, values in per_request.items():
        rounded = ", ".join(f"{value:.3f}" for value in values)
        print(f"{name}: median {medians[name]:.3f} ms CPU/request ({rounded})")
    a, b = medians.values()
    print(f"A/B: {a / b:.3f} ({(a / b - 1) * 100:+.1f}%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--posts", type=int, default=400)
    parser.add_argument(
        "--only",
        choices=sorted(SHORT_NAMES),
        help="send --requests (after 3 warm-up ones) with this executor alone, nothing timed: "
        "run under `valgrind --tool=callgrind` at two request counts, the difference over "
        "the difference of requests is the instructions per request",
    )
    parser.add_argument(
        "--query",
        choices=sorted(QUERIES),
        default="feed",
        help="the feed (bench/queries.py), or a Relay-shaped page (ids, cursors, pageInfo)",
    )
    parser.add_argument(
        "--no-gc",
        action="store_true",
        help="disable the cyclic garbage collector (with --only under callgrind: where a "
        "full collection lands moves the count by more than a small change does)",
    )
    args = parser.parse_args()
    if args.no_gc:
        gc.disable()
    only = SHORT_NAMES[args.only] if args.only else None
    asyncio.run(run(args.rounds, args.requests, args.posts, only, QUERIES[args.query]))


if __name__ == "__main__":
    main()
