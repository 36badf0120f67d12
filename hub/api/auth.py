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


# Set on the request when its token was taken from ``tokens.remembered``: the view checks it
# (``tokens.unchanged_sql``) in its own query, or calls ``authenticate_again`` before reading.
UNCHECKED = "hub_token_unchecked"


class ApiTokenAuthentication(BaseAuthentication):
    """Checks the token against its row on every call, in one query, unless the view says it
    checks the token itself (``checks_token(request)``, the series' points): the token this
    process found usable recently is then taken as is and the view's query checks its row."""

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[TokenPrincipal, ApiToken] | None:
        plaintext = self._plaintext(request)
        if plaintext is None:
            return None
        view = (request.parser_context or {}).get("view")
        checks_token = getattr(view, "checks_token", None)
        if checks_token is not None and checks_token(request):
            token = tokens.remembered(
                plaintext=plaintext, ip=client_ip(request._request), now=timezone.now()
            )
            if token is not None:
                setattr(request._request, UNCHECKED, True)
                return TokenPrincipal(token), token
        return self._authenticate(request, plaintext)

    def authenticate_again(self, request: Request) -> None:
        """Authenticate ``request`` from the token's row (its remembered token no longer
        matched it): sets its user and token, or raises as a first authentication would."""
        if isinstance(request.auth, ApiToken):
            tokens.forget(request.auth)
        setattr(request._request, UNCHECKED, False)
        plaintext = self._plaintext(request)
        found = None if plaintext is None else self._authenticate(request, plaintext)
        if found is None:
            raise exceptions.NotAuthenticated()
        request.user, request.auth = found  # type: ignore[assignment]

    def _plaintext(self, request: Request) -> str | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Authorization header: expected 'Bearer <token>'."
            )
        return header[1].decode("ascii", errors="replace")

    def _authenticate(self, request: Request, plaintext: str) -> tuple[TokenPrincipal, ApiToken]:
        try:
            token = tokens.authenticate(
                plaintext=plaintext, ip=client_ip(request._request), now=timezone.now()
            )
        except tokens.AddressNotAllowed as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        except tokens.TokenError as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from exc
        return TokenPrincipal(token), token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


__all__ = ["UNCHECKED", "ApiTokenAuthentication", "TokenPrincipal", "TokenRateThrottle"]
