"""Which organisation a request acts for, and what it may do there."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from hub.models import ApiToken, Membership, Organisation, Role

SESSION_KEY = "organisation_id"


class NoOrganisation(Exception):
    """The caller belongs to no organisation."""


def memberships_of(user: Any) -> list[Membership]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(Membership.objects.filter(user=user).select_related("organisation"))


def current_membership(request: HttpRequest) -> Membership | None:
    """The session user's membership in the organisation chosen in the session (or the first)."""
    cached = getattr(request, "_hub_membership", None)
    if cached is not None:
        return cached
    memberships = memberships_of(getattr(request, "user", None))
    if not memberships:
        return None
    chosen_id = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    membership = next((m for m in memberships if m.organisation_id == chosen_id), memberships[0])
    request._hub_membership = membership  # type: ignore[attr-defined]
    return membership


def current_organisation(request: HttpRequest) -> Organisation:
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiToken):
        return auth.organisation
    membership = current_membership(request)
    if membership is None:
        raise NoOrganisation()
    return membership.organisation


def may(request: HttpRequest, required: Role) -> bool:
    """Whether the caller holds at least ``required`` in its current organisation.

    A token with the ``write`` scope (or no scopes at all) acts as an operator; a token never
    acts as an admin: managing users, tokens and credentials needs a person.
    """
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiToken):
        if required is Role.VIEWER:
            return not auth.scopes or "read" in auth.scopes or "write" in auth.scopes
        if required is Role.OPERATOR:
            return not auth.scopes or "write" in auth.scopes
        return False
    membership = current_membership(request)
    return membership is not None and membership.allows(required)
