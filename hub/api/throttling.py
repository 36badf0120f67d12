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

from hub.cache import Bucket, Hit, window_hits
from hub.models import ApiToken
from hub.netaddr import client_ip

ATTRIBUTE = "hub_rate_limits"
# The hits of a request's buckets, counted together by the first throttle DRF asks.
BATCH = "_hub_throttle_hits"


@dataclass(frozen=True)
class Budget:
    limit: int
    remaining: int
    reset_seconds: int


class RecordingRateThrottle(SimpleRateThrottle):
    """DRF's throttle interface (scopes, rates, cache keys) counted by a sliding-window counter
    (``hub.cache.window_hits``: two integers per bucket; one atomic round trip for all the
    buckets of a call), which leaves its count on the request for the headers.

    DRF's own ``SimpleRateThrottle`` reads and rewrites the list of every request's time in
    the window (up to the limit, thousands of floats) on each call, without a lock: the cost
    grew with the limit and concurrent requests overwrote each other's counts."""

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        # Set by DRF's __init__ from the rate (untyped in its stubs).
        limit: int = self.num_requests  # type: ignore[attr-defined]
        duration: int = self.duration  # type: ignore[attr-defined]
        now, hit = _batched(request, view, self.key, self.timer())
        if hit is None:
            hit = window_hits([self._bucket(now)])[0]
        elapsed = now - int(now // duration) * duration
        weight = 1 - elapsed / duration
        used = hit.previous * weight + hit.current
        left_in_window = duration - elapsed
        if hit.allowed or not hit.previous or hit.current + 1 > limit:
            # Room comes back when this window ends (or sooner, as the previous one fades).
            self._wait = left_in_window
        else:
            # The previous window's share fades linearly: room for one more after this long.
            self._wait = min((used + 1 - limit) * duration / hit.previous, left_in_window)
        budget = Budget(
            limit=limit,
            remaining=max(limit - math.ceil(used), 0),
            reset_seconds=max(math.ceil(left_in_window), 0),
        )
        budgets = getattr(request._request, ATTRIBUTE, [])
        budgets.append(budget)
        setattr(request._request, ATTRIBUTE, budgets)
        return hit.allowed

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)

    def _bucket(self, now: float) -> Bucket:
        duration: int = self.duration  # type: ignore[attr-defined]
        window = int(now // duration)
        return Bucket(
            key=f"{self.key}:{window}",
            previous_key=f"{self.key}:{window - 1}",
            weight=1 - (now - window * duration) / duration,
            limit=self.num_requests,  # type: ignore[attr-defined]
            timeout=2 * duration,
        )


def _batched(request: Request, view: Any, key: str, now: float) -> tuple[float, Hit | None]:
    """This bucket's hit from one round trip counting every bucket of the view's throttles.

    DRF asks each throttle in turn and every one counts the call (a refusal by one does not
    stop the others), so counting them all at once, at one instant, changes no count; the
    first throttle asked sends them all, the others take their hit from the request."""
    batch: dict[str, tuple[float, Hit]] | None = getattr(request._request, BATCH, None)
    if batch is None:
        batch = {}
        get_throttles = getattr(view, "get_throttles", None)
        siblings = get_throttles() if get_throttles is not None else []
        keyed: list[RecordingRateThrottle] = []
        for throttle in siblings:
            if not isinstance(throttle, RecordingRateThrottle) or throttle.rate is None:
                continue
            throttle.key = throttle.get_cache_key(request, view)
            if throttle.key is not None and all(t.key != throttle.key for t in keyed):
                keyed.append(throttle)
        hits = window_hits([t._bucket(now) for t in keyed])
        batch = {t.key: (now, hit) for t, hit in zip(keyed, hits, strict=True) if t.key}
        setattr(request._request, BATCH, batch)
    found = batch.pop(key, None)
    if found is None:
        return now, None
    return found


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
