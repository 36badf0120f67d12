"""One log line per HTTP attempt, with nothing secret in it, and each attempt counted and timed.

The logging transport sits *inside* the retry transport, so every attempt (not only the final
one) is logged with its number; httpx event hooks run once per ``send`` and cannot see retries.
Only the method, a redacted URL, the status and the timing are logged: never headers (they carry
the Authorization header) and never bodies (token requests carry the client secret as form data).

A failed attempt (a status of 400 or more, a transport error) is a warning; the success that
ends a retry, information; any other success is a debug line, shown with
``HTTP_CLIENT_LOG_LEVEL=DEBUG``. Every attempt is counted and timed in ``/metrics``
(``hub_http_client_requests_total``, ``hub_http_client_request_duration_seconds``): a Smart OA
poll makes one call per contract, and writing each success as a line cost its 16 threads about
0.1 ms of CPU per call, a tenth of the poll's.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx

from hub import metrics
from hub.redaction import redacted_query

logger = logging.getLogger("hub.http")

ATTEMPT_EXTENSION = "hub.attempt"
PROVIDER_EXTENSION = "hub.provider"


def safe_url(url: httpx.URL) -> str:
    """The URL without user info, and with credential-like query values replaced."""
    base = f"{url.scheme}://{url.netloc.decode('ascii')}{url.path}"
    query = redacted_query(url.query.decode("ascii"))
    return f"{base}?{query}" if query else base


class LoggingTransport(httpx.BaseTransport):
    """Logs each attempt and tags requests with their provider (read by ``raise_for_provider``)."""

    def __init__(self, wrapped: httpx.BaseTransport, *, provider: str) -> None:
        self._wrapped = wrapped
        self._provider = provider
        # The metrics' children, looked up once (``labels`` takes a lock on every call).
        self._latency = metrics.HTTP_CLIENT_LATENCY.labels(provider)
        self._calls: dict[str, Any] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        # The retry transport resends the same Request object, so a counter on it numbers attempts.
        attempt = int(request.extensions.get(ATTEMPT_EXTENSION, 0)) + 1
        request.extensions[ATTEMPT_EXTENSION] = attempt
        request.extensions[PROVIDER_EXTENSION] = self._provider
        started = time.perf_counter()
        try:
            response = self._wrapped.handle_request(request)
        except httpx.HTTPError as error:
            self._log(request, attempt, started, status=None, error=type(error).__name__)
            raise
        self._log(request, attempt, started, status=response.status_code, error=None)
        return response

    def close(self) -> None:
        self._wrapped.close()

    def _log(
        self,
        request: httpx.Request,
        attempt: int,
        started: float,
        *,
        status: int | None,
        error: str | None,
    ) -> None:
        elapsed = time.perf_counter() - started
        outcome = error or str(status)
        calls = self._calls.get(outcome)
        if calls is None:
            calls = self._calls[outcome] = metrics.HTTP_CLIENT_CALLS.labels(self._provider, outcome)
        calls.inc()
        self._latency.observe(elapsed)
        failed = error is not None or (status is not None and status >= 400)
        level = logging.WARNING if failed else logging.INFO if attempt > 1 else logging.DEBUG
        if not logger.isEnabledFor(level):
            return
        fields = {
            "provider": self._provider,
            "method": request.method,
            "url": safe_url(request.url),
            "status": status,
            "error": error,
            # Time to response headers: the body may still be streaming when the transport returns.
            "elapsed_ms": round(elapsed * 1000, 1),
            "attempt": attempt,
        }
        # The fields are in the message as well as in ``extra`` so they show up whether or not
        # the formatter renders extras.
        logger.log(
            level,
            "http_request %s",
            " ".join(f"{key}={value}" for key, value in fields.items() if value is not None),
            extra=fields,
        )
