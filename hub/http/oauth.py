"""OAuth2 client-credentials authentication, built on httpx-auth.

httpx-auth fetches the token, caches it and fetches a new one ``early_expiry`` seconds before
``expires_in`` runs out. Its cache is process-wide and keyed by a hash of the token URL, scope,
client id and client secret, so two providers (or two accounts of one provider) never share a
token, while every client built for the same credentials reuses one token instead of fetching
its own. Tests isolate themselves with :func:`clear_token_cache`.

On top of it, :class:`ClientCredentialsAuth` discards the token and retries once when the API
answers 401 (a token revoked or rotated before its announced expiry), and sends the client
credentials the way the provider's token endpoint expects them (RFC 6749 §2.3.1): as an HTTP
Basic header (``basic``, "client_secret_basic", which every server must support, e.g. RTE's) or
in the form body (``post``, "client_secret_post", GRDF's documented way). Each provider chooses
with a setting of its own (GRDF: ``GRDF_TOKEN_AUTH_METHOD``, ``post`` by default). A refusal of
the credentials (``invalid_client``) raises :class:`ClientAuthenticationError`, naming the
method used and the setting that picks it.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from httpx_auth import InvalidGrantRequest, OAuth2, OAuth2ClientCredentials
from httpx_auth._errors import HttpxAuthException

AuthMethod = Literal["post", "basic"]
AUTH_METHODS: tuple[AuthMethod, ...] = ("post", "basic")
_METHOD_NAMES = {
    "post": "client_secret_post (client_id and client_secret in the form body)",
    "basic": "client_secret_basic (HTTP Basic header)",
}

# An early expiry this large (about 31 years) makes any cached token count as expired.
_FORCE_EXPIRY = 1e9


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """Where and how to obtain an OAuth2 client-credentials token. The secret stays out of repr."""

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str | None = None
    early_expiry: float = 60
    # How the token endpoint takes the client credentials, and the setting that chooses it
    # (named in the error when the endpoint refuses them).
    auth_method: AuthMethod = "basic"
    auth_method_setting: str = ""

    def __post_init__(self) -> None:
        if self.auth_method not in AUTH_METHODS:
            raise ValueError(f"auth_method must be one of {AUTH_METHODS}, not {self.auth_method!r}")


class ClientAuthenticationError(InvalidGrantRequest):
    """The token endpoint refused the client credentials (``invalid_client``).

    Subclasses httpx-auth's own error, so callers that handle a refused grant handle it too.
    """

    def __init__(self, message: str, *, auth_method: AuthMethod, setting: str) -> None:
        HttpxAuthException.__init__(self, message)
        self.auth_method = auth_method
        self.setting = setting


class ClientCredentialsAuth(OAuth2ClientCredentials):
    """httpx-auth's client-credentials flow, plus one token renewal on a 401 answer.

    ``token_client`` sends the token request; giving it the API client's transport puts the token
    call through the same retries, logging and (in tests) mock. With the ``basic`` method
    httpx-auth sets that client's auth to HTTP Basic with the client credentials, so it must not
    be the API client itself.
    """

    def __init__(
        self, credentials: ClientCredentials, *, token_client: httpx.Client, timeout: float
    ) -> None:
        super().__init__(
            credentials.token_url,
            credentials.client_id,
            credentials.client_secret,
            scope=credentials.scope,
            early_expiry=credentials.early_expiry,
            client=token_client,
            # httpx-auth applies a whole number of seconds to every phase of the token request.
            timeout=max(1, round(timeout)),
        )
        # httpx-auth reads ``early_expiry or 30``, which would turn an explicit 0 into 30 seconds.
        self.early_expiry = credentials.early_expiry
        self.auth_method: AuthMethod = credentials.auth_method
        self.auth_method_setting = credentials.auth_method_setting
        if self.auth_method == "post":
            # The cache key (``state``) was computed above from the same id and secret.
            self.data = {
                **self.data,
                "client_id": credentials.client_id,
                "client_secret": credentials.client_secret,
            }

    def _configure_client(self, client: httpx.Client) -> None:
        if self.auth_method == "basic":
            super()._configure_client(client)
        else:
            # The credentials travel in the body only (the token client carries no auth).
            client.timeout = self.timeout

    def request_new_token(self) -> Any:
        try:
            return super().request_new_token()
        except InvalidGrantRequest as error:
            if "invalid_client" not in str(error):
                raise
            other = "basic" if self.auth_method == "post" else "post"
            setting = self.auth_method_setting or "the provider's token auth method setting"
            raise ClientAuthenticationError(
                f"the token endpoint refused the client credentials (invalid_client), sent by "
                f"{_METHOD_NAMES[self.auth_method]}: check the client id and secret, or set "
                f"{setting}={other} if the provider expects {_METHOD_NAMES[other]}",
                auth_method=self.auth_method,
                setting=setting,
            ) from None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        response = yield self._with_token(request)
        if response.status_code == httpx.codes.UNAUTHORIZED:
            self._renew_token()
            yield self._with_token(request)

    def _with_token(self, request: httpx.Request) -> httpx.Request:
        # The parent flow takes the token from the cache (fetching it when missing or near
        # expiry), sets the Authorization header, then yields the request once.
        return next(super().auth_flow(request))

    def _renew_token(self) -> None:
        # The cache has no public "forget this key"; asking for the token with an early expiry
        # longer than any token lifetime makes it drop the cached one and fetch another, under
        # the cache's own lock.
        OAuth2.token_cache.get_token(
            self.state, early_expiry=_FORCE_EXPIRY, on_missing_token=self.request_new_token
        )


def clear_token_cache() -> None:
    """Forget every cached token in the process (for tests, and after rotating credentials)."""
    OAuth2.token_cache.clear()
