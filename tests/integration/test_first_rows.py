"""The feed's first page written by hand (``loaders/pages.py: first_rows``) reads exactly the
rows ``services.pagination.paginate`` reads for it, in every order the ``posts`` list offers,
ties broken by id, drafts left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loaders.pages import first_rows
from models.posts import Post, PostStatus
from services.pagination import Ordering, PageArgs, page_of, paginate
from services.posts import PUBLIC
from tests import factories


@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("field", ["created_at", "published_at", "title"])
async def test_the_hand_written_first_page_is_the_paginated_one(
    db: None, field: str, descending: bool
) -> None:
    author = await factories.create_user()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for index in range(9):
        # Repeated titles and instants: the order falls back to the id.
        when = start + timedelta(minutes=index // 2)
        await factories.create_post(author, title=f"Title {index % 3}", created_at=when)
    await factories.create_post(author, title="Title 0", status=PostStatus.DRAFT)
    ordering = Ordering(field, descending)

    expected = await paginate(PUBLIC.queryset(), ordering, PageArgs(first=4))
    rows = await first_rows(Post, ordering, 4, PUBLIC.sql())
    page = page_of(rows, ordering, 4, PUBLIC.queryset().count)

    assert [post.id for post in page.items] == [post.id for post in expected.items]
    assert page.has_next_page == expected.has_next_page
