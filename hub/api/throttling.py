"""API rate limits: one bucket per token, per organisation's tokens and per person, with headers.

Every throttle records what it counted on the request; ``RateLimitHeadersMiddleware`` sends the
tightest as ``RateLimit-Limit``/``-Remaining``/``-Reset`` (IETF httpapi draft) and DRF adds
``Retry-After`` to each 429. The buckets live in the shared cache, which keeps counting in
process memory while Redis is down (``hub.cache``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from hub.models import ApiToken
from hub.netaddr import client_ip

ATTRIBUTE = "hub_rate_limits"


@dataclass(frozen=True)
class Budget:
    limit: int
    remaining: int
    reset_seconds: int


class RecordingRateThrottle(SimpleRateThrottle):
    """DRF's sliding-window throttle that leaves its count on the request for the headers."""

    def allow_request(self, request: Request, view: Any) -> bool:
        allowed = super().allow_request(request, view)
        # Set by DRF's allow_request (untyped in its stubs).
        limit: int | None = getattr(self, "num_requests", None)
        duration: int | None = getattr(self, "duration", None)
        if getattr(self, "key", None) is not None and limit is not None and duration is not None:
            history = getattr(self, "history", [])
            oldest = history[-1] if history else self.now
            budget = Budget(
                limit=limit,
                remaining=max(limit - len(history), 0),
                reset_seconds=max(math.ceil(duration - (self.now - oldest)), 0),
            )
            budgets = getattr(request._request, ATTRIBUTE, [])
            budgets.append(budget)
            setattr(request._request, ATTRIBUTE, budgets)
        return allowed


class TokenRateThrottle(RecordingRateThrottle):
    """One bucket per token (its public prefix)."""

    scope = "token"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}
        return None


class OrganisationTokenRateThrottle(RecordingRateThrottle):
    """All tokens of one organisation together: more tokens do not buy more calls, and one
    organisation's traffic never counts against another's."""

    scope = "organisation"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = str(request.auth.organisation_id)
            return self.cache_format % {"scope": self.scope, "ident": ident}
        return None


class PersonRateThrottle(RecordingRateThrottle):
    """People by their user id, anonymous callers by address; tokens have their own buckets
    (a token's stand-in user has no id, which DRF's ``UserRateThrottle`` would key as one
    bucket for every token of every organisation)."""

    scope = "user"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            return None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.pk is not None:
            ident = f"user:{user.pk}"
        else:
            # The address as hub.netaddr reads it: X-Forwarded-For only from trusted proxies.
            ident = f"ip:{client_ip(request._request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class RateLimitHeadersMiddleware:
    """Sends the tightest budget any throttle counted for this request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        budgets: list[Budget] = getattr(request, ATTRIBUTE, [])
        if budgets:
            tightest = min(budgets, key=lambda b: (b.remaining, -b.reset_seconds))
            response.headers["RateLimit-Limit"] = str(tightest.limit)
            response.headers["RateLimit-Remaining"] = str(tightest.remaining)
            response.headers["RateLimit-Reset"] = str(tightest.reset_seconds)
        return response
