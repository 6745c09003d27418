"""Notifications: stored per user, published live, pushed to the user's devices.

``notify`` is the one way in. Call it after the transaction of the action it reports has
committed (resolvers call the ``on_*`` helpers once the service returned): it creates the row,
publishes ``{"id": pk}`` on the topic ``notifications:{user_id}`` (the ``notificationReceived``
subscription reads it) and queues one ``send_push`` job per registered device. It never
raises: the action has already happened, and a notification is not worth failing it for.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet

from core.faults import dependency_failed
from models.notifications import Device, DevicePlatform, Notification, NotificationKind
from models.orders import Order, OrderStatus
from models.posts import Comment, Post
from models.user import User
from models.wallet import Transfer
from services.errors import NotFound
from services.global_ids import global_id
from services.money import to_decimal
from services.push import InvalidPushTokenError, PushMessage, mask_token
from services.validation import Problems

if TYPE_CHECKING:
    from services.jobs.base import JobContext, JobQueue
    from services.pubsub import PubSub

logger = logging.getLogger("agora.notifications")

TITLE_MAX = 200
EXCERPT_MAX = 140
DEVICE_TOKEN_MAX = 512
MAX_DEVICES_PER_USER = 10  # the most recently seen ones are kept


class Delivery(Protocol):
    """Where a notification goes once stored: the live event and the push jobs (the
    process's container has both)."""

    @property
    def pubsub(self) -> PubSub: ...

    @property
    def jobs(self) -> JobQueue: ...


def topic(user_id: int) -> str:
    """The pub/sub topic of a user's new notifications; messages are ``{"id": pk}``."""
    return f"notifications:{user_id}"


async def notify(
    delivery: Delivery,
    user_id: int,
    kind: NotificationKind,
    title: str,
    body: str,
    data: dict[str, Any] | None = None,
) -> Notification | None:
    """Store a notification for ``user_id``, publish it and queue its push messages.
    Returns the row, or None when it could not be stored (logged)."""
    try:
        notification = await Notification.create(
            user_id=user_id,
            kind=kind,
            title=_shorten(title, TITLE_MAX),
            body=body,
            data=data or {},
        )
    except Exception:
        logger.exception("could not store a %s notification", kind.value)
        return None
    try:
        await delivery.pubsub.publish(topic(user_id), {"id": notification.pk})
    except Exception:  # noqa: BLE001 - logged with its stack; the action already happened
        dependency_failed(
            logger,
            "pubsub",
            "publish",
            "could not publish notification %s",
            notification.pk,
            exc_info=True,
        )
    try:
        for device in await Device.filter(user_id=user_id).only("id"):
            await delivery.jobs.enqueue(
                "send_push", notification_id=notification.pk, device_id=device.id
            )
    except Exception:  # noqa: BLE001 - logged with its stack; the action already happened
        dependency_failed(
            logger,
            "job_queue",
            "enqueue",
            "could not queue the push messages of notification %s",
            notification.pk,
            exc_info=True,
        )
    logger.info(
        "notification %s (%s) for user %s",
        notification.pk,
        kind.value,
        user_id,
        extra={"notificationId": notification.pk, "kind": kind.value, "userId": user_id},
    )
    return notification


# --- what creates notifications (called by resolvers after the service committed) ------


async def on_comment_added(
    delivery: Delivery, comment: Comment, post: Post, commenter: User
) -> None:
    """COMMENT_ADDED to the post's author, unless they commented themselves."""
    if post.author_id == commenter.id:
        return
    await notify(
        delivery,
        post.author_id,
        NotificationKind.COMMENT_ADDED,
        f"{commenter.name} commented on “{post.title}”",
        _shorten(comment.body, EXCERPT_MAX),
        {
            "postId": global_id("Post", post.id),
            "commentId": global_id("Comment", comment.id),
            "authorId": global_id("User", commenter.id),
        },
    )


ORDER_TITLES = {
    OrderStatus.PAID: "Order #{id} placed",
    OrderStatus.COMPLETED: "Order #{id} completed",
    OrderStatus.CANCELLED: "Order #{id} cancelled",
}
ORDER_BODIES = {
    OrderStatus.PAID: "{total} was paid from your wallet.",
    OrderStatus.COMPLETED: "Your order of {total} is complete.",
    OrderStatus.CANCELLED: "Your order was cancelled and {total} refunded to your wallet.",
}


async def on_order_changed(
    delivery: Delivery, order: Order, actor: User, *, placed: bool = False
) -> None:
    """ORDER_UPDATED to the buyer: a receipt when the order is placed, and every later
    status change made by someone else (the buyer cancelling their own order gets none)."""
    if not placed and actor.id == order.buyer_id:
        return
    status = OrderStatus(order.status)
    if status not in ORDER_TITLES:
        return
    total = f"{to_decimal(order.total_cents)}"
    await notify(
        delivery,
        order.buyer_id,
        NotificationKind.ORDER_UPDATED,
        ORDER_TITLES[status].format(id=order.id),
        ORDER_BODIES[status].format(total=total),
        {"orderId": global_id("Order", order.id), "status": status.value, "total": total},
    )


async def on_transfer_received(delivery: Delivery, transfer: Transfer, sender: User) -> None:
    """TRANSFER_RECEIVED to the receiver (self-transfers are refused by the wallet)."""
    if transfer.receiver_id == sender.id:
        return
    amount = f"{to_decimal(transfer.amount_cents)}"
    body = f"{sender.name} sent you {amount}."
    if transfer.note:
        body += f" “{_shorten(transfer.note, EXCERPT_MAX)}”"
    await notify(
        delivery,
        transfer.receiver_id,
        NotificationKind.TRANSFER_RECEIVED,
        f"You received {amount}",
        body,
        {
            "transferId": global_id("Transfer", transfer.id),
            "fromUserId": global_id("User", sender.id),
            "amount": amount,
        },
    )


MODERATION_VERBS = {"UPDATED": "edited", "PUBLISHED": "published", "DELETED": "deleted"}


async def on_post_moderated(
    delivery: Delivery,
    *,
    post_id: int,
    author_id: int,
    title: str,
    moderator: User,
    action: str,
) -> None:
    """POST_MODERATED to the author when someone else (a moderator) changed their post;
    ``action`` is UPDATED, PUBLISHED or DELETED."""
    if author_id == moderator.id:
        return
    await notify(
        delivery,
        author_id,
        NotificationKind.POST_MODERATED,
        f"A moderator {MODERATION_VERBS[action]} your post",
        f"“{_shorten(title, EXCERPT_MAX)}”",
        {"postId": global_id("Post", post_id), "action": action},
    )


async def on_email_verified(delivery: Delivery, user: User) -> None:
    """WELCOME, once per user."""
    if await Notification.exists(user_id=user.id, kind=NotificationKind.WELCOME):
        return
    await notify(
        delivery,
        user.id,
        NotificationKind.WELCOME,
        f"Welcome to Agora, {user.name}!",
        "Your email address is verified: you can post, comment, shop and send money now.",
    )


# --- reading and marking ------------------------------------------------------------


def notifications_of(user_id: int, *, unread_only: bool = False) -> QuerySet[Notification]:
    query = Notification.filter(user_id=user_id)
    return query.filter(read_at__isnull=True) if unread_only else query


async def unread_count(user_id: int) -> int:
    return await Notification.filter(user_id=user_id, read_at__isnull=True).count()


async def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one of the caller's notifications read (the first reading time is kept);
    NOT_FOUND for anyone else's."""
    notification = await Notification.get_or_none(id=notification_id, user_id=user.id)
    if notification is None:
        raise NotFound("Notification not found")
    if notification.read_at is None:
        now = datetime.now(UTC)
        updated = await Notification.filter(id=notification.id, read_at__isnull=True).update(
            read_at=now
        )
        if updated:
            notification.read_at = now
        else:  # marked by a concurrent request: show its time
            await notification.refresh_from_db(fields=["read_at"])
    return notification


async def mark_all_read(user: User) -> int:
    """Mark every unread notification of the caller read; how many were."""
    return await Notification.filter(user_id=user.id, read_at__isnull=True).update(
        read_at=datetime.now(UTC)
    )


async def register_device(user: User, token: str, platform: DevicePlatform) -> None:
    """Upsert a push target. A token belongs to one user at a time: registering it again
    moves it to the caller. A user keeps their ``MAX_DEVICES_PER_USER`` most recently seen
    devices."""
    token = token.strip()
    problems = Problems()
    if not 1 <= len(token) <= DEVICE_TOKEN_MAX or any(ch.isspace() for ch in token):
        problems.add("token", f"Token must be 1 to {DEVICE_TOKEN_MAX} characters, no spaces")
    problems.raise_if_any()
    now = datetime.now(UTC)
    changes = {"user_id": user.id, "platform": platform, "last_seen_at": now}
    if not await Device.filter(token=token).update(**changes):
        try:
            await Device.create(token=token, **changes)
        except IntegrityError:  # registered concurrently: the row exists now
            await Device.filter(token=token).update(**changes)
    stale = (
        await Device.filter(user_id=user.id)
        .order_by("-last_seen_at", "-id")
        .offset(MAX_DEVICES_PER_USER)
        .values_list("id", flat=True)
    )
    if stale:
        await Device.filter(id__in=list(stale)).delete()
    logger.info(
        "device %s (%s) registered for user %s",
        mask_token(token),
        platform.value,
        user.id,
        extra={"userId": user.id, "platform": platform.value},
    )


# --- the push job -----------------------------------------------------------------


async def send_push(ctx: JobContext, *, notification_id: int, device_id: int) -> str:
    """Push one notification to one device (the ``send_push`` job).

    A device or notification deleted meanwhile, or a token that moved to another user, is
    skipped. A token the provider reports dead is removed from the devices table. Any other
    failure raises ``PushDeliveryError``, and the queue retries the job with backoff: one
    job per device, so a retry never pushes twice to a device that already got it."""
    device = await Device.get_or_none(id=device_id)
    notification = await Notification.get_or_none(id=notification_id)
    if device is None or notification is None or device.user_id != notification.user_id:
        logger.info(
            "push of notification %s to device %s skipped: gone or moved",
            notification_id,
            device_id,
        )
        return "skipped"
    message = PushMessage(
        token=device.token,
        title=notification.title,
        body=notification.body,
        data={
            "notificationId": global_id("Notification", notification.id),
            "kind": NotificationKind(notification.kind).value,
            **{key: _as_text(value) for key, value in notification.data.items()},
        },
    )
    try:
        await ctx.push.send(message)
    except InvalidPushTokenError as exc:
        # Only this token: if it was registered again meanwhile (a new row), keep that.
        removed = await Device.filter(id=device.id, token=device.token).delete()
        logger.warning(
            "device %s removed: %s",
            mask_token(device.token),
            exc.reason,
            extra={"deviceId": device.id, "userId": device.user_id, "removed": removed},
        )
        return "removed"
    return "sent"


def _as_text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
