"""The request every implementation of the benchmark serves, and the settings they share."""

from __future__ import annotations

import os

POSTS_FIRST = 20
COMMENTS_FIRST = 5

NESTED_QUERY = (
    f"{{ posts(first: {POSTS_FIRST}) {{ edges {{ node {{ title author {{ name }} commentCount "
    f"comments(first: {COMMENTS_FIRST}) {{ edges {{ node {{ body author {{ name }} }} }} }} "
    "} } } }"
)

# PostGraphile's equivalent, on the schema it infers from our tables: the published posts,
# newest first, each with its first comments, oldest first, and their total count.
POSTGRAPHILE_QUERY = (
    f"{{ allPosts(first: {POSTS_FIRST}, orderBy: [CREATED_AT_DESC, ID_DESC], "
    'condition: {status: "PUBLISHED"}) { nodes { title userByAuthorId { name } '
    f"commentsByPostId(first: {COMMENTS_FIRST}, orderBy: [CREATED_AT_ASC, ID_ASC]) "
    "{ totalCount nodes { body userByAuthorId { name } } } } } }"
)

# Every implementation gets the same connection pool (our server's default DB_POOL_MAX, and
# the pool reset of server/database.py that skips asyncpg's RESET round trip per release).
POOL_MIN = 1
POOL_MAX = 10


def database_url() -> str:
    """The benchmark database (set by bench/run.py for the servers it starts)."""
    return os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/agora_bench")
