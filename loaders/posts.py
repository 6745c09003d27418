"""Posts by id, comment counts per post, published post counts per author."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from loaders.counts import counts_by
from loaders.level import level_loader
from models.posts import Comment, Post
from services.posts import PUBLIC


async def load_posts(ids: Sequence[int]) -> list[Post | None]:
    found = {post.id: post for post in await Post.filter(id__in=list(ids))}
    return [found.get(post_id) for post_id in ids]


async def count_comments(post_ids: Sequence[int]) -> list[int]:
    return await counts_by(Comment, "post_id", post_ids)


async def count_published_posts(author_ids: Sequence[int]) -> list[int]:
    return await counts_by(Post, "author_id", author_ids, PUBLIC.sql())


class PostLoaders:
    def __init__(self) -> None:
        self.by_id: DataLoader[int, Post | None] = level_loader(load_posts)
        self.comment_count: DataLoader[int, int] = level_loader(count_comments)
        self.published_count_by_author: DataLoader[int, int] = level_loader(
            load_fn=count_published_posts
        )
