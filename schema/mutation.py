"""The Mutation root: each field names its permission and delegates to a resolver."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry import UNSET

from resolvers import auth, catalogue, orders, posts, users, wallet
from schema.permissions import HasPermission, admin_only, authenticated, requires
from schema.types.auth import AuthPayload
from schema.types.catalogue import Product
from schema.types.orders import Order
from schema.types.posts import Comment, Post
from schema.types.user import User
from schema.types.wallet import Transfer
from services.validation import EMAIL_MAX
from vocabulary.arguments import given
from vocabulary.context import Info
from vocabulary.directives import max_length
from vocabulary.enums import Permission, Role
from vocabulary.inputs import (
    CreatePostInput,
    CreateProductInput,
    PlaceOrderInput,
    RegisterInput,
    TransferInput,
    UpdatePostInput,
    UpdateProductInput,
    UpdateProfileInput,
)

# An email that is looked up (not validated first, as sign-up does) is bounded at the edge.
Email = Annotated[str, strawberry.argument(directives=[max_length(EMAIL_MAX)])]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create an account (PENDING_VERIFICATION) and email a link.")
    async def register(self, info: Info, input: RegisterInput) -> User:
        return await auth.register(info, input)  # type: ignore[return-value]

    @strawberry.mutation(description="Activate the account of a verification token (24 h).")
    async def verify_email(self, info: Info, token: str) -> User:
        return await auth.verify_email(info, token)  # type: ignore[return-value]

    @strawberry.mutation(description="Send a new verification email. Always true.")
    async def resend_verification_email(self, info: Info, email: Email) -> bool:
        return await auth.resend_verification_email(info, email)

    @strawberry.mutation(
        description=(
            "Start a session. With `useCookie: true` the refresh token is set as an httpOnly "
            "SameSite=Strict cookie instead of being returned."
        )
    )
    async def login(
        self, info: Info, email: Email, password: str, use_cookie: bool = False
    ) -> AuthPayload:
        return await auth.login(info, email, password, use_cookie)  # type: ignore[return-value]

    @strawberry.mutation(
        description="Trade a refresh token (argument or cookie) for a new pair; single use."
    )
    async def refresh_token(self, info: Info, refresh_token: str | None = UNSET) -> AuthPayload:
        return await auth.refresh_token(info, given(refresh_token))  # type: ignore[return-value]

    @strawberry.mutation(description="End the session of a refresh token (argument or cookie).")
    async def logout(self, info: Info, refresh_token: str | None = UNSET) -> bool:
        return await auth.logout(info, given(refresh_token))

    @strawberry.mutation(description="End every session of the caller.", extensions=authenticated())
    async def logout_all(self, info: Info) -> bool:
        return await auth.logout_all(info)

    @strawberry.mutation(description="Email a password reset link (1 h). Always true.")
    async def request_password_reset(self, info: Info, email: Email) -> bool:
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

    # posts
    @strawberry.mutation(
        description="Write a post (WRITE_POSTS); `publish: true` publishes it at once.",
        extensions=requires(HasPermission(Permission.WRITE_POSTS)),
    )
    async def create_post(self, info: Info, input: CreatePostInput) -> Post:
        return await posts.create_post(info, input)  # type: ignore[return-value]

    @strawberry.mutation(
        description="Edit a post: its author, or MODERATE_POSTS.", extensions=authenticated()
    )
    async def update_post(self, info: Info, id: strawberry.ID, input: UpdatePostInput) -> Post:
        return await posts.update_post(info, id, input)  # type: ignore[return-value]

    @strawberry.mutation(
        description="Publish a post: its author, or MODERATE_POSTS.", extensions=authenticated()
    )
    async def publish_post(self, info: Info, id: strawberry.ID) -> Post:
        return await posts.publish_post(info, id)  # type: ignore[return-value]

    @strawberry.mutation(
        description="Delete a post: its author, or MODERATE_POSTS.", extensions=authenticated()
    )
    async def delete_post(self, info: Info, id: strawberry.ID) -> bool:
        return await posts.delete_post(info, id)

    @strawberry.mutation(
        description="Comment on a published post (WRITE_POSTS).",
        extensions=requires(HasPermission(Permission.WRITE_POSTS)),
    )
    async def add_comment(self, info: Info, post_id: strawberry.ID, body: str) -> Comment:
        return await posts.add_comment(info, post_id, body)  # type: ignore[return-value]

    @strawberry.mutation(
        description="Delete a comment: its author, or MODERATE_POSTS.",
        extensions=authenticated(),
    )
    async def delete_comment(self, info: Info, id: strawberry.ID) -> bool:
        return await posts.delete_comment(info, id)

    # catalogue and orders
    @strawberry.mutation(
        description="Add a product (WRITE_PRODUCTS).",
        extensions=requires(HasPermission(Permission.WRITE_PRODUCTS)),
    )
    async def create_product(self, info: Info, input: CreateProductInput) -> Product:
        return await catalogue.create_product(info, input)  # type: ignore[return-value]

    @strawberry.mutation(
        description="Change a product (WRITE_PRODUCTS).",
        extensions=requires(HasPermission(Permission.WRITE_PRODUCTS)),
    )
    async def update_product(
        self, info: Info, id: strawberry.ID, input: UpdateProductInput
    ) -> Product:
        return await catalogue.update_product(info, id, input)  # type: ignore[return-value]

    @strawberry.mutation(
        description="Take a product off sale (WRITE_PRODUCTS).",
        extensions=requires(HasPermission(Permission.WRITE_PRODUCTS)),
    )
    async def archive_product(self, info: Info, id: strawberry.ID) -> Product:
        return await catalogue.archive_product(info, id)  # type: ignore[return-value]

    @strawberry.mutation(
        description=(
            "Buy: in one transaction every line's stock is reserved and the wallet charged "
            "(OUT_OF_STOCK / INSUFFICIENT_FUNDS roll everything back). The same "
            "idempotencyKey and items return the first order."
        ),
        extensions=authenticated(),
    )
    async def place_order(self, info: Info, input: PlaceOrderInput) -> Order:
        return await orders.place_order(info, input)  # type: ignore[return-value]

    @strawberry.mutation(
        description="Cancel a PAID order (its buyer or MANAGE_ORDERS): refund and restock.",
        extensions=authenticated(),
    )
    async def cancel_order(self, info: Info, id: strawberry.ID) -> Order:
        return await orders.cancel_order(info, id)  # type: ignore[return-value]

    @strawberry.mutation(
        description="Complete a PAID order (MANAGE_ORDERS); the sellers are paid.",
        extensions=requires(HasPermission(Permission.MANAGE_ORDERS)),
    )
    async def complete_order(self, info: Info, id: strawberry.ID) -> Order:
        return await orders.complete_order(info, id)  # type: ignore[return-value]

    # wallet
    @strawberry.mutation(
        description=(
            "Send money: atomic, never a negative balance; the same idempotencyKey and "
            "payload return the first transfer."
        ),
        extensions=authenticated(),
    )
    async def transfer(self, info: Info, input: TransferInput) -> Transfer:
        return await wallet.transfer(info, input)  # type: ignore[return-value]

    @strawberry.mutation(description="Add money to a wallet (ADMIN).", extensions=admin_only())
    async def deposit_funds(self, info: Info, user_id: strawberry.ID, amount: Decimal) -> User:
        return await wallet.deposit_funds(info, user_id, amount)  # type: ignore[return-value]
