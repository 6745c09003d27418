"""The process's shared services, built from the settings at start-up, closed at shutdown."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from redis.asyncio import Redis

from core.settings import Settings
from services.cache import ModelCache
from services.entity_changes import DEFAULT_KEY_PREFIX, EntityChanges, build_entity_changes
from services.jobs import InProcessJobQueue, JobContext, JobQueue, build_job_queue
from services.jobs.base import FollowUpQueue
from services.jobs.scheduler import CronScheduler
from services.jobs.worker import cron_schedules
from services.mail import Mailer, build_mailer
from services.password_pool import PasswordPool
from services.passwords import PasswordHasher
from services.persisted_queries import PersistedQueryStore, build_persisted_query_store
from services.pubsub import PubSub, build_pubsub
from services.push import LogPushProvider, PushProvider, build_push_provider
from services.rate_limit import BucketStore, MemoryBucketStore, RedisBucketStore
from services.redis_pools import PoolBounds, bounded_client
from services.response_cache import ResponseCache
from services.storage import Storage, build_storage
from services.throttle import AttemptLimiter

logger = logging.getLogger(__name__)

# Redis connections are named (CLIENT LIST shows which pool holds them): this one, the
# model cache's ``agora-cache`` and the pub/sub subscriber's ``agora-events``.
SHARED_CLIENT_NAME = "agora"


@dataclass
class Container:
    settings: Settings
    buckets: BucketStore
    # The hasher blocks for the whole hash: request paths hash through ``password_pool``.
    passwords: PasswordHasher
    password_pool: PasswordPool
    mailer: Mailer
    jobs: JobQueue
    login_limiter: AttemptLimiter
    account_email_limiter: AttemptLimiter
    cache: ModelCache
    pubsub: PubSub
    storage: Storage
    # Automatic persisted queries' documents (in-process, or Redis with REDIS_URL).
    persisted_queries: PersistedQueryStore
    # Responses of anonymous PUBLIC queries (in-process, or Redis with REDIS_URL).
    response_cache: ResponseCache
    # What every writer calls after its commit: drops the changed entities from both caches.
    changes: EntityChanges
    redis: Redis | None = None
    push: PushProvider = field(default_factory=LogPushProvider)
    # Runs the cron schedules when jobs run in-process (no saq worker to run them).
    scheduler: CronScheduler | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        mailer: Mailer | None = None,
    ) -> Container:
        redis: Redis | None = None
        buckets: BucketStore
        if settings.redis_url:
            redis = bounded_client(
                settings.redis_url,
                PoolBounds.shared(settings),
                health_check_interval=30,
                client_name=SHARED_CLIENT_NAME,
            )
            buckets = RedisBucketStore(redis, prefix=f"{key_prefix}bucket:")
        else:
            buckets = MemoryBucketStore()
        mailer = mailer or build_mailer(settings)
        push = build_push_provider(settings)
        storage = build_storage(settings)
        followups = FollowUpQueue()
        changes = build_entity_changes(settings, redis, key_prefix)
        jobs = build_job_queue(
            settings,
            JobContext(mailer=mailer, push=push, jobs=followups, storage=storage, changes=changes),
        )
        followups.bind(jobs)
        passwords = PasswordHasher.from_settings(settings)
        return cls(
            settings=settings,
            buckets=buckets,
            passwords=passwords,
            password_pool=PasswordPool.from_settings(settings, passwords),
            mailer=mailer,
            jobs=jobs,
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
            cache=changes.cache,
            pubsub=build_pubsub(settings, redis, prefix=f"{key_prefix}events:"),
            storage=storage,
            persisted_queries=build_persisted_query_store(
                settings, redis, prefix=f"{key_prefix}apq:"
            ),
            response_cache=changes.responses,
            changes=changes,
            redis=redis,
            push=push,
            scheduler=(
                CronScheduler(cron_schedules(settings), jobs)
                if isinstance(jobs, InProcessJobQueue)
                else None
            ),
        )

    async def start(self) -> None:
        await self.storage.start()
        await self.jobs.start()
        if self.scheduler is not None:
            await self.scheduler.start()

    async def close(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.close()
        await self.jobs.close()
        await self.push.close()
        await self.storage.close()
        await self.cache.close()
        await self.persisted_queries.close()
        await self.pubsub.close()
        if self.redis is not None:
            await self.redis.aclose()
        self.password_pool.close()
