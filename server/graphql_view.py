"""The /graphql endpoint: Strawberry's ASGI view with our HTTP semantics.

What it adds: content negotiation with the GraphQL-over-HTTP status codes, the CSRF guard,
405 for mutations over GET, a cap on batched operations, one error format (codes and
request id) for refusals made before execution, orjson, and GraphiQL under its own CSP.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.unset import UNSET, UnsetType

from loaders import Loaders
from schema import AgoraSchema
from schema.context import Context
from schema.errors import app_error, format_error, http_status
from server.container import Container
from server.multipart import UploadLimits, upload_request_adapter
from server.negotiation import check_post_body, negotiate
from server.request_context import current_request_id, user_id_var
from server.responses import GRAPHQL_RESPONSE_JSON, LEGACY_JSON, error_response
from server.websocket import (
    LegacyWSHandler,
    SharedSubscriptions,
    TransportWSHandler,
    WebSocketRegistry,
)
from services.authentication import authenticate
from services.errors import (
    AppError,
    BadUserInput,
    NotFound,
    PayloadTooLarge,
    QueryTooComplex,
    RateLimited,
    ServiceUnavailable,
    Unauthenticated,
    UnsupportedMediaType,
)
from services.unavailable import outage_as_service_unavailable

# Statuses kept even for legacy application/json clients: they are HTTP-level refusals,
# not GraphQL request errors (which the spec answers with 200 under application/json).
HTTP_LEVEL_STATUSES = frozenset({401, 413, 415, 429, 503})
# Answers whose Retry-After header is kept: clients and proxies back off on these.
RETRY_AFTER_STATUSES = frozenset({429, 503})

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
        self.websockets = WebSocketRegistry(settings.ws_max_connections_per_user)
        self.shared_subscriptions = SharedSubscriptions(self, schema)
        self.ide_html = local_graphiql_html(self.graphql_ide_html) if self.graphql_ide else ""
        self.ide_csp = graphiql_csp(self.ide_html) if self.graphql_ide else ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        media_type = negotiate(request.headers.get("accept"))
        request.state.media_type = media_type or GRAPHQL_RESPONSE_JSON
        try:
            if media_type is None and not self.should_render_graphql_ide(
                self.request_adapter_class(request)
            ):
                raise HTTPException(406, "Accept application/graphql-response+json or json")
            if request.method == "POST":
                check_post_body(request.headers, self.settings.csrf_header)
            # The token check (get_context) and anything else outside execution: a
            # database outage is a 503 in the error contract, never uvicorn's plain 500
            # (which also drops the keep-alive connection).
            with outage_as_service_unavailable():
                response = await self.run(request)
        except HTTPException as exc:
            headers = {"Allow": "GET, POST"} if exc.status_code == 405 else None
            response = error_response(
                [_http_exception_error(exc)],
                status_code=exc.status_code,
                media_type=request.state.media_type,
                headers=headers,
            )
        except AppError as exc:
            response = error_response([exc], media_type=request.state.media_type)
        await response(scope, receive, send)

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = getattr(request.state, "media_type", GRAPHQL_RESPONSE_JSON)
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
        authorization = request.headers.get("authorization")
        if authorization is not None and not self.is_websocket_request(request):
            # A present but bad token is refused (401), never treated as anonymous.
            await self.authenticate(context, authorization)
        return context

    async def authenticate(self, context: Context, authorization: str) -> None:
        with outage_as_service_unavailable():
            user, claims = await authenticate(self.container, authorization)
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
        return cast("UnsetType", UNSET)

    async def operation_context(self, connection: Context) -> Context:
        """The context of one websocket operation: fresh loaders, and the connection's
        token checked again (expiry, then the account as for an HTTP request), so a token
        that expired or was revoked during the connection starts nothing new."""
        context = dataclasses.replace(connection, loaders=Loaders(self.container.cache))
        claims = connection.claims
        if claims is not None:
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
        socket flush, then close it with 1001."""
        self.websockets.draining = True
        await self.container.pubsub.close()
        await self.websockets.drain()

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        if isinstance(data, list):
            limit = self.settings.query_max_operations
            if not data:
                raise BadUserInput("A batch must contain at least one operation")
            if len(data) > limit:
                raise QueryTooComplex(
                    f"A batch of {len(data)} operations is over the limit of {limit}"
                )
        return data

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as exc:
            if isinstance(exc.__cause__, InvalidOperationTypeError) and request.method == "GET":
                raise HTTPException(405, "Only queries can be sent with GET; use POST") from exc
            raise

    async def process_result(
        self, request: Request | WebSocket, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        request_id = getattr(request.state, "request_id", None) or current_request_id()
        request_error = _is_request_error(result)
        payload: dict[str, Any] = {} if request_error else {"data": result.data}
        errors: list[GraphQLError] = result.errors or []
        if errors:
            payload["errors"] = [
                format_error(error, mask=self.settings.is_production, request_id=request_id)
                for error in errors
            ]
        payload["extensions"] = {**(result.extensions or {}), "requestId": request_id}
        sub_response: Response | None = getattr(request.state, "sub_response", None)
        if sub_response is not None:
            status = None
            if request_error:
                status = max(http_status(error) for error in errors)
                if request.state.media_type == LEGACY_JSON and status not in HTTP_LEVEL_STATUSES:
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
        response = Response(
            orjson.dumps(response_data),
            status_code=status,
            media_type=sub_response.media_type or GRAPHQL_RESPONSE_JSON,
        )
        for name, value in sub_response.headers.items():
            if name not in ("content-type", "content-length") and (
                status in RETRY_AFTER_STATUSES or name != "retry-after"
            ):
                response.headers.append(name, value)
        if sub_response.background:
            response.background = sub_response.background
        return response

    def encode_json(self, data: object) -> str:
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        # orjson.JSONDecodeError subclasses json.JSONDecodeError, which Strawberry handles.
        return orjson.loads(data)

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self.ide_html, headers={"Content-Security-Policy": self.ide_csp})
