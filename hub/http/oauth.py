"""OAuth2 client-credentials authentication, built on httpx-auth.

httpx-auth fetches the token, caches it and fetches a new one ``early_expiry`` seconds before
``expires_in`` runs out. Its cache is process-wide and keyed by a hash of the token URL, scope,
client id and client secret, so two providers (or two accounts of one provider) never share a
token, while every client built for the same credentials reuses one token instead of fetching
its own. Tests isolate themselves with :func:`clear_token_cache`.

On top of it, :class:`ClientCredentialsAuth` discards the token and retries once when the API
answers 401 (a token revoked or rotated before its announced expiry).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field

import httpx
from httpx_auth import OAuth2, OAuth2ClientCredentials

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


class ClientCredentialsAuth(OAuth2ClientCredentials):
    """httpx-auth's client-credentials flow, plus one token renewal on a 401 answer.

    ``token_client`` sends the token request; giving it the API client's transport puts the token
    call through the same retries, logging and (in tests) mock. httpx-auth sets that client's
    auth to HTTP Basic with the client credentials, so it must not be the API client itself.
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
