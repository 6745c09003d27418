"""What every websocket handler shares: the view's interface, close codes, the handshake."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, Protocol, cast

from graphql import GraphQLError

from core.metrics import SUBSCRIPTION_CONNECTIONS
from services.errors import RateLimited, ServiceUnavailable

if TYPE_CHECKING:
    from strawberry.types.execution import ExecutionResult

    from core.settings import Settings
    from server.websocket.registry import WebSocketRegistry
    from server.websocket.shared import SharedSubscriptions
    from vocabulary.context import Context

GOING_AWAY = 1001
TRY_AGAIN_LATER = 1013
INVALID_MESSAGE = 4400
INIT_TIMEOUT = 4408
TOO_MANY_CONNECTIONS = 4429
SHUTDOWN_REASON = "Server shutting down"
# A client refused for too many live connections may try again after this long.
CONNECTIONS_RETRY_AFTER_SECONDS = 5


class TooManyConnections(RateLimited):
    """Too many live real-time connections (per user or per address): RATE_LIMITED, 429
    for an HTTP stream, close 4429 for a websocket at ``connection_init``."""

    def __init__(self, message: str) -> None:
        super().__init__(CONNECTIONS_RETRY_AFTER_SECONDS, message)


def anonymous_limit_message(settings: Settings) -> str:
    limit = settings.ws_max_anonymous_connections_per_ip
    return f"Too many anonymous connections from this address: at most {limit}"


class RealtimeView(Protocol):
    """What the handlers need from the GraphQL view (policy stays in the view)."""

    settings: Settings
    websockets: WebSocketRegistry
    shared_subscriptions: SharedSubscriptions

    async def operation_context(self, connection: Context) -> Context: ...

    def is_request_error(self, result: ExecutionResult) -> bool: ...

    def screen_document(self, query: str) -> None:
        """Refuse (PersistedQueryNotAllowed) a document the trusted-documents mode does not
        let run."""

    def websocket_errors(
        self, errors: list[GraphQLError], context: Context
    ) -> list[dict[str, Any]]: ...

    def websocket_payload(self, result: ExecutionResult, context: Context) -> dict[str, Any]: ...


async def close_quietly(handler: Any, code: int, reason: str) -> None:
    # The socket may be gone already (the client left, or it was closed for a reason).
    with suppress(Exception):
        await handler.websocket.close(code=code, reason=reason)


async def connection_init(
    handler: Any, init: Callable[[Any], Coroutine[Any, Any, None]], message: Any
) -> None:
    """``connection_init`` of either protocol: closed with 1001 while draining, with 1013
    (try again later) when the database cannot check the token, so that clients reconnect
    instead of taking it for a bad token (4403), and with 4429 when the address already
    has as many anonymous connections as it may (the reason starts with the error code)."""
    if handler.realtime.websockets.draining:
        await close_quietly(handler, GOING_AWAY, SHUTDOWN_REASON)
        return
    try:
        await init(message)
    except ServiceUnavailable as exc:
        await close_quietly(handler, TRY_AGAIN_LATER, exc.message)
    except TooManyConnections as exc:
        await close_quietly(handler, TOO_MANY_CONNECTIONS, f"{exc.code.value}: {exc.message}")


class RealtimeHandler:
    """What both protocol handlers add to Strawberry's (listed before it in their bases)."""

    view: Any
    context: Context
    # The protocol, as the ``transport`` label of ``subscription_connections_active``.
    transport: str

    @property
    def realtime(self) -> RealtimeView:
        return cast("RealtimeView", self.view)

    @contextmanager
    def registered(self) -> Iterator[None]:
        """The socket counts as live (``WebSocketRegistry``, the connections gauge) within."""
        registry = self.realtime.websockets
        gauge = SUBSCRIPTION_CONNECTIONS.labels(self.transport)
        registry.opened(self)
        gauge.inc()
        try:
            yield
        finally:
            registry.closed(self)
            gauge.dec()

    async def drain(self) -> None:
        """Wait for the operations to finish, then close with 1001."""
        raise NotImplementedError

    async def close(self, code: int, reason: str) -> None:
        await close_quietly(self, code, reason)
