"""Where automatic persisted queries (APQ) keep their documents: SHA-256 hash → document.

In-process (an LRU of at most ``APQ_MAX_ENTRIES`` documents, each kept ``APQ_TTL_SECONDS``)
without ``REDIS_URL``; in Redis with it, so every replica knows what any of them stored: each
document under its own key with that TTL, plus one sorted set of the stored hashes by time,
trimmed to ``APQ_MAX_ENTRIES`` in the same script that stores (oldest first). A document over
``APQ_MAX_DOCUMENT_BYTES`` is never stored. Only documents that parsed, validated and passed
every limit are offered here (``server.persisted_queries``), so the store bounds what a client
can make the server keep: entries times document size.

A store fault never fails a request: a lookup that fails is a miss (the client sends the
document again), a write that fails is forgotten; both are counted and logged as a
``cache`` dependency fault.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis

from core.faults import dependency_failed, fault_text
from core.settings import Settings

logger = logging.getLogger(__name__)

# KEYS[1]: the index (sorted set of hashes by store time); ARGV: key prefix, hash, document,
# ttl, now, max entries. Trims expired members, then the oldest beyond the maximum (their
# documents with them), in one step so concurrent stores cannot overshoot the bound. The index
# expires with its newest document.
_STORE_SCRIPT = """
local prefix, hash, document = ARGV[1], ARGV[2], ARGV[3]
local ttl, now, limit = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('SET', prefix .. hash, document, 'EX', ttl)
redis.call('ZADD', KEYS[1], now, hash)
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
local excess = redis.call('ZCARD', KEYS[1]) - limit
if excess > 0 then
  local oldest = redis.call('ZPOPMIN', KEYS[1], excess)
  for i = 1, #oldest, 2 do
    redis.call('DEL', prefix .. oldest[i])
  end
end
return excess
"""


class PersistedQueryStore(Protocol):
    max_document_bytes: int

    async def get(self, sha256: str) -> str | None: ...

    async def put(self, sha256: str, document: str) -> None: ...

    async def close(self) -> None: ...


class MemoryPersistedQueries:
    """A per-process LRU with a TTL: a hit refreshes an entry's place, not its expiry."""

    def __init__(
        self,
        max_entries: int,
        ttl_seconds: float,
        max_document_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        self.max_document_bytes = max_document_bytes
        self._clock = clock
        self._entries: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, sha256: str) -> str | None:
        entry = self._entries.get(sha256)
        if entry is None:
            return None
        document, expires_at = entry
        if expires_at <= self._clock():
            del self._entries[sha256]
            return None
        self._entries.move_to_end(sha256)
        return document

    async def put(self, sha256: str, document: str) -> None:
        self._entries[sha256] = (document, self._clock() + self.ttl_seconds)
        self._entries.move_to_end(sha256)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def close(self) -> None:
        self._entries.clear()


class RedisPersistedQueries:
    def __init__(
        self,
        redis: Redis,
        prefix: str,
        max_entries: int,
        ttl_seconds: int,
        max_document_bytes: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.index_key = f"{prefix}index"
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        self.max_document_bytes = max_document_bytes
        self._clock = clock
        self._store = redis.register_script(_STORE_SCRIPT)

    async def get(self, sha256: str) -> str | None:
        try:
            value = await self.redis.get(f"{self.prefix}{sha256}")
        except Exception as exc:  # noqa: BLE001 - a store fault is a miss, never an error
            dependency_failed(
                logger, "cache", "get", "persisted query lookup failed: %s", fault_text(exc)
            )
            return None
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    async def put(self, sha256: str, document: str) -> None:
        try:
            await self._store(
                keys=[self.index_key],
                args=[
                    self.prefix,
                    sha256,
                    document,
                    self.ttl_seconds,
                    self._clock(),
                    self.max_entries,
                ],
            )
        except Exception as exc:  # noqa: BLE001 - the document is sent again next time
            dependency_failed(
                logger, "cache", "set", "persisted query store failed: %s", fault_text(exc)
            )

    async def close(self) -> None:
        """The Redis connection belongs to the container, which closes it."""


def build_persisted_query_store(
    settings: Settings, redis: Redis | None, prefix: str
) -> PersistedQueryStore:
    if redis is not None:
        return RedisPersistedQueries(
            redis,
            prefix,
            settings.apq_max_entries,
            settings.apq_ttl_seconds,
            settings.apq_max_document_bytes,
        )
    return MemoryPersistedQueries(
        settings.apq_max_entries, settings.apq_ttl_seconds, settings.apq_max_document_bytes
    )
