"""Who calls the operator API: a JWT of a configured issuer, a hub API token, or a portal session.

A JWT is checked with PyJWT: signature (HS256 with a shared secret, or the issuer's JWKS for
asymmetric keys), ``exp`` (required), ``iss`` (must be the configured issuer) and ``aud`` when an
audience is configured. Its issuer and subject are mapped to an organisation by
``OperatorIdentity`` rows; an exact subject wins over the issuer-wide row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jwt
from django.conf import settings
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from flexready.selectors import operator_organisation
from hub.api.throttling import RecordingRateThrottle
from hub.http import build_client, raise_for_provider
from hub.models import Organisation, Role
from hub.services.tokens import TOKEN_PREFIX
from hub.tenancy import current_organisation, may

JWKS_CACHE_SECONDS = 600


@dataclass
class JwtIdentity:
    """A verified JWT's caller. ``organisation`` is None while not looked up yet: a view that
    resolves it in its own first statement (``resolves_operator``) got it so; ``organisation_of``
    looks it up on first use otherwise."""

    organisation: Organisation | None
    issuer: str
    subject: str
    claims: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"jwt {self.issuer} / {self.subject}"


@dataclass
class JwtPrincipal:
    """Stands in for ``request.user`` when an operator's JWT calls."""

    identity: JwtIdentity
    is_authenticated: bool = True
    is_active: bool = True
    is_staff: bool = False
    is_superuser: bool = False
    pk: None = None

    def __str__(self) -> str:
        return str(self.identity)


def _jwks() -> jwt.PyJWKSet:
    # Fetched through the hub's HTTP factory (timeouts, retries, logs) and cached in the shared
    # cache; PyJWT's own PyJWKClient would bypass both.
    url = settings.FLEXREADY_JWT_JWKS_URL
    data = cache.get(f"flexready:jwks:{url}")
    if data is None:
        with build_client(base_url=url, provider="flexready-jwks") as client:
            data = raise_for_provider(client.get("")).json()
        cache.set(f"flexready:jwks:{url}", data, JWKS_CACHE_SECONDS)
    return jwt.PyJWKSet.from_dict(data)


def _key_for(token: str) -> tuple[Any, list[str]]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise exceptions.AuthenticationFailed(f"JWT: {exc}") from exc
    algorithm = header.get("alg")
    if algorithm == "HS256" and settings.FLEXREADY_JWT_HS256_SECRET:
        return settings.FLEXREADY_JWT_HS256_SECRET, ["HS256"]
    if settings.FLEXREADY_JWT_JWKS_URL and algorithm in settings.FLEXREADY_JWT_ALGORITHMS:
        kid = header.get("kid")
        for key in _jwks().keys:
            if kid is None or key.key_id == kid:
                return key.key, [str(algorithm)]
        raise exceptions.AuthenticationFailed("JWT: no key of the issuer has this kid")
    raise exceptions.AuthenticationFailed(f"JWT: algorithm {algorithm!r} is not accepted")


def decode(token: str) -> dict[str, Any]:
    key, algorithms = _key_for(token)
    audience = settings.FLEXREADY_JWT_AUDIENCE or None
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            issuer=settings.FLEXREADY_JWT_ISSUER,
            audience=audience,
            leeway=settings.FLEXREADY_JWT_LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "sub"], "verify_aud": audience is not None},
        )
    except jwt.ExpiredSignatureError as exc:
        raise exceptions.AuthenticationFailed("JWT: expired") from exc
    except jwt.InvalidSignatureError as exc:
        raise exceptions.AuthenticationFailed("JWT: bad signature") from exc
    except jwt.PyJWTError as exc:
        raise exceptions.AuthenticationFailed(f"JWT: {exc}") from exc
    return claims


def identity_for(claims: dict[str, Any]) -> JwtIdentity:
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    return JwtIdentity(organisation_for(issuer, subject), issuer, subject, claims)


def organisation_for(issuer: str, subject: str) -> Organisation:
    organisation = operator_organisation(issuer, subject)
    if organisation is None:
        raise exceptions.PermissionDenied("This identity is not mapped to an organisation.")
    return organisation


class JwtAuthentication(BaseAuthentication):
    """``Authorization: Bearer <JWT>``; hub API tokens (``hub_…``) are left to hub's class.

    The token is always verified here. Its identity's organisation is looked up here too,
    unless the view says its own first statement does (``resolves_operator(request)``, the
    operator's writes): a mapping that is missing is then a 403 from the view, as from here.
    """

    def authenticate(self, request: Request) -> tuple[JwtPrincipal, JwtIdentity] | None:
        header = get_authorization_header(request).split()
        if len(header) != 2 or header[0].lower() != b"bearer":
            return None
        token = header[1].decode("ascii", errors="replace")
        if token.startswith(f"{TOKEN_PREFIX}_") or token.count(".") != 2:
            return None
        claims = decode(token)
        view = (request.parser_context or {}).get("view")
        resolves_operator = getattr(view, "resolves_operator", None)
        if resolves_operator is not None and resolves_operator(request):
            identity = JwtIdentity(None, str(claims["iss"]), str(claims["sub"]), claims)
        else:
            identity = identity_for(claims)
        return JwtPrincipal(identity), identity

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="flexready"'


def anonymous_organisation() -> Organisation | None:
    slug = settings.FLEXREADY_ANONYMOUS_READ_ORGANISATION
    return Organisation.objects.filter(slug=slug).first() if slug else None


def organisation_of(request: Request) -> Organisation:
    if isinstance(request.auth, JwtIdentity):
        if request.auth.organisation is None:
            found = organisation_for(request.auth.issuer, request.auth.subject)
            request.auth.organisation = found
            return found
        return request.auth.organisation
    if not request.user or not request.user.is_authenticated:
        organisation = anonymous_organisation()
        if organisation is None:
            raise exceptions.NotAuthenticated()
        return organisation
    return current_organisation(request)


def caller_label(request: Request) -> str:
    if isinstance(request.auth, JwtIdentity):
        return str(request.auth)
    if request.user and request.user.is_authenticated:
        return str(request.user)
    return "anonymous"


class OperatorAccess(BasePermission):
    """JWT operators read and write; tokens and people by their role; anonymous reads of a
    certification session only where ``FLEXREADY_ANONYMOUS_READ_ORGANISATION`` allows it (the
    annex's curl examples of realisation and consumptions carry no Authorization header)."""

    message = "Your role in this organisation does not allow this action."

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, JwtIdentity):
            return True
        if request.user and request.user.is_authenticated:
            required = Role.VIEWER if request.method in SAFE_METHODS else Role.OPERATOR
            return may(request, required)
        return (
            request.method in SAFE_METHODS
            and bool(view.kwargs.get("session_id"))
            and anonymous_organisation() is not None
        )


class JwtRateThrottle(RecordingRateThrottle):
    """One bucket per JWT subject (shared cache), like hub's per-token throttle."""

    scope = "flexready_jwt"

    def get_rate(self) -> str:
        return str(settings.FLEXREADY_JWT_RATE)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, JwtIdentity):
            ident = f"{request.auth.issuer}|{request.auth.subject}"
            return self.cache_format % {"scope": self.scope, "ident": ident}
        return None
