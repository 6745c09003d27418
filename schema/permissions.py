"""Permission classes: one check each, composed where a field is declared.

They raise our own errors (UNAUTHENTICATED for anonymous callers, FORBIDDEN otherwise) so
every refusal carries its code. Keep them on root fields and mutations, not on list leaves.
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from models.user import Role
from services.errors import Forbidden, Unauthenticated
from services.permissions import Permission, role_has
from vocabulary.context import Info


class IsAuthenticated(BasePermission):
    message = "Authentication required"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if info.context.user is None:
            raise Unauthenticated(self.message)
        return True


class HasPermission(BasePermission):
    def __init__(self, permission: Permission) -> None:
        self.permission = permission
        self.message = f"Requires the {permission.value} permission"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        user = info.context.user
        if user is None:
            raise Unauthenticated("Authentication required")
        if not role_has(user.role, self.permission):
            raise Forbidden(self.message, permission=self.permission.value)
        return True


class IsAdmin(BasePermission):
    message = "Requires the ADMIN role"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        user = info.context.user
        if user is None:
            raise Unauthenticated("Authentication required")
        if user.role is not Role.ADMIN:
            raise Forbidden(self.message)
        return True


def requires(*permissions: BasePermission) -> list[FieldExtension]:
    """``strawberry.field(extensions=requires(HasPermission(P)))``."""
    return [PermissionExtension(permissions=list(permissions), use_directives=False)]


def admin_only() -> list[FieldExtension]:
    return requires(IsAdmin())


def authenticated() -> list[FieldExtension]:
    return requires(IsAuthenticated())
