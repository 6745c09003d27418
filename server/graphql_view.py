"""The /graphql endpoint: Strawberry's ASGI view with our HTTP semantics.

What it adds: content negotiation with the GraphQL-over-HTTP status codes, the CSRF guard,
405 for mutations over GET, a cap on batched operations, one error format (codes and
request id) for refusals made before execution, HTTP caching of GET queries
(``server.http_cache``), orjson, ``@defer``/``@stream`` answered as ``multipart/mixed`` in the
format the client reads (``server/incremental/``), and GraphiQL under its own CSP.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import ExperimentalIncrementalExecutionResults, GraphQLError
from starlette.datastructures import QueryParams as StarletteQueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.types import QueryParams
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult, SubscriptionExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from core.request_context import current_request_id, operation_name_var, user_id_var
from loaders import Loaders
from schema import AgoraSchema, document_limits
from schema.errors import app_error, format_error, http_status, log_unexpected_errors, refusal_of
from server.cached_responses import (
    HITS,
    MISSES,
    RESPONSE_CACHE_HEADER,
    cached_answer,
    may_stream,
)
from server.container import Container
from server.graphql_request import graphql_requests, query_string_parameters
from server.http_cache import NO_STORE, cache_control, with_cache_headers
from server.http_streams import HTTPStream, open_stream, requested_transport
from server.incremental.accept import IncrementalFormat, incremental_format
from server.incremental.multipart import multipart_body
from server.incremental.payloads import payloads_for
from server.multipart import UploadLimits, operations_with_files, upload_request_adapter
from server.negotiation import (
    MODERN,
    UNSPECIFIED,
    ResponseFormat,
    body_type,
    check_post_body,
    negotiate,
)
from server.persisted_queries import PersistedDocuments
from server.responses import error_response, response_extensions
from server.websocket import (
    LegacyWSHandler,
    SharedSubscriptions,
    TransportWSHandler,
    WebSocketRegistry,
)
from server.websocket.connection import TooManyConnections, anonymous_limit_message
from services.authentication import authenticate
from services.errors import (
    AppError,
    BadUserInput,
    NotFound,
    PayloadTooLarge,
    PersistedQueryError,
    RateLimited,
    ServiceUnavailable,
    Unauthenticated,
    UnsupportedMediaType,
)
from services.response_cache import entity_tag, response_key, response_tags
from services.unavailable import outage_as_service_unavailable
from vocabulary.cache_hints import CacheControlScope, CachePolicy
from vocabulary.context import BatchCost, Context, IncrementalDelivery

# Statuses kept even for legacy application/json clients: they are HTTP-level refusals,
# not GraphQL request errors (which the spec answers with 200 under application/json).
HTTP_LEVEL_STATUSES = frozenset({401, 406, 413, 415, 429, 503})
# Answers whose Retry-After header is kept: clients and proxies back off on these.
RETRY_AFTER_STATUSES = frozenset({429, 503})

# Subscriptions run over the websocket or an HTTP stream (``server.http_streams``, chosen by
# Accept), never as a plain JSON request; mutations never over GET (405).
HTTP_OPERATION_TYPES = {
    "GET": frozenset({OperationType.QUERY}),
    "POST": frozenset({OperationType.QUERY, OperationType.MUTATION}),
}
SUBSCRIPTION_OVER_HTTP = (
    "A subscription needs a streaming transport: send it with `Accept: text/event-stream` "
    "(graphql-sse) or `Accept: multipart/mixed;subscriptionSpec=1.0` (Apollo), or open a "
    "websocket to this same URL (subprotocol graphql-transport-ws)"
)

# GET parameters that name a stored document instead of sending `query`.
PERSISTED_DOCUMENT_PARAMETERS = ("extensions", "documentId", "doc_id")

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


GRAPHIQL_ASSETS_PATH = "/graphiql-assets"
# Strawberry's page loads these from unpkg; we serve the same files (server/static/graphiql).
_UNPKG_ASSETS = {
    "https://unpkg.com/react@18.2.0/umd/react.production.min.js": "react.production.min.js",
    "https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js": (
        "react-dom.production.min.js"
    ),
    "https://unpkg.com/js-cookie@3.0.5/dist/js.cookie.min.js": "js.cookie.min.js",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.css": "graphiql.min.css",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.js": "graphiql.min.js",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/style.css": "plugin-explorer.css",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js": (
        "plugin-explorer.umd.js"
    ),
}


def local_graphiql_html(html: str) -> str:
    """Strawberry's GraphiQL page with its assets served by us: it works offline and under
    a CSP without third-party hosts (the SRI hashes still hold: the files are identical)."""
    for remote, local in _UNPKG_ASSETS.items():
        html = html.replace(remote, f"{GRAPHIQL_ASSETS_PATH}/{local}")
    return html


def graphiql_csp(html: str) -> str:
    """A CSP for the GraphiQL page: our own assets, its inline scripts by hash."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        "default-src 'self'; "
        f"script-src 'self' {hashes}; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; "
        "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'none'"
    )


def _http_exception_error(exc: HTTPException) -> AppError:
    if exc.status_code == 404:
        return NotFound(exc.reason)
    if exc.status_code == 413:
        return PayloadTooLarge(exc.reason)
    if exc.status_code == 415:
        return UnsupportedMediaType(exc.reason)
    return BadUserInput(exc.reason)


@dataclasses.dataclass(frozen=True, slots=True)
class IncrementalResult:
    """An operation answered with ``@defer``/``@stream``, to be streamed."""

    results: ExperimentalIncrementalExecutionResults
    format: IncrementalFormat
    operation_name: str | None


class SubResponse(Response):
    """Strawberry's sub-response (the status and headers set during the request), with the
    response format negotiated for it and what its HTTP caching depends on."""

    def __init__(
        self, response_format: ResponseFormat, method: str, if_none_match: str | None
    ) -> None:
        super().__init__()
        self.status_code = None  # type: ignore[assignment]  # None: not set by anyone yet
        del self.headers["content-length"]
        self.response_format = response_format
        self.incremental: IncrementalResult | None = None
        self.method = method
        self.if_none_match = if_none_match
        # The executed operation's (execute_single); None when nothing was executed.
        self.cache_policy: CachePolicy | None = None

    @property
    def cache_control(self) -> str:
        return cache_control(self.method, self.cache_policy)


def _is_request_error(result: ExecutionResult) -> bool:
    """Errors that stopped the request before execution: the response has no ``data``."""
    if isinstance(result, PreExecutionError):
        return True
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )


class GraphQLView(GraphQL[Context, None]):
    # Websockets: a context per operation, HTTP-like errors, limits, drain at shutdown.
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(self, schema: AgoraSchema, container: Container) -> None:
        settings = container.settings
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=True,
            # Websocket handshakes from other origins are refused (403) unless listed.
            allowed_origins=settings.cors_allowed_origins,
            connection_init_wait_timeout=timedelta(
                seconds=settings.ws_connection_init_timeout_seconds
            ),
            max_subscriptions_per_connection=settings.ws_max_subscriptions_per_connection,
        )
        self.container = container
        self.settings = settings
        # Multipart uploads: per-file size and file-count limits while parsing.
        self.request_adapter_class = upload_request_adapter(UploadLimits.from_settings(settings))
        self.websockets = WebSocketRegistry(
            settings.ws_max_connections_per_user,
            max_anonymous_per_address=settings.ws_max_anonymous_connections_per_ip,
        )
        # APQ and trusted documents; a broken manifest stops the start-up here.
        self.persisted = PersistedDocuments.from_settings(
            settings, container.persisted_queries, schema._schema, document_limits(settings)
        )
        self.shared_subscriptions = SharedSubscriptions(self, schema)
        self.ide_html = local_graphiql_html(self.graphql_ide_html) if self.graphql_ide else ""
        self.ide_csp = graphiql_csp(self.ide_html) if self.graphql_ide else ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        accept = request.headers.get("accept")
        request.state.incremental_format = incremental_format(accept)
        response_format = negotiate(accept)
        if response_format is None and request.state.incremental_format is not None:
            # Only multipart/mixed named: an answer that is not streamed is plain JSON, as
            # Apollo Server answers it.
            response_format = UNSPECIFIED
        request.state.response_format = response_format or MODERN
        transport = requested_transport(accept)
        response: Response | HTTPStream
        try:
            if (
                response_format is None
                and transport is None
                and not self.should_render_graphql_ide(self.request_adapter_class(request))
            ):
                raise HTTPException(406, "Accept application/graphql-response+json or json")
            if request.method == "POST":
                check_post_body(request.headers, self.settings.csrf_header)
            hit: Response | None = None
            if transport is None and self.container.response_cache.enabled:
                hit, key = await cached_answer(
                    self.container.response_cache, request, request.state.response_format
                )
                request.state.response_cache_missed = key is not None
            if hit is not None:
                response = hit
            else:
                # The token check (get_context) and anything else outside execution: a
                # database outage is a 503 in the error contract, never uvicorn's plain 500
                # (which also drops the keep-alive connection).
                with outage_as_service_unavailable():
                    stream = await open_stream(self, request, transport) if transport else None
                    response = stream if stream is not None else await self.run(request)
        except HTTPException as exc:
            headers = {"Allow": "GET, POST"} if exc.status_code == 405 else None
            response = error_response(
                [_http_exception_error(exc)],
                status_code=exc.status_code,
                media_type=request.state.response_format.error_type,
                headers=headers,
            )
        except AppError as exc:
            response = error_response([exc], media_type=request.state.response_format.error_type)
        # What no cacheable GET answer set: refusals, errors, POST (HTTP streams set their own).
        if isinstance(response, Response):
            response.headers.setdefault("Cache-Control", NO_STORE)
        await response(scope, receive, send)  # a stream lasts until it ends or the client leaves

    def should_render_graphql_ide(self, request: Any) -> bool:
        # Strawberry renders GraphiQL for a GET without `query` that accepts */* (Apollo
        # Client 3's default Accept): a GET naming a persisted document is an operation.
        params = request.query_params
        return super().should_render_graphql_ide(request) and not any(
            params.get(name) for name in PERSISTED_DOCUMENT_PARAMETERS
        )

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = SubResponse(
            getattr(request.state, "response_format", MODERN),
            request.scope.get("method", "GET"),
            request.headers.get("if-none-match"),
        )
        request.state.sub_response = sub_response
        return sub_response

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        client = request.client
        context = Context(
            request=request,
            response=response,
            container=self.container,
            request_id=getattr(request.state, "request_id", None) or current_request_id() or "",
            client_key=f"ip:{client.host if client else 'unknown'}",
            loaders=Loaders(self.container.cache),
        )
        if not self.is_websocket_request(request):
            context.incremental_delivery = (
                IncrementalDelivery.ACCEPTED
                if getattr(request.state, "incremental_format", None) is not None
                else IncrementalDelivery.NOT_ACCEPTED
            )
        authorization = request.headers.get("authorization")
        if authorization is not None and not self.is_websocket_request(request):
            # A present but bad token is refused (401), never treated as anonymous.
            await self.authenticate(context, authorization)
        return context

    async def authenticate(self, context: Context, authorization: str) -> None:
        with outage_as_service_unavailable():
            user, claims = await authenticate(self.container.settings, authorization)
        context.user = user
        context.session_id = claims.session_id
        context.claims = claims
        context.client_key = f"user:{user.id}"
        context.loaders.users.by_id.prime(user.id, user)
        user_id_var.set(str(user.id))

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Websocket auth: ``connection_init`` payload ``{"Authorization": "Bearer …"}``.
        A bad token closes the socket with 4403."""
        params = context.connection_params or {}
        authorization = params.get("Authorization") or params.get("authorization")
        if authorization:
            try:
                await self.authenticate(context, str(authorization))
            except ServiceUnavailable:
                raise  # the handlers close with 1013 (try again later), not 4403
            except AppError as exc:
                raise ConnectionRejectionError({"message": exc.message}) from exc
            assert context.user is not None
            if not self.websockets.admit(context.user.id, context):
                limit = self.settings.ws_max_connections_per_user
                raise ConnectionRejectionError(
                    {"message": f"Too many connections: at most {limit} per user"}
                )
        elif not self.websockets.admit_anonymous(context):
            raise TooManyConnections(anonymous_limit_message(self.settings))
        return cast("UnsetType", UNSET)

    async def operation_context(self, connection: Context) -> Context:
        """The context of one websocket operation: fresh loaders, and the connection's
        token checked again (expiry, then the account as for an HTTP request), so a token
        that expired or was revoked during the connection starts nothing new. (An HTTP
        stream's token was checked when its request arrived, just before.)"""
        context = dataclasses.replace(connection, loaders=Loaders(self.container.cache))
        claims = connection.claims
        if claims is not None and self.is_websocket_request(connection.request):
            if claims.expires_at <= datetime.now(UTC):
                raise Unauthenticated(
                    "The access token of this connection has expired: reconnect with a new one"
                )
            params = connection.connection_params or {}
            authorization = params.get("Authorization") or params.get("authorization")
            await self.authenticate(context, str(authorization))
        return context

    def is_request_error(self, result: ExecutionResult) -> bool:
        return _is_request_error(result)

    def screen_document(self, query: str) -> None:
        # Websocket operations send the document itself: in allow-list mode it must be
        # one of the manifest's texts.
        self.persisted.screen(query)

    def websocket_errors(
        self, errors: list[GraphQLError], context: Context
    ) -> list[dict[str, Any]]:
        mask = self.settings.is_production
        return [format_error(error, mask=mask, request_id=context.request_id) for error in errors]

    def websocket_payload(self, result: ExecutionResult, context: Context) -> dict[str, Any]:
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = self.websocket_errors(result.errors, context)
        if result.extensions:
            payload["extensions"] = result.extensions
        return payload

    async def shutdown_websockets(self) -> None:
        """Clean shutdown: stop delivering events (subscribers keep what is queued), let each
        socket and HTTP stream flush, then close each socket with 1001 and end each stream."""
        self.websockets.draining = True
        await self.container.pubsub.close()
        await self.websockets.drain()

    def parse_query_params(self, params: QueryParams) -> dict[str, Any]:
        return query_string_parameters(cast("StarletteQueryParams", params), self.decode_json)

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> Any:
        form = await request.get_form_data()
        return operations_with_files(form.form, self.decode_json)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """Strawberry's, with every parameter checked (``server.graphql_request``). The
        CSRF guard has already refused every other content type of a POST."""
        data: object
        if request.method == "GET":
            data = self.parse_query_params(request.query_params)
        elif body_type(request.headers) == "multipart/form-data":
            data = await self.parse_multipart(request)
        else:
            data = self.parse_json(await request.get_body())
        return graphql_requests(data, self.settings.query_max_batch)

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        if not isinstance(request_data, list):
            return await self.execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        # One response carries a batch: no operation of it may stream (@defer, @stream).
        context.incremental_delivery = IncrementalDelivery.IN_BATCH
        # In order, one after the other (a mutation's effects are seen by the operations
        # after it), each on its own context, and all within one cost limit. An operation
        # refused before it runs answers its own error: the others run (and a mutation
        # among them is not reported as failed when it was done).
        batch_cost = BatchCost()
        results: list[ExecutionResult] = []
        for index, data in enumerate(request_data):
            results.append(
                await self.execute_batched(
                    request,
                    request_adapter,
                    sub_response,
                    context,
                    root_value,
                    data,
                    first=index == 0,
                    batch_cost=batch_cost,
                )
            )
        return results

    async def batched_context(self, context: Context, *, first: bool) -> Context:
        """The context of one operation of a batch: the request's for the first, then fresh
        loaders (their cache would answer what an earlier mutation changed) and the token
        checked again (an earlier ``logoutAll`` or ``changePassword`` revoked it)."""
        if first:
            return context
        fresh = dataclasses.replace(context, loaders=Loaders(self.container.cache))
        authorization = context.request.headers.get("authorization")
        if authorization is not None:
            await self.authenticate(fresh, authorization)
        return fresh

    async def execute_batched(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
        *,
        first: bool,
        batch_cost: BatchCost,
    ) -> ExecutionResult:
        try:
            operation_context = await self.batched_context(context, first=first)
            operation_context.batch_cost = batch_cost
            return await self.execute_single(
                request, request_adapter, sub_response, operation_context, root_value, request_data
            )
        # Answered inside each handler: an exception kept in a local past its handler holds
        # this frame through its traceback, a cycle that keeps the operation's context alive.
        except HTTPException as exc:
            return _refused(_http_exception_error(exc))
        except AppError as exc:
            return _refused(exc)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        method = request_adapter.method
        try:
            # Already resolved when the request asked for a stream and got plain JSON.
            persisted = getattr(request.state, "persisted_document", None) or (
                await self.persisted.resolve(request_data)
            )
        except PersistedQueryError as exc:
            sub_response.headers.update(exc.headers)
            return PreExecutionError(
                data=None, errors=[GraphQLError(exc.message, original_error=exc)]
            )
        document = persisted.query or ""
        cache_key = self.response_cache_key(document, request_data, context, sub_response)
        # A single plain request was looked up already, before Strawberry (``__call__``).
        if (
            cache_key is not None
            and isinstance(sub_response, SubResponse)
            and not getattr(request.state, "response_cache_missed", False)
        ):
            hit = await self.cached_response(cache_key, sub_response)
            if hit is not None:
                await self.persisted.remember(persisted, ran=True)
                return hit
        try:
            result = await self.schema.execute(
                persisted.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=HTTP_OPERATION_TYPES[method],
                operation_extensions=request_data.extensions,
            )
        except (MissingQueryError, CannotGetOperationTypeError) as exc:
            raise refusal_of(exc) from exc
        except InvalidOperationTypeError as exc:
            if exc.operation_type is OperationType.SUBSCRIPTION:
                raise BadUserInput(SUBSCRIPTION_OVER_HTTP, reason="SUBSCRIPTION_OVER_HTTP") from exc
            raise HTTPException(405, "Only queries can be sent with GET; use POST") from exc
        # Anything but a refused ExecutionResult ran (incremental results included).
        refused = isinstance(result, ExecutionResult) and _is_request_error(result)
        await self.persisted.remember(persisted, ran=not refused)
        if isinstance(result, ExperimentalIncrementalExecutionResults):
            # Strawberry's ``run`` hands it to ``create_streaming_response``, which streams it.
            assert isinstance(sub_response, SubResponse)
            assert request.state.incremental_format is not None, "the schema refuses it"
            sub_response.incremental = IncrementalResult(
                result, request.state.incremental_format, request_data.operation_name
            )
        if isinstance(sub_response, SubResponse):
            sub_response.cache_policy = context.cache_policy
        if cache_key is not None:
            await self.cache_response(cache_key, document, request_data, result, context)
        return result

    def response_cache_key(
        self,
        document: str,
        request_data: GraphQLRequestData,
        context: Context,
        sub_response: Response,
    ) -> str | None:
        """The response cache's key of this operation; None when it may not be cached: an
        authenticated viewer (its answers are PRIVATE), a batch, a document that may stream."""
        if (
            not self.container.response_cache.enabled
            or context.user is not None
            or not isinstance(sub_response, SubResponse)
            or context.incremental_delivery is IncrementalDelivery.IN_BATCH
            or may_stream(document)
        ):
            return None
        sub_response.headers[RESPONSE_CACHE_HEADER] = "MISS"
        context.shown_entities = set()
        media = sub_response.response_format.media_type(200)
        return response_key(document, request_data.operation_name, request_data.variables, media)

    async def cached_response(self, key: str, sub_response: SubResponse) -> ExecutionResult | None:
        cached = await self.container.response_cache.get(key)
        if cached is None:
            MISSES.inc()
            return None
        HITS.inc()
        operation_name_var.set(cached.operation_name)
        sub_response.headers[RESPONSE_CACHE_HEADER] = "HIT"
        sub_response.cache_policy = CachePolicy(
            max_age=cached.max_age, scope=CacheControlScope.PUBLIC
        )
        return ExecutionResult(data=orjson.loads(cached.data), errors=None)

    async def cache_response(
        self,
        key: str,
        document: str,
        request_data: GraphQLRequestData,
        result: object,
        context: Context,
    ) -> None:
        """Keeps a PUBLIC query's data without errors for its maxAge (``context.cache_policy``:
        none for mutations and results with errors, PRIVATE for an authenticated viewer)."""
        policy = context.cache_policy
        if (
            type(result) is not ExecutionResult
            or result.errors
            or policy is None
            or not policy.cacheable
            or policy.private
            or policy.max_age is None
        ):
            return
        tags = response_tags(
            document, request_data.operation_name, request_data.variables, result.data
        )
        tags.update(entity_tag(name, pk) for name, pk in context.shown_entities or ())
        await self.container.response_cache.put(
            key, orjson.dumps(result.data), operation_name_var.get(), tags, policy.max_age
        )

    async def process_result(
        self, request: Request | WebSocket, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        sub_response: Response | None = getattr(request.state, "sub_response", None)
        if isinstance(sub_response, SubResponse) and sub_response.cache_control != NO_STORE:
            # A cacheable body may be served to others, later: it carries nothing of this
            # request (its id is in X-Request-ID) nor of this client (its cost budget).
            return {"data": result.data}
        request_id = getattr(request.state, "request_id", None) or current_request_id()
        request_error = _is_request_error(result)
        payload: dict[str, Any] = {} if request_error else {"data": result.data}
        errors: list[GraphQLError] = result.errors or []
        if errors:
            payload["errors"] = [
                format_error(error, mask=self.settings.is_production, request_id=request_id)
                for error in errors
            ]
        payload["extensions"] = response_extensions(request_id, result.extensions)
        if sub_response is not None and RESPONSE_CACHE_HEADER in sub_response.headers:
            hit = sub_response.headers[RESPONSE_CACHE_HEADER] == "HIT"
            payload["extensions"]["responseCache"] = {"hit": hit}
        if sub_response is not None:
            status = None
            if request_error:
                status = max(http_status(error) for error in errors)
                if (
                    request.state.response_format.request_errors_as_200
                    and status not in HTTP_LEVEL_STATUSES
                ):
                    status = 200
            for error in errors:
                # Throttling answers 429 + Retry-After even when it happened in a resolver
                # (login attempts), and an operation that produced no data because the
                # database is down answers 503 + Retry-After: clients and proxies back off
                # on the status alone. (With data, the spec requires a 2xx.)
                cause = app_error(error)
                if isinstance(cause, RateLimited) or (
                    isinstance(cause, ServiceUnavailable) and result.data is None
                ):
                    status = cause.http_status
                    sub_response.headers.update(cause.headers)
            if status is not None:
                sub_response.status_code = status
        return payload  # type: ignore[return-value]

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        # A batch answers 200: each operation carries its own errors.
        status = 200 if isinstance(response_data, list) else sub_response.status_code or 200
        response_format = (
            sub_response.response_format if isinstance(sub_response, SubResponse) else MODERN
        )
        response = Response(
            orjson.dumps(response_data),
            status_code=status,
            media_type=response_format.media_type(status),
        )
        for name, value in sub_response.headers.items():
            if name not in ("content-type", "content-length") and (
                status in RETRY_AFTER_STATUSES or name != "retry-after"
            ):
                response.headers.append(name, value)
        if sub_response.background:
            response.background = sub_response.background
        if isinstance(sub_response, SubResponse) and not isinstance(response_data, list):
            cache_control_value = sub_response.cache_control
            if cache_control_value != NO_STORE:
                return with_cache_headers(
                    response,
                    cache_control_value=cache_control_value,
                    if_none_match=sub_response.if_none_match,
                )
        return response

    async def create_streaming_response(
        self,
        request: Request | WebSocket,
        stream: Callable[[], AsyncIterator[str]],
        sub_response: Response,
        headers: Mapping[str, str],
    ) -> Response:
        incremental = getattr(sub_response, "incremental", None)
        if incremental is None:
            return await super().create_streaming_response(request, stream, sub_response, headers)
        # Strawberry's own stream of it (``stream``, never started) is not used: ours has the
        # error contract and the format the client asked for.
        return self.incremental_response(request, incremental, sub_response)

    def incremental_response(
        self, request: Request | WebSocket, incremental: IncrementalResult, sub_response: Response
    ) -> Response:
        request_id = getattr(request.state, "request_id", None) or current_request_id()
        mask = self.settings.is_production

        def format_errors(errors: Sequence[GraphQLError]) -> list[dict[str, Any]]:
            return [format_error(error, mask=mask, request_id=request_id) for error in errors]

        def log_errors(errors: list[GraphQLError]) -> None:
            log_unexpected_errors(errors, incremental.operation_name)

        def failure(exc: Exception) -> dict[str, Any]:
            return format_error(
                GraphQLError(str(exc), original_error=exc), mask=mask, request_id=request_id
            )

        initial = incremental.results.initial_result
        body = multipart_body(
            incremental.results,
            payloads_for(incremental.format, format_errors),
            response_extensions(request_id, initial.extensions),
            log_errors,
            failure,
        )
        response = StreamingResponse(body, media_type=incremental.format.content_type)
        for name, value in sub_response.headers.items():
            if name not in ("content-type", "content-length", "retry-after"):
                response.headers.append(name, value)
        return response

    def encode_json(self, data: object) -> str:
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        # orjson.JSONDecodeError subclasses json.JSONDecodeError, which Strawberry handles.
        return orjson.loads(data)

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self.ide_html, headers={"Content-Security-Policy": self.ide_csp})


def _refused(error: AppError) -> PreExecutionError:
    """One operation's refusal, as its own result (the others of its batch run)."""
    return PreExecutionError(data=None, errors=[GraphQLError(error.message, original_error=error)])
