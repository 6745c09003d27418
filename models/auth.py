"""Sessions and one-time tokens. Every token is stored only as a keyed hash."""

from __future__ import annotations

import enum

from tortoise import fields

from models.hydration import FastHydration


class RefreshToken(FastHydration):
    """One refresh token of a session family. Rotation marks the used token ``rotated_at``
    and issues the next one in the same family; presenting a rotated token again revokes the
    whole family (someone else has a copy)."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="refresh_tokens", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    family_id = fields.UUIDField(db_index=True)
    expires_at = fields.DatetimeField(db_index=True)
    rotated_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    ip = fields.CharField(max_length=45, null=True)
    user_agent = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "refresh_tokens"
        indexes = (("user_id", "revoked_at"),)


class OneTimeTokenPurpose(enum.StrEnum):
    VERIFY_EMAIL = "VERIFY_EMAIL"
    RESET_PASSWORD = "RESET_PASSWORD"


class OneTimeToken(FastHydration):
    """An email verification or password reset token: single use, expiring."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="one_time_tokens", on_delete=fields.CASCADE
    )
    purpose = fields.CharEnumField(OneTimeTokenPurpose, max_length=16)
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "one_time_tokens"
        indexes = (("user_id", "purpose"),)


from models.user import User  # noqa: E402  (for the relation annotations)
