"""The response cache never serves one viewer's answer to another: every kind of viewer
(anonymous, user, moderator, admin; the author and someone else) gets, with the cache on and
after every other viewer asked the same, exactly what it gets with the cache off, on queries
that mix public fields with private or viewer-dependent ones."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from models.posts import PostStatus
from models.user import Role, User
from tests import factories
from tests.conftest import AppFactory, graphql

# Each mixes what anyone may see with what depends on who asks.
MIXED_QUERIES = {
    "feed with emails": ("{ posts(first: 10) { edges { node { title author { name email } } } } }"),
    "feed beside me": "{ posts(first: 10) { edges { node { title } } } me { name email } }",
    "a draft": "query($post: ID!) { post(id: $post) { title status author { name email } } }",
    "a profile": (
        "query($user: ID!) { user(id: $user) { name email permissions "
        "posts(first: 10) { edges { node { title status } } } } }"
    ),
    "a profile, public fields only": (
        "query($user: ID!) { user(id: $user) { name "
        "posts(first: 10) { edges { node { title } } } } }"
    ),
    "a draft by node": "query($post: ID!) { node(id: $post) { ... on Post { title status } } }",
}
# Those whose anonymous answer is PUBLIC, so cached: the others are PRIVATE (email, me).
CACHED_FOR_ANONYMOUS = {"a profile, public fields only", "a draft by node"}


async def answer(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], viewer: User | None
) -> tuple[Any, list[str]]:
    headers = factories.bearer(client, viewer) if viewer is not None else None
    response = await graphql(client, query, variables, headers=headers)
    client.last_cache_state = response.headers.get("x-response-cache")  # type: ignore[attr-defined]
    body = response.json()
    return body.get("data"), [error["extensions"]["code"] for error in body.get("errors", [])]


@pytest.mark.parametrize("name", sorted(MIXED_QUERIES))
async def test_every_viewer_gets_its_own_answer_with_the_cache_on(
    client_factory: AppFactory, name: str
) -> None:
    cached = client_factory(response_cache_enabled=True)
    uncached = client_factory()
    author = await factories.create_user(name="Author")
    await factories.create_post(author, title="Public")
    draft = await factories.create_post(author, title="Draft", status=PostStatus.DRAFT)
    viewers: dict[str, User | None] = {
        "anonymous": None,
        "author": author,
        "other user": await factories.create_user(role=Role.USER),
        "moderator": await factories.create_user(role=Role.MODERATOR),
        "admin": await factories.create_user(role=Role.ADMIN),
    }
    query = MIXED_QUERIES[name]
    variables = {
        key: value
        for key, value in (
            ("post", factories.gid("Post", draft.id)),
            ("user", factories.gid("User", author.id)),
        )
        if f"${key}" in query
    }
    expected = {
        label: await answer(uncached, query, variables, viewer) for label, viewer in viewers.items()
    }
    # Every viewer asks twice, the anonymous one first and last, so that whatever any
    # answer left in the cache is there when each other viewer asks.
    order = ["anonymous", *viewers, *reversed(viewers), "anonymous"]
    for label in order:
        assert await answer(cached, query, variables, viewers[label]) == expected[label], label
    hit = cached.last_cache_state == "HIT"  # type: ignore[attr-defined]
    assert hit == (name in CACHED_FOR_ANONYMOUS)
