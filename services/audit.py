"""Writes security-relevant events to the audit log."""

from __future__ import annotations

from typing import Any

from core.request_context import current_request_id
from models.audit import AuditAction, AuditLog


async def record(
    action: AuditAction,
    *,
    actor_id: int | None = None,
    target_id: int | None = None,
    ip: str | None = None,
    **data: Any,
) -> None:
    await AuditLog.create(
        action=action,
        actor_id=actor_id,
        target_id=target_id,
        ip=ip,
        request_id=current_request_id(),
        data=data,
    )
