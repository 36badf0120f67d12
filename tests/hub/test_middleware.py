"""NUL bytes in a request's path or query answer 400 naming where, before any view runs."""

from __future__ import annotations

import pytest

from tests.api_problems import field_errors


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/sites/?name=a%00b", "name"),
        ("/api/v1/sites/?a%00b=1", "query"),
        ("/api/v1/sites%00/", "path"),
    ],
)
def test_nul_bytes_answer_400(client, db, url, field):
    response = client.get(url)
    assert response.status_code == 400
    assert field in field_errors(response)


def test_ordinary_requests_pass(client, db):
    assert client.get("/healthz").status_code == 200


def test_nul_characters_in_json_bodies_answer_400(tenant):
    from rest_framework.test import APIClient

    from hub.services.tokens import create_token

    api = APIClient()
    token = create_token(organisation=tenant.organisation, name="w").plaintext
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api.post(
        "/api/v1/sites/", data='{"name": "a\\u0000b"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]
    assert api.post("/api/v1/sites/", {"name": "Lyon"}, format="json").status_code == 201
