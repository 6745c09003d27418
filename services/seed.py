"""Demo data for `make run`: a few users of each role (credentials in the README)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from models.user import Role, User, UserStatus
from server.settings import get_settings
from services.passwords import PasswordHasher

DEMO_PASSWORD = "Agora-demo-1"  # noqa: S105 - public demo credential, documented in README


@dataclass(frozen=True)
class DemoUser:
    name: str
    email: str
    role: Role
    balance_cents: int


DEMO_USERS = (
    DemoUser("Ada Admin", "admin@agora.test", Role.ADMIN, 100_000),
    DemoUser("Mo Moderator", "moderator@agora.test", Role.MODERATOR, 50_000),
    DemoUser("Uma User", "uma@agora.test", Role.USER, 25_000),
    DemoUser("Bo Buyer", "bo@agora.test", Role.USER, 10_000),
)


async def seed_demo_data() -> int:
    """Create the demo users that do not exist yet; returns how many were created."""
    created = 0
    password_hash = PasswordHasher.from_settings(get_settings()).hash(DEMO_PASSWORD)
    async with in_transaction():
        for demo in DEMO_USERS:
            _, was_created = await User.get_or_create(
                email=demo.email,
                defaults={
                    "name": demo.name,
                    "password_hash": password_hash,
                    "role": demo.role,
                    "status": UserStatus.ACTIVE,
                    "balance_cents": demo.balance_cents,
                    "email_verified_at": datetime.now(UTC),
                },
            )
            created += int(was_created)
    return created
