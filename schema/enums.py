"""Enums of the contract: the models' own enums, registered with Strawberry."""

from __future__ import annotations

import strawberry

from models.user import Role, UserStatus

strawberry.enum(Role, name="Role")
strawberry.enum(UserStatus, name="UserStatus")

__all__ = ["Role", "UserStatus"]
