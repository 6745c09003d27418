"""Bounded Redis connection pools: a burst of calls waits for a connection, never opens one each.

redis-py's default ``ConnectionPool`` has no real bound (2**31) and opens a connection for
every concurrent command: 1,000 subscription streams looking a user up at once held ~1,000
Redis connections. Each pool here is a ``BlockingConnectionPool``: at most
``max_connections``; a caller finding them all busy waits up to ``wait_seconds`` and then gets
redis-py's ``ConnectionError("No connection available.")``, a Redis fault like any other
(the cache answers a miss, the bucket applies its outage policy, a publish reaches this
process only).

Every process builds its Redis clients here: the API (``server/container.py``, the model
cache in ``services/cache.py``, the pub/sub subscriber), the job worker and the CLI. A client
built with a bare ``Redis.from_url`` has an unbounded pool, and saq's ``Queue.from_url`` no
timeout at all: against a Redis that accepts connections and never answers, its calls wait
forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from core.faults import fault_text
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
    """A client on its own bounded pool (closed with the client). ``connection`` adds to or
    overrides the connections' options (``client_name``, a longer ``socket_timeout`` for a
    blocking command)."""
    options: dict[str, Any] = {
        "socket_timeout": SOCKET_TIMEOUT_SECONDS,
        "socket_connect_timeout": SOCKET_TIMEOUT_SECONDS,
        **connection,
    }
    pool = BlockingConnectionPool.from_url(url, **bounds.pool_options(), **options)
    return Redis.from_pool(pool)


class RedisUnreachable(ConnectionError):
    """Redis did not answer a command within the client's bounds (refused, timed out, no
    free connection): raised where a process cannot do its work without Redis (the job
    worker at startup, the CLI clearing the API's cached responses)."""


def redacted_url(url: str) -> str:
    """``url`` without its password, for a log line or an error message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port is not None else ""
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=f"{user}{host}{port}"))


async def require_reachable(client: Redis, url: str) -> None:
    """One PING within the client's bounds; ``RedisUnreachable`` saying where and why when
    it fails."""
    try:
        await client.ping()  # type: ignore[misc] # typed "Awaitable[bool] | bool"
    except (RedisError, OSError) as exc:
        message = f"Redis at {redacted_url(url)} is unreachable: {fault_text(exc)}"
        raise RedisUnreachable(message) from exc
