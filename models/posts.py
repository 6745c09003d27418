"""Posts, their tags and comments."""

from __future__ import annotations

import enum

from tortoise import fields

from models.hydration import FastHydration


class PostStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    ARCHIVED = "ARCHIVED"


class Post(FastHydration):
    """``tags`` is the list as shown; ``PostTag`` rows index it for the tag filter."""

    id = fields.BigIntField(primary_key=True)
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="posts", on_delete=fields.RESTRICT
    )
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    status = fields.CharEnumField(PostStatus, max_length=16, default=PostStatus.DRAFT)
    tags: list[str] = fields.JSONField(default=list)
    published_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    author_id: int

    class Meta:
        table = "posts"
        indexes = (
            ("status", "created_at", "id"),
            ("status", "published_at", "id"),
            ("status", "title", "id"),
            ("author_id", "created_at", "id"),
        )


class PostTag(FastHydration):
    id = fields.BigIntField(primary_key=True)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="tag_rows", on_delete=fields.CASCADE
    )
    tag = fields.CharField(max_length=30)

    class Meta:
        table = "post_tags"
        unique_together = (("post_id", "tag"),)
        indexes = (("tag", "post_id"),)


class Comment(FastHydration):
    id = fields.BigIntField(primary_key=True)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="comments", on_delete=fields.CASCADE
    )
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="comments", on_delete=fields.RESTRICT
    )
    body = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)

    post_id: int
    author_id: int

    class Meta:
        table = "comments"
        indexes = (("post_id", "created_at", "id"), ("author_id",))


from models.user import User  # noqa: E402  (for the relation annotations)
