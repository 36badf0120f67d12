"""JWTs (signature, expiry, issuer, mapping), hub tokens, roles and tenancy."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from rest_framework.test import APIClient

from flexready.demo import load_annex_data_set
from flexready.models import Bacs, OperatorIdentity
from hub.services.tokens import create_token
from tests.flexready.conftest import ISSUER, TEST_SECRET, make_jwt

BACS_1 = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
ASSETS = f"/api/v1/operator/bacs/{BACS_1}/assets"


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.mark.usefixtures("annex")
class TestJwt:
    def test_valid_jwt_reads(self) -> None:
        response = bearer(make_jwt()).get(ASSETS)
        assert response.status_code == 200
        assert [a["assetID"] for a in response.json()] == ["WholeBuilding"]
        assert response.json()[0]["potential"] == {
            "flexProduct": "WID",
            "power": {"unit": "W", "multiplier": "k", "value": 100.0},
            "mobilizationDelay": "PT1M",
            "maxDuration": "PT2M",
            "activationPerDay": 1,
            "timePeriod": [
                {"start": "2025-04-02T12:00:00+02:00", "end": "2025-04-02T14:00:00+02:00"}
            ],
        }

    def test_bad_signature_is_401(self) -> None:
        response = bearer(make_jwt(secret="not-the-secret-at-all-0123456789")).get(ASSETS)
        assert response.status_code == 401
        assert "bad signature" in response.json()["detail"]

    def test_expired_is_401(self) -> None:
        token = make_jwt(expires_in=dt.timedelta(minutes=-5))
        response = bearer(token).get(ASSETS)
        assert response.status_code == 401
        assert "expired" in response.json()["detail"]

    def test_other_issuer_is_401(self) -> None:
        response = bearer(make_jwt(issuer="https://elsewhere.test")).get(ASSETS)
        assert response.status_code == 401

    def test_missing_exp_is_401(self) -> None:
        token = jwt.encode({"iss": ISSUER, "sub": "x"}, TEST_SECRET, algorithm="HS256")
        assert bearer(token).get(ASSETS).status_code == 401

    def test_alg_none_is_401(self) -> None:
        token = jwt.encode(
            {"iss": ISSUER, "sub": "x", "exp": 4102444800},
            key=None,  # type: ignore[arg-type]
            algorithm="none",
        )
        assert bearer(token).get(ASSETS).status_code == 401

    def test_garbage_is_401(self) -> None:
        assert bearer("a.b.c").get(ASSETS).status_code == 401

    def test_unmapped_issuer_subject_is_403(self, settings: Any) -> None:
        OperatorIdentity.objects.all().delete()
        assert bearer(make_jwt()).get(ASSETS).status_code == 403

    def test_exact_subject_wins_over_issuer_wide_row(self, foreign: Any) -> None:
        load_annex_data_set(organisation=foreign.organisation)
        OperatorIdentity.objects.create(
            organisation=foreign.organisation, issuer=ISSUER, subject="rival-operator"
        )
        Bacs.objects.filter(organisation=foreign.organisation, bacs_id=BACS_1).update(
            name="Rival building"
        )
        # Same BACS id in both organisations: each subject sees its own organisation's.
        rival = bearer(make_jwt(subject="rival-operator")).get("/api/v1/operator/bacs").json()
        ours = bearer(make_jwt(subject="someone")).get("/api/v1/operator/bacs").json()
        assert "Rival building" in {b["name"] for b in rival}
        assert "Rival building" not in {b["name"] for b in ours}

    def test_jwks_keys(self, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        from flexready import auth

        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_jwk = jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
        public_jwk["kid"] = "k1"
        settings.FLEXREADY_JWT_JWKS_URL = "https://idp.flexready.test/jwks.json"
        monkeypatch.setattr(auth, "_jwks", lambda: jwt.PyJWKSet.from_dict({"keys": [public_jwk]}))
        claims = {"iss": ISSUER, "sub": "rsa-op", "exp": 4102444800}
        good = jwt.encode(claims, private, algorithm="RS256", headers={"kid": "k1"})
        assert bearer(good).get(ASSETS).status_code == 200
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode(claims, other, algorithm="RS256", headers={"kid": "k1"})
        assert bearer(forged).get(ASSETS).status_code == 401
        unknown_kid = jwt.encode(claims, private, algorithm="RS256", headers={"kid": "k9"})
        assert bearer(unknown_kid).get(ASSETS).status_code == 401


def test_hub_token_scopes_to_its_organisation(tenant: Any, foreign: Any) -> None:
    load_annex_data_set(organisation=tenant.organisation)
    mine = bearer(create_token(organisation=tenant.organisation, name="t").plaintext)
    theirs = bearer(create_token(organisation=foreign.organisation, name="t").plaintext)
    assert mine.get(ASSETS).status_code == 200
    assert mine.get("/api/v1/bacs").json()[0]["bacsID"]
    # A foreign BACS answers 404, exactly like a missing one.
    assert theirs.get(ASSETS).status_code == 404
    assert theirs.get("/api/v1/bacs").json() == []
    assert (
        theirs.get(f"/api/v1/bacs/{BACS_1}/assets/WholeBuilding/flexibilities").status_code == 404
    )


def test_read_token_cannot_write(tenant: Any) -> None:
    load_annex_data_set(organisation=tenant.organisation)
    issued = create_token(organisation=tenant.organisation, name="r", scopes=["read"])
    client = bearer(issued.plaintext)
    assert client.get(ASSETS).status_code == 200
    response = client.post(
        f"{ASSETS}/WholeBuilding/flexibilities/request", {"requestID": "x"}, format="json"
    )
    assert response.status_code == 403


def test_viewer_reads_operator_writes(
    tenant: Any, viewer_client: APIClient, operator_client: APIClient
) -> None:
    load_annex_data_set(organisation=tenant.organisation)
    url = f"{ASSETS}/WholeBuilding/flexibilities/request"
    assert viewer_client.get(ASSETS).status_code == 200
    assert viewer_client.post(url, {}, format="json").status_code == 403
    assert operator_client.post(url, {}, format="json").status_code == 400


def test_no_credentials_is_401_and_anonymous_reads_need_a_session(
    tenant: Any, settings: Any
) -> None:
    load_annex_data_set(organisation=tenant.organisation)
    client = APIClient()
    assert client.get(ASSETS).status_code == 401
    settings.FLEXREADY_ANONYMOUS_READ_ORGANISATION = tenant.organisation.slug
    assert client.get(ASSETS).status_code == 401  # no session segment
    assert client.get(f"/api/v1/s1{ASSETS[len('/api/v1') :]}").status_code == 200
    url = f"/api/v1/s1/operator/bacs/{BACS_1}/assets/WholeBuilding/flexibilities/request"
    assert client.post(url, {}, format="json").status_code == 401
