"""Notifications through the API: every trigger notifies the right user (and nobody for
their own actions), each new notification is published on ``notifications:{user_id}`` and
pushed to the user's devices; the list (newest first, unreadOnly, keyset pages), the unread
count, marking read (own only), registerDevice (upsert, a token moves between users)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from models.notifications import Device, DevicePlatform, Notification, NotificationKind
from models.orders import Order
from models.posts import Post, PostStatus
from models.user import Role, User, UserStatus
from services.jobs import InProcessJobQueue
from services.push import LogPushProvider
from tests import factories
from tests.conftest import AppFactory, data, graphql

ADD_COMMENT = (
    "mutation($post: ID!, $body: String!) { addComment(postId: $post, body: $body) { id } }"
)
UPDATE_POST = 'mutation($id: ID!) { updatePost(id: $id, input: {title: "Edited"}) { id } }'
PUBLISH_POST = "mutation($id: ID!) { publishPost(id: $id) { id status } }"
DELETE_POST = "mutation($id: ID!) { deletePost(id: $id) }"
PLACE_ORDER = """
mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }
"""
CANCEL_ORDER = "mutation($id: ID!) { cancelOrder(id: $id) { id status } }"
COMPLETE_ORDER = "mutation($id: ID!) { completeOrder(id: $id) { id status } }"
TRANSFER = """
mutation($to: ID!, $key: String!) {
  transfer(input: {toUserId: $to, amount: "12.50", note: "for lunch", idempotencyKey: $key}) {
    id
  }
}
"""
REGISTER = """
mutation($input: RegisterInput!) { register(input: $input) { id } }
"""
VERIFY = "mutation($token: String!) { verifyEmail(token: $token) { id status } }"
NOTIFICATIONS = """
query($first: Int, $after: String, $last: Int, $before: String, $unreadOnly: Boolean) {
  notifications(first: $first, after: $after, last: $last, before: $before,
                unreadOnly: $unreadOnly) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id kind title body data readAt createdAt } }
  }
}
"""
UNREAD_COUNT = "query { unreadNotificationCount }"
MARK_READ = "mutation($id: ID!) { markNotificationRead(id: $id) { id readAt } }"
MARK_ALL = "mutation { markAllNotificationsRead }"
REGISTER_DEVICE = """
mutation($token: String!, $platform: DevicePlatform!) {
  registerDevice(token: $token, platform: $platform)
}
"""
NODE = "query($id: ID!) { node(id: $id) { id ... on Notification { title } } }"


# Helpers


def error(response: httpx.Response) -> dict[str, Any]:
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    return {"message": errors[0]["message"], **errors[0]["extensions"]}


def gid(type_name: str, pk: int) -> str:
    return factories.gid(type_name, pk)


async def call(
    client: httpx.AsyncClient, user: User, query: str, **variables: Any
) -> dict[str, Any]:
    return data(await graphql(client, query, variables, factories.bearer(client, user)))


async def kinds_by_user() -> dict[int, list[NotificationKind]]:
    """Every stored notification's kind, per recipient, oldest first."""
    found: dict[int, list[NotificationKind]] = {}
    for notification in await Notification.all().order_by("id"):
        found.setdefault(notification.user_id, []).append(notification.kind)
    return found


async def only_notification(user: User) -> Notification:
    [notification] = await Notification.filter(user_id=user.id)
    return notification


async def drained(client: httpx.AsyncClient) -> InProcessJobQueue:
    queue = client.container.jobs  # type: ignore[attr-defined]
    assert isinstance(queue, InProcessJobQueue)
    async with asyncio.timeout(10):
        await queue.drain()
    return queue


async def published_post(author: User, title: str = "Cats") -> Post:
    return await factories.create_post(author, title=title, status=PostStatus.PUBLISHED)


# --- triggers -----------------------------------------------------------------------


async def test_a_comment_notifies_the_post_author_and_nobody_else(
    client: httpx.AsyncClient,
) -> None:
    author, commenter, bystander = await factories.create_users(3)
    post = await published_post(author, "Cats")

    result = await call(client, commenter, ADD_COMMENT, post=gid("Post", post.id), body="Nice!")

    notification = await only_notification(author)
    assert notification.kind is NotificationKind.COMMENT_ADDED
    assert notification.title == f"{commenter.name} commented on “Cats”"
    assert notification.body == "Nice!"
    assert notification.data == {
        "postId": gid("Post", post.id),
        "commentId": result["addComment"]["id"],
        "authorId": gid("User", commenter.id),
    }
    assert await kinds_by_user() == {author.id: [NotificationKind.COMMENT_ADDED]}
    assert bystander.id not in await kinds_by_user()


async def test_commenting_on_your_own_post_notifies_nobody(client: httpx.AsyncClient) -> None:
    author = await factories.create_user()
    post = await published_post(author)

    await call(client, author, ADD_COMMENT, post=gid("Post", post.id), body="Bump")

    assert await Notification.all().count() == 0


async def deposit(user: User, cents: int) -> None:
    await User.filter(id=user.id).update(balance_cents=cents)


async def place_order(client: httpx.AsyncClient, buyer: User, key: str = "order-1") -> str:
    seller = await factories.create_user()
    product = await factories.create_product(seller, price_cents=2_500, stock=5)
    variables = {
        "input": {
            "idempotencyKey": key,
            "items": [{"productId": gid("Product", product.id), "quantity": 2}],
        }
    }
    result = await call(client, buyer, PLACE_ORDER, **variables)
    return str(result["placeOrder"]["id"])


async def test_placing_an_order_sends_the_buyer_one_receipt_even_when_replayed(
    client: httpx.AsyncClient,
) -> None:
    buyer = await factories.create_user(balance_cents=10_000)
    seller = await factories.create_user()
    product = await factories.create_product(seller, price_cents=2_500, stock=5)
    variables = {
        "input": {
            "idempotencyKey": "same-key",
            "items": [{"productId": gid("Product", product.id), "quantity": 2}],
        }
    }

    first = (await call(client, buyer, PLACE_ORDER, **variables))["placeOrder"]
    replay = (await call(client, buyer, PLACE_ORDER, **variables))["placeOrder"]

    assert replay["id"] == first["id"]
    [order] = await Order.all()
    notification = await only_notification(buyer)
    assert notification.kind is NotificationKind.ORDER_UPDATED
    assert notification.title == f"Order #{order.id} placed"
    assert notification.body == "50.00 was paid from your wallet."
    assert notification.data == {"orderId": first["id"], "status": "PAID", "total": "50.00"}
    assert set(await kinds_by_user()) == {buyer.id}  # the seller and others: nothing


async def test_a_buyer_cancelling_their_own_order_gets_no_notification(
    client: httpx.AsyncClient,
) -> None:
    buyer = await factories.create_user(balance_cents=10_000)
    order_id = await place_order(client, buyer)
    await Notification.all().delete()  # the placement receipt

    assert (await call(client, buyer, CANCEL_ORDER, id=order_id))["cancelOrder"]["status"] == (
        "CANCELLED"
    )

    assert await Notification.all().count() == 0


@pytest.mark.parametrize(
    ("mutation", "status", "title", "body"),
    [
        (CANCEL_ORDER, "CANCELLED", "cancelled", "cancelled and 50.00 refunded to your wallet."),
        (COMPLETE_ORDER, "COMPLETED", "completed", "Your order of 50.00 is complete."),
    ],
)
async def test_staff_changing_an_order_notifies_the_buyer_only(
    client: httpx.AsyncClient, mutation: str, status: str, title: str, body: str
) -> None:
    buyer = await factories.create_user(balance_cents=10_000)
    admin = await factories.create_user(role=Role.ADMIN)
    order_id = await place_order(client, buyer)
    await Notification.all().delete()

    await call(client, admin, mutation, id=order_id)

    notification = await only_notification(buyer)
    assert notification.kind is NotificationKind.ORDER_UPDATED
    assert notification.title.endswith(title)
    assert notification.body.endswith(body)
    assert notification.data["status"] == status
    assert set(await kinds_by_user()) == {buyer.id}


async def test_a_transfer_notifies_the_receiver_once(client: httpx.AsyncClient) -> None:
    sender = await factories.create_user(name="Ada", balance_cents=5_000)
    receiver, bystander = await factories.create_users(2)

    first = await call(client, sender, TRANSFER, to=gid("User", receiver.id), key="t-1")
    await call(client, sender, TRANSFER, to=gid("User", receiver.id), key="t-1")  # replay

    notification = await only_notification(receiver)
    assert notification.kind is NotificationKind.TRANSFER_RECEIVED
    assert notification.title == "You received 12.50"
    assert notification.body == "Ada sent you 12.50. “for lunch”"
    assert notification.data == {
        "transferId": first["transfer"]["id"],
        "fromUserId": gid("User", sender.id),
        "amount": "12.50",
    }
    assert await kinds_by_user() == {receiver.id: [NotificationKind.TRANSFER_RECEIVED]}
    assert bystander.id not in await kinds_by_user()


async def test_a_moderator_changing_a_post_notifies_its_author(
    client: httpx.AsyncClient,
) -> None:
    author = await factories.create_user()
    moderator = await factories.create_user(role=Role.MODERATOR)
    post = await factories.create_post(author, title="Draft", status=PostStatus.DRAFT)
    post_id = gid("Post", post.id)

    await call(client, moderator, UPDATE_POST, id=post_id)
    await call(client, moderator, PUBLISH_POST, id=post_id)
    await call(client, moderator, PUBLISH_POST, id=post_id)  # already published: no news
    await call(client, moderator, DELETE_POST, id=post_id)

    notifications = await Notification.filter(user_id=author.id).order_by("id")
    assert [(n.kind, n.title, n.data["action"]) for n in notifications] == [
        (NotificationKind.POST_MODERATED, "A moderator edited your post", "UPDATED"),
        (NotificationKind.POST_MODERATED, "A moderator published your post", "PUBLISHED"),
        (NotificationKind.POST_MODERATED, "A moderator deleted your post", "DELETED"),
    ]
    assert notifications[0].body == "“Edited”"
    assert all(n.data["postId"] == post_id for n in notifications)
    assert set(await kinds_by_user()) == {author.id}


async def test_authors_and_moderators_changing_their_own_posts_notify_nobody(
    client: httpx.AsyncClient,
) -> None:
    author = await factories.create_user()
    moderator = await factories.create_user(role=Role.MODERATOR)
    for owner in (author, moderator):
        post = await factories.create_post(owner, status=PostStatus.DRAFT)
        await call(client, owner, UPDATE_POST, id=gid("Post", post.id))
        await call(client, owner, PUBLISH_POST, id=gid("Post", post.id))
        await call(client, owner, DELETE_POST, id=gid("Post", post.id))

    assert await Notification.all().count() == 0


async def test_verifying_an_email_welcomes_the_user_once(
    client_factory: AppFactory, tmp_path: Path
) -> None:
    client = client_factory(mail_outbox_dir=str(tmp_path))
    other = await factories.create_user()
    user_input = {"name": "Grace", "email": "grace@example.com", "password": "Str0ng!pass"}
    await graphql(client, REGISTER, {"input": user_input})
    await drained(client)
    match = re.search(r"token=([A-Za-z0-9_\-]+)", client.container.mailer.sent[-1].text)  # type: ignore[attr-defined]
    assert match

    verified = data(await graphql(client, VERIFY, {"token": match.group(1)}))
    second = await graphql(client, VERIFY, {"token": match.group(1)})  # single use

    assert verified["verifyEmail"]["status"] == "ACTIVE"
    assert "errors" in second.json()
    user = await User.get(email="grace@example.com")
    notification = await only_notification(user)
    assert notification.kind is NotificationKind.WELCOME
    assert notification.title == "Welcome to Agora, Grace!"
    assert other.id not in await kinds_by_user()


async def test_welcome_is_not_repeated_for_a_user_who_already_has_it(
    client: httpx.AsyncClient,
) -> None:
    from services import notifications

    user = await factories.create_user(status=UserStatus.ACTIVE)
    container = client.container  # type: ignore[attr-defined]

    await notifications.on_email_verified(container, user)
    await notifications.on_email_verified(container, user)

    assert await kinds_by_user() == {user.id: [NotificationKind.WELCOME]}


# --- delivery: pub/sub and push -------------------------------------------------------


async def test_a_new_notification_is_published_on_the_users_topic(
    client: httpx.AsyncClient,
) -> None:
    sender = await factories.create_user(balance_cents=5_000)
    receiver, other = await factories.create_users(2)
    pubsub = client.container.pubsub  # type: ignore[attr-defined]

    async with (
        pubsub.subscribe(f"notifications:{receiver.id}") as mine,
        pubsub.subscribe(f"notifications:{other.id}") as theirs,
    ):
        await call(client, sender, TRANSFER, to=gid("User", receiver.id), key="t-1")
        async with asyncio.timeout(5):
            message = await anext(mine)
        notification = await only_notification(receiver)
        assert message == {"id": notification.id}
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await anext(theirs)


async def test_each_of_the_users_devices_gets_a_push_message(client: httpx.AsyncClient) -> None:
    sender = await factories.create_user(name="Ada", balance_cents=5_000)
    receiver, other = await factories.create_users(2)
    await call(client, receiver, REGISTER_DEVICE, token="phone-token", platform="ANDROID")
    await call(client, receiver, REGISTER_DEVICE, token="laptop-token", platform="WEB")
    await call(client, other, REGISTER_DEVICE, token="other-token", platform="IOS")

    await call(client, sender, TRANSFER, to=gid("User", receiver.id), key="t-1")
    queue = await drained(client)

    push = client.container.push  # type: ignore[attr-defined]
    assert isinstance(push, LogPushProvider)
    notification = await only_notification(receiver)
    assert sorted(m.token for m in push.sent) == ["laptop-token", "phone-token"]
    for message in push.sent:
        assert message.title == "You received 12.50"
        assert message.body == "Ada sent you 12.50. “for lunch”"
        assert message.data["notificationId"] == gid("Notification", notification.id)
        assert message.data["kind"] == "TRANSFER_RECEIVED"
        assert message.data["amount"] == "12.50"
    assert queue.failed == []


# --- reading and marking ------------------------------------------------------------


async def make_notifications(user: User, count: int, *, read: int = 0) -> list[Notification]:
    """``count`` notifications a minute apart (the last is newest); the first ``read`` of
    them read."""
    start = datetime.now(UTC) - timedelta(hours=1)
    made = []
    for k in range(count):
        made.append(
            await Notification.create(
                user=user,
                kind=NotificationKind.SYSTEM,
                title=f"N{k}",
                body="…",
                read_at=start if k < read else None,
                created_at=start + timedelta(minutes=k),
            )
        )
    return made


async def test_notifications_lists_your_own_newest_first(client: httpx.AsyncClient) -> None:
    user, other = await factories.create_users(2)
    made = await make_notifications(user, 3, read=1)
    await make_notifications(other, 2)

    page = (await call(client, user, NOTIFICATIONS, first=10))["notifications"]

    assert page["totalCount"] == 3
    nodes = [edge["node"] for edge in page["edges"]]
    assert [node["title"] for node in nodes] == ["N2", "N1", "N0"]
    assert nodes[0]["id"] == gid("Notification", made[2].id)
    assert nodes[0]["kind"] == "SYSTEM"
    assert nodes[0]["data"] == {}
    assert nodes[0]["readAt"] is None
    assert nodes[2]["readAt"] is not None


async def test_unread_only_and_the_unread_count(client: httpx.AsyncClient) -> None:
    user, other = await factories.create_users(2)
    await make_notifications(user, 5, read=2)
    await make_notifications(other, 4)

    page = (await call(client, user, NOTIFICATIONS, first=10, unreadOnly=True))["notifications"]
    count = (await call(client, user, UNREAD_COUNT))["unreadNotificationCount"]

    assert [edge["node"]["title"] for edge in page["edges"]] == ["N4", "N3", "N2"]
    assert page["totalCount"] == 3
    assert count == 3


async def test_notifications_page_forward_and_backward_with_cursors(
    client: httpx.AsyncClient,
) -> None:
    user = await factories.create_user()
    await make_notifications(user, 5)

    first = (await call(client, user, NOTIFICATIONS, first=2))["notifications"]
    second = (
        await call(client, user, NOTIFICATIONS, first=2, after=first["pageInfo"]["endCursor"])
    )["notifications"]
    third = (
        await call(client, user, NOTIFICATIONS, first=2, after=second["pageInfo"]["endCursor"])
    )["notifications"]
    back = (
        await call(client, user, NOTIFICATIONS, last=2, before=third["pageInfo"]["startCursor"])
    )["notifications"]

    def titles(page: dict[str, Any]) -> list[str]:
        return [edge["node"]["title"] for edge in page["edges"]]

    assert titles(first) == ["N4", "N3"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert titles(second) == ["N2", "N1"]
    assert titles(third) == ["N0"]
    assert third["pageInfo"]["hasNextPage"] is False
    assert titles(back) == ["N2", "N1"]


async def test_everything_needs_authentication(client: httpx.AsyncClient) -> None:
    for query in (NOTIFICATIONS, UNREAD_COUNT, MARK_ALL):
        response = await graphql(client, query)
        assert error(response)["code"] == "UNAUTHENTICATED"
    device = await graphql(client, REGISTER_DEVICE, {"token": "t", "platform": "WEB"})
    assert error(device)["code"] == "UNAUTHENTICATED"


async def test_mark_notification_read_marks_your_own_once(client: httpx.AsyncClient) -> None:
    user = await factories.create_user()
    [notification] = await make_notifications(user, 1)
    notification_id = gid("Notification", notification.id)

    first = (await call(client, user, MARK_READ, id=notification_id))["markNotificationRead"]
    again = (await call(client, user, MARK_READ, id=notification_id))["markNotificationRead"]

    assert first["id"] == notification_id
    assert first["readAt"] is not None
    assert again["readAt"] == first["readAt"]  # the first reading time is kept
    assert (await call(client, user, UNREAD_COUNT))["unreadNotificationCount"] == 0


async def test_mark_notification_read_is_not_found_for_anyone_elses(
    client: httpx.AsyncClient,
) -> None:
    owner, intruder = await factories.create_users(2)
    [notification] = await make_notifications(owner, 1)

    for some_id in (gid("Notification", notification.id), gid("Post", notification.id)):
        response = await graphql(
            client, MARK_READ, {"id": some_id}, factories.bearer(client, intruder)
        )
        assert error(response)["code"] == "NOT_FOUND"
    assert (await Notification.get(id=notification.id)).read_at is None


async def test_mark_all_notifications_read_counts_only_your_unread_ones(
    client: httpx.AsyncClient,
) -> None:
    user, other = await factories.create_users(2)
    await make_notifications(user, 4, read=1)
    await make_notifications(other, 2)

    marked = (await call(client, user, MARK_ALL))["markAllNotificationsRead"]
    again = (await call(client, user, MARK_ALL))["markAllNotificationsRead"]

    assert (marked, again) == (3, 0)
    assert await Notification.filter(user_id=user.id, read_at__isnull=True).count() == 0
    assert await Notification.filter(user_id=other.id, read_at__isnull=True).count() == 2


async def test_node_shows_a_notification_to_its_owner_only(client: httpx.AsyncClient) -> None:
    owner, other = await factories.create_users(2)
    [notification] = await make_notifications(owner, 1)
    notification_id = gid("Notification", notification.id)

    mine = (await call(client, owner, NODE, id=notification_id))["node"]
    theirs = (await call(client, other, NODE, id=notification_id))["node"]

    assert mine == {"id": notification_id, "title": "N0"}
    assert theirs is None


# --- devices ------------------------------------------------------------------------


async def test_register_device_upserts_and_moves_a_token_to_the_new_user(
    client: httpx.AsyncClient,
) -> None:
    first_owner, second_owner = await factories.create_users(2)

    assert (await call(client, first_owner, REGISTER_DEVICE, token="tok-1", platform="IOS"))[
        "registerDevice"
    ] is True
    await call(client, first_owner, REGISTER_DEVICE, token="tok-1", platform="IOS")
    [device] = await Device.all()
    assert (device.user_id, device.platform) == (first_owner.id, DevicePlatform.IOS)

    await call(client, second_owner, REGISTER_DEVICE, token="tok-1", platform="ANDROID")

    [moved] = await Device.all()
    assert moved.id == device.id
    assert (moved.user_id, moved.platform) == (second_owner.id, DevicePlatform.ANDROID)
    assert moved.last_seen_at >= device.last_seen_at


async def test_register_device_validates_the_token(client: httpx.AsyncClient) -> None:
    user = await factories.create_user()

    for token in ("", "   ", "two words", "x" * 513):
        response = await graphql(
            client,
            REGISTER_DEVICE,
            {"token": token, "platform": "WEB"},
            factories.bearer(client, user),
        )
        failure = error(response)
        assert failure["code"] == "VALIDATION_ERROR"
        assert [d["field"] for d in failure["details"]] == ["token"]
    assert await Device.all().count() == 0


async def test_a_user_keeps_their_ten_most_recent_devices(client: httpx.AsyncClient) -> None:
    user = await factories.create_user()
    for k in range(12):
        await call(client, user, REGISTER_DEVICE, token=f"tok-{k}", platform="WEB")

    tokens = {device.token for device in await Device.filter(user_id=user.id)}

    assert tokens == {f"tok-{k}" for k in range(2, 12)}
