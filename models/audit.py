"""The audit log of security-relevant events."""

from __future__ import annotations

import enum

from tortoise import fields

from models.hydration import FastHydration


class AuditAction(enum.StrEnum):
    REGISTERED = "REGISTERED"
    EMAIL_VERIFIED = "EMAIL_VERIFIED"
    LOGIN = "LOGIN"
    LOGIN_FAILED = "LOGIN_FAILED"
    LOGOUT = "LOGOUT"
    LOGOUT_ALL = "LOGOUT_ALL"
    REFRESH_TOKEN_REUSED = "REFRESH_TOKEN_REUSED"
    PASSWORD_CHANGED = "PASSWORD_CHANGED"
    PASSWORD_RESET_REQUESTED = "PASSWORD_RESET_REQUESTED"
    PASSWORD_RESET = "PASSWORD_RESET"
    ROLE_CHANGED = "ROLE_CHANGED"
    USER_SUSPENDED = "USER_SUSPENDED"
    USER_DELETED = "USER_DELETED"


class AuditLog(FastHydration):
    """Who did what to whom. Actor and target are plain ids, not foreign keys: the trail
    outlives the accounts it mentions."""

    id = fields.BigIntField(primary_key=True)
    action = fields.CharEnumField(AuditAction, max_length=32, db_index=True)
    actor_id = fields.BigIntField(null=True, db_index=True)
    target_id = fields.BigIntField(null=True, db_index=True)
    ip = fields.CharField(max_length=45, null=True)
    request_id = fields.CharField(max_length=128, null=True)
    data: dict[str, object] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "audit_log"
