"""The N+1 baseline: Strawberry + Tortoise written the obvious way. Every nested field is
an async resolver that runs its own query for its parent: 1 page + 20 authors + 20 counts +
20 comment pages + ~100 comment authors = ~160 statements for the benchmark query.

Same models, same tables, same JSON as our server for that query; none of its
middleware, guard rails or loaders. Serve: ``uvicorn bench.naive_app:app --loop uvloop
--http httptools`` (bench/run.py does).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strawberry.asgi import GraphQL
from tortoise import Tortoise
from tortoise.connection import connections

from bench.queries import POOL_MAX, POOL_MIN, database_url
from models.posts import Comment as CommentModel
from models.posts import Post as PostModel
from models.posts import PostStatus
from models.user import User as UserModel
from server.database import postgres_connection


@strawberry.type
class User:
    name: str


@strawberry.type
class Comment:
    body: str

    @strawberry.field
    async def author(self, root: strawberry.Parent[CommentModel]) -> User:
        return await UserModel.get(id=root.author_id)  # type: ignore[return-value]


@strawberry.type
class CommentEdge:
    node: Comment


@strawberry.type
class CommentConnection:
    edges: list[CommentEdge]


@strawberry.type
class Post:
    title: str

    @strawberry.field
    async def author(self, root: strawberry.Parent[PostModel]) -> User:
        return await UserModel.get(id=root.author_id)  # type: ignore[return-value]

    @strawberry.field
    async def comment_count(self, root: strawberry.Parent[PostModel]) -> int:
        count: int = await CommentModel.filter(post_id=root.id).count()
        return count

    @strawberry.field
    async def comments(
        self, root: strawberry.Parent[PostModel], first: int = 20
    ) -> CommentConnection:
        rows = await CommentModel.filter(post_id=root.id).order_by("created_at", "id").limit(first)
        return CommentConnection(edges=[CommentEdge(node=row) for row in rows])  # type: ignore[arg-type]


@strawberry.type
class PostEdge:
    node: Post


@strawberry.type
class PostConnection:
    edges: list[PostEdge]


@strawberry.type
class Query:
    @strawberry.field
    async def posts(self, first: int = 20) -> PostConnection:
        rows = (
            await PostModel.filter(status=PostStatus.PUBLISHED)
            .order_by("-created_at", "-id")
            .limit(first)
        )
        return PostConnection(edges=[PostEdge(node=row) for row in rows])  # type: ignore[arg-type]


schema = strawberry.Schema(query=Query)


async def health(_: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


@asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    url = database_url().replace("postgres://", "asyncpg://", 1)
    connection = postgres_connection(f"{url}?minsize={POOL_MIN}&maxsize={POOL_MAX}")
    await Tortoise.init(
        config={
            "connections": {"default": connection},
            "apps": {"models": {"models": ["models.user", "models.posts"]}},
        },
        _enable_global_fallback=True,
    )
    try:
        yield
    finally:
        await connections.close_all()


app = Starlette(
    routes=[
        Route("/graphql", GraphQL(schema, graphql_ide=None), methods=["POST"]),
        Route("/health", health),
    ],
    lifespan=lifespan,
)
