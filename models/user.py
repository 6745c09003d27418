"""Accounts."""

from __future__ import annotations

import enum

from tortoise import fields

from models.hydration import FastHydration


class Role(enum.StrEnum):
    ADMIN = "ADMIN"
    MODERATOR = "MODERATOR"
    USER = "USER"


class UserStatus(enum.StrEnum):
    PENDING_VERIFICATION = "PENDING_VERIFICATION"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"


class User(FastHydration):
    """A member of the marketplace. ``email`` is stored lower-cased, so it is unique
    case-insensitively; ``balance_cents`` is the wallet in integer cents."""

    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=50)
    email = fields.CharField(max_length=254, unique=True)
    password_hash = fields.CharField(max_length=255)
    role = fields.CharEnumField(Role, max_length=16, default=Role.USER, db_index=True)
    status = fields.CharEnumField(
        UserStatus, max_length=24, default=UserStatus.PENDING_VERIFICATION, db_index=True
    )
    balance_cents = fields.BigIntField(default=0)
    token_version = fields.IntField(default=0)
    email_verified_at = fields.DatetimeField(null=True)
    deleted_at = fields.DatetimeField(null=True, db_index=True)
    # The avatar's File id. Not a foreign key: files.owner_id already points here, and
    # Tortoise cannot create two tables that reference each other (deleting the file clears it).
    avatar_id = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "users"
        indexes = (("created_at", "id"), ("name", "id"))

    def __str__(self) -> str:
        return f"User({self.id})"

    @staticmethod
    def normalize_email(email: str) -> str:
        return email.strip().lower()
