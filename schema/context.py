"""The per-request (per-operation on websockets) context every resolver receives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from loaders import Loaders
from schema.cache_control import CachePolicy
from services.errors import Unauthenticated
from services.sessions import ClientInfo

if TYPE_CHECKING:
    from models.user import User
    from server.container import Container
    from server.settings import Settings
    from services.tokens import AccessClaims


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    container: Container
    request_id: str
    client_key: str
    user: User | None = None
    session_id: uuid.UUID | None = None
    # The verified access token (websockets check its expiry before each new operation).
    claims: AccessClaims | None = None
    loaders: Loaders = field(default_factory=Loaders)
    connection_params: dict[str, Any] | None = None
    # The cache policy of the last executed operation's response (CachePolicyObserver); None
    # until one ran.
    cache_policy: CachePolicy | None = None

    @property
    def settings(self) -> Settings:
        return self.container.settings

    @property
    def client(self) -> ClientInfo:
        peer = self.request.client
        return ClientInfo.of(peer.host if peer else None, self.request.headers.get("user-agent"))

    def require_user(self) -> User:
        if self.user is None:
            raise Unauthenticated()
        return self.user


Info = StrawberryInfo[Context, None]
