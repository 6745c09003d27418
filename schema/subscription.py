"""The Subscription root (websocket at /graphql: graphql-transport-ws and legacy graphql-ws).

Authentication comes from the ``connection_init`` payload (``{"Authorization": "Bearer …"}``);
each subscribe is charged its cost like a query; resolvers are in ``resolvers.subscriptions``.
A root field's viewer dependence is that of its events: who receives which (subscribe-time
checks are made by each subscriber, before it joins a shared execution).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import subscriptions
from schema.permissions import authenticated
from schema.types.orders import Order
from schema.types.posts import Post
from vocabulary.context import Info
from vocabulary.viewer import ViewerDependence, depends_on_viewer

if TYPE_CHECKING:
    from schema.types.notifications import Notification

NotificationRef = Annotated["Notification", strawberry.lazy("schema.types.notifications")]


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The caller's own new notifications (needs a token in connection_init).",
        extensions=authenticated(),
        metadata=depends_on_viewer(ViewerDependence.USER),  # the topic is the viewer's
    )
    def notification_received(self, info: Info) -> AsyncGenerator[NotificationRef, None]:
        return subscriptions.notification_received(info)  # type: ignore[return-value]

    @strawberry.subscription(description="Posts as they are published (public).")
    def post_published(self, info: Info) -> AsyncGenerator[Post, None]:
        return subscriptions.post_published(info)  # type: ignore[return-value]

    @strawberry.subscription(
        description="An order's changes: its buyer, or MANAGE_ORDERS (FORBIDDEN otherwise).",
        extensions=authenticated(),
    )
    async def order_updated(self, info: Info, id: strawberry.ID) -> AsyncGenerator[Order, None]:
        return await subscriptions.order_updated(info, id)  # type: ignore[return-value]
