"""One log line per HTTP attempt, with nothing secret in it.

The logging transport sits *inside* the retry transport, so every attempt (not only the final
one) is logged with its number; httpx event hooks run once per ``send`` and cannot see retries.
Only the method, a redacted URL, the status and the timing are logged: never headers (they carry
the Authorization header) and never bodies (token requests carry the client secret as form data).
"""

from __future__ import annotations

import logging
import time

import httpx

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
        failed = error is not None or (status is not None and status >= 400)
        level = logging.WARNING if failed else logging.INFO
        if not logger.isEnabledFor(level):
            return
        fields = {
            "provider": self._provider,
            "method": request.method,
            "url": safe_url(request.url),
            "status": status,
            "error": error,
            # Time to response headers: the body may still be streaming when the transport returns.
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
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
