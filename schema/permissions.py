"""Permission classes for the role table (who may call what); per-client scoping is in resolvers."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from domain.access import STAFF, require_role
from domain.values import Role
from schema.context import Info


class Authenticated(BasePermission):
    """Any verified token: client, service or admin."""

    message = "authentication required"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        info.context.user  # noqa: B018 - raises Unauthenticated
        return True


class Staff(BasePermission):
    """The approval service or an operator."""

    message = "the service or admin role is required"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        require_role(info.context.user, *STAFF)
        return True


class Admin(BasePermission):
    """Operators only."""

    message = "the admin role is required"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        require_role(info.context.user, Role.ADMIN)
        return True
