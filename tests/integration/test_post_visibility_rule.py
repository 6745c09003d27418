"""Post visibility is stated once (``services.posts.PostVisibility``). Its three readings,
the QuerySet filter (lists, counts), the Python predicate (one post) and the SQL condition
(the hand-written first pages and counts), agree with the rule for every status and every
kind of viewer: PUBLISHED for everyone, every status for the author and MODERATE_POSTS."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from models.posts import Post, PostStatus
from models.user import Role, User
from services.posts import PUBLIC, PostVisibility
from tests import factories

EVERY_STATUS = frozenset(PostStatus)
PUBLISHED_ONLY = frozenset({PostStatus.PUBLISHED})


@dataclass(frozen=True)
class Case:
    """A viewer (None: anonymous; "author": the author of the posts) and the statuses of
    the author's posts, and of another author's, that the viewer sees."""

    viewer: Role | str | None
    own_author_sees: frozenset[PostStatus]
    other_author_sees: frozenset[PostStatus]


CASES = [
    pytest.param(Case(None, PUBLISHED_ONLY, PUBLISHED_ONLY), id="anonymous"),
    pytest.param(Case("author", EVERY_STATUS, PUBLISHED_ONLY), id="the author (USER)"),
    pytest.param(Case(Role.USER, PUBLISHED_ONLY, PUBLISHED_ONLY), id="another USER"),
    pytest.param(Case(Role.MODERATOR, EVERY_STATUS, EVERY_STATUS), id="MODERATOR"),
    pytest.param(Case(Role.ADMIN, EVERY_STATUS, EVERY_STATUS), id="ADMIN"),
]


@dataclass(frozen=True)
class World:
    author: User
    other_author: User
    posts: list[Post]


@pytest.fixture
async def world(db: None) -> World:
    author = await factories.create_user()
    other_author = await factories.create_user()
    posts = [
        await factories.create_post(writer, status=status)
        for writer in (author, other_author)
        for status in PostStatus
    ]
    return World(author, other_author, posts)


async def viewer_of(case: Case, world: World) -> User | None:
    if case.viewer is None:
        return None
    if case.viewer == "author":
        return world.author
    assert isinstance(case.viewer, Role)
    return await factories.create_user(role=case.viewer)


def expected_ids(case: Case, world: World) -> set[int]:
    sees = {world.author.id: case.own_author_sees, world.other_author.id: case.other_author_sees}
    return {post.id for post in world.posts if post.status in sees[post.author_id]}


async def ids_by_sql(condition: str, alias: str) -> set[int]:
    table = Post._meta.db_table
    sql = f'SELECT {alias}."id" FROM "{table}" {alias} WHERE 1 = 1{condition}'  # noqa: S608
    return {int(row["id"]) for row in await Post._meta.db.execute_query_dict(sql)}


@pytest.mark.parametrize("case", CASES)
async def test_the_queryset_filter_reads_the_rule(world, case):
    visibility = PostVisibility.of(await viewer_of(case, world))

    found = {post.id for post in await visibility.queryset()}

    assert found == expected_ids(case, world)


@pytest.mark.parametrize("case", CASES)
async def test_the_predicate_reads_the_rule(world, case):
    visibility = PostVisibility.of(await viewer_of(case, world))

    allowed = {post.id for post in world.posts if visibility.allows(post)}

    assert allowed == expected_ids(case, world)


@pytest.mark.parametrize("case", CASES)
async def test_the_sql_condition_reads_the_rule(world, case):
    visibility = PostVisibility.of(await viewer_of(case, world))
    table = Post._meta.db_table

    assert await ids_by_sql(visibility.sql("t"), "t") == expected_ids(case, world)
    assert await ids_by_sql(visibility.sql(), f'"{table}"') == expected_ids(case, world)


async def test_the_public_view_is_what_an_anonymous_viewer_sees():
    assert PostVisibility.of(None) == PUBLIC
