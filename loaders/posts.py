"""Posts by id, comment counts per post, published post counts per author."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader
from tortoise.functions import Count

from loaders.level import level_loader
from models.posts import Comment, Post, PostStatus


async def load_posts(ids: Sequence[int]) -> list[Post | None]:
    found = {post.id: post for post in await Post.filter(id__in=list(ids))}
    return [found.get(post_id) for post_id in ids]


async def count_comments(post_ids: Sequence[int]) -> list[int]:
    rows = (
        await Comment.filter(post_id__in=list(post_ids))
        .annotate(total=Count("id"))
        .group_by("post_id")
        .values("post_id", "total")
    )
    counts = {row["post_id"]: row["total"] for row in rows}
    return [counts.get(post_id, 0) for post_id in post_ids]


async def count_published_posts(author_ids: Sequence[int]) -> list[int]:
    rows = (
        await Post.filter(author_id__in=list(author_ids), status=PostStatus.PUBLISHED)
        .annotate(total=Count("id"))
        .group_by("author_id")
        .values("author_id", "total")
    )
    counts = {row["author_id"]: row["total"] for row in rows}
    return [counts.get(author_id, 0) for author_id in author_ids]


class PostLoaders:
    def __init__(self) -> None:
        self.by_id: DataLoader[int, Post | None] = level_loader(load_posts)
        self.comment_count: DataLoader[int, int] = level_loader(count_comments)
        self.published_count_by_author: DataLoader[int, int] = level_loader(
            load_fn=count_published_posts
        )
