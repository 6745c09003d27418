"""Access JWTs and opaque one-time/refresh token secrets."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from core.settings import Settings
from models.user import Role, User
from services.errors import Unauthenticated

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "iss", "aud", "role", "ver", "sid"]


class InvalidToken(Unauthenticated):
    """A present but unusable access token: HTTP 401 with a Bearer challenge."""

    default_message = "The access token is invalid or expired"

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer error="invalid_token"'}


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    role: Role
    token_version: int
    session_id: uuid.UUID
    jti: str
    expires_at: datetime


def issue_access_token(
    settings: Settings, user: User, session_id: uuid.UUID, now: datetime | None = None
) -> str:
    issued = now or datetime.now(UTC)
    payload = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user.id),
        "iat": issued,
        "exp": issued + timedelta(seconds=settings.access_token_ttl_seconds),
        "jti": uuid.uuid4().hex,
        "role": user.role.value,
        "ver": user.token_version,
        "sid": str(session_id),
    }
    return jwt.encode(payload, settings.jwt_signing_secret, algorithm=ALGORITHM)


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    """Verify signature, algorithm, issuer, audience and expiry; raise InvalidToken."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_signing_secret,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": REQUIRED_CLAIMS},
            leeway=5,
        )
        return AccessClaims(
            user_id=int(claims["sub"]),
            role=Role(claims["role"]),
            token_version=int(claims["ver"]),
            session_id=uuid.UUID(claims["sid"]),
            jti=str(claims["jti"]),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
        raise InvalidToken() from exc


def new_secret() -> str:
    """A URL-safe secret with 256 bits of entropy."""
    return secrets.token_urlsafe(32)


def hash_secret(settings: Settings, secret: str) -> str:
    """The keyed hash stored instead of a token: a leaked table reveals no usable token."""
    return hmac.new(
        settings.refresh_signing_secret.encode(), secret.encode(), hashlib.sha256
    ).hexdigest()
