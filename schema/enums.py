"""Enums of the contract: the models' and services' own enums, registered with Strawberry."""

from __future__ import annotations

import enum

import strawberry

from models.user import Role, UserStatus
from services.permissions import Permission

strawberry.enum(Role, name="Role")
strawberry.enum(UserStatus, name="UserStatus")
strawberry.enum(Permission, name="Permission")


@strawberry.enum
class OrderDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"

    @property
    def descending(self) -> bool:
        return self is OrderDirection.DESC


@strawberry.enum
class UserOrderField(enum.Enum):
    CREATED_AT = "created_at"
    NAME = "name"


__all__ = ["OrderDirection", "Permission", "Role", "UserOrderField", "UserStatus"]
