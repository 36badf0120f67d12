"""The HTTP client every call to an external provider goes through.

``build_client`` returns a plain ``httpx.Client`` configured with connect/read timeouts, retries
with backoff (``hub.http.retry``), optional OAuth2 client credentials (``hub.http.oauth``), one
secret-free log line per attempt on the ``hub.http`` logger (``hub.http.logs``) and a
``supplier-data-hub/<version>`` User-Agent.

Typical use::

    client = build_client(provider="grdf", base_url=..., auth=ClientCredentials(...))
    data = raise_for_provider(client.get("/consumptions", params=...)).json()

In tests, pass ``transport=httpx.MockTransport(handler)``: the token request and the retries go
through it too. Replace ``hub.http.retry.pause`` to avoid real waits, and call
``clear_token_cache()`` between tests that use OAuth2.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import httpx

from hub.http.errors import ProviderError, raise_for_provider
from hub.http.logs import LoggingTransport
from hub.http.oauth import (
    ClientAuthenticationError,
    ClientCredentials,
    ClientCredentialsAuth,
    clear_token_cache,
)
from hub.http.retry import HubRetryTransport, build_retry

__all__ = [
    "USER_AGENT",
    "ClientAuthenticationError",
    "ClientCredentials",
    "CookielessClient",
    "ProviderError",
    "build_client",
    "clear_token_cache",
    "raise_for_provider",
]


def _version() -> str:
    try:
        return version("supplier-data-hub")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"


USER_AGENT = f"supplier-data-hub/{_version()}"


def build_client(
    *,
    base_url: str,
    connect_timeout: float = 5,
    read_timeout: float = 30,
    retries: int = 3,
    backoff_factor: float = 0.5,
    max_backoff: float = 30,
    auth: ClientCredentials | httpx.Auth | None = None,
    headers: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
    keep_cookies: bool = True,
    provider: str,
) -> httpx.Client:
    """A client for one provider. Close it (or use it as a context manager) when done.

    ``keep_cookies=False``: the client neither stores a cookie an answer sets nor sends one,
    for a client shared by callers that must not share anything but the connections (one
    credential per call: a cookie set for one would ride on the calls of all the others).
    """
    # Logging sits inside the retries so that each attempt is logged, and the retries wrap the
    # injected transport so that tests exercise them through a mock.
    stack = HubRetryTransport(
        LoggingTransport(transport or httpx.HTTPTransport(), provider=provider),
        build_retry(retries=retries, backoff_factor=backoff_factor, max_backoff=max_backoff),
    )
    # Connecting (or waiting for a pooled connection) is quick when the provider is up, so it gets
    # the short timeout; reading and writing a large payload may legitimately take longer.
    timeout = httpx.Timeout(
        connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
    )
    client_class = httpx.Client if keep_cookies else CookielessClient
    return client_class(
        base_url=base_url,
        timeout=timeout,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        auth=_resolve_auth(auth, stack, timeout, read_timeout),
        transport=stack,
    )


class _NoCookies(httpx.Cookies):
    """An always empty jar: what an answer sets is dropped, so nothing is ever sent."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        return None

    def update(self, cookies: object = None) -> None:  # type: ignore[override]
        return None


class CookielessClient(httpx.Client):
    """An ``httpx.Client`` that keeps no cookie (``build_client(keep_cookies=False)``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise TypeError("this client keeps no cookies")


def _resolve_auth(
    auth: ClientCredentials | httpx.Auth | None,
    stack: httpx.BaseTransport,
    timeout: httpx.Timeout,
    read_timeout: float,
) -> httpx.Auth | None:
    if not isinstance(auth, ClientCredentials):
        return auth
    # A separate client for the token endpoint (httpx-auth sets its auth to the client
    # credentials), sharing the transport and thus its connections, retries and logging.
    token_client = httpx.Client(
        headers={"User-Agent": USER_AGENT}, timeout=timeout, transport=stack
    )
    return ClientCredentialsAuth(auth, token_client=token_client, timeout=read_timeout)
