"""Writing posts and comments: createPost (WRITE_POSTS, validation reported all at once,
publish on create), updatePost/publishPost/deletePost by the author or MODERATE_POSTS only,
comments on published posts only and deleted by their author or a moderator; the tag filter
and the case-insensitive search; HTML stripped before storage."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from models.posts import Comment, Post, PostStatus, PostTag
from models.user import Role, User
from tests import factories
from tests.conftest import call, data_of, error_of

CREATE = """
mutation($input: CreatePostInput!) {
  createPost(input: $input) { id title body status tags publishedAt author { name } }
}
"""
UPDATE = """
mutation($id: ID!, $input: UpdatePostInput!) {
  updatePost(id: $id, input: $input) { id title body tags status }
}
"""
PUBLISH = "mutation($id: ID!) { publishPost(id: $id) { id status publishedAt } }"
DELETE = "mutation($id: ID!) { deletePost(id: $id) }"
ADD_COMMENT = """
mutation($postId: ID!, $body: String!) {
  addComment(postId: $postId, body: $body) { id body author { name } post { id commentCount } }
}
"""
DELETE_COMMENT = "mutation($id: ID!) { deleteComment(id: $id) }"
SEARCH = """
query($filter: PostFilter) { posts(first: 50, filter: $filter) { nodes { title } } }
"""


def code_of(body: dict[str, Any]) -> str:
    return error_of(body)["extensions"]["code"]  # type: ignore[no-any-return]


def post_input(**overrides: Any) -> dict[str, Any]:
    return {"title": "Hello", "body": "First words.", **overrides}


@pytest.fixture
async def author(db: None) -> User:
    return await factories.create_user(name="Author")


@pytest.fixture
async def other(db: None) -> User:
    return await factories.create_user(name="Other")


@pytest.fixture
async def moderator(db: None) -> User:
    return await factories.create_user(name="Moderator", role=Role.MODERATOR)


# --- createPost ---------------------------------------------------------------------------


async def test_create_post_makes_a_draft_by_default(
    client: httpx.AsyncClient, author: User
) -> None:
    created = data_of(await call(client, author, CREATE, {"input": post_input()}))["createPost"]
    assert created["title"] == "Hello"
    assert created["status"] == "DRAFT"
    assert created["publishedAt"] is None
    assert created["author"] == {"name": "Author"}
    post = await Post.get(author_id=author.id)
    assert post.status is PostStatus.DRAFT


async def test_create_post_with_publish_publishes_at_once(
    client: httpx.AsyncClient, author: User
) -> None:
    body = await call(client, author, CREATE, {"input": post_input(publish=True)})
    created = data_of(body)["createPost"]
    assert created["status"] == "PUBLISHED"
    assert created["publishedAt"] is not None
    listed = data_of(await call(client, None, SEARCH))["posts"]["nodes"]
    assert listed == [{"title": "Hello"}]


async def test_create_post_needs_a_signed_in_writer(client: httpx.AsyncClient, db: None) -> None:
    body = await call(client, None, CREATE, {"input": post_input()})
    assert code_of(body) == "UNAUTHENTICATED"
    assert await Post.all().count() == 0


async def test_create_post_reports_every_invalid_field_at_once(
    client: httpx.AsyncClient, author: User
) -> None:
    tags = [f"tag{i}" for i in range(11)]
    body = await call(client, author, CREATE, {"input": {"title": "", "body": "", "tags": tags}})
    error = error_of(body)
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    fields = sorted(detail["field"] for detail in error["extensions"]["details"])
    assert fields == ["input.body", "input.tags", "input.title"]
    assert all(detail["message"] for detail in error["extensions"]["details"])
    assert await Post.all().count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "x" * 201}, "input.title"),
        ({"title": "   "}, "input.title"),
        ({"body": " \n "}, "input.body"),
        ({"body": "<script>only a script</script>"}, "input.body"),
        ({"tags": ["t" * 31]}, "input.tags"),
        ({"tags": [f"t{i}" for i in range(11)]}, "input.tags"),
    ],
    ids=[
        "title-201",
        "title-blank",
        "body-blank",
        "body-empty-after-sanitising",
        "tag-31",
        "tags-11",
    ],
)
async def test_create_post_refuses_one_invalid_field(
    client: httpx.AsyncClient, author: User, overrides: dict[str, Any], field: str
) -> None:
    error = error_of(await call(client, author, CREATE, {"input": post_input(**overrides)}))
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert [detail["field"] for detail in error["extensions"]["details"]] == [field]


async def test_create_post_accepts_the_limits(client: httpx.AsyncClient, author: User) -> None:
    tags = [f"{i}" + "t" * 29 for i in range(10)]
    variables = {"input": post_input(title="x" * 200, tags=tags)}
    created = data_of(await call(client, author, CREATE, variables))["createPost"]
    assert len(created["title"]) == 200
    assert created["tags"] == tags


async def test_create_post_normalises_tags_and_indexes_them(
    client: httpx.AsyncClient, author: User
) -> None:
    variables = {"input": post_input(tags=["Python", " python ", "Web  Dev"])}
    created = data_of(await call(client, author, CREATE, variables))["createPost"]
    assert created["tags"] == ["python", "web dev"]
    rows = await PostTag.all().order_by("tag").values_list("tag", flat=True)
    assert [str(tag) for tag in rows] == ["python", "web dev"]


async def test_script_and_attributes_are_stripped_before_storage(
    client: httpx.AsyncClient, author: User
) -> None:
    hostile = '<script>alert(1)</script><b onclick="x">Hi</b>'
    variables = {"input": post_input(title=f"<i>Title</i>{hostile}", body=hostile)}
    created = data_of(await call(client, author, CREATE, variables))["createPost"]
    assert created["body"] == "Hi"
    assert created["title"] == "TitleHi"
    stored = await Post.get(author_id=author.id)
    for value in (stored.body, stored.title):
        assert "<" not in value
        assert "script" not in value
        assert "onclick" not in value
        assert "alert" not in value


async def test_comments_are_sanitised_too(client: httpx.AsyncClient, author: User) -> None:
    post = await factories.create_post(author)
    variables = {
        "postId": factories.gid("Post", post.id),
        "body": '<img src=x onerror="steal()">Nice <a href="javascript:x()">post</a>',
    }
    added = data_of(await call(client, author, ADD_COMMENT, variables))["addComment"]
    assert added["body"] == "Nice post"
    assert (await Comment.get(post_id=post.id)).body == "Nice post"


# --- updatePost / publishPost / deletePost --------------------------------------------------


async def test_the_author_updates_their_post(client: httpx.AsyncClient, author: User) -> None:
    post = await factories.create_post(author, title="Old", tags=["old"])
    variables = {
        "id": factories.gid("Post", post.id),
        "input": {"title": "New", "tags": ["Fresh"]},
    }
    updated = data_of(await call(client, author, UPDATE, variables))["updatePost"]
    assert updated["title"] == "New"
    assert updated["body"] == post.body  # untouched
    assert updated["tags"] == ["fresh"]
    rows = await PostTag.filter(post_id=post.id).values_list("tag", flat=True)
    assert [str(tag) for tag in rows] == ["fresh"]


async def test_update_post_reports_every_invalid_field_at_once(
    client: httpx.AsyncClient, author: User
) -> None:
    post = await factories.create_post(author, title="Kept")
    variables = {
        "id": factories.gid("Post", post.id),
        "input": {"title": "", "body": "", "tags": ["t" * 31]},
    }
    error = error_of(await call(client, author, UPDATE, variables))
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    fields = sorted(detail["field"] for detail in error["extensions"]["details"])
    assert fields == ["input.body", "input.tags", "input.title"]
    assert (await Post.get(id=post.id)).title == "Kept"


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ADMIN])
async def test_moderators_update_publish_and_delete_any_post(
    client: httpx.AsyncClient, author: User, role: Role
) -> None:
    moderator = await factories.create_user(role=role)
    post = await factories.create_post(author, status=PostStatus.DRAFT)
    post_id = factories.gid("Post", post.id)

    updated = await call(client, moderator, UPDATE, {"id": post_id, "input": {"title": "Fixed"}})
    assert data_of(updated)["updatePost"]["title"] == "Fixed"
    published = data_of(await call(client, moderator, PUBLISH, {"id": post_id}))["publishPost"]
    assert published["status"] == "PUBLISHED"
    assert data_of(await call(client, moderator, DELETE, {"id": post_id})) == {"deletePost": True}
    assert not await Post.exists(id=post.id)


async def test_the_author_publishes_a_draft(client: httpx.AsyncClient, author: User) -> None:
    post = await factories.create_post(author, status=PostStatus.DRAFT)
    published = data_of(await call(client, author, PUBLISH, {"id": factories.gid("Post", post.id)}))
    assert published["publishPost"]["status"] == "PUBLISHED"
    assert published["publishPost"]["publishedAt"] is not None
    assert (await Post.get(id=post.id)).status is PostStatus.PUBLISHED


async def test_the_author_deletes_their_post_and_its_comments(
    client: httpx.AsyncClient, author: User, other: User
) -> None:
    post = await factories.create_post(author)
    await factories.create_comment(post, other)
    body = await call(client, author, DELETE, {"id": factories.gid("Post", post.id)})
    assert data_of(body) == {"deletePost": True}
    assert not await Post.exists(id=post.id)
    assert await Comment.all().count() == 0


@pytest.mark.parametrize(
    ("mutation", "extra"),
    [(UPDATE, {"input": {"title": "Mine now"}}), (PUBLISH, {}), (DELETE, {})],
    ids=["update", "publish", "delete"],
)
async def test_others_may_not_change_a_published_post(
    client: httpx.AsyncClient, author: User, other: User, mutation: str, extra: dict[str, Any]
) -> None:
    post = await factories.create_post(author, title="Mine")
    body = await call(client, other, mutation, {"id": factories.gid("Post", post.id), **extra})
    assert code_of(body) == "FORBIDDEN"
    assert (await Post.get(id=post.id)).title == "Mine"


@pytest.mark.parametrize(
    ("mutation", "extra"),
    [(UPDATE, {"input": {"title": "Mine now"}}), (PUBLISH, {}), (DELETE, {})],
    ids=["update", "publish", "delete"],
)
async def test_others_get_not_found_for_a_draft_they_cannot_see(
    client: httpx.AsyncClient, author: User, other: User, mutation: str, extra: dict[str, Any]
) -> None:
    post = await factories.create_post(author, title="Secret", status=PostStatus.DRAFT)
    body = await call(client, other, mutation, {"id": factories.gid("Post", post.id), **extra})
    assert code_of(body) == "NOT_FOUND"
    stored = await Post.get(id=post.id)
    assert (stored.title, stored.status) == ("Secret", PostStatus.DRAFT)


@pytest.mark.parametrize(
    ("mutation", "extra"),
    [(UPDATE, {"input": {"title": "x"}}), (PUBLISH, {}), (DELETE, {})],
    ids=["update", "publish", "delete"],
)
async def test_post_changes_need_a_signed_in_caller(
    client: httpx.AsyncClient, author: User, mutation: str, extra: dict[str, Any]
) -> None:
    post = await factories.create_post(author)
    body = await call(client, None, mutation, {"id": factories.gid("Post", post.id), **extra})
    assert code_of(body) == "UNAUTHENTICATED"


# --- comments --------------------------------------------------------------------------------


async def test_anyone_signed_in_comments_on_a_published_post(
    client: httpx.AsyncClient, author: User, other: User
) -> None:
    post = await factories.create_post(author)
    variables = {"postId": factories.gid("Post", post.id), "body": "  Great   read!  "}
    added = data_of(await call(client, other, ADD_COMMENT, variables))["addComment"]
    assert added["body"] == "Great read!"
    assert added["author"] == {"name": "Other"}
    assert added["post"] == {"id": factories.gid("Post", post.id), "commentCount": 1}


@pytest.mark.parametrize("status", [PostStatus.DRAFT, PostStatus.ARCHIVED])
@pytest.mark.parametrize("commenter", ["author", "moderator", "other"])
async def test_no_comments_on_unpublished_posts(
    client: httpx.AsyncClient,
    author: User,
    other: User,
    moderator: User,
    status: PostStatus,
    commenter: str,
) -> None:
    post = await factories.create_post(author, status=status)
    viewer = {"author": author, "moderator": moderator, "other": other}[commenter]
    variables = {"postId": factories.gid("Post", post.id), "body": "Hello"}
    assert code_of(await call(client, viewer, ADD_COMMENT, variables)) == "NOT_FOUND"
    assert await Comment.all().count() == 0


async def test_add_comment_needs_a_signed_in_caller(
    client: httpx.AsyncClient, author: User
) -> None:
    post = await factories.create_post(author)
    variables = {"postId": factories.gid("Post", post.id), "body": "Hello"}
    assert code_of(await call(client, None, ADD_COMMENT, variables)) == "UNAUTHENTICATED"


async def test_an_empty_comment_is_a_validation_error(
    client: httpx.AsyncClient, author: User
) -> None:
    post = await factories.create_post(author)
    variables = {"postId": factories.gid("Post", post.id), "body": "<b></b>   "}
    error = error_of(await call(client, author, ADD_COMMENT, variables))
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert [detail["field"] for detail in error["extensions"]["details"]] == ["body"]


async def test_the_comment_author_deletes_their_comment(
    client: httpx.AsyncClient, author: User, other: User
) -> None:
    comment = await factories.create_comment(await factories.create_post(author), other)
    body = await call(client, other, DELETE_COMMENT, {"id": factories.gid("Comment", comment.id)})
    assert data_of(body) == {"deleteComment": True}
    assert not await Comment.exists(id=comment.id)


async def test_a_moderator_deletes_any_comment(
    client: httpx.AsyncClient, author: User, other: User, moderator: User
) -> None:
    comment = await factories.create_comment(await factories.create_post(author), other)
    variables = {"id": factories.gid("Comment", comment.id)}
    assert data_of(await call(client, moderator, DELETE_COMMENT, variables)) == {
        "deleteComment": True
    }
    assert not await Comment.exists(id=comment.id)


async def test_others_may_not_delete_a_comment(
    client: httpx.AsyncClient, author: User, other: User
) -> None:
    stranger = await factories.create_user()
    comment = await factories.create_comment(await factories.create_post(author), other)
    variables = {"id": factories.gid("Comment", comment.id)}
    assert code_of(await call(client, stranger, DELETE_COMMENT, variables)) == "FORBIDDEN"
    assert code_of(await call(client, None, DELETE_COMMENT, variables)) == "UNAUTHENTICATED"
    assert await Comment.exists(id=comment.id)


async def test_deleting_a_missing_comment_is_not_found(
    client: httpx.AsyncClient, author: User
) -> None:
    variables = {"id": factories.gid("Comment", 999_999)}
    assert code_of(await call(client, author, DELETE_COMMENT, variables)) == "NOT_FOUND"


# --- tag filter and search --------------------------------------------------------------------


async def titles(client: httpx.AsyncClient, filter: dict[str, Any]) -> list[str]:
    nodes = data_of(await call(client, None, SEARCH, {"filter": filter}))["posts"]["nodes"]
    return sorted(node["title"] for node in nodes)


async def test_tag_filter_lists_published_posts_with_the_tag(
    client: httpx.AsyncClient, author: User
) -> None:
    await factories.create_post(author, title="A", tags=["python", "web"])
    await factories.create_post(author, title="B", tags=["python"])
    await factories.create_post(author, title="C", tags=["rust"])
    await factories.create_post(author, title="D", tags=["python"], status=PostStatus.DRAFT)

    assert await titles(client, {"tag": "python"}) == ["A", "B"]
    assert await titles(client, {"tag": "  PYTHON "}) == ["A", "B"]
    assert await titles(client, {"tag": "web"}) == ["A"]
    assert await titles(client, {"tag": "go"}) == []
    counted = await call(client, None, '{ posts(filter: {tag: "python"}) { totalCount } }')
    assert data_of(counted)["posts"]["totalCount"] == 2


async def test_search_matches_title_or_body_case_insensitively(
    client: httpx.AsyncClient, author: User
) -> None:
    await factories.create_post(author, title="Learning Rust", body="Ownership.")
    await factories.create_post(author, title="Weekend", body="I wrote some rust code.")
    await factories.create_post(author, title="Gardening", body="Tomatoes.")
    await factories.create_post(author, title="Rusty draft", body="Hidden", status=PostStatus.DRAFT)

    assert await titles(client, {"search": "RUST"}) == ["Learning Rust", "Weekend"]
    assert await titles(client, {"search": "rUsT"}) == ["Learning Rust", "Weekend"]
    assert await titles(client, {"search": "tomatoes"}) == ["Gardening"]
    assert await titles(client, {"search": "python"}) == []


async def test_search_and_tag_combine(client: httpx.AsyncClient, author: User) -> None:
    await factories.create_post(author, title="Rust web", tags=["web"])
    await factories.create_post(author, title="Rust cli", tags=["cli"])
    await factories.create_post(author, title="Go web", tags=["web"])
    assert await titles(client, {"search": "rust", "tag": "web"}) == ["Rust web"]


async def test_author_filter_lists_that_authors_posts(
    client: httpx.AsyncClient, author: User, other: User
) -> None:
    await factories.create_post(author, title="Mine")
    await factories.create_post(other, title="Theirs")
    assert await titles(client, {"authorId": factories.gid("User", author.id)}) == ["Mine"]
