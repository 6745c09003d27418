"""Posts and comments: validation, sanitising, visibility and ownership."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.posts import Comment, Post, PostStatus, PostTag
from models.user import User
from services.errors import Forbidden, NotFound
from services.permissions import Permission, role_has
from services.sanitize import sanitize_line, sanitize_text
from services.validation import Problems

TITLE_MAX = 200
BODY_MAX = 20_000
COMMENT_MAX = 5_000
TAGS_MAX = 10
TAG_MAX = 30


@dataclass(frozen=True, slots=True)
class PostChanges:
    title: str | None = None
    body: str | None = None
    tags: list[str] | None = None


def can_moderate(viewer: User | None) -> bool:
    return viewer is not None and role_has(viewer.role, Permission.MODERATE_POSTS)


@dataclass(frozen=True, slots=True)
class PostVisibility:
    """The one statement of which posts a viewer sees: PUBLISHED ones for everyone, every
    status for MODERATE_POSTS, and every status of their own posts for an author. The
    QuerySet filter, the Python predicate and the SQL condition are all read from these two
    fields (``tests/integration/test_post_visibility_rule.py`` runs the three over every status
    and kind of viewer)."""

    every_status: bool
    author_id: int | None = None

    @classmethod
    def of(cls, viewer: User | None) -> PostVisibility:
        if can_moderate(viewer):
            return cls(every_status=True)
        return cls(every_status=False, author_id=None if viewer is None else viewer.id)

    def queryset(self) -> QuerySet[Post]:
        if self.every_status:
            return Post.all()
        published = Q(status=PostStatus.PUBLISHED)
        if self.author_id is None:
            return Post.filter(published)
        return Post.filter(published | Q(author_id=self.author_id))

    def allows(self, post: Post) -> bool:
        return (
            self.every_status
            or post.status is PostStatus.PUBLISHED
            or (self.author_id is not None and post.author_id == self.author_id)
        )

    def sql(self, table: str = "") -> str:
        """The condition for hand-written SQL, as ``" AND (…)"`` ("" when every post is
        visible); ``table`` qualifies the columns. Only an int and our enum are formatted in."""
        if self.every_status:
            return ""
        prefix = f"{table}." if table else ""
        published = f"{prefix}\"status\" = '{PostStatus.PUBLISHED.value}'"
        if self.author_id is None:
            return f" AND ({published})"
        return f' AND ({published} OR {prefix}"author_id" = {int(self.author_id)})'


PUBLIC = PostVisibility(every_status=False)
"""What an anonymous viewer sees: the published posts (``postCount``, the ``posts`` list)."""


def visible_posts(viewer: User | None) -> QuerySet[Post]:
    return PostVisibility.of(viewer).queryset()


def is_visible(post: Post, viewer: User | None) -> bool:
    return PostVisibility.of(viewer).allows(post)


def search_posts(
    viewer: User | None,
    *,
    author_id: int | None = None,
    status: PostStatus | None = None,
    tag: str | None = None,
    search: str | None = None,
) -> QuerySet[Post]:
    """The ``posts`` list: PUBLISHED unless another status is asked for (and visible)."""
    if status in (None, PostStatus.PUBLISHED):
        query = PUBLIC.queryset()
    else:
        query = visible_posts(viewer).filter(status=status)
    if author_id is not None:
        query = query.filter(author_id=author_id)
    if tag:
        tagged = PostTag.filter(tag=_normalise_tag(tag)).values("post_id")
        query = query.filter(id__in=Subquery(tagged))
    if term := _search_term(search):
        query = query.filter(Q(title__icontains=term) | Q(body__icontains=term))
    return query


def lists_every_public_post(
    *,
    author_id: int | None = None,
    status: PostStatus | None = None,
    tag: str | None = None,
    search: str | None = None,
) -> bool:
    """Whether ``search_posts`` with these filters is ``PUBLIC.queryset()`` alone, whoever
    the viewer: no filter but the default status (the feed, whose first page is read by a
    hand-written statement)."""
    return (
        status in (None, PostStatus.PUBLISHED)
        and author_id is None
        and not tag
        and not _search_term(search)
    )


def _search_term(search: str | None) -> str:
    return " ".join(search.split()) if search else ""


def posts_by_author(
    viewer: User | None, author_id: int, status: PostStatus | None = None
) -> QuerySet[Post]:
    """``User.posts``: every status for the author and moderators, else published ones."""
    query = visible_posts(viewer).filter(author_id=author_id)
    return query if status is None else query.filter(status=status)


def _normalise_tag(tag: str) -> str:
    return " ".join(sanitize_line(tag).lower().split())


def _check_title(problems: Problems, field: str, title: str) -> str:
    cleaned = sanitize_line(title)
    if not 1 <= len(cleaned) <= TITLE_MAX:
        problems.add(field, f"Title must be 1 to {TITLE_MAX} characters long")
    return cleaned


def _check_body(problems: Problems, field: str, body: str, limit: int = BODY_MAX) -> str:
    cleaned = sanitize_text(body)
    if not 1 <= len(cleaned) <= limit:
        problems.add(field, f"Text must be 1 to {limit} characters long")
    return cleaned


def _check_tags(problems: Problems, field: str, tags: list[str]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        normalised = _normalise_tag(tag)
        if normalised and normalised not in cleaned:
            cleaned.append(normalised)
    if len(cleaned) > TAGS_MAX:
        problems.add(field, f"At most {TAGS_MAX} tags")
    elif any(len(tag) > TAG_MAX for tag in cleaned):
        problems.add(field, f"Each tag must be at most {TAG_MAX} characters long")
    return cleaned


async def _set_tags(post: Post, tags: list[str]) -> None:
    await PostTag.filter(post_id=post.id).delete()
    await PostTag.bulk_create([PostTag(post_id=post.id, tag=tag) for tag in tags])


async def get_visible_post(post_id: int, viewer: User | None) -> Post:
    post = await Post.get_or_none(id=post_id)
    if post is None or not is_visible(post, viewer):
        raise NotFound("Post not found")
    return post


def _require_author_or_moderator(post: Post, viewer: User) -> None:
    if viewer.id != post.author_id and not can_moderate(viewer):
        raise Forbidden("Only the author or a moderator can change this post")


async def create_post(
    author: User, title: str, body: str, tags: list[str] | None, publish: bool
) -> Post:
    problems = Problems()
    title = _check_title(problems, "input.title", title)
    body = _check_body(problems, "input.body", body)
    clean_tags = _check_tags(problems, "input.tags", tags or [])
    problems.raise_if_any()
    async with in_transaction():
        post = await Post.create(
            author=author,
            title=title,
            body=body,
            tags=clean_tags,
            status=PostStatus.PUBLISHED if publish else PostStatus.DRAFT,
            published_at=datetime.now(UTC) if publish else None,
        )
        await _set_tags(post, clean_tags)
    return post


async def update_post(viewer: User, post_id: int, changes: PostChanges) -> Post:
    post = await get_visible_post(post_id, viewer)
    _require_author_or_moderator(post, viewer)
    problems = Problems()
    fields = ["updated_at"]
    if changes.title is not None:
        post.title = _check_title(problems, "input.title", changes.title)
        fields.append("title")
    if changes.body is not None:
        post.body = _check_body(problems, "input.body", changes.body)
        fields.append("body")
    new_tags = None
    if changes.tags is not None:
        new_tags = _check_tags(problems, "input.tags", changes.tags)
        post.tags = new_tags
        fields.append("tags")
    problems.raise_if_any()
    async with in_transaction():
        await post.save(update_fields=fields)
        if new_tags is not None:
            await _set_tags(post, new_tags)
    return post


async def publish_post(viewer: User, post_id: int) -> tuple[Post, bool]:
    """Publish; returns the post and whether it was published just now."""
    post = await get_visible_post(post_id, viewer)
    _require_author_or_moderator(post, viewer)
    now = datetime.now(UTC)
    changed = (
        await Post.filter(id=post.id)
        .exclude(status=PostStatus.PUBLISHED)
        .update(status=PostStatus.PUBLISHED, published_at=now, updated_at=now)
    )
    await post.refresh_from_db()
    return post, bool(changed)


async def delete_post(viewer: User, post_id: int) -> None:
    post = await get_visible_post(post_id, viewer)
    _require_author_or_moderator(post, viewer)
    await post.delete()


async def add_comment(author: User, post_id: int, body: str) -> Comment:
    post = await get_visible_post(post_id, author)
    if post.status is not PostStatus.PUBLISHED:
        raise NotFound("Post not found")
    problems = Problems()
    text = _check_body(problems, "body", body, COMMENT_MAX)
    problems.raise_if_any()
    return await Comment.create(post_id=post.id, author=author, body=text)


async def delete_comment(viewer: User, comment_id: int) -> None:
    comment = await Comment.get_or_none(id=comment_id)
    if comment is None:
        raise NotFound("Comment not found")
    if viewer.id != comment.author_id and not can_moderate(viewer):
        raise Forbidden("Only the author or a moderator can delete this comment")
    await comment.delete()
