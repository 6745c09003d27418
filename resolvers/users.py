"""User queries."""

from __future__ import annotations

from models.user import User
from schema.context import Info


def resolve_me(info: Info) -> User | None:
    return info.context.user
