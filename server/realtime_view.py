"""The view's side of real time: websocket auth and limits at ``connection_init``, what the
websocket handlers and HTTP streams call on the view (``server.websocket.RealtimeView``: a
context per operation, the document screen, the error and payload format), and the drain at
shutdown. Mixed into ``GraphQLView``, whose policy it is."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeGuard, cast

from graphql import GraphQLError
from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from schema.errors import format_error
from server.refusals import is_request_error
from server.websocket.connection import TooManyConnections, anonymous_limit_message
from services.errors import AppError, ServiceUnavailable, Unauthenticated

if TYPE_CHECKING:
    from core.settings import Settings
    from loaders import Loaders
    from server.container import Container
    from server.persisted_queries import PersistedDocuments
    from server.websocket import WebSocketRegistry
    from vocabulary.context import Context


class RealtimeHooks:
    """Websocket and HTTP-stream hooks of ``GraphQLView``."""

    settings: Settings
    container: Container
    websockets: WebSocketRegistry
    persisted: PersistedDocuments

    if TYPE_CHECKING:
        # GraphQLView's (and Strawberry's) own.
        def is_websocket_request(self, request: Request | WebSocket) -> TypeGuard[WebSocket]: ...

        async def authenticate(self, context: Context, authorization: str) -> None: ...

        def fresh_loaders(self) -> Loaders: ...

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
        context = dataclasses.replace(connection, loaders=self.fresh_loaders())
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
        return is_request_error(result)

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
