"""The Mutation root: each field names its permission and delegates to a resolver."""

from __future__ import annotations

import strawberry
from strawberry import UNSET

from resolvers import auth, users
from schema.arguments import given
from schema.context import Info
from schema.enums import Permission, Role
from schema.inputs import RegisterInput, UpdateProfileInput
from schema.permissions import HasPermission, authenticated, requires
from schema.types.auth import AuthPayload
from schema.types.user import User


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create an account (PENDING_VERIFICATION) and email a link.")
    async def register(self, info: Info, input: RegisterInput) -> User:
        return await auth.register(info, input)  # type: ignore[return-value]

    @strawberry.mutation(description="Activate the account of a verification token (24 h).")
    async def verify_email(self, info: Info, token: str) -> User:
        return await auth.verify_email(info, token)  # type: ignore[return-value]

    @strawberry.mutation(description="Send a new verification email. Always true.")
    async def resend_verification_email(self, info: Info, email: str) -> bool:
        return await auth.resend_verification_email(info, email)

    @strawberry.mutation(
        description=(
            "Start a session. With `useCookie: true` the refresh token is set as an httpOnly "
            "SameSite=Strict cookie instead of being returned."
        )
    )
    async def login(
        self, info: Info, email: str, password: str, use_cookie: bool = False
    ) -> AuthPayload:
        return await auth.login(info, email, password, use_cookie)

    @strawberry.mutation(
        description="Trade a refresh token (argument or cookie) for a new pair; single use."
    )
    async def refresh_token(self, info: Info, refresh_token: str | None = UNSET) -> AuthPayload:
        return await auth.refresh_token(info, given(refresh_token))

    @strawberry.mutation(description="End the session of a refresh token (argument or cookie).")
    async def logout(self, info: Info, refresh_token: str | None = UNSET) -> bool:
        return await auth.logout(info, given(refresh_token))

    @strawberry.mutation(description="End every session of the caller.", extensions=authenticated())
    async def logout_all(self, info: Info) -> bool:
        return await auth.logout_all(info)

    @strawberry.mutation(description="Email a password reset link (1 h). Always true.")
    async def request_password_reset(self, info: Info, email: str) -> bool:
        return await auth.request_password_reset(info, email)

    @strawberry.mutation(description="Set a new password with a reset token; ends all sessions.")
    async def reset_password(self, info: Info, token: str, new_password: str) -> bool:
        return await auth.reset_password(info, token, new_password)

    @strawberry.mutation(
        description="Change the password; other sessions are revoked.", extensions=authenticated()
    )
    async def change_password(self, info: Info, current_password: str, new_password: str) -> bool:
        return await auth.change_password(info, current_password, new_password)

    @strawberry.mutation(description="Update the caller's profile.", extensions=authenticated())
    async def update_profile(self, info: Info, input: UpdateProfileInput) -> User:
        return await users.update_profile(info, input)  # type: ignore[return-value]

    @strawberry.mutation(
        description="Change a user's role (WRITE_USERS).",
        extensions=requires(HasPermission(Permission.WRITE_USERS)),
    )
    async def update_user_role(self, info: Info, id: strawberry.ID, role: Role) -> User:
        return await users.update_user_role(info, id, role)  # type: ignore[return-value]

    @strawberry.mutation(
        description="Suspend a user and end their sessions (WRITE_USERS).",
        extensions=requires(HasPermission(Permission.WRITE_USERS)),
    )
    async def suspend_user(self, info: Info, id: strawberry.ID, reason: str | None = UNSET) -> User:
        return await users.suspend_user(info, id, given(reason))  # type: ignore[return-value]

    @strawberry.mutation(
        description="Delete a user: personal data erased, sessions ended (DELETE_USERS).",
        extensions=requires(HasPermission(Permission.DELETE_USERS)),
    )
    async def delete_user(self, info: Info, id: strawberry.ID) -> bool:
        return await users.delete_user(info, id)
