"""Bounded Redis connection pools: a burst of calls waits for a connection, never opens one each.

redis-py's default ``ConnectionPool`` has no real bound (2**31) and opens a connection for
every concurrent command: 1,000 subscription streams looking a user up at once held ~1,000
Redis connections. Each pool here is a ``BlockingConnectionPool``: at most
``max_connections``; a caller finding them all busy waits up to ``wait_seconds`` and then gets
redis-py's ``ConnectionError("No connection available.")``, a Redis fault like any other
(the cache answers a miss, the bucket applies its outage policy, a publish reaches this
process only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis

from core.settings import Settings

# What a command may take once it has a connection (read/write), and a connect.
SOCKET_TIMEOUT_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class PoolBounds:
    max_connections: int
    wait_seconds: float

    @classmethod
    def shared(cls, settings: Settings) -> PoolBounds:
        """The process's shared client: cost bucket, publishing, APQ, response cache."""
        return cls(settings.redis_pool_max_connections, settings.redis_pool_wait_seconds)

    @classmethod
    def cache(cls, settings: Settings) -> PoolBounds:
        """The model cache's (aiocache) client."""
        return cls(settings.redis_cache_pool_max_connections, settings.redis_pool_wait_seconds)

    def pool_options(self) -> dict[str, Any]:
        """Keyword arguments of a ``BlockingConnectionPool`` with these bounds."""
        return {"max_connections": self.max_connections, "timeout": self.wait_seconds}


def bounded_client(url: str, bounds: PoolBounds, **connection: Any) -> Redis:
    """A client on its own bounded pool (closed with the client)."""
    pool = BlockingConnectionPool.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        **bounds.pool_options(),
        **connection,
    )
    return Redis.from_pool(pool)
