"""The process's shared services, built from the settings at start-up, closed at shutdown."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis.asyncio import Redis

from server.settings import Settings
from services.rate_limit import BucketStore, MemoryBucketStore, RedisBucketStore

logger = logging.getLogger(__name__)


@dataclass
class Container:
    settings: Settings
    buckets: BucketStore
    redis: Redis | None = None

    @classmethod
    def from_settings(cls, settings: Settings, key_prefix: str = "agora:") -> Container:
        if settings.redis_url:
            redis = Redis.from_url(
                settings.redis_url,
                socket_timeout=0.5,
                socket_connect_timeout=0.5,
                health_check_interval=30,
            )
            return cls(
                settings=settings,
                buckets=RedisBucketStore(redis, prefix=f"{key_prefix}bucket:"),
                redis=redis,
            )
        return cls(settings=settings, buckets=MemoryBucketStore())

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
