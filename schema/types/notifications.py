"""Notification, its kinds, and the push platforms of registerDevice."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from models.notifications import DevicePlatform, NotificationKind
from models.notifications import Notification as NotificationModel
from vocabulary.cache_hints import NEVER_CACHED
from vocabulary.relay import Node, to_global_id
from vocabulary.type_checks import decided_by_class

strawberry.enum(NotificationKind, name="NotificationKind")
strawberry.enum(DevicePlatform, name="DevicePlatform")


@strawberry.type(
    name="Notification",
    description=(
        "Something that happened for the caller: a comment on their post, an order status, "
        "a transfer received, a moderation, a welcome, a system message."
    ),
    directives=[NEVER_CACHED],
)
class Notification(Node):
    kind: NotificationKind
    title: str
    body: str
    data: JSON = strawberry.field(
        description="Details for clients, with global IDs (e.g. postId, orderId, transferId)."
    )
    read_at: datetime | None = strawberry.field(description="Null while unread.")
    created_at: datetime

    @classmethod
    @decided_by_class
    def is_type_of(cls, obj: object, _info: object) -> bool:
        return isinstance(obj, (NotificationModel, cls))

    @strawberry.field  # type: ignore[misc]
    def id(self, root: strawberry.Parent[NotificationModel]) -> strawberry.ID:  # type: ignore[override]
        return to_global_id("Notification", root.id)


__all__ = ["DevicePlatform", "Notification", "NotificationKind"]
