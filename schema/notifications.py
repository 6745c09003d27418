"""The notification fields of the Query and Mutation roots (merged in schema.roots)."""

from __future__ import annotations

import strawberry
from strawberry import UNSET

from resolvers import notifications
from schema.permissions import authenticated
from schema.types.notifications import DevicePlatform, Notification
from vocabulary.arguments import page_args
from vocabulary.cache_hints import NEVER_CACHED
from vocabulary.connections import Connection
from vocabulary.context import Info
from vocabulary.directives import connection_size, cost


@strawberry.type
class NotificationQuery:
    @strawberry.field(
        directives=[connection_size(), NEVER_CACHED],
        description="Your notifications, newest first; `unreadOnly` keeps the unread ones.",
        extensions=authenticated(),
    )
    async def notifications(
        self,
        info: Info,
        first: int | None = UNSET,
        after: str | None = UNSET,
        last: int | None = UNSET,
        before: str | None = UNSET,
        unread_only: bool | None = False,
    ) -> Connection[Notification]:
        return await notifications.resolve_notifications(
            info,
            page_args(first, after, last, before),
            bool(unread_only),
        )

    @strawberry.field(
        description="How many of your notifications are unread (a COUNT).",
        extensions=authenticated(),
        directives=[cost(1), NEVER_CACHED],
    )
    async def unread_notification_count(self, info: Info) -> int:
        return await notifications.resolve_unread_count(info)


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(
        description="Mark one of your notifications read (NOT_FOUND for anyone else's).",
        extensions=authenticated(),
    )
    async def mark_notification_read(self, info: Info, id: strawberry.ID) -> Notification:
        return await notifications.mark_notification_read(info, id)  # type: ignore[return-value]

    @strawberry.mutation(
        description="Mark all your notifications read; returns how many were unread.",
        extensions=authenticated(),
    )
    async def mark_all_notifications_read(self, info: Info) -> int:
        return await notifications.mark_all_notifications_read(info)

    @strawberry.mutation(
        description=(
            "Register this device's push token (upsert: a token registered by another "
            "account moves to yours)."
        ),
        extensions=authenticated(),
    )
    async def register_device(self, info: Info, token: str, platform: DevicePlatform) -> bool:
        return await notifications.register_device(info, token, platform)
