"""The /graphql endpoint: Strawberry's ASGI view with our HTTP semantics.

What it adds: content negotiation with the GraphQL-over-HTTP status codes, the CSRF guard,
405 for mutations over GET, a cap on batched operations (``server.batching``), one error
format (codes and request id) for refusals made before execution (``server.refusals``), HTTP
caching of GET queries (``server.http_cache``), the response cache (``server.cached_responses``
before Strawberry, ``server.operation_cache`` inside its run), persisted and trusted documents
(``server.operation_document``), orjson, results encoded as the HTTP answer
(``server.result_encoding``; ``@defer``/``@stream`` as ``multipart/mixed`` in the format the
client reads, ``server/incremental/``), and GraphiQL under its own CSP (``server.graphiql``).
Real time (websocket auth, a context per operation, the drain) is in ``server.realtime_view``.
This module keeps the request flow: ``__call__``, Strawberry's hooks, the context.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from datetime import timedelta
from typing import Any, cast

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import ExperimentalIncrementalExecutionResults
from starlette.datastructures import QueryParams as StarletteQueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.types import QueryParams
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult, SubscriptionExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from core.request_context import current_request_id, user_id_var
from loaders import Loaders
from schema import AgoraSchema, document_limits
from schema.errors import refusal_of
from server.batching import execute_batch
from server.cached_responses import cached_answer
from server.container import Container
from server.graphiql import graphiql_csp, local_graphiql_html
from server.graphql_request import graphql_requests, query_string_parameters
from server.http_cache import NO_STORE
from server.http_streams import HTTPStream, open_stream, requested_transport
from server.incremental.accept import incremental_format
from server.multipart import UploadLimits, operations_with_files, upload_request_adapter
from server.negotiation import MODERN, UNSPECIFIED, body_type, check_post_body, negotiate
from server.operation_cache import cached_result, operation_cache_key, store_result
from server.operation_document import names_persisted_document, operation_document
from server.persisted_queries import PersistedDocuments
from server.realtime_view import RealtimeHooks
from server.refusals import http_exception_error, is_request_error
from server.responses import error_response
from server.result_encoding import incremental_response, json_response, result_payload
from server.sub_response import IncrementalResult, SubResponse
from server.websocket import (
    LegacyWSHandler,
    SharedSubscriptions,
    TransportWSHandler,
    WebSocketRegistry,
)
from services.authentication import authenticate
from services.errors import AppError, BadUserInput
from services.unavailable import outage_as_service_unavailable
from vocabulary.context import Context, IncrementalDelivery

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


class GraphQLView(RealtimeHooks, GraphQL[Context, None]):
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
                # A miss's key: execute_single stores the answer under it, without a lookup.
                request.state.response_cache_key = key
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
                [http_exception_error(exc)],
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
        return super().should_render_graphql_ide(request) and not names_persisted_document(params)

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
            loaders=self.fresh_loaders(),
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

    def fresh_loaders(self) -> Loaders:
        """A request's (or one operation's) own loaders, over the process's model cache."""
        return Loaders(self.container.cache)

    async def authenticate(self, context: Context, authorization: str) -> None:
        with outage_as_service_unavailable():
            user, claims = await authenticate(self.container.settings, authorization)
        context.user = user
        context.session_id = claims.session_id
        context.claims = claims
        context.client_key = f"user:{user.id}"
        context.loaders.users.by_id.prime(user.id, user)
        user_id_var.set(str(user.id))

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

        async def execute(
            operation_context: Context, operation: GraphQLRequestData
        ) -> ExecutionResult:
            return await self.execute_single(
                request, request_adapter, sub_response, operation_context, root_value, operation
            )

        return await execute_batch(
            request_data,
            context,
            execute=execute,
            authenticate=self.authenticate,
            fresh_loaders=self.fresh_loaders,
        )

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
        persisted = await operation_document(self.persisted, request, request_data, sub_response)
        if isinstance(persisted, PreExecutionError):
            return persisted
        document = persisted.query or ""
        response_cache = self.container.response_cache
        # A single plain request was looked up already, before Strawberry (``__call__``).
        looked_up_key: str | None = getattr(request.state, "response_cache_key", None)
        cache_key = operation_cache_key(
            response_cache, document, request_data, context, sub_response, looked_up_key
        )
        if (
            cache_key is not None
            and looked_up_key is None
            and isinstance(sub_response, SubResponse)
        ):
            hit = await cached_result(response_cache, cache_key, sub_response)
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
        refused = isinstance(result, ExecutionResult) and is_request_error(result)
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
            await store_result(response_cache, cache_key, document, request_data, result, context)
        return result

    async def process_result(
        self, request: Request | WebSocket, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        return result_payload(request, result, mask=self.settings.is_production)

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        return json_response(response_data, sub_response)

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
        return incremental_response(
            request, incremental, sub_response, mask=self.settings.is_production
        )

    def encode_json(self, data: object) -> str:
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        # orjson.JSONDecodeError subclasses json.JSONDecodeError, which Strawberry handles.
        return orjson.loads(data)

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self.ide_html, headers={"Content-Security-Policy": self.ide_csp})
