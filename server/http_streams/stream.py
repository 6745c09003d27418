"""One operation streamed as an HTTP response (graphql-sse or Apollo's multipart).

The operation runs exactly as one over a websocket (``serve_operation``: its own context,
the whole pipeline in "check only" mode, then the group of ``SharedSubscriptions``); what it
sends goes into an outbound ``DropOldestQueue`` that one writer turns into the response,
with a heartbeat whenever nothing was written for a while. The stream registers with the
``WebSocketRegistry``, so the connections-per-user limit counts it and the shutdown drain
flushes it (pub/sub closed, queued events sent, then the end of the stream).

The response starts only once the operation is known to run: a refusal before that (cost,
rate limit, document limits, validation, permissions at subscribe) is answered as a plain
GraphQL response over Apollo's multipart transport (the JSON status codes of a query), and
as a ``next`` event carrying the errors then ``complete`` over graphql-sse (its protocol:
a client's ``EventSource`` cannot read a 4xx body, and the graphql-sse client retries one).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Send
from strawberry.http import GraphQLRequestData
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.utils.aio import aclosing

from core.metrics import (
    HTTP_STREAMS,
    SUBSCRIPTION_CONNECTIONS,
    SUBSCRIPTION_DROPS,
    operation_label,
)
from server.http_streams.formats import StreamFormat, Transport
from server.responses import error_response
from server.websocket.operation import Outcome, serve_operation
from services.errors import AppError, ServiceUnavailable
from services.queues import DropOldestQueue

if TYPE_CHECKING:
    from server.graphql_view import GraphQLView
    from vocabulary.context import Context

logger = logging.getLogger("agora.http_streams")

OUTBOX_SIZE = 256  # as a websocket member's queue: a slow reader loses its oldest events
NO_INCREMENTAL_DELIVERY = "Incremental delivery (@defer, @stream) is not served over this stream"

# What the operation hands the writer: ("following", None) once a subscription passed its
# checks, ("next", payload), ("errors", formatted errors) after the start, or
# ("refused", result) for a request error before it.
Item = tuple[str, Any]
_END: Any = object()


class _StreamOperation:
    """The operation's messages, queued for the writer (``ProtocolOperation``)."""

    completes_after_error = True

    def __init__(
        self,
        stream: HTTPStream,
        request_data: GraphQLRequestData,
        allowed: frozenset[OperationType],
    ) -> None:
        self._stream = stream
        self._data = request_data
        self._allowed = allowed
        self._answered = False

    def _put(self, item: Item) -> None:
        self._answered = True
        if self._stream.outbox.put(item):
            label = operation_label(self._data.operation_name)
            SUBSCRIPTION_DROPS.labels(label, "queue_full").inc()
            logger.warning("an HTTP stream reads too slowly: dropped its oldest event")

    @asynccontextmanager
    async def own_stream(self, context: Context) -> AsyncIterator[AsyncIterator[Any]]:
        data = self._data
        source = await self._stream.view.schema.stream(
            data.query,
            variable_values=data.variables,
            context_value=context,
            operation_name=data.operation_name,
            operation_extensions=data.extensions,
            allowed_operation_types=self._allowed,
        )
        async with aclosing(source), aclosing(_refusals_as_results(source)) as results:
            yield results
        if not self._answered:
            # A subscription that passed every check: it now follows its shared group.
            self._put(("following", None))

    async def refuse(self, result: Any, context: Context) -> Outcome:
        if not isinstance(result, ExecutionResult):
            result = PreExecutionError(data=None, errors=[GraphQLError(NO_INCREMENTAL_DELIVERY)])
        self._put(("refused", result))
        return Outcome.ERROR

    async def send_next(self, payload: dict[str, Any]) -> None:
        self._put(("next", payload))

    async def send_errors(self, errors: list[dict[str, Any]]) -> None:
        self._put(("errors", errors))

    async def send_complete(self) -> None:
        """The stream ends when the operation's task does (``HTTPStream``)."""


async def _refusals_as_results(source: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """A refusal raised while the document is parsed (a document limit) becomes the result
    it is over HTTP, so that it is answered like every other refusal."""
    try:
        async for result in source:
            yield result
    except AppError as exc:
        yield PreExecutionError(data=None, errors=[GraphQLError(exc.message, original_error=exc)])


async def _disconnected(receive: Receive) -> None:
    """Returns once the client has gone (the request body was read already)."""
    while (await receive())["type"] != "http.disconnect":
        pass


class HTTPStream:
    """The ASGI response streaming one operation; ``Drainable`` for the registry."""

    def __init__(
        self,
        view: GraphQLView,
        request: Request,
        context: Context,
        request_data: GraphQLRequestData,
        stream_format: StreamFormat,
        allowed: frozenset[OperationType],
    ) -> None:
        self.view = view
        self.context = context
        self.outbox: DropOldestQueue[Item] = DropOldestQueue(OUTBOX_SIZE)
        self._request = request
        self._format = stream_format
        self._operation = _StreamOperation(self, request_data, allowed)
        self._data = request_data
        self._heartbeat = view.settings.http_stream_heartbeat_seconds
        self._task: asyncio.Task[None] | None = None
        self._finished = asyncio.Event()

    async def __call__(self, scope: Any, receive: Receive, send: Send) -> None:
        registry = self.view.websockets
        if registry.draining:
            response = error_response(
                [ServiceUnavailable("The server is shutting down: reconnect")],
                media_type=self._request.state.response_format.error_type,
            )
            await response(scope, receive, send)
            return
        registry.opened(self)
        transport = self._format.transport.value
        gauges = (HTTP_STREAMS.labels(transport), SUBSCRIPTION_CONNECTIONS.labels(transport))
        for gauge in gauges:
            gauge.inc()
        try:
            self._task = asyncio.create_task(self._serve())
            await self._respond(scope, receive, send)
        finally:
            await self._stop()
            registry.closed(self)
            for gauge in gauges:
                gauge.dec()
            self._finished.set()

    async def _serve(self) -> None:
        data = self._data
        try:
            await serve_operation(
                self.view,
                self.context,
                data.query or "",
                data.operation_name,
                data.variables,
                self._operation,
            )
        except Exception as exc:
            logger.exception("an HTTP stream failed")
            error = GraphQLError(str(exc), original_error=exc)
            self.outbox.put(("errors", self.view.websocket_errors([error], self.context)))
        finally:
            self.outbox.end()

    async def _stop(self) -> None:
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _respond(self, scope: Any, receive: Receive, send: Send) -> None:
        items = self.outbox.items()
        disconnected = asyncio.create_task(_disconnected(receive))
        next_item: asyncio.Future[Any] = asyncio.ensure_future(anext(items, _END))
        started = False
        try:
            while True:
                done, _ = await asyncio.wait(
                    {next_item, disconnected},
                    timeout=self._heartbeat if started else None,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if disconnected in done:
                    return  # the client left: the operation is cancelled on the way out
                if not done:
                    await self._write(send, self._format.heartbeat())
                    continue
                item = next_item.result()
                if not started:
                    if item is _END or (
                        item[0] == "refused" and self._format.transport is Transport.MULTIPART
                    ):
                        await self._answer_without_stream(item, scope, receive, send)
                        return
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 200,
                            "headers": [
                                (name.lower().encode(), value.encode())
                                for name, value in self._format.headers.items()
                            ],
                        }
                    )
                    await self._write(send, self._format.opening())
                    started = True
                if item is _END:
                    await send({"type": "http.response.body", "body": self._format.closing()})
                    return
                await self._write_item(send, item)
                next_item = asyncio.ensure_future(anext(items, _END))
        finally:
            next_item.cancel()
            disconnected.cancel()

    async def _answer_without_stream(
        self, item: Any, scope: Any, receive: Receive, send: Send
    ) -> None:
        """A refusal before the stream started, as a plain GraphQL response (multipart), or
        an operation that ended with nothing to send (its failure was logged)."""
        view, request = self.view, self._request
        response: Response
        if item is _END:
            response = error_response(
                [AppError()], status_code=500, media_type=request.state.response_format.error_type
            )
        else:
            payload = await view.process_result(request, item[1])
            response = view.create_response(payload, request.state.sub_response)
        await response(scope, receive, send)

    async def _write_item(self, send: Send, item: Item) -> None:
        kind, value = item
        if kind == "next":
            await self._write(send, self._format.next(value))
        elif kind == "errors":
            await self._write(send, self._format.errors(value))
        elif kind == "refused":  # graphql-sse: the request error as a result, then complete
            payload: Any = await self.view.process_result(self._request, value)
            await self._write(send, self._format.next(payload))

    @staticmethod
    async def _write(send: Send, chunk: bytes) -> None:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})

    # Drainable: the registry's shutdown drain.

    async def drain(self) -> None:
        """Wait until the operation ended (the pub/sub is closed: queued events are sent)
        and the response is written to its end."""
        await self._finished.wait()

    async def close(self, code: int, reason: str) -> None:
        """Past the drain's deadline: end the operation; the writer ends the response."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
