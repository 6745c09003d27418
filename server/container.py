"""The process's shared services, built from the settings at start-up, closed at shutdown."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis.asyncio import Redis

from server.settings import Settings
from services.cache import ModelCache
from services.jobs import JobContext, JobQueue, build_job_queue
from services.mail import Mailer, build_mailer
from services.passwords import PasswordHasher
from services.pubsub import InProcessPubSub, PubSub
from services.rate_limit import BucketStore, MemoryBucketStore, RedisBucketStore
from services.throttle import AttemptLimiter

logger = logging.getLogger(__name__)


@dataclass
class Container:
    settings: Settings
    buckets: BucketStore
    passwords: PasswordHasher
    mailer: Mailer
    jobs: JobQueue
    login_limiter: AttemptLimiter
    account_email_limiter: AttemptLimiter
    cache: ModelCache
    pubsub: PubSub
    redis: Redis | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, key_prefix: str = "agora:", mailer: Mailer | None = None
    ) -> Container:
        redis: Redis | None = None
        buckets: BucketStore
        if settings.redis_url:
            redis = Redis.from_url(
                settings.redis_url,
                socket_timeout=0.5,
                socket_connect_timeout=0.5,
                health_check_interval=30,
            )
            buckets = RedisBucketStore(redis, prefix=f"{key_prefix}bucket:")
        else:
            buckets = MemoryBucketStore()
        mailer = mailer or build_mailer(settings)
        return cls(
            settings=settings,
            buckets=buckets,
            passwords=PasswordHasher.from_settings(settings),
            mailer=mailer,
            jobs=build_job_queue(settings, JobContext(mailer=mailer)),
            login_limiter=AttemptLimiter(
                buckets,
                "login",
                settings.login_max_failures,
                settings.login_failure_window_seconds,
            ),
            account_email_limiter=AttemptLimiter(
                buckets,
                "account-email",
                settings.account_email_max_requests,
                settings.account_email_window_seconds,
            ),
            cache=ModelCache.from_settings(settings, namespace=f"{key_prefix}cache:"),
            pubsub=InProcessPubSub(),
            redis=redis,
        )

    async def start(self) -> None:
        await self.jobs.start()

    async def close(self) -> None:
        await self.jobs.close()
        await self.cache.close()
        await self.pubsub.close()
        if self.redis is not None:
            await self.redis.aclose()
