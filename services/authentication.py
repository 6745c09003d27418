"""Who is calling: bearer access tokens checked against the live account."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.user import User, UserStatus
from services.tokens import AccessClaims, InvalidToken, decode_access_token

if TYPE_CHECKING:
    from core.settings import Settings


async def authenticate(settings: Settings, authorization: str) -> tuple[User, AccessClaims]:
    """The user of an ``Authorization: Bearer <jwt>`` value, or InvalidToken (HTTP 401).

    The token must verify, and its account must still be active with the same token
    version: suspension, deletion, password reset and logout-all bump the version, so
    their tokens stop working at once."""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("The Authorization header must be 'Bearer <access token>'")
    claims = decode_access_token(settings, token.strip())
    user = await User.get_or_none(id=claims.user_id, deleted_at=None)
    if (
        user is None
        or user.status is not UserStatus.ACTIVE
        or user.token_version != claims.token_version
    ):
        raise InvalidToken()
    return user, claims
