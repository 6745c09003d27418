"""Notification queries and mutations: the caller's own notifications and devices only."""

from __future__ import annotations

from typing import Any

from models.notifications import DevicePlatform, Notification
from resolvers.node import NODE_FETCHERS
from resolvers.prefetch import prefetch_page
from services import notifications
from services.errors import NotFound
from services.pagination import Ordering, PageArgs, paginate
from vocabulary.connections import Connection
from vocabulary.context import Context, Info
from vocabulary.relay import optional_int_pk

NOTIFICATION_ORDER = Ordering("created_at", descending=True)


async def resolve_notifications(info: Info, page: PageArgs, unread_only: bool) -> Connection[Any]:
    viewer = info.context.require_user()
    query = notifications.notifications_of(viewer.id, unread_only=unread_only)
    return await prefetch_page(info, await paginate(query, NOTIFICATION_ORDER, page))


async def resolve_unread_count(info: Info) -> int:
    return await notifications.unread_count(info.context.require_user().id)


async def mark_notification_read(info: Info, global_id: str) -> Notification:
    notification_id = optional_int_pk(global_id, "Notification")
    if notification_id is None:
        raise NotFound("Notification not found")
    return await notifications.mark_read(info.context.require_user(), notification_id)


async def mark_all_notifications_read(info: Info) -> int:
    return await notifications.mark_all_read(info.context.require_user())


async def register_device(info: Info, token: str, platform: DevicePlatform) -> bool:
    await notifications.register_device(info.context.require_user(), token, platform)
    return True


async def _nodes(context: Context, pks: list[int]) -> dict[int, Any]:
    """``node(id:)``/``nodes(ids:)`` for Notifications: the caller's own, else null."""
    viewer = context.user
    if viewer is None:
        return {}
    return {
        notification.id: notification
        for notification in await Notification.filter(id__in=pks, user_id=viewer.id)
    }


NODE_FETCHERS["Notification"] = _nodes
