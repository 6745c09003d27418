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
    ) -> None:
        self.max_connections_per_user = max_connections_per_user
        self.max_anonymous_per_address = max_anonymous_per_address
        self.drain_seconds = drain_seconds
        self.draining = False
        self._handlers: set[Drainable] = set()
        self._by_user: dict[int, set[int]] = {}  # user id -> ids of their live contexts
        # client key ("ip:…") -> ids of the anonymous live contexts from that address
        self._by_address: dict[str, set[int]] = {}

    def opened(self, handler: Drainable) -> None:
        self._handlers.add(handler)

    def closed(self, handler: Drainable) -> None:
        self._handlers.discard(handler)
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
        their role or identity as it was then."""
        ended = [
            handler
            for handler in self._handlers
            if (user := handler.context.user) is not None and user.id == user_id
        ]
        for handler in ended:
            with suppress(Exception):
                await handler.close(SESSIONS_ENDED_CODE, SESSIONS_ENDED_REASON)

    async def drain(self) -> None:
        """Refuse new connections and operations, let every socket send what is queued for
        it (the pub/sub must be closed first, so that subscriptions end after their queued
        events), then close each with 1001."""
        self.draining = True
        handlers = list(self._handlers)
        if not handlers:
            return
        logger.info("draining %d connections (websockets and HTTP streams)", len(handlers))
        tasks = [asyncio.create_task(handler.drain()) for handler in handlers]
        _, pending = await asyncio.wait(tasks, timeout=self.drain_seconds)
        for task in pending:
            task.cancel()
        for handler in handlers:
            with suppress(Exception):
                await handler.close(GOING_AWAY, SHUTDOWN_REASON)


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
