"""graphql-transport-ws (the graphql-ws library's protocol)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from server.websocket.connection import (
    INVALID_MESSAGE,
    SHUTDOWN_REASON,
    RealtimeHandler,
    connection_init,
)
from server.websocket.encoded import id_text, payload_text, send_text
from server.websocket.operation import Outcome, serve_operation
from server.websocket.registry import drain_tasks
from server.ws_messages import close_reason, message_problem

if TYPE_CHECKING:
    from vocabulary.context import Context


class TransportWSHandler(RealtimeHandler, BaseGraphQLTransportWSHandler["Context", None]):
    """graphql-transport-ws (the graphql-ws library's protocol)."""

    transport = "graphql-transport-ws"

    async def handle(self) -> None:
        with self.registered():
            await super().handle()

    async def handle_message(self, message: Any) -> None:
        problem = message_problem(message, "subscribe", "complete")
        if problem is not None:
            await self.handle_invalid_message(close_reason(problem))  # closes with 4400
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: Any) -> None:
        await connection_init(self, super().handle_connection_init, message)
        # Strawberry cancels its init-timeout task here and keeps it for the life of the
        # connection, with its CancelledError, traceback and frames: let it end, drop it.
        task = self.connection_init_timeout_task
        if task is not None and (task.cancelled() or task.cancelling()):
            with suppress(asyncio.CancelledError):
                await task
            self.connection_init_timeout_task = None

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
        try:
            await serve_operation(
                self.realtime,
                self.context,
                operation.query,
                operation.operation_name,
                operation.variables,
                _TransportOperation(self, operation),
            )
        except Exception as error:
            await self.handle_task_exception(error)
            with suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise

    async def drain(self) -> None:
        tasks = [operation.task for operation in self.operations.values() if operation.task]
        await drain_tasks(self, tasks)


class _TransportOperation:
    """An operation's messages in graphql-transport-ws."""

    completes_after_error = True

    def __init__(self, handler: TransportWSHandler, operation: Operation[Context, None]) -> None:
        self._handler = handler
        self._operation = operation
        self._id = id_text(operation.id)

    @asynccontextmanager
    async def own_stream(self, context: Context) -> AsyncIterator[AsyncIterator[Any]]:
        handler, operation = self._handler, self._operation
        source = await handler.schema.stream(
            operation.query,
            variable_values=operation.variables,
            context_value=context,
            root_value=handler.root_value,
            operation_name=operation.operation_name,
        )
        async with aclosing(source):
            yield source

    async def refuse(self, result: Any, context: Context) -> Outcome:
        handler, operation = self._handler, self._operation
        if not isinstance(result, ExecutionResult):
            await handler._reject_incremental_delivery(operation)
            return Outcome.ERROR
        errors = result.errors or []
        if isinstance(result, PreExecutionError) and errors:
            reason = handler._get_pre_execution_close_reason(errors[0])
            if reason:
                handler.operations.pop(operation.id, None)
                await handler.websocket.close(code=INVALID_MESSAGE, reason=reason)
                return Outcome.CLOSED
        await self.send_errors(handler.realtime.websocket_errors(errors, context))
        return Outcome.ERROR

    async def send_next(self, payload: dict[str, Any]) -> None:
        # Strawberry's ``send_operation_message`` without its dict and encoding: the payload
        # is encoded once for its group. Nothing goes after ``complete`` or ``error``.
        if self._operation.completed:
            return
        text = f'{{"id":{self._id},"type":"next","payload":{payload_text(payload)}}}'
        await send_text(self._handler, text)

    async def send_errors(self, errors: list[dict[str, Any]]) -> None:
        message: Any = {"id": self._operation.id, "type": "error", "payload": errors}
        await self._operation.send_operation_message(message)

    async def send_complete(self) -> None:
        await self._operation.send_operation_message({"id": self._operation.id, "type": "complete"})
