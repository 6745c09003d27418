"""Transfers and customer statistics."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from models.wallet import Transfer as TransferModel
from resolvers.prefetch import prefetched, to_one
from resolvers.relations import users_by_id
from services.money import to_decimal
from services.stats import CustomerStats as CustomerStatsRow
from vocabulary.cache_hints import NEVER_CACHED
from vocabulary.context import Info
from vocabulary.relay import Node, to_global_id
from vocabulary.type_checks import decided_by_class

if TYPE_CHECKING:
    from schema.types.user import User

UserRef = Annotated["User", strawberry.lazy("schema.types.user")]


@strawberry.type(
    name="Transfer",
    description="Money sent from one wallet to another.",
    directives=[NEVER_CACHED],
)
class Transfer(Node):
    note: str | None
    created_at: datetime

    @classmethod
    @decided_by_class
    def is_type_of(cls, obj: object, _info: object) -> bool:
        return isinstance(obj, (TransferModel, cls))

    @strawberry.field  # type: ignore[misc]
    def id(self, root: strawberry.Parent[TransferModel]) -> strawberry.ID:  # type: ignore[override]
        return to_global_id("Transfer", root.id)

    @strawberry.field(name="from", metadata=prefetched(to_one("sender_id", users_by_id)))
    async def sender(self, root: strawberry.Parent[TransferModel], info: Info) -> UserRef:
        return await info.context.loaders.users.by_id.load(
            root.sender_id  # type: ignore[return-value]
        )

    @strawberry.field(name="to", metadata=prefetched(to_one("receiver_id", users_by_id)))
    async def receiver(self, root: strawberry.Parent[TransferModel], info: Info) -> UserRef:
        return await info.context.loaders.users.by_id.load(
            root.receiver_id  # type: ignore[return-value]
        )

    @strawberry.field
    def amount(self, root: strawberry.Parent[TransferModel]) -> Decimal:
        return to_decimal(root.amount_cents)


@strawberry.type(
    name="CustomerStats",
    description="What a customer spent on completed orders.",
    directives=[NEVER_CACHED],
)
class CustomerStats:
    @strawberry.field(metadata=prefetched(to_one("user_id", users_by_id)))
    async def user(self, root: strawberry.Parent[CustomerStatsRow], info: Info) -> UserRef:
        return await info.context.loaders.users.by_id.load(root.user_id)  # type: ignore[return-value]

    @strawberry.field
    def total_orders(self, root: strawberry.Parent[CustomerStatsRow]) -> int:
        return root.total_orders

    @strawberry.field
    def total_amount(self, root: strawberry.Parent[CustomerStatsRow]) -> Decimal:
        return to_decimal(root.total_cents)
