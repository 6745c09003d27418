"""The floor of this stack: Starlette + asyncpg + orjson, hand-written for the one benchmark
query. No GraphQL engine, no ORM: five batched statements (the same plan our server's
loaders run: page, authors, counts, windowed comment pages, comment authors), only the
columns the response needs, the JSON built as dicts and encoded by orjson.

Serve: ``uvicorn bench.floor_app:app --loop uvloop --http httptools`` (bench/run.py does).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.queries import (
    COMMENTS_FIRST,
    NESTED_QUERY,
    POOL_MAX,
    POOL_MIN,
    POSTS_FIRST,
    database_url,
)
from server.database import keep_session_state

POSTS_SQL = """
SELECT id, title, author_id FROM posts WHERE status = 'PUBLISHED'
ORDER BY created_at DESC, id DESC LIMIT $1
"""
USERS_SQL = "SELECT id, name FROM users WHERE id = ANY($1::bigint[])"
COUNTS_SQL = """
SELECT post_id, COUNT(*) AS total FROM comments WHERE post_id = ANY($1::bigint[])
GROUP BY post_id
"""
COMMENTS_SQL = """
SELECT post_id, body, author_id FROM (
  SELECT post_id, body, author_id,
         ROW_NUMBER() OVER (PARTITION BY post_id ORDER BY created_at, id) AS row_rank
  FROM comments WHERE post_id = ANY($1::bigint[])
) ranked WHERE row_rank <= $2 ORDER BY post_id, row_rank
"""

_NORMALISED_QUERY = " ".join(NESTED_QUERY.split())


async def _names(connection: Any, ids: set[int]) -> dict[int, str]:
    return {row["id"]: row["name"] for row in await connection.fetch(USERS_SQL, list(ids))}


async def graphql(request: Request) -> Response:
    payload = orjson.loads(await request.body())
    if " ".join(str(payload.get("query", "")).split()) != _NORMALISED_QUERY:
        return Response(b'{"errors":[{"message":"only the benchmark query"}]}', 400)
    pool: Any = request.app.state.pool
    async with pool.acquire() as connection:
        posts = await connection.fetch(POSTS_SQL, POSTS_FIRST)
        post_ids = [row["id"] for row in posts]
        authors = await _names(connection, {row["author_id"] for row in posts})
        counts = {
            row["post_id"]: row["total"] for row in await connection.fetch(COUNTS_SQL, post_ids)
        }
        comments: dict[int, list[Any]] = defaultdict(list)
        for row in await connection.fetch(COMMENTS_SQL, post_ids, COMMENTS_FIRST):
            comments[row["post_id"]].append(row)
        commenters = await _names(
            connection, {row["author_id"] for rows in comments.values() for row in rows}
        )
    edges = [
        {
            "node": {
                "title": post["title"],
                "author": {"name": authors[post["author_id"]]},
                "commentCount": counts.get(post["id"], 0),
                "comments": {
                    "edges": [
                        {
                            "node": {
                                "body": comment["body"],
                                "author": {"name": commenters[comment["author_id"]]},
                            }
                        }
                        for comment in comments[post["id"]]
                    ]
                },
            }
        }
        for post in posts
    ]
    body = orjson.dumps({"data": {"posts": {"edges": edges}}})
    return Response(body, media_type="application/json")


async def health(_: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(
        database_url(), min_size=POOL_MIN, max_size=POOL_MAX, reset=keep_session_state
    )
    try:
        yield
    finally:
        await app.state.pool.close()


app = Starlette(
    routes=[Route("/graphql", graphql, methods=["POST"]), Route("/health", health)],
    lifespan=lifespan,
)
