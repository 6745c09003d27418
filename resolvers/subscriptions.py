"""Subscription resolvers: authorize when the client subscribes, then one value per event.

An event names a row (``services.events``); the row is loaded when the event arrives and its
selected relations are prefetched with NEW loaders, so nothing served is older than the event.

Over websockets (``server.websocket``) each subscribe first runs "check only": permissions,
ownership and cost are checked, and ``_follow`` ends at once. Subscriptions whose answers
cannot differ then share one leader stream, the only one that really follows the topic; it
runs "checked by its members" (``checked_by_members``: the subscribe-time checks are not
made again for the leader's stand-in viewer). The row an event names is loaded once per
process for all the streams on that topic (they receive the same message object, see
``services.pubsub``), and so are the relations below it: the streams share one ``Loaders``
per event (``EventRows``); each stream prefetches on its own copy of the row.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
import weakref
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Any

from opentelemetry.trace import SpanKind

from core import tracing
from loaders import Loaders
from models.notifications import Notification
from models.orders import Order
from models.posts import Post
from resolvers.prefetch import current_field, fields_of, prefetch
from services import events, notifications, orders, posts
from services.cache import ModelCache
from services.errors import Forbidden, NotFound
from services.pubsub import TRACE_KEY, Message
from vocabulary.context import Info
from vocabulary.relay import int_pk

logger = logging.getLogger("agora.subscriptions")


_check_only: ContextVar[bool] = ContextVar("subscription_check_only", default=False)
_checked: ContextVar[bool] = ContextVar("subscription_checked_by_members", default=False)


@contextmanager
def checking_only(enabled: bool = True) -> Iterator[None]:
    """Within: subscription resolvers do their subscribe-time checks, then end at once."""
    token = _check_only.set(enabled)
    try:
        yield
    finally:
        _check_only.reset(token)


@contextmanager
def checked_by_members() -> Iterator[None]:
    """Within: a shared stream, whose every member passed the subscribe-time checks itself;
    the resolvers do not make them again (the leader's viewer is a stand-in)."""
    token = _checked.set(True)
    try:
        yield
    finally:
        _checked.reset(token)


class _Event:
    __slots__ = ("loaders", "message", "row")

    def __init__(self, message: Message, row: asyncio.Future[Any]) -> None:
        self.message = message
        self.row = row
        # Held weakly: alive while a stream prefetches or executes this event with them
        # (its context holds them until its next event), not for the entry's lifetime.
        self.loaders: weakref.ref[Loaders] | None = None

    async def loaded_row(self) -> Any:
        if self.row.done():
            return self.row.result()
        # Shielded: a stream leaving mid-load does not cancel the others' load.
        return await asyncio.shield(self.row)

    def shared_loaders(self, cache: ModelCache | None) -> Loaders:
        """The event's shared loaders: fresh for this event, the same for every stream
        that handles it while another still holds them."""
        loaders = self.loaders() if self.loaders is not None else None
        if loaders is None:
            loaders = Loaders(cache)
            self.loaders = weakref.ref(loaders)
        return loaders


class EventRows:
    """Per process: the row an event names, loaded once however many streams receive the
    event, and one ``Loaders`` for the relations all those streams prefetch below it (no
    loader depends on the viewer; what does, the connection pages, is built per stream).
    Keyed by the message object's identity (kept alive by the entry, so the id cannot be
    reused while cached); the oldest entries are dropped beyond ``size``. A stream takes its
    entry once per event: looked up again after the load, an entry pushed out meanwhile would
    start a second load that nobody awaits."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._entries: OrderedDict[int, _Event] = OrderedDict()

    def event(self, message: Message, load: Callable[[], Awaitable[Any]]) -> _Event:
        key = id(message)
        entry = self._entries.get(key)
        if entry is None or entry.message is not message:
            entry = _Event(message, asyncio.ensure_future(load()))
            self._entries[key] = entry
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return entry


_rows = EventRows()


def delivery_span(topic: str, message: Message) -> AbstractContextManager[object]:
    """Loading one event for one shared subscription: the root of a trace of its own (an
    event reaches many subscribers), linked to the request that published it."""
    return tracing.continued_span(
        f"subscription event {topic.split(':', 1)[0]}",
        message.get(TRACE_KEY),
        kind=SpanKind.CONSUMER,
        parent=False,
        attributes={"agora.pubsub.topic": topic},
    )


async def _follow(
    info: Info, topic: str, load: Callable[[Message], Awaitable[Any | None]]
) -> AsyncGenerator[Any, None]:
    """Yield the row each event on ``topic`` names (skipping events whose row ``load``
    does not return), prefetched for this subscription's selection with fresh loaders."""
    if _check_only.get():
        return
    context = info.context
    cache = context.container.cache
    fields = fields_of(current_field(info).selections)
    async with context.container.pubsub.subscribe(topic) as messages:
        async for message in messages:
            try:
                with delivery_span(topic, message):
                    event = _rows.event(message, functools.partial(load, message))
                    row = await event.loaded_row()
                    if row is None:
                        continue
                    item = copy.copy(row)  # prefetch attaches to it: one copy per stream
                    # Fresh for this event, shared by every stream of this process receiving it.
                    context.loaders = event.shared_loaders(cache)
                    await prefetch(info, [item], fields)
            except Exception:
                logger.exception("could not load the event %s on %s: skipped", message, topic)
                continue
            yield item


def post_published(info: Info) -> AsyncGenerator[Post, None]:
    async def load(message: Message) -> Post | None:
        post = await Post.get_or_none(id=message["id"])
        return post if post is not None and posts.PUBLIC.allows(post) else None

    return _follow(info, events.POST_PUBLISHED, load)


def notification_received(info: Info) -> AsyncGenerator[Notification, None]:
    user = info.context.require_user()

    async def load(message: Message) -> Notification | None:
        return await Notification.get_or_none(id=message["id"], user_id=user.id)

    return _follow(info, notifications.topic(user.id), load)


async def order_updated(info: Info, global_id: str) -> AsyncGenerator[Order, None]:
    """Checked once, at subscribe: the buyer, or MANAGE_ORDERS."""
    viewer = info.context.require_user()
    order_id = int_pk(global_id, "Order")
    if not _checked.get():
        order = await Order.get_or_none(id=order_id)
        if order is None and orders.can_manage(viewer):
            raise NotFound("Order not found")
        if order is None or not orders.can_read_orders_of(viewer, order.buyer_id):
            raise Forbidden("Only the buyer or MANAGE_ORDERS can follow an order")

    async def load(_: Message) -> Order | None:
        return await Order.get_or_none(id=order_id)

    return _follow(info, events.order_topic(order_id), load)
