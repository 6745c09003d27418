"""Input types of the contract."""

from __future__ import annotations

import strawberry
from strawberry import UNSET

from schema.enums import Role, UserStatus


@strawberry.input
class RegisterInput:
    name: str
    email: str
    password: str


@strawberry.input
class UpdateProfileInput:
    name: str | None = UNSET


@strawberry.input
class UserFilter:
    search: str | None = UNSET
    role: Role | None = UNSET
    status: UserStatus | None = UNSET
