"""Who sees which post: DRAFT and ARCHIVED posts only by their author and MODERATE_POSTS
(moderators, admins), through every door (``post``, ``node``, ``posts`` with a status
filter, ``User.posts`` on the batched and the per-user path); ``postCount`` counts published
posts only; anonymous callers see published posts only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from models.posts import Post, PostStatus
from models.user import Role, User
from tests import factories
from tests.conftest import graphql


@dataclass
class Cast:
    author: User
    other: User
    moderator: User
    admin: User
    published: Post
    draft: Post
    archived: Post
    others_draft: Post

    def viewer(self, name: str) -> User | None:
        return None if name == "anonymous" else getattr(self, name)


@pytest.fixture
async def cast(db: None) -> Cast:
    author = await factories.create_user(name="Author")
    other = await factories.create_user(name="Other")
    moderator = await factories.create_user(name="Moderator", role=Role.MODERATOR)
    admin = await factories.create_user(name="Admin", role=Role.ADMIN)
    published = await factories.create_post(author, title="Published")
    draft = await factories.create_post(author, title="Draft", status=PostStatus.DRAFT)
    archived = await factories.create_post(author, title="Archived", status=PostStatus.ARCHIVED)
    others_draft = await factories.create_post(
        other, title="Other's draft", status=PostStatus.DRAFT
    )
    return Cast(author, other, moderator, admin, published, draft, archived, others_draft)


async def ask(
    client: httpx.AsyncClient,
    viewer: User | None,
    query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    headers = factories.bearer(client, viewer) if viewer is not None else None
    body = (await graphql(client, query, variables, headers)).json()
    assert "errors" not in body, body["errors"]
    return body["data"]  # type: ignore[no-any-return]


PRIVILEGED = ["author", "moderator", "admin"]
UNPRIVILEGED = ["other", "anonymous"]

POST = "query($id: ID!) { post(id: $id) { id title status } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on Post { title status } } }"


@pytest.mark.parametrize("viewer", PRIVILEGED)
@pytest.mark.parametrize(("query", "root"), [(POST, "post"), (NODE, "node")], ids=["post", "node"])
async def test_author_and_moderators_see_unpublished_posts_by_id(
    client: httpx.AsyncClient, cast: Cast, viewer: str, query: str, root: str
) -> None:
    for post in (cast.draft, cast.archived):
        variables = {"id": factories.gid("Post", post.id)}
        data = await ask(client, cast.viewer(viewer), query, variables)
        assert data[root] == {
            "id": factories.gid("Post", post.id),
            "title": post.title,
            "status": post.status.value,
        }


@pytest.mark.parametrize("viewer", UNPRIVILEGED)
@pytest.mark.parametrize(("query", "root"), [(POST, "post"), (NODE, "node")], ids=["post", "node"])
async def test_others_get_null_for_unpublished_posts_by_id(
    client: httpx.AsyncClient, cast: Cast, viewer: str, query: str, root: str
) -> None:
    for post in (cast.draft, cast.archived):
        variables = {"id": factories.gid("Post", post.id)}
        data = await ask(client, cast.viewer(viewer), query, variables)
        assert data[root] is None


@pytest.mark.parametrize("viewer", [*PRIVILEGED, *UNPRIVILEGED])
async def test_everyone_sees_a_published_post_by_id(
    client: httpx.AsyncClient, cast: Cast, viewer: str
) -> None:
    data = await ask(
        client, cast.viewer(viewer), POST, {"id": factories.gid("Post", cast.published.id)}
    )
    assert data["post"] == {
        "id": factories.gid("Post", cast.published.id),
        "title": "Published",
        "status": "PUBLISHED",
    }


POSTS_BY_STATUS = """
query($status: PostStatus) {
  posts(first: 20, filter: {status: $status}) { nodes { title status } }
}
"""


async def titles_by_status(
    client: httpx.AsyncClient, viewer: User | None, status: str | None
) -> list[str]:
    data = await ask(client, viewer, POSTS_BY_STATUS, {"status": status})
    return sorted(node["title"] for node in data["posts"]["nodes"])


async def test_drafts_filter_lists_only_the_authors_own_drafts(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    assert await titles_by_status(client, cast.author, "DRAFT") == ["Draft"]
    assert await titles_by_status(client, cast.other, "DRAFT") == ["Other's draft"]
    assert await titles_by_status(client, cast.author, "ARCHIVED") == ["Archived"]
    assert await titles_by_status(client, cast.other, "ARCHIVED") == []


@pytest.mark.parametrize("viewer", ["moderator", "admin"])
async def test_moderators_list_every_draft_and_archived_post(
    client: httpx.AsyncClient, cast: Cast, viewer: str
) -> None:
    user = cast.viewer(viewer)
    assert await titles_by_status(client, user, "DRAFT") == ["Draft", "Other's draft"]
    assert await titles_by_status(client, user, "ARCHIVED") == ["Archived"]


async def test_anonymous_lists_only_published_posts(client: httpx.AsyncClient, cast: Cast) -> None:
    assert await titles_by_status(client, None, None) == ["Published"]
    assert await titles_by_status(client, None, "PUBLISHED") == ["Published"]
    assert await titles_by_status(client, None, "DRAFT") == []
    assert await titles_by_status(client, None, "ARCHIVED") == []


@pytest.mark.parametrize("viewer", ["author", "moderator", "admin", "other"])
async def test_the_unfiltered_list_is_published_posts_for_everyone(
    client: httpx.AsyncClient, cast: Cast, viewer: str
) -> None:
    assert await titles_by_status(client, cast.viewer(viewer), None) == ["Published"]


# The batched (windowed) path and the per-user fallback (``last``) must agree.
USER_POSTS = {
    "window": """
        query($id: ID!, $status: PostStatus) {
          user(id: $id) {
            postCount posts(first: 10, status: $status) { totalCount nodes { title } }
          }
        }
    """,
    "fallback": """
        query($id: ID!, $status: PostStatus) {
          user(id: $id) {
            postCount posts(last: 10, status: $status) { totalCount nodes { title } }
          }
        }
    """,
}


async def user_posts(
    client: httpx.AsyncClient,
    viewer: User | None,
    owner: User,
    path: str,
    status: str | None = None,
) -> tuple[list[str], int, int]:
    """(titles, totalCount, postCount) of ``owner``'s posts as ``viewer`` sees them."""
    data = await ask(
        client, viewer, USER_POSTS[path], {"id": factories.gid("User", owner.id), "status": status}
    )
    user = data["user"]
    titles = sorted(node["title"] for node in user["posts"]["nodes"])
    return titles, user["posts"]["totalCount"], user["postCount"]


PATHS = ["window", "fallback"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("viewer", PRIVILEGED)
async def test_user_posts_show_every_status_to_the_user_and_moderators(
    client: httpx.AsyncClient, cast: Cast, viewer: str, path: str
) -> None:
    titles, total, post_count = await user_posts(client, cast.viewer(viewer), cast.author, path)
    assert titles == ["Archived", "Draft", "Published"]
    assert total == 3
    assert post_count == 1


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("viewer", UNPRIVILEGED)
async def test_user_posts_show_published_ones_to_everyone_else(
    client: httpx.AsyncClient, cast: Cast, viewer: str, path: str
) -> None:
    titles, total, post_count = await user_posts(client, cast.viewer(viewer), cast.author, path)
    assert titles == ["Published"]
    assert total == 1
    assert post_count == 1


@pytest.mark.parametrize("path", PATHS)
async def test_user_posts_status_argument_cannot_reveal_drafts(
    client: httpx.AsyncClient, cast: Cast, path: str
) -> None:
    assert await user_posts(client, cast.other, cast.author, path, "DRAFT") == ([], 0, 1)
    assert await user_posts(client, cast.author, cast.author, path, "DRAFT") == (["Draft"], 1, 1)
    assert await user_posts(client, cast.moderator, cast.author, path, "ARCHIVED") == (
        ["Archived"],
        1,
        1,
    )


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("author", {"Author": ["Archived", "Draft", "Published"], "Other": ["Other's news"]}),
        ("other", {"Author": ["Published"], "Other": ["Other's draft", "Other's news"]}),
        ("anonymous", {"Author": ["Published"], "Other": ["Other's news"]}),
    ],
)
async def test_user_posts_of_several_users_follow_the_viewers_rights_per_user(
    client: httpx.AsyncClient, cast: Cast, viewer: str, expected: dict[str, list[str]]
) -> None:
    """The authors of a list share one windowed statement, yet each sees only their own
    drafts."""
    await factories.create_post(cast.other, title="Other's news")
    query = """
    {
      posts(first: 10) {
        nodes { author { name posts(first: 10) { nodes { title } } } }
      }
    }
    """
    data = await ask(client, cast.viewer(viewer), query)
    pages = {
        node["author"]["name"]: sorted(p["title"] for p in node["author"]["posts"]["nodes"])
        for node in data["posts"]["nodes"]
    }
    assert pages == expected


async def test_post_count_counts_published_posts_only(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    await factories.create_post(cast.author, title="Second")
    query = "query($id: ID!) { user(id: $id) { postCount } }"
    for viewer in (cast.author, cast.moderator, None):
        data = await ask(client, viewer, query, {"id": factories.gid("User", cast.author.id)})
        assert data["user"] == {"postCount": 2}
    data = await ask(client, None, query, {"id": factories.gid("User", cast.other.id)})
    assert data["user"] == {"postCount": 0}
