"""Which ``posts`` filters list every public post (the feed, read by a hand-written first
page): the rule lives beside ``search_posts``, whose filters it mirrors."""

from __future__ import annotations

from typing import Any

import pytest

from models.posts import PostStatus
from services.posts import lists_every_public_post


@pytest.mark.parametrize(
    "filters",
    [{}, {"status": PostStatus.PUBLISHED}, {"search": "   "}, {"search": ""}, {"tag": ""}],
)
def test_only_the_default_status_lists_every_public_post(filters: dict[str, Any]) -> None:
    assert lists_every_public_post(**filters)


@pytest.mark.parametrize(
    "filters",
    [
        {"status": PostStatus.DRAFT},
        {"author_id": 1},
        {"tag": "python"},
        {"search": " graphql "},
    ],
)
def test_any_other_filter_does_not(filters: dict[str, Any]) -> None:
    assert not lists_every_public_post(**filters)
