"""REST authentication by API token (``Authorization: Bearer hub_…``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from hub.api.throttling import TokenRateThrottle
from hub.models import ApiToken
from hub.netaddr import client_ip
from hub.services import tokens


@dataclass
class TokenPrincipal:
    """Stands in for ``request.user`` when a token, not a person, calls."""

    token: ApiToken
    is_authenticated: bool = True
    is_active: bool = True
    is_staff: bool = False
    is_superuser: bool = False
    pk: None = field(default=None)

    def __str__(self) -> str:
        return f"token {self.token.prefix} ({self.token.name})"


class ApiTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[TokenPrincipal, ApiToken] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Authorization header: expected 'Bearer <token>'."
            )
        try:
            token = tokens.authenticate(
                plaintext=header[1].decode("ascii", errors="replace"),
                ip=client_ip(request._request),
                now=timezone.now(),
            )
        except tokens.AddressNotAllowed as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        except tokens.TokenError as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from exc
        return TokenPrincipal(token), token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


__all__ = ["ApiTokenAuthentication", "TokenPrincipal", "TokenRateThrottle"]
