"""Token buckets: the cost budget per client (and, later, attempt limits).

Two stores with one contract: in-process (default) and Redis (``REDIS_URL``), where one Lua
script refills and takes atomically so every replica shares the bucket. If Redis fails, the
Redis store counts the fault and answers from an in-process bucket that starts as the
policy's ``outage`` says (a fraction of capacity, so a client that had emptied its shared
bucket does not get a full one on every replica), or refuses (fail closed).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.faults import dependency_failed, fault_text
from services.errors import ServiceUnavailable

logger = logging.getLogger(__name__)

OUTAGE_RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True, slots=True)
class OutagePolicy:
    """What a bucket does while its shared store (Redis) is down."""

    # A client's in-process bucket starts with this fraction of the capacity: the shared
    # bucket may have been empty, and each replica has its own in-process one.
    start_fraction: float = 1.0
    # Refuse instead (SERVICE_UNAVAILABLE): no budget can be checked, so nothing runs.
    fail_closed: bool = False


@dataclass(frozen=True, slots=True)
class BucketPolicy:
    capacity: int
    restore_rate: float  # tokens per second
    outage: OutagePolicy = OutagePolicy()


@dataclass(frozen=True, slots=True)
class BucketState:
    allowed: bool
    available: float
    policy: BucketPolicy
    requested: float = 0

    @property
    def retry_after(self) -> float:
        """Seconds until the requested amount will be available."""
        missing = self.requested - self.available
        return 0.0 if self.allowed or missing <= 0 else missing / self.policy.restore_rate


class BucketStore(Protocol):
    async def take(self, key: str, amount: float, policy: BucketPolicy) -> BucketState:
        """Take ``amount`` tokens if they are all there; never take part of them."""

    async def give_back(self, key: str, amount: float, policy: BucketPolicy) -> BucketState:
        """Return ``amount`` tokens (capped at capacity): the refund of an over-estimate."""

    async def peek(self, key: str, policy: BucketPolicy) -> BucketState:
        """The bucket's state without changing it."""


class MemoryBucketStore:
    """Buckets in this process. The least recently used are dropped past ``max_keys``
    (a dropped bucket comes back as new, which only ever errs towards the client)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max_keys = max_keys

    def __len__(self) -> int:
        return len(self._buckets)

    def clear(self) -> None:
        self._buckets.clear()

    def _initial_tokens(self, policy: BucketPolicy) -> float:
        """What a bucket this store has not seen starts with."""
        return float(policy.capacity)

    def _apply(self, key: str, amount: float, policy: BucketPolicy) -> BucketState:
        now = time.monotonic()
        tokens, updated = self._buckets.get(key, (self._initial_tokens(policy), now))
        tokens = min(policy.capacity, tokens + (now - updated) * policy.restore_rate)
        allowed = True
        if amount > 0:
            allowed = tokens >= amount
            if allowed:
                tokens -= amount
        elif amount < 0:
            tokens = min(policy.capacity, tokens - amount)
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return BucketState(allowed, tokens, policy, max(amount, 0))

    async def take(self, key: str, amount: float, policy: BucketPolicy) -> BucketState:
        return self._apply(key, amount, policy)

    async def give_back(self, key: str, amount: float, policy: BucketPolicy) -> BucketState:
        return self._apply(key, -amount, policy)

    async def peek(self, key: str, policy: BucketPolicy) -> BucketState:
        return self._apply(key, 0, policy)


class OutageBucketStore(MemoryBucketStore):
    """The Redis store's stand-in while Redis is down: a new bucket starts with the policy's
    outage fraction of its capacity."""

    def _initial_tokens(self, policy: BucketPolicy) -> float:
        return policy.capacity * policy.outage.start_fraction


# KEYS[1] bucket; ARGV: capacity, restore rate per second, amount (>0 take, <0 give back,
# 0 peek). Redis' own clock is used so replicas with skewed clocks agree. Numbers are
# returned as strings because Redis truncates Lua numbers to integers.
_BUCKET_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local amount = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed = 1
if amount > 0 then
  if tokens >= amount then tokens = tokens - amount else allowed = 0 end
elseif amount < 0 then
  tokens = math.min(capacity, tokens - amount)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
return {allowed, tostring(tokens)}
"""


class RedisBucketStore:
    def __init__(self, redis: Redis, prefix: str = "agora:bucket:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(_BUCKET_SCRIPT)
        self._fallback = OutageBucketStore()

    async def _apply(self, key: str, amount: float, policy: BucketPolicy) -> BucketState:
        try:
            allowed, tokens = await self._script(
                keys=[self._prefix + key], args=[policy.capacity, policy.restore_rate, amount]
            )
        except (RedisError, OSError) as exc:
            return self._during_outage(key, amount, policy, exc)
        if self._fallback:
            # Redis is back and holds the shared state: the next outage starts afresh
            # rather than from buckets that refilled meanwhile.
            self._fallback.clear()
        return BucketState(bool(int(allowed)), float(tokens), policy, max(amount, 0))

    def _during_outage(
        self, key: str, amount: float, policy: BucketPolicy, exc: Exception
    ) -> BucketState:
        if not policy.outage.fail_closed:
            dependency_failed(
                logger,
                "redis",
                "rate_limit",
                "rate-limit store unavailable, using an in-process bucket: %s",
                fault_text(exc),
            )
            return self._fallback._apply(key, amount, policy)
        dependency_failed(
            logger,
            "redis",
            "rate_limit",
            "rate-limit store unavailable, refusing: %s",
            fault_text(exc),
        )
        if amount > 0:
            raise ServiceUnavailable(
                "The rate limiter is unavailable; retry shortly",
                retry_after=OUTAGE_RETRY_AFTER_SECONDS,
            ) from exc
        # A refund or a look (nothing is being let through): the budget is unknown.
        return BucketState(False, 0.0, policy)

    async def take(self, key: str, amount: float, policy: BucketPolicy) -> BucketState:
        return await self._apply(key, amount, policy)

    async def give_back(self, key: str, amount: float, policy: BucketPolicy) -> BucketState:
        return await self._apply(key, -amount, policy)

    async def peek(self, key: str, policy: BucketPolicy) -> BucketState:
        return await self._apply(key, 0, policy)
