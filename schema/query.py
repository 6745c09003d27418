"""The Query root."""

from __future__ import annotations

import strawberry
from strawberry import UNSET

from resolvers import users as user_resolvers
from resolvers.node import resolve_node
from schema.arguments import given
from schema.connections import Connection
from schema.context import Info
from schema.enums import OrderDirection, Permission, UserOrderField
from schema.inputs import UserFilter
from schema.permissions import HasPermission, requires
from schema.relay import Node
from schema.types.user import User
from services.pagination import PageArgs


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global ID; null when it does not exist.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)  # type: ignore[no-any-return]

    @strawberry.field(description="The authenticated caller; null when anonymous.")
    def me(self, info: Info) -> User | None:
        return user_resolvers.resolve_me(info)  # type: ignore[return-value]

    @strawberry.field(description="A user by ID; null when there is none.")
    async def user(self, info: Info, id: strawberry.ID) -> User | None:
        return await user_resolvers.resolve_user(info, id)  # type: ignore[return-value]

    @strawberry.field(
        description="Users, filtered and ordered (READ_USERS).",
        extensions=requires(HasPermission(Permission.READ_USERS)),
    )
    async def users(
        self,
        info: Info,
        first: int | None = UNSET,
        after: str | None = UNSET,
        last: int | None = UNSET,
        before: str | None = UNSET,
        filter: UserFilter | None = UNSET,
        order_by: UserOrderField | None = UserOrderField.CREATED_AT,
        direction: OrderDirection | None = OrderDirection.DESC,
    ) -> Connection[User]:
        return await user_resolvers.resolve_users(
            info,
            PageArgs(given(first), given(after), given(last), given(before)),
            given(filter),
            order_by or UserOrderField.CREATED_AT,
            direction or OrderDirection.DESC,
        )
