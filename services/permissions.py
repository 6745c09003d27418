"""Roles and the permissions they grant (the contract's Role -> Permission table)."""

from __future__ import annotations

import enum

from models.user import Role, User


class Permission(enum.StrEnum):
    READ_USERS = "READ_USERS"
    WRITE_USERS = "WRITE_USERS"
    DELETE_USERS = "DELETE_USERS"
    READ_POSTS = "READ_POSTS"
    WRITE_POSTS = "WRITE_POSTS"
    MODERATE_POSTS = "MODERATE_POSTS"
    WRITE_PRODUCTS = "WRITE_PRODUCTS"
    MANAGE_ORDERS = "MANAGE_ORDERS"
    READ_STATS = "READ_STATS"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MODERATOR: frozenset(
        {
            Permission.READ_USERS,
            Permission.READ_POSTS,
            Permission.WRITE_POSTS,
            Permission.MODERATE_POSTS,
        }
    ),
    Role.USER: frozenset({Permission.READ_POSTS, Permission.WRITE_POSTS}),
}


def permissions_of(role: Role) -> frozenset[Permission]:
    return ROLE_PERMISSIONS[role]


def role_has(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def sorted_permissions(role: Role) -> list[Permission]:
    """A role's permissions in the contract's order (stable output for clients)."""
    granted = ROLE_PERMISSIONS[role]
    return [permission for permission in Permission if permission in granted]


def is_self_or(viewer: User | None, user_id: int, permission: Permission) -> bool:
    """The user themself, or a viewer whose role grants ``permission``."""
    return viewer is not None and (viewer.id == user_id or role_has(viewer.role, permission))
