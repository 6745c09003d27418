"""Sessions: an access JWT plus a rotating refresh token, grouped in families.

Each login starts a family. ``rotate`` trades a refresh token for a new pair in the same
family; presenting an already-rotated token means a copy exists elsewhere, so the whole
family is revoked and the caller must log in again.
"""

from __future__ import annotations

import ipaddress
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from models.audit import AuditAction
from models.auth import RefreshToken
from models.user import User, UserStatus
from services import audit
from services.errors import Unauthenticated
from services.tokens import hash_secret, issue_access_token, new_secret, stored_hash_filter

if TYPE_CHECKING:
    from core.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ClientInfo:
    ip: str | None = None
    user_agent: str | None = None

    @classmethod
    def of(cls, host: str | None, user_agent: str | None) -> ClientInfo:
        """What is stored about a client (sessions, audit log). ``host`` is uvicorn's peer
        address, taken from ``X-Forwarded-For`` when the proxy is trusted, and uvicorn
        does not check that it is an address: anything else is stored as unknown."""
        try:
            ip = str(ipaddress.ip_address(host)) if host else None
        except ValueError:
            ip = None
        return cls(ip=ip, user_agent=user_agent)


@dataclass(frozen=True, slots=True)
class IssuedSession:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


class InvalidRefreshToken(Unauthenticated):
    default_message = "The refresh token is invalid, expired or revoked; log in again"


async def _new_refresh_token(
    settings: Settings, user: User, family_id: uuid.UUID, client: ClientInfo
) -> str:
    secret = new_secret()
    await RefreshToken.create(
        user=user,
        token_hash=hash_secret(settings, secret),
        family_id=family_id,
        expires_at=datetime.now(UTC) + timedelta(seconds=settings.refresh_token_ttl_seconds),
        ip=client.ip,
        user_agent=(client.user_agent or "")[:255] or None,
    )
    return secret


def _issued(
    settings: Settings, user: User, family_id: uuid.UUID, refresh_token: str
) -> IssuedSession:
    return IssuedSession(
        access_token=issue_access_token(settings, user, family_id),
        refresh_token=refresh_token,
        expires_in=settings.access_token_ttl_seconds,
        user=user,
    )


async def start_session(settings: Settings, user: User, client: ClientInfo) -> IssuedSession:
    family_id = uuid.uuid4()
    refresh = await _new_refresh_token(settings, user, family_id, client)
    return _issued(settings, user, family_id, refresh)


async def rotate(settings: Settings, refresh_token: str, client: ClientInfo) -> IssuedSession:
    now = datetime.now(UTC)
    lookup = stored_hash_filter(settings, refresh_token)
    reused: RefreshToken | None = None
    async with in_transaction():
        token = await RefreshToken.get_or_none(**lookup).select_related("user")
        if token is None or token.revoked_at is not None or token.expires_at <= now:
            raise InvalidRefreshToken()
        # Conditional: of two concurrent rotations of one token, exactly one wins.
        won = await RefreshToken.filter(id=token.id, rotated_at=None, revoked_at=None).update(
            rotated_at=now
        )
        if not won:
            reused = token
            await revoke_family(token.family_id, now)
        else:
            user = token.user
            if user.status is not UserStatus.ACTIVE or user.deleted_at is not None:
                await revoke_family(token.family_id, now)
                raise InvalidRefreshToken()
            new_refresh = await _new_refresh_token(settings, user, token.family_id, client)
    if reused is not None:
        logger.warning(
            "refresh token reused; family revoked",
            extra={"familyId": str(reused.family_id), "targetUserId": reused.user_id},  # type: ignore[attr-defined]
        )
        await audit.record(
            AuditAction.REFRESH_TOKEN_REUSED,
            target_id=reused.user_id,  # type: ignore[attr-defined]
            ip=client.ip,
            family=str(reused.family_id),
        )
        raise InvalidRefreshToken()
    return _issued(settings, user, token.family_id, new_refresh)


async def revoke_family(family_id: uuid.UUID, now: datetime | None = None) -> int:
    return await RefreshToken.filter(family_id=family_id, revoked_at=None).update(
        revoked_at=now or datetime.now(UTC)
    )


async def end_session(settings: Settings, refresh_token: str, client: ClientInfo) -> User | None:
    """Revoke the family of this refresh token (logout). Returns its user, if any."""
    token = await RefreshToken.get_or_none(
        **stored_hash_filter(settings, refresh_token)
    ).select_related("user")
    if token is None:
        return None
    await revoke_family(token.family_id)
    await audit.record(AuditAction.LOGOUT, actor_id=token.user.id, ip=client.ip)
    return token.user


async def revoke_all(user_id: int, *, except_family: uuid.UUID | None = None) -> int:
    query = RefreshToken.filter(user_id=user_id, revoked_at=None)
    if except_family is not None:
        query = query.exclude(family_id=except_family)
    return await query.update(revoked_at=datetime.now(UTC))
