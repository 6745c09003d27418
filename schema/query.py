"""The Query root."""

from __future__ import annotations

import strawberry

from resolvers.node import resolve_node
from resolvers.users import resolve_me
from schema.context import Info
from schema.relay import Node
from schema.types.user import User


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global ID; null when it does not exist.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)  # type: ignore[no-any-return]

    @strawberry.field(description="The authenticated caller; null when anonymous.")
    def me(self, info: Info) -> User | None:
        return resolve_me(info)  # type: ignore[return-value]
