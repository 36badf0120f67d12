"""The supplier API's login (Annex 2): an OIDC client-credentials token, renewed before expiry."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import httpx
import httpx_auth
import pytest
from django.test import Client

from flexready.market.client.supplier import SupplierClient, configured_credentials
from flexready.market.simulator import supplier as supplier_sim
from hub.http import ClientCredentials

from .conftest import APPENDIX, paris

pytestmark = pytest.mark.django_db

SIM = "/sim/flexready/supplier"
PRICES = f"{SIM}/sessions/s1/suppliers/commodity/prices"
QUERY = {
    "delivery_point": "30001234567890",
    "start_date": "2026-01-01T00:00:00+01:00",
    "end_date": "2026-01-02T00:00:00+01:00",
}
_unique = itertools.count()


def _fetch(client: SupplierClient) -> int:
    signal = client.fetch(
        session_id="s1",
        delivery_point="30001234567890",
        start=paris(2026, 1, 1).astimezone(dt.UTC),
        end=paris(2026, 1, 2).astimezone(dt.UTC),
    )
    return len(signal.points)


def _through_django(django_client: Client) -> httpx.MockTransport:
    """Sends the supplier client's calls to the hub's own simulator views."""

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {
            f"HTTP_{k.upper().replace('-', '_')}": v
            for k, v in request.headers.items()
            if k.lower() in ("authorization", "accept")
        }
        if request.method == "POST":
            answer = django_client.post(
                request.url.path,
                request.content,
                content_type=request.headers["Content-Type"],
                **headers,  # type: ignore[arg-type]
            )
        else:
            answer = django_client.get(
                request.url.path,
                dict(request.url.params),
                **headers,  # type: ignore[arg-type]
            )
        return httpx.Response(answer.status_code, content=answer.content)

    return httpx.MockTransport(handler)


def test_login_points_to_the_identity_provider(client: Client) -> None:
    """Annex 2, ``GET /auth/login``: "A JSON object containing a link to be redirected to the
    Identity provider. The identity provider will issue a JWT token"."""
    body = client.get(f"{SIM}/auth/login").json()
    assert body["token_endpoint"].endswith("/sim/flexready/supplier/auth/token")


def test_client_credentials_through_the_simulator(client: Client, settings: Any) -> None:
    """Annex 2: "(except for login) Authorization: Bearer <your_jwt_token>": the hub logs in with
    its client id and secret and calls with the token it gets; a wrong secret is refused."""
    settings.FLEXREADY_SUPPLIER_CLIENT_ID = f"hub-{next(_unique)}"
    settings.FLEXREADY_SUPPLIER_CLIENT_SECRET = "right-secret"
    settings.FLEXREADY_SUPPLIER_TOKEN_URL = f"https://supplier.example{SIM}/auth/token"
    settings.FLEXREADY_SUPPLIER_TOKEN = ""
    with SupplierClient(
        base_url=f"https://supplier.example{SIM}", transport=_through_django(client), retries=0
    ) as supplier:
        assert _fetch(supplier) > 0
    wrong = ClientCredentials(
        token_url=f"https://supplier.example{SIM}/auth/token",
        client_id=f"hub-{next(_unique)}",
        client_secret="wrong",
    )
    with (
        SupplierClient(
            base_url=f"https://supplier.example{SIM}",
            credentials=wrong,
            transport=_through_django(client),
            retries=0,
        ) as supplier,
        pytest.raises(httpx_auth.InvalidGrantRequest, match="invalid_client"),
    ):
        _fetch(supplier)


def test_simulator_refuses_its_expired_tokens(client: Client) -> None:
    old = supplier_sim.issue_token(
        client_id="hub", now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    )
    response = client.get(PRICES, QUERY, HTTP_AUTHORIZATION=f"Bearer {old}")
    assert response.status_code == 401 and response.json()["error"] == "expired token"
    forged = old.rsplit(".", 1)[0] + ".0123456789abcdef0123456789abcdef"
    assert client.get(PRICES, QUERY, HTTP_AUTHORIZATION=f"Bearer {forged}").status_code == 401
    fresh = supplier_sim.issue_token(client_id="hub", now=dt.datetime.now(dt.UTC))
    assert client.get(PRICES, QUERY, HTTP_AUTHORIZATION=f"Bearer {fresh}").status_code == 200


def _provider(lifetime: int, *, refuse_first_call: bool = False) -> tuple[Any, list[str]]:
    """A token endpoint issuing tokens of ``lifetime`` seconds, and the supplier's prices."""
    issued: list[str] = []
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            issued.append(f"tok-{len(issued)}")
            return httpx.Response(
                200,
                json={"access_token": issued[-1], "token_type": "Bearer", "expires_in": lifetime},
            )
        seen.append(request.headers["Authorization"])
        if refuse_first_call and len(seen) == 1:
            return httpx.Response(401, json={"error": "revoked"})
        return httpx.Response(200, text=APPENDIX)

    return handler, issued


def _credentials() -> ClientCredentials:
    # A fresh token URL each time: httpx-auth caches tokens process-wide by URL and client.
    return ClientCredentials(
        token_url=f"https://idp{next(_unique)}.example/token",
        client_id="hub",
        client_secret="secret",
    )


def test_a_token_is_kept_while_valid_across_clients() -> None:
    handler, issued = _provider(3600)
    credentials = _credentials()
    for _ in range(2):
        with SupplierClient(
            base_url="https://supplier.example",
            credentials=credentials,
            transport=httpx.MockTransport(handler),
            retries=0,
        ) as supplier:
            _fetch(supplier)
            _fetch(supplier)
    assert issued == ["tok-0"]


def test_a_token_near_its_expiry_is_renewed_before_use() -> None:
    """A token that expires within ``early_expiry`` (60 s) is not sent: another is asked for."""
    handler, issued = _provider(30)
    with SupplierClient(
        base_url="https://supplier.example",
        credentials=_credentials(),
        transport=httpx.MockTransport(handler),
        retries=0,
    ) as supplier:
        _fetch(supplier)
        _fetch(supplier)
    assert issued == ["tok-0", "tok-1"]


def test_a_refused_token_is_renewed_once() -> None:
    handler, issued = _provider(3600, refuse_first_call=True)
    with SupplierClient(
        base_url="https://supplier.example",
        credentials=_credentials(),
        transport=httpx.MockTransport(handler),
        retries=0,
    ) as supplier:
        assert _fetch(supplier) == 4
    assert issued == ["tok-0", "tok-1"]


def test_without_client_credentials_a_fixed_token_is_used(settings: Any) -> None:
    settings.FLEXREADY_SUPPLIER_CLIENT_ID = ""
    settings.FLEXREADY_SUPPLIER_TOKEN = "copied-jwt"
    assert configured_credentials() is None
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, text=APPENDIX)

    with SupplierClient(
        base_url="https://supplier.example", transport=httpx.MockTransport(handler)
    ) as supplier:
        _fetch(supplier)
    assert seen == ["Bearer copied-jwt"]
