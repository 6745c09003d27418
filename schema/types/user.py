"""The User type."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from models.user import User as UserModel
from schema.context import Info
from schema.enums import Role, UserStatus
from schema.relay import Node, to_global_id


@strawberry.type(name="User", description="A member of the marketplace.")
class User(Node):
    name: str
    role: Role
    status: UserStatus
    created_at: datetime
    updated_at: datetime

    @classmethod
    def is_type_of(cls, obj: object, _info: object) -> bool:
        return isinstance(obj, (UserModel, cls))

    @strawberry.field  # type: ignore[misc]
    def id(self, root: strawberry.Parent[UserModel]) -> strawberry.ID:  # type: ignore[override]
        return to_global_id("User", root.id)

    @strawberry.field(description="Visible to the user themself; null for everyone else.")
    def email(self, root: strawberry.Parent[UserModel], info: Info) -> str | None:
        viewer = info.context.user
        return root.email if viewer is not None and viewer.id == root.id else None

    @strawberry.field(description="Wallet balance: visible to the user themself; null otherwise.")
    def balance(self, root: strawberry.Parent[UserModel], info: Info) -> Decimal | None:
        viewer = info.context.user
        if viewer is None or viewer.id != root.id:
            return None
        return Decimal(root.balance_cents) / 100
