"""Who acts: the one value every audited change is attributed to (``hub.services.audit``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from hub.netaddr import client_ip


@dataclass(frozen=True)
class Actor:
    """A person (``user``), an API token, or a part of the system, with the address it came from.

    ``label`` is what the audit trail shows: the user's name, ``token <prefix> (<name>)``, or the
    name of the task, controller or command. ``user`` is set only for a signed-in person.
    """

    user: Any = None
    label: str = ""
    ip: str | None = None

    def __post_init__(self) -> None:
        # Only a stored, signed-in user is linked; an anonymous user or a token principal is not.
        user = self.user
        if user is not None and not (getattr(user, "is_authenticated", False) and user.pk):
            object.__setattr__(self, "user", None)

    @classmethod
    def from_request(cls, request: Any) -> Actor:
        """The caller of a portal view or an API endpoint (a Django or a DRF request)."""
        django_request: HttpRequest = getattr(request, "_request", request)
        principal = getattr(request, "user", None)
        ip = client_ip(django_request) or None
        if not getattr(principal, "is_authenticated", False):
            return cls(ip=ip)
        # An API token's principal has no pk: it is named, not linked.
        user = principal if getattr(principal, "pk", None) else None
        return cls(user=user, label=str(principal), ip=ip)

    @classmethod
    def system(cls, name: str) -> Actor:
        """A task, a controller or a command acting on its own."""
        if not name:
            raise ValueError("a system actor needs a name")
        return cls(label=name)

    @classmethod
    def person(cls, user: Any, *, ip: str | None = None) -> Actor:
        """A known user acting outside a request (an admin command, a second-factor step)."""
        if user is None or not getattr(user, "pk", None):
            return cls(ip=ip)
        return cls(user=user, label=str(user), ip=ip)


# Changes made with no one named: kept for services called from tests and the shell.
NOBODY = Actor()
