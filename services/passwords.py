"""Password hashing with argon2id; parameters come from the settings.

``hash`` and ``verify`` block for the whole hash (CPU-bound by design, as long as the
parameters make it): the server calls them through ``services.password_pool``, off the event
loop.
"""

from __future__ import annotations

from argon2 import PasswordHasher as Argon2Hasher
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError

from core.settings import Settings


class PasswordHasher:
    def __init__(self, time_cost: int, memory_cost_kib: int, parallelism: int) -> None:
        self._hasher = Argon2Hasher(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            type=Type.ID,
        )
        # Verified against when the account does not exist, so a wrong email takes as
        # long as a wrong password.
        self._dummy_hash = self._hasher.hash("not-a-real-password")

    @classmethod
    def from_settings(cls, settings: Settings) -> PasswordHasher:
        return cls(
            settings.argon2_time_cost, settings.argon2_memory_cost_kib, settings.argon2_parallelism
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._dummy_hash, password) and (
                password_hash is not None
            )
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
