"""Real-time events: what the mutations publish for the subscriptions, after commit.

Call these once the service that made the change has returned (its transaction committed):
a subscriber must never see an event whose change could still roll back. Messages carry
ids only; each subscription loads the current row when the event arrives, so nothing
served is stale. Publishing never raises (the pub/sub logs and counts its faults).

Topics and messages:
- ``post.published``: ``{"id": post_id}`` → ``postPublished``
- ``order:{order_id}``: ``{"id": order_id, "status": status}`` → ``orderUpdated(id)``
- ``notifications:{user_id}``: ``{"id": notification_id}`` → ``notificationReceived``
  (published by ``services.notifications.notify``)
- ``accounts.sessions_ended``: ``{"user_id": user_id}`` → every process closes that user's
  websockets and HTTP streams (``WebSocketRegistry.end_sessions_of``): a suspended,
  re-roled, deleted or logged-out-everywhere user receives nothing more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.orders import Order
    from models.posts import Post
    from services.pubsub import PubSub

POST_PUBLISHED = "post.published"
SESSIONS_ENDED = "accounts.sessions_ended"


def order_topic(order_id: int) -> str:
    return f"order:{order_id}"


async def post_published(pubsub: PubSub, post: Post) -> None:
    """A post became PUBLISHED (``publishPost``, or ``createPost`` with ``publish: true``)."""
    await pubsub.publish(POST_PUBLISHED, {"id": post.id})


async def order_updated(pubsub: PubSub, order: Order) -> None:
    """An order was placed or changed status."""
    await pubsub.publish(order_topic(order.id), {"id": order.id, "status": order.status.value})


async def sessions_ended(pubsub: PubSub, user_id: int) -> None:
    """Every token of the user stopped working (suspension, role change, deletion,
    logoutAll): their open subscriptions end too."""
    await pubsub.publish(SESSIONS_ENDED, {"user_id": user_id})
