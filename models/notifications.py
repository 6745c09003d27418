"""Notifications and the devices that receive push messages."""

from __future__ import annotations

import enum

from tortoise import fields

from models.hydration import FastHydration


class NotificationKind(enum.StrEnum):
    WELCOME = "WELCOME"
    ORDER_UPDATED = "ORDER_UPDATED"
    TRANSFER_RECEIVED = "TRANSFER_RECEIVED"
    COMMENT_ADDED = "COMMENT_ADDED"
    POST_MODERATED = "POST_MODERATED"
    SYSTEM = "SYSTEM"


class Notification(FastHydration):
    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="notifications", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(NotificationKind, max_length=24)
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    data: dict[str, object] = fields.JSONField(default=dict)
    read_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    user_id: int

    class Meta:
        table = "notifications"
        indexes = (("user_id", "created_at", "id"), ("user_id", "read_at"), ("read_at",))


class DevicePlatform(enum.StrEnum):
    IOS = "IOS"
    ANDROID = "ANDROID"
    WEB = "WEB"


class Device(FastHydration):
    """A push target. A token belongs to one user at a time (re-registering moves it)."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="devices", on_delete=fields.CASCADE
    )
    token = fields.CharField(max_length=512, unique=True)
    platform = fields.CharEnumField(DevicePlatform, max_length=8)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField(auto_now=True)

    user_id: int

    class Meta:
        table = "devices"
        indexes = (("user_id",),)


from models.user import User  # noqa: E402
