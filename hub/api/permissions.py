from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from hub.models import Role
from hub.tenancy import may


class OrganisationRole(BasePermission):
    """Viewers read; operators (and ``write`` tokens) change; a view may ask for more."""

    message = "Your role in this organisation does not allow this action."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            required = getattr(view, "read_role", Role.VIEWER)
        else:
            required = getattr(view, "write_role", Role.OPERATOR)
        return may(request, required)
