"""Password hashing off the event loop, bounded.

An argon2 hash or verify is CPU-bound by design (README, "Accounts and authentication", gives
the cost of the default parameters); on the event loop it stalls every other request for
that long, so a login flood would stop the server. The
pool runs them in a few worker threads (argon2-cffi releases the GIL while it hashes:
verified, the loop keeps running meanwhile) and admits at most ``concurrency`` running plus
``queue`` waiting. Anything more is refused at once with RATE_LIMITED: queued without limit,
a flood would delay every login for as long as the backlog takes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from core.settings import Settings
from services.errors import RateLimited
from services.passwords import PasswordHasher

T = TypeVar("T")

BUSY_RETRY_AFTER_SECONDS = 1


class PasswordPoolBusy(RateLimited):
    default_message = "Too many password checks at once; try again shortly"

    def __init__(self) -> None:
        super().__init__(BUSY_RETRY_AFTER_SECONDS)


class PasswordPool:
    def __init__(self, hasher: PasswordHasher, concurrency: int, queue: int) -> None:
        self.hasher = hasher
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="argon2")
        self._limit = concurrency + queue
        self._admitted = 0

    @classmethod
    def from_settings(cls, settings: Settings, hasher: PasswordHasher) -> PasswordPool:
        return cls(hasher, settings.password_hash_concurrency, settings.password_hash_queue)

    @property
    def admitted(self) -> int:
        """Hashes running or waiting for a thread."""
        return self._admitted

    async def _run(self, work: Callable[..., T], *args: object) -> T:
        if self._admitted >= self._limit:
            raise PasswordPoolBusy()
        self._admitted += 1
        future = asyncio.get_running_loop().run_in_executor(self._executor, work, *args)
        # The slot is freed when the thread is done, not when the caller stops waiting: a
        # cancelled request must not let more hashes in than there are threads for.
        future.add_done_callback(self._release)
        return await asyncio.shield(future)

    def _release(self, _: object) -> None:
        self._admitted -= 1

    async def hash(self, password: str) -> str:
        return await self._run(self.hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Also with no hash (unknown account): checked against a dummy one, same time."""
        return await self._run(self.hasher.verify, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.needs_rehash(password_hash)  # parses the parameters: no hashing

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
