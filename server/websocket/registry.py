"""The live websockets of this process."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Protocol

from server.websocket.connection import GOING_AWAY, SHUTDOWN_REASON
from services import events

if TYPE_CHECKING:
    from services.pubsub import PubSub
    from vocabulary.context import Context

logger = logging.getLogger("agora.websocket")

DRAIN_TIMEOUT_SECONDS = 10.0
# How long ending a user's sessions waits for their connections to close. A close waits
# while the socket's send buffer is full (uvicorn's write flow control: a client that does
# not read); it goes on in the background, and the client gets it when it reads again (or
# uvicorn's keepalive drops the socket).
CLOSE_WAIT_SECONDS = 2.0
SESSIONS_ENDED_CODE = 4403  # graphql-transport-ws's "Forbidden"
SESSIONS_ENDED_REASON = "The account's sessions ended"


class Drainable(Protocol):
    context: Context

    async def drain(self) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...


class WebSocketRegistry:
    """The live websockets of this process: counted per user, drained at shutdown."""

    def __init__(
        self,
        max_connections_per_user: int,
        drain_seconds: float = DRAIN_TIMEOUT_SECONDS,
        max_anonymous_per_address: int | None = None,
        close_wait_seconds: float = CLOSE_WAIT_SECONDS,
    ) -> None:
        self.max_connections_per_user = max_connections_per_user
        self.max_anonymous_per_address = max_anonymous_per_address
        self.drain_seconds = drain_seconds
        self.close_wait_seconds = close_wait_seconds
        self.draining = False
        # In the order they opened (a dict): each user's connections close oldest first.
        self._handlers: dict[Drainable, None] = {}
        self._closing: set[asyncio.Task[None]] = set()  # closes still waiting for a socket
        self._by_user: dict[int, set[int]] = {}  # user id -> ids of their live contexts
        # client key ("ip:…") -> ids of the anonymous live contexts from that address
        self._by_address: dict[str, set[int]] = {}

    def opened(self, handler: Drainable) -> None:
        self._handlers[handler] = None

    def closed(self, handler: Drainable) -> None:
        self._handlers.pop(handler, None)
        context = handler.context
        user = context.user
        if user is not None:
            _release(self._by_user, user.id, id(context))
        else:
            _release(self._by_address, context.client_key, id(context))

    def admit(self, user_id: int, context: Context) -> bool:
        """Count an authenticated connection against its user's limit; False when full."""
        contexts = self._by_user.setdefault(user_id, set())
        if id(context) not in contexts and len(contexts) >= self.max_connections_per_user:
            return False
        contexts.add(id(context))
        return True

    def admit_anonymous(self, context: Context) -> bool:
        """Count an anonymous connection against its address's limit; False when full.
        The address is the context's client key (``ip:…``: uvicorn's client address, the
        proxy's X-Forwarded-For when it is trusted), the one the cost bucket uses."""
        limit = self.max_anonymous_per_address
        contexts = self._by_address.get(context.client_key, set())
        if id(context) not in contexts and limit is not None and len(contexts) >= limit:
            return False
        self._by_address.setdefault(context.client_key, contexts).add(id(context))
        return True

    async def end_sessions_of(self, user_id: int) -> None:
        """Close the user's websockets and HTTP streams (4403): their subscriptions were
        admitted with a token that no longer works, and shared executions serve them by
        their role or identity as it was then. All at once: a socket whose client does not
        read delays none of the others (its close goes on in the background)."""
        ended = [
            handler
            for handler in self._handlers
            if (user := handler.context.user) is not None and user.id == user_id
        ]
        pending = await self._close_all(ended, SESSIONS_ENDED_CODE, SESSIONS_ENDED_REASON)
        if pending:
            self._closing.update(pending)
            for task in pending:
                task.add_done_callback(self._closing.discard)
            logger.warning(
                "%d of %d connections of user %d not closed within %g s (a client not "
                "reading): closed when it reads again",
                len(pending),
                len(ended),
                user_id,
                self.close_wait_seconds,
                extra={"userId": user_id},
            )

    async def drain(self) -> None:
        """Refuse new connections and operations, let every socket send what is queued for
        it (the pub/sub must be closed first, so that subscriptions end after their queued
        events), then close each with 1001 (all at once, each given ``close_wait_seconds``)."""
        self.draining = True
        handlers = list(self._handlers)
        if handlers:
            logger.info("draining %d connections (websockets and HTTP streams)", len(handlers))
            tasks = [asyncio.create_task(handler.drain()) for handler in handlers]
            _, pending = await asyncio.wait(tasks, timeout=self.drain_seconds)
            for task in pending:
                task.cancel()
            self._closing.update(await self._close_all(handlers, GOING_AWAY, SHUTDOWN_REASON))
        for task in list(self._closing):  # the process is going: no socket is waited for
            task.cancel()

    async def _close_all(
        self, handlers: list[Drainable], code: int, reason: str
    ) -> set[asyncio.Task[None]]:
        """Close every handler at once; the closes not done within ``close_wait_seconds``."""
        if not handlers:
            return set()
        closes = {asyncio.create_task(_close_quietly(one, code, reason)) for one in handlers}
        _, pending = await asyncio.wait(closes, timeout=self.close_wait_seconds)
        return pending


async def _close_quietly(handler: Drainable, code: int, reason: str) -> None:
    # The socket may be gone already (the client left, or it was closed for a reason).
    with suppress(Exception):
        await handler.close(code, reason)


def _release(counts: dict[Any, set[int]], key: Any, context_id: int) -> None:
    if (contexts := counts.get(key)) is not None:
        contexts.discard(context_id)
        if not contexts:
            del counts[key]


async def drain_tasks(handler: Drainable, tasks: list[asyncio.Task[Any]]) -> None:
    """A handler's drain: wait for its operations to finish (subscriptions end once their
    queued events are sent, the pub/sub being closed), then close with 1001."""
    if tasks:
        await asyncio.wait(tasks)
    await handler.close(GOING_AWAY, SHUTDOWN_REASON)


async def end_sessions_when_told(pubsub: PubSub, registry: WebSocketRegistry) -> None:
    """For the process's lifetime: close the connections of each user whose sessions ended
    (``events.SESSIONS_ENDED``, published by whichever replica ended them)."""
    async with pubsub.subscribe(events.SESSIONS_ENDED) as messages:
        async for message in messages:
            try:
                await registry.end_sessions_of(int(message["user_id"]))
            except Exception:
                logger.exception("could not end the connections of %s", message)
