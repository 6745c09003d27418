"""Attempt limits (failed logins, account emails) on the same bucket store as query cost."""

from __future__ import annotations

import hashlib

from core.metrics import ATTEMPTS_THROTTLED
from services.errors import RateLimited
from services.rate_limit import BucketPolicy, BucketStore


def attempt_key(kind: str, email: str, ip: str) -> str:
    # Hashed so that bucket keys (which may sit in Redis) hold no email addresses.
    digest = hashlib.sha256(f"{email.strip().lower()}|{ip}".encode()).hexdigest()[:32]
    return f"{kind}:{digest}"


class AttemptLimiter:
    """At most ``max_attempts`` counted attempts per key within ``window_seconds``
    (a token bucket refilling ``max_attempts`` per window)."""

    def __init__(self, store: BucketStore, kind: str, max_attempts: int, window_seconds: int):
        self.store = store
        self.kind = kind
        # During a Redis outage an attempt bucket this replica has not seen starts full (the
        # default OutagePolicy): one started short would refuse every login until it refilled.
        self.policy = BucketPolicy(max_attempts, max_attempts / window_seconds)

    async def check_and_count(
        self, email: str, ip: str, message: str = "Too many requests; try again later"
    ) -> None:
        """Count one attempt, or RATE_LIMITED when none is left. Atomic (one bucket take),
        so concurrent attempts cannot all pass a check before any of them is counted."""
        state = await self.store.take(attempt_key(self.kind, email, ip), 1, self.policy)
        if not state.allowed:
            ATTEMPTS_THROTTLED.labels(self.kind).inc()
            retry_after = (1 - state.available) / self.policy.restore_rate
            raise RateLimited(retry_after, message)

    async def uncount(self, email: str, ip: str) -> None:
        """Give back an attempt counted by ``check_and_count`` (it turned out not to be one
        that the limit is about, e.g. a login with the right password)."""
        await self.store.give_back(attempt_key(self.kind, email, ip), 1, self.policy)
