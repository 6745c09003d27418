"""Profiles and administration of accounts: roles, suspension, deletion."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.expressions import F, Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.audit import AuditAction
from models.user import Role, User, UserStatus
from services import audit, sessions
from services.errors import Conflict, NotFound
from services.validation import Problems, check_name, clean_text


def visible_users() -> QuerySet[User]:
    """Accounts that exist for the API: deleted ones are gone."""
    return User.filter(deleted_at=None)


def search_users(
    search: str | None = None, role: Role | None = None, status: UserStatus | None = None
) -> QuerySet[User]:
    query = visible_users()
    if search and (term := clean_text(search)):
        query = query.filter(Q(name__icontains=term) | Q(email__icontains=term.lower()))
    if role is not None:
        query = query.filter(role=role)
    if status is not None:
        query = query.filter(status=status)
    return query


async def get_user(user_id: int) -> User:
    user = await visible_users().get_or_none(id=user_id)
    if user is None:
        raise NotFound("User not found")
    return user


async def update_profile(user: User, name: str | None) -> User:
    problems = Problems()
    if name is not None:
        name = check_name(problems, "input.name", name)
    problems.raise_if_any()
    if name is not None and name != user.name:
        user.name = name
        await user.save(update_fields=["name", "updated_at"])
    return user


async def _end_all_sessions(user_id: int) -> None:
    """Every access token (version bump) and refresh token of the user stops working."""
    await User.filter(id=user_id).update(token_version=F("token_version") + 1)
    await sessions.revoke_all(user_id)


async def change_role(actor: User, user_id: int, role: Role, ip: str | None) -> User:
    if actor.id == user_id and role is not Role.ADMIN:
        raise Conflict("You cannot remove your own admin role")
    async with in_transaction():
        user = await get_user(user_id)
        previous = user.role
        if previous is not role:
            user.role = role
            await user.save(update_fields=["role", "updated_at"])
            await _end_all_sessions(user.id)
            await audit.record(
                AuditAction.ROLE_CHANGED,
                actor_id=actor.id,
                target_id=user.id,
                ip=ip,
                previous=previous.value,
                role=role.value,
            )
    return await get_user(user_id)


async def suspend(actor: User, user_id: int, reason: str | None, ip: str | None) -> User:
    if actor.id == user_id:
        raise Conflict("You cannot suspend yourself")
    async with in_transaction():
        user = await get_user(user_id)
        if user.status is not UserStatus.SUSPENDED:
            user.status = UserStatus.SUSPENDED
            await user.save(update_fields=["status", "updated_at"])
            await _end_all_sessions(user.id)
            await audit.record(
                AuditAction.USER_SUSPENDED,
                actor_id=actor.id,
                target_id=user.id,
                ip=ip,
                reason=clean_text(reason)[:500] if reason else None,
            )
    return await get_user(user_id)


async def delete(actor: User, user_id: int, ip: str | None) -> None:
    """Erase the account's personal data and end its sessions. The row stays (as "Deleted
    user") so orders, transfers and the audit trail keep their references."""
    if actor.id == user_id:
        raise Conflict("You cannot delete yourself")
    async with in_transaction():
        user = await get_user(user_id)
        now = datetime.now(UTC)
        await User.filter(id=user.id).update(
            name="Deleted user",
            email=f"deleted-{user.id}@deleted.invalid",
            password_hash="!",  # noqa: S106 - matches no password: the account cannot log in
            deleted_at=now,
            updated_at=now,
        )
        await _end_all_sessions(user.id)
        await audit.record(AuditAction.USER_DELETED, actor_id=actor.id, target_id=user.id, ip=ip)
