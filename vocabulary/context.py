"""The per-request (per-operation on websockets) context every resolver receives."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from loaders import Loaders
from services.accounts import AccountDependencies
from services.errors import Unauthenticated
from services.notifications import Delivery
from services.permissions import Permission, is_self_or
from services.sessions import ClientInfo
from vocabulary.cache_hints import CachePolicy

if TYPE_CHECKING:
    from core.settings import Settings
    from models.user import User
    from services.cache import ModelCache
    from services.entity_changes import EntityChanges
    from services.rate_limit import BucketStore
    from services.response_cache import ResponseCache
    from services.storage import Storage
    from services.tokens import AccessClaims


@dataclass
class BatchCost:
    """What the operations of one batched request have been charged so far: together they
    stay within the per-request limit (``QUERY_MAX_COST``), as one operation does."""

    charged: int = 0


class IncrementalDelivery(enum.Enum):
    """Whether the transport of an operation can deliver ``@defer``/``@stream``."""

    ACCEPTED = "accepted"  # HTTP, Accept names multipart/mixed
    NOT_ACCEPTED = "not accepted"  # HTTP, Accept without multipart/mixed
    IN_BATCH = "in a batch"  # HTTP, one of several operations of a batched request
    NOT_HTTP = "not over HTTP"  # websockets (and anything else)


class Services(AccountDependencies, Delivery, Protocol):
    """What the schema and the resolvers use of the process's shared services (the server's
    ``Container`` has them all): what the account flows and the notifications take, and
    these."""

    @property
    def buckets(self) -> BucketStore: ...  # the cost limiter

    @property
    def cache(self) -> ModelCache: ...

    @property
    def response_cache(self) -> ResponseCache: ...

    @property
    def changes(self) -> EntityChanges: ...  # after a commit: what changed

    @property
    def storage(self) -> Storage: ...


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    container: Services
    request_id: str
    client_key: str
    user: User | None = None
    session_id: uuid.UUID | None = None
    # The verified access token (websockets check its expiry before each new operation).
    claims: AccessClaims | None = None
    loaders: Loaders = field(default_factory=Loaders)
    connection_params: dict[str, Any] | None = None
    # Set on every operation of a batched HTTP request (one object for the whole batch).
    batch_cost: BatchCost | None = None
    # Set by the HTTP view; @defer/@stream are refused unless ACCEPTED.
    incremental_delivery: IncrementalDelivery = IncrementalDelivery.NOT_HTTP
    # The cache policy of the last executed operation's response (RequestPipeline); None
    # until one ran.
    cache_policy: CachePolicy | None = None
    # Set on a shared subscription's execution (``server/websocket/shared.py``): the ids of
    # the users whose own data (``ViewerDependence.OWNER`` fields) it answered about.
    owners_seen: set[int] | None = None
    # (model name, id) of every object the prefetch loaded for the answer, when the response
    # cache may keep it (its entity tags); None otherwise, and nothing is collected.
    shown_entities: set[tuple[str, int]] | None = None

    @property
    def settings(self) -> Settings:
        return self.container.settings

    @property
    def client(self) -> ClientInfo:
        peer = self.request.client
        return ClientInfo.of(peer.host if peer else None, self.request.headers.get("user-agent"))

    def is_self_or(self, user_id: int, permission: Permission) -> bool:
        """The viewer is user ``user_id`` or has ``permission``; noted as an owner check."""
        if self.owners_seen is not None:
            self.owners_seen.add(user_id)
        return is_self_or(self.user, user_id, permission)

    def note_owners(self, user_ids: Iterable[int]) -> None:
        """What was just loaded depends on whether the viewer is one of ``user_ids``."""
        if self.owners_seen is not None:
            self.owners_seen.update(user_ids)

    def require_user(self) -> User:
        if self.user is None:
            raise Unauthenticated()
        return self.user


Info = StrawberryInfo[Context, None]
