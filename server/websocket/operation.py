"""The run of one websocket operation, the same for both protocols: check, then follow.

Each operation gets its own context (fresh loaders, the connection's token checked again)
and runs the whole pipeline on its own stream. A subscription runs it in "check only" mode
(``resolvers.subscriptions.checking_only``: validation, cost, permissions and the resolver's
subscribe-time checks, then the stream ends at once) and then follows its group of
``SharedSubscriptions``; anything else (queries, mutations, documents that do not parse)
is answered by its own stream. The protocols differ only in their messages
(``ProtocolOperation``)."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, suppress
from typing import TYPE_CHECKING, Any, Protocol

from graphql import GraphQLError, get_operation_ast
from strawberry.types.execution import ExecutionResult

from core.metrics import (
    SUBSCRIPTION_DELIVERIES,
    SUBSCRIPTION_DROPS,
    SUBSCRIPTIONS_ACTIVE,
    operation_label,
)
from resolvers.subscriptions import checking_only
from schema.extensions import parse_document
from services.errors import AppError

if TYPE_CHECKING:
    from server.websocket.connection import RealtimeView
    from server.websocket.shared import GroupKey, SharedSubscriptions
    from vocabulary.context import Context


class Outcome(enum.Enum):
    NOTHING = "nothing"  # the stream ended without a result (a checked subscription)
    SENT = "sent"  # results were sent
    ERROR = "error"  # an error message was sent: the operation is over
    CLOSED = "closed"  # the socket was closed (a document that does not parse)


class ProtocolOperation(Protocol):
    """One operation as its protocol runs and answers it."""

    # graphql-transport-ws sends ``complete`` after an ``error`` too; graphql-ws does not.
    completes_after_error: bool

    def own_stream(self, context: Context) -> AbstractAsyncContextManager[AsyncIterator[Any]]:
        """The operation's own stream, run with ``context``."""

    async def refuse(self, result: Any, context: Context) -> Outcome:
        """Answer a first result that is a request error, or any result that is not an
        ``ExecutionResult`` (incremental delivery)."""

    async def send_next(self, payload: dict[str, Any]) -> None: ...

    async def send_errors(self, errors: list[dict[str, Any]]) -> None:
        """``errors`` formatted, as the protocol's ``error`` message."""

    async def send_complete(self) -> None: ...


async def serve_operation(
    realtime: RealtimeView,
    connection: Context,
    query: str,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    operation: ProtocolOperation,
) -> None:
    context = connection
    try:
        realtime.screen_document(query)
        context = await realtime.operation_context(connection)
        shared = realtime.shared_subscriptions
        key = shared.key(query, operation_name, variables, context)
        with checking_only(key is not None):
            outcome = await _send_own_results(realtime, context, operation)
        if key is not None and outcome is Outcome.NOTHING:
            label = _metrics_label(query, operation_name, realtime.settings.query_max_tokens)
            outcome = await _follow(shared, key, variables, context, operation, label)
    except AppError as exc:
        # A refusal raised where Strawberry does not turn it into a result (the
        # connection's token, a document limit found while parsing).
        error = GraphQLError(exc.message, original_error=exc)
        await operation.send_errors(realtime.websocket_errors([error], context))
        return
    if outcome is Outcome.CLOSED or (
        outcome is Outcome.ERROR and not operation.completes_after_error
    ):
        return
    await operation.send_complete()


def _metrics_label(query: str, operation_name: str | None, max_tokens: int) -> str:
    """The ``operation`` label of the subscription series: the operation's name, from the
    document when the client sent no ``operationName`` (bounded by ``operation_label``)."""
    if not operation_name:
        with suppress(GraphQLError):  # it parsed already (its group key): cached
            operation = get_operation_ast(parse_document(query, max_tokens), None)
            if operation is not None and operation.name is not None:
                operation_name = operation.name.value
    return operation_label(operation_name)


async def _send_own_results(
    realtime: RealtimeView, context: Context, operation: ProtocolOperation
) -> Outcome:
    first = True
    async with operation.own_stream(context) as source:
        async for result in source:
            if not isinstance(result, ExecutionResult) or (
                first and realtime.is_request_error(result)
            ):
                return await operation.refuse(result, context)
            first = False
            await operation.send_next(realtime.websocket_payload(result, context))
    return Outcome.NOTHING if first else Outcome.SENT


async def _follow(
    shared: SharedSubscriptions,
    key: GroupKey,
    variables: dict[str, Any] | None,
    context: Context,
    operation: ProtocolOperation,
    label: str,
) -> Outcome:
    """A checked subscription: receive the payloads of its shared group. Counted in
    ``subscriptions_active`` while it follows; each payload handed to the connection in
    ``subscription_deliveries_total``; each one it loses in ``subscription_drops_total``
    (``queue_full``: dropped from its queue as the oldest; ``closed``: still queued, or
    being sent, when the connection went; ``error``: the shared execution failed)."""
    delivered = SUBSCRIPTION_DELIVERIES.labels(label)
    active = SUBSCRIPTIONS_ACTIVE.labels(label)
    # Counted as they happen, while this member may be waiting on its socket.
    queue_full = SUBSCRIPTION_DROPS.labels(label, "queue_full")
    group, member = shared.join(key, variables, context, queue_full.inc)
    active.inc()
    lost = 0
    try:
        async for kind, payload in member.items():
            if kind != "next":
                SUBSCRIPTION_DROPS.labels(label, "error").inc()
                await operation.send_errors(payload)
                return Outcome.ERROR
            lost = 1  # until the connection took it
            await operation.send_next(payload)
            lost = 0
            delivered.inc()
    finally:
        shared.leave(group, member)
        active.dec()
        lost += member.pending()
        if lost:
            SUBSCRIPTION_DROPS.labels(label, "closed").inc(lost)
    return Outcome.SENT
