"""Client-side request rate: a token bucket per GRDF client credential."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
from django.conf import settings


class RateLimiter:
    """A token bucket: ``rate`` requests per second on average, bursts of ``burst``.

    Thread-safe within a process. Share one per client credential (:func:`rate_limiter_for`).
    ``clock``/``sleep`` are injectable for tests.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1, burst)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(self.burst)
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, waiting for it if needed; returns the time waited in seconds."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


_LIMITERS: dict[tuple[str, str], RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def rate_limiter_for(*, token_url: str, client_id: str, rate: float | None = None) -> RateLimiter:
    """The process-wide bucket of one client credential, created at ``rate`` (default setting)."""
    key = (token_url, client_id)
    with _LIMITERS_LOCK:
        limiter = _LIMITERS.get(key)
        if limiter is None:
            limiter = RateLimiter(rate or settings.GRDF_REQUESTS_PER_SECOND)
            _LIMITERS[key] = limiter
        return limiter


class RateLimitedTransport(httpx.BaseTransport):
    """Takes a token from the bucket before each attempt (retries and token calls included)."""

    def __init__(self, transport: httpx.BaseTransport, limiter: RateLimiter) -> None:
        self._transport = transport
        self._limiter = limiter

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._limiter.acquire()
        return self._transport.handle_request(request)

    def close(self) -> None:
        self._transport.close()
