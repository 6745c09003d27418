"""Websocket transport of /graphql: Strawberry's protocol handlers with our rules.

Strawberry runs one handler per socket and hands every operation of that socket the one
context ``get_context`` built at the handshake. The handlers here change that and add:

- a context per operation (fresh loaders; the connection's token checked again, so an
  expired or revoked token starts nothing new: UNAUTHENTICATED);
- errors formatted like HTTP ones (``extensions.code``, ``requestId``, masking), and every
  refusal before execution (cost, rate limit, document limits, permissions at subscribe)
  sent as the protocol's ``error`` message instead of a ``next`` carrying errors;
- a connection-init deadline for the legacy graphql-ws protocol too (Strawberry enforces
  it for graphql-transport-ws only);
- shared execution (``SharedSubscriptions``): every subscribe runs the whole pipeline for
  its own checks (validation, cost, permissions) in "check only" mode, then joins the group
  of identical subscriptions (same document, variables and viewer) whose one leader stream
  executes each event ONCE and hands the payload to every member;
- registration in ``WebSocketRegistry``: connections per user, and a clean shutdown that
  flushes queued events before closing with 1001.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import enum
import logging
import signal
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Hashable
from contextlib import suppress
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol, cast

import orjson
from graphql import GraphQLError, OperationType, get_operation_ast
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from loaders import Loaders
from resolvers.subscriptions import checking_only
from schema.extensions import parse_document
from server.listeners import stop_accepting
from server.ws_messages import close_reason, message_problem
from services.errors import AppError, ServiceUnavailable

if TYPE_CHECKING:
    from strawberry import Schema

    from schema.context import Context
    from server.settings import Settings

logger = logging.getLogger("agora.websocket")

GOING_AWAY = 1001
TRY_AGAIN_LATER = 1013
INVALID_MESSAGE = 4400
INIT_TIMEOUT = 4408
SHUTDOWN_REASON = "Server shutting down"
DRAIN_TIMEOUT_SECONDS = 10.0


class RealtimeView(Protocol):
    """What the handlers need from the GraphQL view (policy stays in the view)."""

    settings: Settings
    websockets: WebSocketRegistry
    shared_subscriptions: SharedSubscriptions

    async def operation_context(self, connection: Context) -> Context: ...

    def is_request_error(self, result: ExecutionResult) -> bool: ...

    def websocket_errors(
        self, errors: list[GraphQLError], context: Context
    ) -> list[dict[str, Any]]: ...

    def websocket_payload(self, result: ExecutionResult, context: Context) -> dict[str, Any]: ...


def _error_of(exc: AppError) -> GraphQLError:
    return GraphQLError(exc.message, original_error=exc)


class _Drainable(Protocol):
    context: Context

    async def drain(self) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...


class WebSocketRegistry:
    """The live websockets of this process: counted per user, drained at shutdown."""

    def __init__(
        self, max_connections_per_user: int, drain_seconds: float = DRAIN_TIMEOUT_SECONDS
    ) -> None:
        self.max_connections_per_user = max_connections_per_user
        self.drain_seconds = drain_seconds
        self.draining = False
        self._handlers: set[_Drainable] = set()
        self._by_user: dict[int, set[int]] = {}  # user id -> ids of their live contexts

    def opened(self, handler: _Drainable) -> None:
        self._handlers.add(handler)

    def closed(self, handler: _Drainable) -> None:
        self._handlers.discard(handler)
        user = handler.context.user
        if user is not None and (contexts := self._by_user.get(user.id)) is not None:
            contexts.discard(id(handler.context))
            if not contexts:
                del self._by_user[user.id]

    def admit(self, user_id: int, context: Context) -> bool:
        """Count an authenticated connection against its user's limit; False when full."""
        contexts = self._by_user.setdefault(user_id, set())
        if id(context) not in contexts and len(contexts) >= self.max_connections_per_user:
            return False
        contexts.add(id(context))
        return True

    async def drain(self) -> None:
        """Refuse new connections and operations, let every socket send what is queued for
        it (the pub/sub must be closed first, so that subscriptions end after their queued
        events), then close each with 1001."""
        self.draining = True
        handlers = list(self._handlers)
        if not handlers:
            return
        logger.info("draining %d websocket connections", len(handlers))
        tasks = [asyncio.create_task(handler.drain()) for handler in handlers]
        _, pending = await asyncio.wait(tasks, timeout=self.drain_seconds)
        for task in pending:
            task.cancel()
        for handler in handlers:
            with suppress(Exception):
                await handler.close(GOING_AWAY, SHUTDOWN_REASON)


async def _close_quietly(handler: Any, code: int, reason: str) -> None:
    # The socket may be gone already (the client left, or it was closed for a reason).
    with suppress(Exception):
        await handler.websocket.close(code=code, reason=reason)


async def _connection_init(
    handler: Any, init: Callable[[Any], Coroutine[Any, Any, None]], message: Any
) -> None:
    """``connection_init`` of either protocol: closed with 1001 while draining, and with 1013
    (try again later) when the database cannot check the token, so that clients reconnect
    instead of taking it for a bad token (4403)."""
    if handler.realtime.websockets.draining:
        await _close_quietly(handler, GOING_AWAY, SHUTDOWN_REASON)
        return
    try:
        await init(message)
    except ServiceUnavailable as exc:
        await _close_quietly(handler, TRY_AGAIN_LATER, exc.message)


_END: Any = object()
MEMBER_QUEUE_SIZE = 256


class _Member:
    """One operation following a shared subscription: a bounded queue of
    ``("next", payload)`` and ``("error", errors)``; a slow client loses its oldest events."""

    __slots__ = ("queue",)

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def put(self, item: tuple[str, Any]) -> None:
        if self.queue.qsize() >= MEMBER_QUEUE_SIZE:
            self.queue.get_nowait()
            logger.warning("a subscriber is too slow: dropped its oldest event")
        self.queue.put_nowait(item)

    def end(self) -> None:
        self.queue.put_nowait(_END)

    async def items(self) -> AsyncIterator[tuple[str, Any]]:
        while (item := await self.queue.get()) is not _END:
            yield item


class _Group:
    __slots__ = ("finished", "key", "members", "task")

    def __init__(self, key: Hashable) -> None:
        self.key = key
        self.members: set[_Member] = set()
        self.finished = False
        self.task: asyncio.Task[None] | None = None

    def broadcast(self, item: tuple[str, Any]) -> None:
        for member in self.members:
            member.put(item)


class SharedSubscriptions:
    """Identical subscriptions of this process share one execution per event.

    Identical means the same document text, operation name, variables and viewer (user and
    role, or anonymous): they would be served the same payload. The group's leader is its
    own subscription stream, run on a schema without the per-client extensions (each
    member already passed validation, cost and permissions itself), with a copy of the
    first member's context; it ends when its last member leaves, and when its source ends
    (the pub/sub closing at shutdown) its members get what was queued, then complete."""

    def __init__(self, view: RealtimeView, schema: Schema) -> None:
        self._view = view
        # A shallow copy shares the GraphQL schema; only the extension list differs.
        self._schema = copy.copy(schema)
        self._schema.extensions = ()
        self._groups: dict[Hashable, _Group] = {}

    def key(
        self,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        context: Context,
    ) -> Hashable | None:
        """The group of a subscription operation; None for anything else (queries,
        mutations, documents that do not parse: they run on their own)."""
        try:
            document = parse_document(query, self._view.settings.query_max_tokens)
        except GraphQLError:
            return None
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation is not OperationType.SUBSCRIPTION:
            return None
        user = context.user
        viewer = (user.id, user.role.value) if user is not None else None
        return (
            query,
            operation_name,
            orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS),
            viewer,
        )

    def join(
        self,
        key: Hashable,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        context: Context,
    ) -> tuple[_Group, _Member]:
        group = self._groups.get(key)
        if group is None or group.finished:
            group = _Group(key)
            self._groups[key] = group
            leader = dataclasses.replace(
                context,
                loaders=Loaders(context.container.cache),
                request_id=f"subscription-{uuid.uuid4().hex}",
            )
            group.task = asyncio.create_task(
                self._lead(group, query, operation_name, variables, leader)
            )
        member = _Member()
        group.members.add(member)
        return group, member

    def leave(self, group: _Group, member: _Member) -> None:
        group.members.discard(member)
        if not group.members and not group.finished:
            group.finished = True
            self._forget(group)
            if group.task is not None:
                group.task.cancel()

    def _forget(self, group: _Group) -> None:
        if self._groups.get(group.key) is group:
            del self._groups[group.key]

    async def _lead(
        self,
        group: _Group,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        context: Context,
    ) -> None:
        view = self._view
        try:
            source = await self._schema.stream(
                query,
                variable_values=variables,
                context_value=context,
                operation_name=operation_name,
            )
            async with aclosing(source):
                first = True
                async for result in source:
                    if not isinstance(result, ExecutionResult) or (
                        first and view.is_request_error(result)
                    ):
                        errors = getattr(result, "errors", None) or [
                            GraphQLError("Incremental delivery is not supported here")
                        ]
                        group.broadcast(("error", view.websocket_errors(errors, context)))
                        return
                    first = False
                    group.broadcast(("next", view.websocket_payload(result, context)))
        except Exception as exc:
            logger.exception("a shared subscription failed")
            error = GraphQLError(str(exc), original_error=exc)
            group.broadcast(("error", view.websocket_errors([error], context)))
        finally:
            group.finished = True
            self._forget(group)
            for member in group.members:
                member.end()


class _Outcome(enum.Enum):
    NOTHING = "nothing"  # the stream ended without a result (a checked subscription)
    SENT = "sent"  # results or an error were sent
    CLOSED = "closed"  # the socket was closed (a document that does not parse)


class TransportWSHandler(BaseGraphQLTransportWSHandler["Context", None]):
    """graphql-transport-ws (the graphql-ws library's protocol)."""

    @property
    def realtime(self) -> RealtimeView:
        return cast("RealtimeView", self.view)

    async def handle(self) -> None:
        registry = self.realtime.websockets
        registry.opened(self)
        try:
            await super().handle()
        finally:
            registry.closed(self)

    async def handle_message(self, message: Any) -> None:
        problem = message_problem(message, "subscribe", "complete")
        if problem is not None:
            await self.handle_invalid_message(close_reason(problem))  # closes with 4400
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: Any) -> None:
        await _connection_init(self, super().handle_connection_init, message)

    async def handle_subscribe(self, message: Any) -> None:
        if self.connection_acknowledged and message["id"] not in self.operations:
            error = None
            limit = self.max_subscriptions_per_connection
            if self.realtime.websockets.draining:
                error = GraphQLError(SHUTDOWN_REASON, extensions={"code": "INTERNAL_SERVER_ERROR"})
            elif limit is not None and len(self.operations) >= limit:
                error = GraphQLError(
                    f"Subscription limit reached: at most {limit} operations per connection",
                    extensions={"code": "RATE_LIMITED", "maximumSubscriptions": limit},
                )
            if error is not None:
                refusal: Any = {"id": message["id"], "type": "error", "payload": [error.formatted]}
                await self.send_message(refusal)
                return
        await super().handle_subscribe(message)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        context = self.context
        try:
            try:
                context = await self.realtime.operation_context(self.context)
                shared = self.realtime.shared_subscriptions
                key = shared.key(
                    operation.query, operation.operation_name, operation.variables, context
                )
                with checking_only(key is not None):
                    source = await self.schema.stream(
                        operation.query,
                        variable_values=operation.variables,
                        context_value=context,
                        root_value=self.root_value,
                        operation_name=operation.operation_name,
                    )
                    async with aclosing(source):
                        outcome = await self._send_results(operation, source, context)
                if outcome is _Outcome.CLOSED:
                    return
                if key is not None and outcome is _Outcome.NOTHING:
                    await self._follow(operation, key, context)
            except AppError as exc:
                # A refusal raised where Strawberry does not turn it into a result (the
                # connection's token, a document limit found while parsing).
                await self._send_errors(operation, [_error_of(exc)], context)
                return
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except Exception as error:
            await self.handle_task_exception(error)
            with suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise

    async def _send_results(
        self, operation: Operation[Context, None], source: Any, context: Context
    ) -> _Outcome:
        first = True
        async for result in source:
            if not isinstance(result, ExecutionResult):
                await self._reject_incremental_delivery(operation)
                return _Outcome.SENT
            if first and self.realtime.is_request_error(result):
                errors = result.errors or []
                if isinstance(result, PreExecutionError) and errors:
                    reason = self._get_pre_execution_close_reason(errors[0])
                    if reason:
                        self.operations.pop(operation.id, None)
                        await self.websocket.close(code=4400, reason=reason)
                        return _Outcome.CLOSED
                await self._send_errors(operation, errors, context)
                return _Outcome.SENT
            first = False
            await self._send_next(operation, self.realtime.websocket_payload(result, context))
        return _Outcome.NOTHING if first else _Outcome.SENT

    async def _follow(
        self, operation: Operation[Context, None], key: Hashable, context: Context
    ) -> None:
        """A checked subscription: receive the payloads of its shared group."""
        shared = self.realtime.shared_subscriptions
        group, member = shared.join(
            key, operation.query, operation.operation_name, operation.variables, context
        )
        try:
            async for kind, payload in member.items():
                if kind == "next":
                    await self._send_next(operation, payload)
                else:
                    message: Any = {"id": operation.id, "type": "error", "payload": payload}
                    await operation.send_operation_message(message)
                    return
        finally:
            shared.leave(group, member)

    async def _send_next(self, operation: Operation[Context, None], payload: Any) -> None:
        message: Any = {"id": operation.id, "type": "next", "payload": payload}
        await operation.send_operation_message(message)

    async def _send_errors(
        self, operation: Operation[Context, None], errors: list[GraphQLError], context: Context
    ) -> None:
        message: Any = {
            "id": operation.id,
            "type": "error",
            "payload": self.realtime.websocket_errors(errors, context),
        }
        await operation.send_operation_message(message)

    async def drain(self) -> None:
        """Wait for the operations to finish (subscriptions end once their queued events
        are sent, the pub/sub being closed), then close with 1001."""
        tasks = [operation.task for operation in self.operations.values() if operation.task]
        if tasks:
            await asyncio.wait(tasks)
        await self.close(GOING_AWAY, SHUTDOWN_REASON)

    async def close(self, code: int, reason: str) -> None:
        await _close_quietly(self, code, reason)


class LegacyWSHandler(BaseGraphQLWSHandler["Context", None]):
    """graphql-ws (the deprecated subscriptions-transport-ws protocol)."""

    @property
    def realtime(self) -> RealtimeView:
        return cast("RealtimeView", self.view)

    async def handle(self) -> None:
        registry = self.realtime.websockets
        registry.opened(self)
        deadline = asyncio.create_task(self._connection_init_deadline())
        try:
            await super().handle()
        finally:
            deadline.cancel()
            registry.closed(self)

    async def _connection_init_deadline(self) -> None:
        await asyncio.sleep(self.realtime.settings.ws_connection_init_timeout_seconds)
        if not self.connection_acknowledged:
            await self.close(INIT_TIMEOUT, "Connection initialisation timeout")

    async def handle_message(self, message: Any) -> None:
        problem = message_problem(message, "start", "stop")
        if problem is not None:
            await self.close(INVALID_MESSAGE, close_reason(problem))
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: Any) -> None:
        await _connection_init(self, super().handle_connection_init, message)

    async def handle_start(self, message: Any) -> None:
        if self.realtime.websockets.draining and self.connection_acknowledged:
            refusal: Any = {
                "type": "error",
                "id": message["id"],
                "payload": {"message": SHUTDOWN_REASON},
            }
            await self.send_message(refusal)
            return
        await super().handle_start(message)

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        context = self.context
        try:
            try:
                context = await self.realtime.operation_context(self.context)
                shared = self.realtime.shared_subscriptions
                key = shared.key(query, operation_name, variables, context)
                first = True
                with checking_only(key is not None):
                    source = await self.schema.subscribe(
                        query=query,
                        variable_values=variables,
                        operation_name=operation_name,
                        context_value=context,
                        root_value=self.root_value,
                    )
                    self.subscriptions[operation_id] = source
                    async for result in source:
                        if first and self.realtime.is_request_error(result):
                            await self._send_error(operation_id, result.errors or [], context)
                            return
                        first = False
                        payload = self.realtime.websocket_payload(result, context)
                        await self._send_data(operation_id, payload)
                if key is not None and first:
                    group, member = shared.join(key, query, operation_name, variables, context)
                    try:
                        async for kind, payload in member.items():
                            if kind != "next":
                                error: Any = {"type": "error", "id": operation_id}
                                error["payload"] = payload[0]
                                await self.send_message(error)
                                return
                            await self._send_data(operation_id, payload)
                    finally:
                        shared.leave(group, member)
            except AppError as exc:
                await self._send_error(operation_id, [_error_of(exc)], context)
                return
            await self.send_message({"type": "complete", "id": operation_id})
        except asyncio.CancelledError:
            # Stopped by the client (or the socket closed): the protocol says complete.
            with suppress(Exception):
                await self.send_message({"type": "complete", "id": operation_id})
        finally:
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)

    async def _send_data(self, operation_id: str, payload: Any) -> None:
        message: Any = {"type": "data", "id": operation_id, "payload": payload}
        await self.send_message(message)

    async def _send_error(
        self, operation_id: str, errors: list[GraphQLError], context: Context
    ) -> None:
        formatted = self.realtime.websocket_errors(errors[:1], context)
        message: Any = {"type": "error", "id": operation_id, "payload": formatted[0]}
        await self.send_message(message)

    async def drain(self) -> None:
        tasks = list(self.tasks.values())
        if tasks:
            await asyncio.wait(tasks)
        await self.close(GOING_AWAY, SHUTDOWN_REASON)

    async def close(self, code: int, reason: str) -> None:
        await _close_quietly(self, code, reason)


DRAIN_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def drain_before_exit(drain: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """Run ``drain`` when SIGTERM or SIGINT arrives, then hand the signal to the handler
    that was there before (uvicorn's, which stops the server). Uvicorn alone would close
    every websocket at once with 1012 and drop what is queued for them. New connections are
    refused from the signal on: the listening sockets close before the drain starts. A
    second signal while draining is handed over at once. Returns the function that
    uninstalls it."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    previous: dict[int, Any] = {sig: signal.getsignal(sig) for sig in DRAIN_SIGNALS}
    started = False

    def hand_over(sig: int, frame: FrameType | None) -> None:
        handler = previous[sig]
        if callable(handler):
            handler(sig, frame)
        else:  # the default action (no uvicorn around): restore it and let it happen
            signal.signal(sig, handler)
            signal.raise_signal(sig)

    def on_signal(sig: int, frame: FrameType | None) -> None:
        nonlocal started
        if started:
            hand_over(sig, frame)
            return
        started = True

        def finished(task: asyncio.Task[None]) -> None:
            if not task.cancelled() and (error := task.exception()) is not None:
                logger.error("draining the websockets failed", exc_info=error)
            hand_over(sig, frame)

        def start() -> None:
            stop_accepting(previous[sig])
            loop.create_task(drain()).add_done_callback(finished)

        loop.call_soon_threadsafe(start)

    for sig in DRAIN_SIGNALS:
        signal.signal(sig, on_signal)

    def uninstall() -> None:
        for sig in DRAIN_SIGNALS:
            if signal.getsignal(sig) is on_signal:
                signal.signal(sig, previous[sig])

    return uninstall
