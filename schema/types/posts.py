"""Post and Comment. Relations read what the level's resolver prefetched (sync), else
fall back to their DataLoader."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import UNSET

from models.posts import Comment as CommentModel
from models.posts import Post as PostModel
from resolvers.posts import comments_of
from resolvers.prefetch import per_item, prefetched, to_connection, to_one
from resolvers.relations import comment_counts, comments_pages, posts_by_id, users_by_id
from vocabulary.arguments import page_args
from vocabulary.cache_hints import FEED_MAX_AGE, cache_control
from vocabulary.connections import Connection
from vocabulary.context import Info
from vocabulary.directives import connection_size, cost
from vocabulary.enums import PostStatus
from vocabulary.relay import Node, to_global_id
from vocabulary.type_checks import decided_by_class

if TYPE_CHECKING:
    from schema.types.user import User

UserRef = Annotated["User", strawberry.lazy("schema.types.user")]


@strawberry.type(
    name="Post",
    description="A post of the community feed.",
    directives=[cache_control(max_age=FEED_MAX_AGE)],
)
class Post(Node):
    title: str
    body: str = strawberry.field(description="Stored sanitised: no HTML tag or attribute.")
    status: PostStatus = strawberry.field(
        description="DRAFT and ARCHIVED posts are visible to their author and MODERATE_POSTS."
    )
    tags: list[str]
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    @decided_by_class
    def is_type_of(cls, obj: object, _info: object) -> bool:
        return isinstance(obj, (PostModel, cls))

    @strawberry.field  # type: ignore[misc]
    def id(self, root: strawberry.Parent[PostModel]) -> strawberry.ID:  # type: ignore[override]
        return to_global_id("Post", root.id)

    @strawberry.field(metadata=prefetched(to_one("author_id", users_by_id)))
    async def author(self, root: strawberry.Parent[PostModel], info: Info) -> UserRef:
        return await info.context.loaders.users.by_id.load(root.author_id)  # type: ignore[return-value]

    @strawberry.field(directives=[cost(1)], metadata=prefetched(per_item(comment_counts)))
    async def comment_count(self, root: strawberry.Parent[PostModel], info: Info) -> int:
        return await info.context.loaders.posts.comment_count.load(root.id)

    @strawberry.field(
        directives=[connection_size()],
        description="Comments, oldest first.",
        metadata=prefetched(to_connection(comments_pages)),
    )
    async def comments(
        self,
        root: strawberry.Parent[PostModel],
        info: Info,
        first: int | None = UNSET,
        after: str | None = UNSET,
        last: int | None = UNSET,
        before: str | None = UNSET,
    ) -> Connection[Comment]:
        return await comments_of(info, root, page_args(first, after, last, before))


@strawberry.type(
    name="Comment",
    description="A comment on a post.",
    directives=[cache_control(max_age=FEED_MAX_AGE)],
)
class Comment(Node):
    body: str
    created_at: datetime

    @classmethod
    @decided_by_class
    def is_type_of(cls, obj: object, _info: object) -> bool:
        return isinstance(obj, (CommentModel, cls))

    @strawberry.field  # type: ignore[misc]
    def id(self, root: strawberry.Parent[CommentModel]) -> strawberry.ID:  # type: ignore[override]
        return to_global_id("Comment", root.id)

    @strawberry.field(metadata=prefetched(to_one("author_id", users_by_id)))
    async def author(self, root: strawberry.Parent[CommentModel], info: Info) -> UserRef:
        return await info.context.loaders.users.by_id.load(root.author_id)  # type: ignore[return-value]

    @strawberry.field(metadata=prefetched(to_one("post_id", posts_by_id)))
    async def post(self, root: strawberry.Parent[CommentModel], info: Info) -> Post:
        return await info.context.loaders.posts.by_id.load(root.post_id)  # type: ignore[return-value]
