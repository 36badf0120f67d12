"""The one exception provider clients raise for an error answer."""

from __future__ import annotations

import httpx

from hub.http.logs import PROVIDER_EXTENSION

# Enough of an error body to diagnose it, short enough to keep a log line readable.
_EXCERPT_CHARS = 200


class ProviderError(Exception):
    """A provider answered with a 4xx or 5xx status (after retries, for retryable ones)."""

    def __init__(self, provider: str, status: int, message: str) -> None:
        super().__init__(f"{provider} answered HTTP {status}: {message}")
        self.provider = provider
        self.status = status
        self.message = message


def raise_for_provider(response: httpx.Response) -> httpx.Response:
    """Return ``response`` if it is not an error, else raise :class:`ProviderError`.

    Returning the response allows ``raise_for_provider(client.get(...)).json()``.
    """
    if not response.is_error:
        return response
    raise ProviderError(_provider_of(response), response.status_code, _describe(response))


def _provider_of(response: httpx.Response) -> str:
    try:
        request = response.request
    except RuntimeError:  # a response built by hand has no request
        return "unknown"
    return str(request.extensions.get(PROVIDER_EXTENSION, "unknown"))


def _describe(response: httpx.Response) -> str:
    try:
        body = response.text.strip()
    except httpx.ResponseNotRead:  # streamed and not read: don't consume it behind the caller
        body = ""
    excerpt = body[:_EXCERPT_CHARS] + ("…" if len(body) > _EXCERPT_CHARS else "")
    return f"{response.reason_phrase} {excerpt}".strip()
