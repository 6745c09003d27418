"""Post and comment queries and mutations."""

from __future__ import annotations

from typing import Any

from loaders.pages import first_rows
from models.posts import Comment, Post, PostStatus
from models.user import User
from resolvers.attachments import MISSING
from resolvers.invalidation import comments_changed, posts_changed
from resolvers.prefetch import attached_to, prefetch_one, prefetch_page
from services import events, notifications, posts
from services.errors import BadUserInput, NotFound
from services.pagination import Ordering, PageArgs, page_of, paginate
from vocabulary.arguments import given
from vocabulary.connections import Connection
from vocabulary.context import Info
from vocabulary.enums import OrderDirection, PostOrderField
from vocabulary.inputs import CreatePostInput, PostFilter, UpdatePostInput
from vocabulary.relay import int_pk, optional_int_pk

COMMENT_ORDER = Ordering("created_at", descending=False)
USER_POSTS_ORDER = Ordering("created_at", descending=True)


async def resolve_post(info: Info, global_id: str) -> Post | None:
    post_id = optional_int_pk(global_id, "Post")
    if post_id is None:
        return None
    try:
        post = await posts.get_visible_post(post_id, info.context.user)
    except NotFound:
        return None
    await prefetch_one(info, post)
    return post


async def resolve_posts(
    info: Info,
    page: PageArgs,
    filter: PostFilter | None,
    order_by: PostOrderField,
    direction: OrderDirection,
) -> Connection[Any]:
    criteria = filter or PostFilter()
    status = given(criteria.status)
    if order_by is PostOrderField.PUBLISHED_AT and status not in (None, PostStatus.PUBLISHED):
        raise BadUserInput("Order by PUBLISHED_AT only lists published posts")
    author_id = given(criteria.author_id)
    author_pk = int_pk(author_id, "User") if author_id else None
    tag, search = given(criteria.tag), given(criteria.search)
    ordering = Ordering(order_by.value, direction.descending)
    page = page.validated()
    if _is_first_page(page) and posts.lists_every_public_post(
        author_id=author_pk, status=status, tag=tag, search=search
    ):
        # The feed's first page: one statement written by hand (no query building, also
        # none for its count unless ``totalCount`` asks).
        rows = await first_rows(Post, ordering, page.size, posts.PUBLIC.sql())
        result = page_of(rows, ordering, page.size, _count_public_posts)
    else:
        query = posts.search_posts(
            info.context.user, author_id=author_pk, status=status, tag=tag, search=search
        )
        result = await paginate(query, ordering, page)
    return await prefetch_page(info, result)


async def _count_public_posts() -> int:
    """``totalCount`` of the posts list when ``lists_every_public_post``: ``search_posts``
    is then ``PUBLIC.queryset()`` whoever the viewer."""
    return await posts.PUBLIC.queryset().count()


def _is_first_page(page: PageArgs) -> bool:
    return page.after is None and not page.backward


async def comments_of(info: Info, post: Post, page: PageArgs) -> Connection[Any]:
    """A post's comments: what ``prefetch`` attached, else loaded here (e.g. paging with a
    cursor)."""
    if (found := attached_to(info, post)) is not MISSING:
        return found  # type: ignore[no-any-return]
    result = await paginate(Comment.filter(post_id=post.id), COMMENT_ORDER, page)
    return await prefetch_page(info, result)


async def posts_of(
    info: Info, author: User, page: PageArgs, status: PostStatus | None
) -> Connection[Any]:
    """A user's posts: what ``prefetch`` attached, else loaded here (e.g. paging with a
    cursor)."""
    if (found := attached_to(info, author)) is not MISSING:
        return found  # type: ignore[no-any-return]
    info.context.note_owners((author.id,))
    query = posts.posts_by_author(info.context.user, author.id, status)
    result = await paginate(query, USER_POSTS_ORDER, page)
    return await prefetch_page(info, result)


async def create_post(info: Info, data: CreatePostInput) -> Post:
    post = await posts.create_post(
        info.context.require_user(),
        data.title,
        data.body,
        given(data.tags),
        bool(given(data.publish)),
    )
    await posts_changed(info, [post.id])
    if post.status is PostStatus.PUBLISHED:
        await events.post_published(info.context.container.pubsub, post)
    await prefetch_one(info, post)
    return post


async def update_post(info: Info, global_id: str, data: UpdatePostInput) -> Post:
    changes = posts.PostChanges(given(data.title), given(data.body), given(data.tags))
    viewer = info.context.require_user()
    post = await posts.update_post(viewer, int_pk(global_id, "Post"), changes)
    await posts_changed(info, [post.id])
    await _moderated(info, post, "UPDATED")
    await prefetch_one(info, post)
    return post


async def publish_post(info: Info, global_id: str) -> Post:
    post, published_now = await posts.publish_post(
        info.context.require_user(), int_pk(global_id, "Post")
    )
    await posts_changed(info, [post.id])
    if published_now:
        await events.post_published(info.context.container.pubsub, post)
        await _moderated(info, post, "PUBLISHED")
    await prefetch_one(info, post)
    return post


async def delete_post(info: Info, global_id: str) -> bool:
    viewer = info.context.require_user()
    post_id = int_pk(global_id, "Post")
    # Only a moderator can delete someone else's post: only then is the author told, and
    # the title must be read before the row goes.
    doomed = await Post.get_or_none(id=post_id) if posts.can_moderate(viewer) else None
    await posts.delete_post(viewer, post_id)
    await posts_changed(info, [post_id])
    if doomed is not None:
        await _moderated(info, doomed, "DELETED")
    return True


async def _moderated(info: Info, post: Post, action: str) -> None:
    """POST_MODERATED to the author when the caller is someone else (after the commit)."""
    await notifications.on_post_moderated(
        info.context.container,
        post_id=post.id,
        author_id=post.author_id,
        title=post.title,
        moderator=info.context.require_user(),
        action=action,
    )


async def add_comment(info: Info, post_id: str, body: str) -> Comment:
    commenter = info.context.require_user()
    comment = await posts.add_comment(commenter, int_pk(post_id, "Post"), body)
    await comments_changed(info, [comment.id], post_ids=[comment.post_id])
    post = await info.context.loaders.posts.by_id.load(comment.post_id)
    if post is not None:
        await notifications.on_comment_added(info.context.container, comment, post, commenter)
    await prefetch_one(info, comment)
    return comment


async def delete_comment(info: Info, global_id: str) -> bool:
    comment_id = int_pk(global_id, "Comment")
    await posts.delete_comment(info.context.require_user(), comment_id)
    # Its post's id is gone with the row: the post's responses age out by their maxAge, the
    # list pages (commentCount) are dropped.
    await comments_changed(info, [comment_id], post_ids=[])
    return True
