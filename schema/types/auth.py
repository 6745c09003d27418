"""Types of the authentication mutations."""

from __future__ import annotations

import strawberry

from schema.types.user import User


@strawberry.type(description="Tokens of a new session (login or refresh).")
class AuthPayload:
    """Resolves from ``resolvers.auth.SessionTokens``."""

    access_token: str = strawberry.field(
        description="JWT for `Authorization: Bearer`, valid for `expiresIn` seconds."
    )
    refresh_token: str = strawberry.field(
        description=(
            "Single-use token for `refreshToken`, valid 7 days; rotated on every refresh. "
            "Empty when `useCookie` put it in the httpOnly cookie instead."
        )
    )
    token_type: str = strawberry.field(description='Always "Bearer".')
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    user: User
