"""graphql-ws (the deprecated subscriptions-transport-ws protocol)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any

from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from server.websocket.connection import (
    INIT_TIMEOUT,
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


class LegacyWSHandler(RealtimeHandler, BaseGraphQLWSHandler["Context", None]):
    """graphql-ws (the deprecated subscriptions-transport-ws protocol)."""

    transport = "graphql-ws"

    async def handle(self) -> None:
        with self.registered():
            deadline = asyncio.create_task(self._connection_init_deadline())
            try:
                await super().handle()
            finally:
                deadline.cancel()

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
        await connection_init(self, super().handle_connection_init, message)

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
        try:
            operation = _LegacyOperation(self, operation_id, query, operation_name, variables)
            await serve_operation(
                self.realtime, self.context, query, operation_name, variables, operation
            )
        except asyncio.CancelledError:
            # Stopped by the client (or the socket closed): the protocol says complete.
            with suppress(Exception):
                await self.send_message({"type": "complete", "id": operation_id})
        finally:
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)

    async def drain(self) -> None:
        await drain_tasks(self, list(self.tasks.values()))


class _LegacyOperation:
    """An operation's messages in graphql-ws: one error per ``error`` message."""

    completes_after_error = False

    def __init__(
        self,
        handler: LegacyWSHandler,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
    ) -> None:
        self._handler = handler
        self._id = operation_id
        self._query = query
        self._operation_name = operation_name
        self._variables = variables

    @asynccontextmanager
    async def own_stream(self, context: Context) -> AsyncIterator[AsyncIterator[Any]]:
        handler = self._handler
        source = await handler.schema.subscribe(
            query=self._query,
            variable_values=self._variables,
            operation_name=self._operation_name,
            context_value=context,
            root_value=handler.root_value,
        )
        handler.subscriptions[self._id] = source
        yield source

    async def refuse(self, result: Any, context: Context) -> Outcome:
        errors = result.errors or []
        await self.send_errors(self._handler.realtime.websocket_errors(errors[:1], context))
        return Outcome.ERROR

    async def send_next(self, payload: dict[str, Any]) -> None:
        # The payload is encoded once for its group (``EncodedPayload``).
        text = f'{{"type":"data","id":{id_text(self._id)},"payload":{payload_text(payload)}}}'
        await send_text(self._handler, text)

    async def send_errors(self, errors: list[dict[str, Any]]) -> None:
        message: Any = {"type": "error", "id": self._id, "payload": errors[0]}
        await self._handler.send_message(message)

    async def send_complete(self) -> None:
        await self._handler.send_message({"type": "complete", "id": self._id})
