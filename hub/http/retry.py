"""Retry policy for provider calls, built on httpx-retries.

What is retried:

* Idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE, TRACE) on 429, 500, 502, 503 and 504, and on
  transport errors (timeouts, network errors, broken connections): resending them cannot duplicate
  an effect on the provider's side.
* Every other method (POST, PATCH) only when the request provably never left: the connection could
  not be opened, or no pooled connection became free. A POST that failed later may already have been
  processed (a switch request, a consent submission), so resending it is left to the caller, who
  knows whether the operation is safe to repeat.

Waits grow exponentially (``backoff_factor * 2**n`` before the nth retry) with jitter, and a
server's ``Retry-After`` (seconds or HTTP date) is honoured; both are capped at ``max_backoff``.
"""

from __future__ import annotations

import time

import httpx
from httpx_retries import Retry, RetryTransport

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

# Failures raised before any byte of the request reached the server: even a POST is safe to resend.
NOT_SENT_ERRORS: tuple[type[httpx.HTTPError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)

# Each wait is drawn from [backoff / 2, backoff]: enough spread that workers failing together
# do not retry together, while every retry still waits at least half its nominal backoff.
JITTER = 0.5


def pause(seconds: float) -> None:
    """Block between attempts. Looked up at call time, so tests replace it to record the waits."""
    time.sleep(seconds)


class HubRetry(Retry):
    """The library's policy, with its wait routed through :func:`pause`.

    httpx-retries calls ``time.sleep`` directly, and patching that would stop every sleep in the
    process during a test; routing through a module function keeps the seam narrow.
    """

    def sleep(self, response: httpx.Response | Exception) -> None:
        headers = response.headers if isinstance(response, httpx.Response) else {}
        seconds = self._calculate_sleep(headers)
        pause(seconds)
        self.elapsed_sleep += seconds


class HubRetryTransport(RetryTransport):
    """``RetryTransport`` that also resends non-idempotent requests that were never sent.

    The library hands non-idempotent methods straight to the wrapped transport, without any
    retry; connection failures are the one case where resending them is still safe.
    """

    def __init__(self, transport: httpx.BaseTransport, retry: Retry) -> None:
        super().__init__(transport=transport, retry=retry)
        self._wrapped = transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        retry: Retry = request.extensions.get("retry", self.retry)
        if retry.is_retryable_method(request.method):
            return super().handle_request(request)
        return self._send_once_delivered(request, retry)

    def _send_once_delivered(self, request: httpx.Request, retry: Retry) -> httpx.Response:
        while True:
            try:
                return self._wrapped.handle_request(request)
            except NOT_SENT_ERRORS as error:
                if retry.is_exhausted():
                    raise
                retry = retry.increment()
                retry.sleep(error)


def build_retry(*, retries: int, backoff_factor: float, max_backoff: float) -> HubRetry:
    return HubRetry(
        total=retries,
        backoff_factor=backoff_factor,
        max_backoff_wait=max_backoff,
        backoff_jitter=JITTER,
        status_forcelist=RETRY_STATUSES,
        respect_retry_after_header=True,
    )
