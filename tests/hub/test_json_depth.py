"""Deeply nested JSON is a 400 at the parser, never a RecursionError (a 500 and an error log)."""

from __future__ import annotations

import pytest
from django.test import Client

from hub.api.parsers import MAX_JSON_DEPTH, depth_of
from tests.hub.test_portal_support import password_step

pytestmark = pytest.mark.django_db


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH + 1, 1_000, 20_000])
def test_api_refuses_deep_nesting_with_a_400(operator_client, levels):
    """Finding: "Nested JSON ≥ 1,000 levels → 500 (RecursionError)"."""
    response = operator_client.post(
        "/api/v1/sites/", data=nested(levels), content_type="application/json"
    )
    assert response.status_code == 400
    assert "nested deeper" in response.json()["detail"]


def test_api_accepts_ordinary_nesting(operator_client):
    body = '{"name": "Usine", "x": ' + nested(10) + "}"
    response = operator_client.post("/api/v1/sites/", data=body, content_type="application/json")
    assert response.status_code == 201


@pytest.mark.parametrize(
    "path",
    [
        "/webauthn/registration/begin/",
        "/webauthn/registration/complete/",
        "/webauthn/authentication/begin/",
        "/webauthn/authentication/complete/",
    ],
)
def test_webauthn_checks_the_caller_before_reading_the_body(path):
    """ "including anonymously on `/webauthn/*`": an anonymous caller is refused before its
    body is parsed."""
    response = Client(raise_request_exception=False).post(
        path, data=nested(20_000), content_type="application/json"
    )
    assert response.status_code in (401, 403)


def test_webauthn_refuses_deep_nesting_after_the_password_step(tenant):
    client = Client(raise_request_exception=False)
    password_step(client, tenant.operator)
    response = client.post(
        "/webauthn/authentication/complete/", data=nested(5_000), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_depth_of_is_iterative():
    deep: list = []
    for _ in range(10_000):
        deep = [deep]
    assert depth_of(deep) == MAX_JSON_DEPTH + 1  # stops counting past the bound
    assert depth_of({"a": [1, {"b": 2}]}) == 3 and depth_of(5) == 0
