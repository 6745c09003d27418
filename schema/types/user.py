"""The User type: public profile fields, and private ones for the user or a permission."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import UNSET

from models.user import User as UserModel
from resolvers.orders import orders_of
from resolvers.posts import posts_of
from resolvers.prefetch import per_item, prefetched, to_connection
from resolvers.relations import (
    avatars,
    published_post_counts,
    user_orders_pages,
    user_posts_pages,
)
from services.permissions import sorted_permissions
from vocabulary.arguments import given, page_args
from vocabulary.cache_hints import (
    FEED_MAX_AGE,
    NEVER_CACHED,
    PROFILE_MAX_AGE,
    VIEWER_ONLY,
    cache_control,
)
from vocabulary.connections import Connection
from vocabulary.context import Info
from vocabulary.directives import connection_size, cost
from vocabulary.enums import Permission, PostStatus, Role, UserStatus
from vocabulary.relay import Node, to_global_id
from vocabulary.type_checks import decided_by_class
from vocabulary.viewer import ViewerDependence, depends_on_viewer

if TYPE_CHECKING:
    from schema.types.files import File
    from schema.types.orders import Order
    from schema.types.posts import Post

PostRef = Annotated["Post", strawberry.lazy("schema.types.posts")]
OrderRef = Annotated["Order", strawberry.lazy("schema.types.orders")]
FileRef = Annotated["File", strawberry.lazy("schema.types.files")]


def _is_self_or(info: Info, root: UserModel, permission: Permission) -> bool:
    return info.context.is_self_or(root.id, permission)


# The user themself, or a role's permission, decides what these answer.
OWN_DATA = depends_on_viewer(ViewerDependence.OWNER)


@strawberry.type(
    name="User",
    description="A member of the marketplace.",
    directives=[cache_control(max_age=PROFILE_MAX_AGE)],
)
class User(Node):
    name: str
    role: Role
    status: UserStatus
    created_at: datetime
    updated_at: datetime

    @classmethod
    @decided_by_class
    def is_type_of(cls, obj: object, _info: object) -> bool:
        return isinstance(obj, (UserModel, cls))

    @strawberry.field  # type: ignore[misc]
    def id(self, root: strawberry.Parent[UserModel]) -> strawberry.ID:  # type: ignore[override]
        return to_global_id("User", root.id)

    @strawberry.field(
        description="The user themself or READ_USERS; null for everyone else.",
        directives=[VIEWER_ONLY],
        metadata=OWN_DATA,
    )
    def email(self, root: strawberry.Parent[UserModel], info: Info) -> str | None:
        return root.email if _is_self_or(info, root, Permission.READ_USERS) else None

    @strawberry.field(
        description="What this user may do: for the user themself or READ_USERS; else empty.",
        directives=[VIEWER_ONLY],
        metadata=OWN_DATA,
    )
    def permissions(self, root: strawberry.Parent[UserModel], info: Info) -> list[Permission]:
        if not _is_self_or(info, root, Permission.READ_USERS):
            return []
        return sorted_permissions(root.role)

    @strawberry.field(
        description="The user's picture (setAvatar); null when none is set.",
        metadata=prefetched(avatars),
    )
    async def avatar(self, root: strawberry.Parent[UserModel], info: Info) -> FileRef | None:
        if root.avatar_id is None:
            return None
        avatar_id = root.avatar_id
        return await info.context.loaders.files.by_id.load(avatar_id)  # type: ignore[return-value]

    @strawberry.field(
        description="Wallet balance: for the user themself or an ADMIN; else null.",
        directives=[NEVER_CACHED],
        metadata=OWN_DATA,
    )
    def balance(self, root: strawberry.Parent[UserModel], info: Info) -> Decimal | None:
        # Only ADMIN holds MANAGE_ORDERS: who moves other users' money (refunds, payouts)
        # sees their balances.
        if not _is_self_or(info, root, Permission.MANAGE_ORDERS):
            return None
        return Decimal(root.balance_cents) / 100

    @strawberry.field(
        description="Published posts by this user.",
        directives=[cost(1)],
        metadata=prefetched(per_item(published_post_counts)),
    )
    async def post_count(self, root: strawberry.Parent[UserModel], info: Info) -> int:
        return await info.context.loaders.posts.published_count_by_author.load(root.id)

    @strawberry.field(
        directives=[connection_size(), cache_control(max_age=FEED_MAX_AGE)],
        description=(
            "Posts by this user, newest first: published ones for everyone; every status for "
            "the user themself and MODERATE_POSTS."
        ),
        metadata={**prefetched(to_connection(user_posts_pages)), **OWN_DATA},
    )
    async def posts(
        self,
        root: strawberry.Parent[UserModel],
        info: Info,
        first: int | None = UNSET,
        after: str | None = UNSET,
        last: int | None = UNSET,
        before: str | None = UNSET,
        status: PostStatus | None = UNSET,
    ) -> Connection[PostRef]:
        args = page_args(first, after, last, before)
        return await posts_of(info, root, args, given(status))

    @strawberry.field(
        directives=[connection_size(), NEVER_CACHED],
        description="Orders of this user, newest first: for the user themself or MANAGE_ORDERS "
        "(empty for everyone else).",
        metadata={**prefetched(to_connection(user_orders_pages)), **OWN_DATA},
    )
    async def orders(
        self,
        root: strawberry.Parent[UserModel],
        info: Info,
        first: int | None = UNSET,
        after: str | None = UNSET,
        last: int | None = UNSET,
        before: str | None = UNSET,
    ) -> Connection[OrderRef]:
        args = page_args(first, after, last, before)
        return await orders_of(info, root, args)
