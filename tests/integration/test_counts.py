"""``counts_by``: one grouped COUNT for a whole level of parents."""

from __future__ import annotations

from loaders.counts import counts_by
from models.posts import Comment, Post, PostStatus
from tests import factories
from tests.conftest import StatementCounter


async def test_counts_come_back_per_parent_in_order_with_zero_for_none(db, sql_statements):
    author = await factories.create_user()
    busy, quiet, empty = [await factories.create_post(author) for _ in range(3)]
    await factories.create_comments(busy, [author, author, author])
    await factories.create_comments(quiet, [author])
    sql_statements.statements.clear()

    counts = await counts_by(Comment, "post_id", [quiet.id, empty.id, busy.id, quiet.id])

    assert counts == [1, 0, 3, 1]
    assert len(sql_statements.statements) == 1


async def test_a_condition_narrows_what_is_counted(db):
    author = await factories.create_user()
    await factories.create_post(author)
    await factories.create_post(author, status=PostStatus.DRAFT)

    published = f" AND \"status\" = '{PostStatus.PUBLISHED.value}'"

    assert await counts_by(Post, "author_id", [author.id]) == [2]
    assert await counts_by(Post, "author_id", [author.id], published) == [1]


async def test_no_parents_need_no_statement(db, sql_statements: StatementCounter):
    sql_statements.statements.clear()

    assert await counts_by(Comment, "post_id", []) == []
    assert sql_statements.statements == []
