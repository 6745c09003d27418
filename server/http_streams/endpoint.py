"""Opening a stream: what is checked before an HTTP stream starts.

Refused here, as plain GraphQL error responses with their HTTP status (like any request to
/graphql): a body that is not JSON (415), malformed parameters or a batch (400), a
mutation over GET (405), a bad token (401), too many live connections of the user (429), a
server shutting down (503). Everything else is the operation's own business
(``HTTPStream``).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from cross_web import HTTPException
from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
)
from starlette.requests import Request
from strawberry.http import GraphQLRequestData
from strawberry.types.graphql import OperationType as StrawberryOperationType

from core.request_context import operation_name_var
from schema.extensions import parse_document
from schema.incremental import uses_incremental_delivery
from server.http_streams.formats import FORMATS, Transport, prefers_event_stream
from server.http_streams.stream import HTTPStream
from server.negotiation import JSON_BODY_TYPES, body_type
from server.websocket.connection import TooManyConnections, anonymous_limit_message
from services.errors import (
    BadUserInput,
    PersistedQueryError,
    ServiceUnavailable,
    UnsupportedMediaType,
)

if TYPE_CHECKING:
    from server.graphql_view import GraphQLView

# What each method may stream: no mutation over GET (as for plain requests).
STREAMED_OPERATION_TYPES = {
    "GET": frozenset({StrawberryOperationType.QUERY, StrawberryOperationType.SUBSCRIPTION}),
    "POST": frozenset(StrawberryOperationType),
}


def requested_operation(
    data: GraphQLRequestData, max_tokens: int
) -> tuple[DocumentNode, OperationDefinitionNode] | None:
    """The document and the operation the request names; None when its document does not
    parse or names no such operation (the stream then answers the error)."""
    if not data.query:
        return None
    try:
        document = parse_document(data.query, max_tokens)
    except GraphQLError:
        return None
    operation = get_operation_ast(document, data.operation_name)
    return (document, operation) if operation is not None else None


def _deferred_for_multipart(
    request: Request, data: GraphQLRequestData, document: DocumentNode
) -> bool:
    """Whether a query with ``@defer``/``@stream`` comes from a client that also accepts
    ``multipart/mixed``: the plain view answers it there, as no event stream carries it."""
    if getattr(request.state, "incremental_format", None) is None:
        return False
    variables = data.variables if isinstance(data.variables, dict) else {}
    return uses_incremental_delivery(document, data.operation_name, variables)


async def open_stream(
    view: GraphQLView, request: Request, transport: Transport
) -> HTTPStream | None:
    """The stream answering ``request``; None when the plain view answers it: an operation
    that is not a subscription, unless ``Accept`` prefers ``text/event-stream`` to JSON
    (Apollo asks for multipart only for subscriptions; urql lists ``text/event-stream``
    after the JSON types for every query), and a document that does not parse."""
    if request.method == "POST" and body_type(request.headers) not in JSON_BODY_TYPES:
        raise UnsupportedMediaType("A stream is requested with a JSON body, or by GET")
    data = await view.parse_http_body(view.request_adapter_class(request))
    if isinstance(data, list):
        raise BadUserInput("A batch cannot be streamed: send one operation per request")
    # A persisted document (APQ hash, trusted-document id) is resolved as for a plain
    # request, once: the plain view reuses the resolution, and answers its refusals (e.g.
    # PERSISTED_QUERY_NOT_FOUND, so that Apollo's PersistedQueryLink sends the document).
    try:
        persisted = await view.persisted.resolve(data)
    except PersistedQueryError:
        return None
    request.state.persisted_document = persisted
    if persisted.query != data.query:
        data = dataclasses.replace(data, query=persisted.query)
    requested = requested_operation(data, view.settings.query_max_tokens)
    operation = requested[1] if requested is not None else None
    kind = operation.operation if operation is not None else None
    streams_anything = transport is Transport.SSE and prefers_event_stream(
        request.headers.get("accept")
    )
    if kind is not OperationType.SUBSCRIPTION and not streams_anything:
        return None
    if (
        kind is OperationType.QUERY
        and requested is not None
        and _deferred_for_multipart(request, data, requested[0])
    ):
        return None
    if operation is not None:
        await view.persisted.remember(persisted, ran=True)
    if request.method == "GET" and kind is OperationType.MUTATION:
        raise HTTPException(405, "Only queries and subscriptions can be sent with GET; use POST")
    # For the access log (the operation itself runs in the stream's own task).
    operation_name_var.set(operation.name.value if operation and operation.name else None)
    sub_response = await view.get_sub_response(request)
    context = await view.get_context(request, sub_response)  # a bad token: 401
    registry = view.websockets
    if registry.draining:
        raise ServiceUnavailable("The server is shutting down: reconnect")
    user = context.user
    if kind is OperationType.SUBSCRIPTION:
        if user is not None and not registry.admit(user.id, context):
            limit = view.settings.ws_max_connections_per_user
            raise TooManyConnections(
                f"Too many connections: at most {limit} per user (websockets and HTTP streams)"
            )
        if user is None and not registry.admit_anonymous(context):
            raise TooManyConnections(anonymous_limit_message(view.settings))
    return HTTPStream(
        view,
        request,
        context,
        data,
        FORMATS[transport],
        STREAMED_OPERATION_TYPES[request.method],
    )
