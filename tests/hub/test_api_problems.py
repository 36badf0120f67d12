"""One API style: every error of /api/v1/ is an RFC 9457 problem, every list one page shape.

Rule (README, "API conventions"): "Every 4xx/5xx answer of the token API is
``application/problem+json`` with type, title, status, detail and instance; a 400 lists its
``errors`` as field, pointer and reason; 409 adds ``held_by``, 429 ``retry_after``. Messages
follow Accept-Language, French by default. Every list answers count, next, previous, results."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import IntegrityError, OperationalError, connection, transaction
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from hub.api import problems
from hub.models import MeteringPoint, SeriesKind
from hub.services.series import ensure_series
from hub.services.tokens import create_token
from smartoa.services import create_contract
from tests.api_problems import field_errors, problem
from tests.test_tenant_isolation import FOREIGN_KWARGS, QUERY, fill, walk
from tic.models import TicMeter, TicPort

pytestmark = pytest.mark.django_db


def _series_url(tenant: Any) -> str:
    series = ensure_series(
        metering_point=tenant.point,
        quantity="active_energy_import",
        unit="Wh",
        source="test",
        kind=SeriesKind.INTERVAL,
        step_seconds=3600,
    )
    return f"/api/v1/series/{series.pk}/points/"


# --- 400 ----------------------------------------------------------------------------------------


def test_400_of_a_nested_body_points_into_it(operator_client, tenant):
    payload = {
        "points": [
            {"ts": "2026-03-29T01:00:00Z", "value": 1},
            {"ts": "2026-03-29T02:00:00Z", "value": "lots"},
        ]
    }
    response = operator_client.post(_series_url(tenant), payload, format="json")
    body = problem(response, 400)
    assert body["type"] == "/api/v1/problems/invalid-input"
    assert body["title"] == "Données invalides"
    assert body["instance"] == _series_url(tenant)
    [error] = body["errors"]
    assert (error["field"], error["pointer"]) == ("points[1].value", "#/points/1/value")
    assert error["reason"] == "Un nombre valide est requis."


def test_400_of_a_query_names_the_parameter(token_client, tenant):
    response = token_client.get(_series_url(tenant), {"end": "2026-10-26T00:00:00Z"})
    assert field_errors(response) == {"start": ["Ce champ est obligatoire."]}
    assert problem(response)["errors"][0]["pointer"] == "#/start"


def test_non_field_errors_belong_to_the_request_as_a_whole():
    errors = problems.flatten(
        {"non_field_errors": ["a"], "power": [{}, {"start": ["b"], "non_field_errors": ["c"]}]}
    )
    assert errors == [
        {"field": None, "pointer": "#/", "reason": "a"},
        {"field": "power[1].start", "pointer": "#/power/1/start", "reason": "b"},
        {"field": "power[1]", "pointer": "#/power/1", "reason": "c"},
    ]


def test_a_service_error_field_becomes_a_json_pointer(jwt_client_flexready):
    client, url = jwt_client_flexready
    body = {
        "requestID": "r1",
        "flexProduct": "WID",
        "power": [
            {
                "power": {"unit": "W", "multiplier": "k", "value": "lots"},
                "start": "2025-04-02T12:00:00",
                "end": "2025-04-02T12:01:00",
            }
        ],
    }
    response = client.post(url, body, format="json")
    error = problem(response, 400)["errors"][0]
    assert (error["field"], error["pointer"]) == ("power[0].power.value", "#/power/0/power/value")


@pytest.fixture
def jwt_client_flexready(tenant):
    from django.conf import settings

    from flexready.demo import load_annex_data_set
    from flexready.models import OperatorIdentity
    from tests.flexready.conftest import ISSUER, TEST_SECRET, make_jwt

    settings.FLEXREADY_JWT_HS256_SECRET = TEST_SECRET
    settings.FLEXREADY_JWT_ISSUER = ISSUER
    OperatorIdentity.objects.create(organisation=tenant.organisation, issuer=ISSUER, subject="")
    load_annex_data_set(organisation=tenant.organisation, metering_point=tenant.point)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_jwt()}")
    url = (
        "/api/v1/bacs/f47ac10b-58cc-4372-a567-0e02b2c3d479/assets/WholeBuilding"
        "/flexibilities/request"
    )
    return client, url


def test_400_of_each_app(token_client, operator_client, tenant):
    # grdf_access (a domain reason), smartoa and tic (DRF's own), control (a service's).
    grdf = operator_client.post("/api/v1/grdf/sync", {"pces": "GI654321"}, format="json")
    assert field_errors(grdf) == {"pces": ["liste de PCE attendue"]}
    point = MeteringPoint.objects.create(
        organisation=tenant.organisation, kind="oa_site", identifier="BOA-1"
    )
    create_contract(
        organisation=tenant.organisation,
        contract_id="BOA-1",
        account_id="x",
        api_token="t",
        metering_point=point,
    )
    smartoa = token_client.get("/api/v1/smartoa/contracts/BOA-1/schedules", {"date": "2025-13-01"})
    assert list(field_errors(smartoa)) == ["date"]
    port = TicPort.objects.create(organisation=tenant.organisation, name="p", url="loop://")
    meter = TicMeter.objects.create(
        organisation=tenant.organisation,
        port=port,
        metering_point=tenant.point,
        identifier="041436028024",
        family="pmepmi",
    )
    tic = token_client.get(f"/api/v1/tic/meters/{meter.pk}/events", {"start": "yesterday"})
    assert list(field_errors(tic)) == ["start"]
    control = operator_client.get("/api/v1/control/sites/", {"limit": "x"})
    assert control.status_code == 200 and {"count", "results"} <= control.json().keys()


# --- 401, 403, 404, 405 -------------------------------------------------------------------------


def test_401_is_a_plain_problem_with_its_challenge():
    response = APIClient().get("/api/v1/sites/")
    body = problem(response, 401)
    assert (body["type"], body["title"]) == ("about:blank", "Authentification requise")
    assert body["instance"] == "/api/v1/sites/"
    assert response["WWW-Authenticate"]


def test_403_of_a_viewer_writing(viewer_client):
    body = problem(viewer_client.post("/api/v1/grdf/sync", {}, format="json"), 403)
    assert (body["type"], body["title"]) == ("about:blank", "Accès refusé")


def test_404_in_a_view_and_outside_any_route(token_client):
    body = problem(token_client.get("/api/v1/sites/999999/"), 404)
    assert (body["type"], body["title"]) == ("about:blank", "Introuvable")
    outside = problem(token_client.get("/api/v1/no-such-thing/"), 404)
    assert outside["instance"] == "/api/v1/no-such-thing/"


def test_405(token_client):
    body = problem(token_client.delete("/api/v1/ping"), 405)
    assert body["type"] == "about:blank" and "DELETE" in body["detail"]


# --- 409, 429, 503 ------------------------------------------------------------------------------


def test_409_names_what_holds_the_row(operator_client, tenant):
    port = TicPort.objects.create(organisation=tenant.organisation, name="p", url="loop://")
    TicMeter.objects.create(
        organisation=tenant.organisation,
        port=port,
        metering_point=tenant.point,
        identifier="041436028024",
        family="pmepmi",
    )
    body = problem(operator_client.delete(f"/api/v1/metering-points/{tenant.point.pk}/"), 409)
    assert body["type"] == "/api/v1/problems/held"
    assert body["held_by"] == ["compteur TIC (1)"]


@pytest.fixture
def small_rates(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"token": "2/min", "organisation": "9/min", "user": "9/min"},
    )
    cache.clear()
    yield
    cache.clear()


def test_429_says_when_to_come_back(tenant, small_rates):
    client = APIClient()
    token = create_token(organisation=tenant.organisation, name="t").plaintext
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    answers = [client.get("/api/v1/ping") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    body = problem(answers[-1], 429)
    assert body["type"] == "/api/v1/problems/rate-limited"
    assert isinstance(body["retry_after"], int) and body["retry_after"] >= 1
    assert answers[-1]["Retry-After"] == str(body["retry_after"])
    assert answers[-1]["RateLimit-Remaining"] == "0"


def _refuse_queries(execute, sql, params, many, context):
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed")


def test_503_when_a_dependency_is_down(tenant):
    client = APIClient(raise_request_exception=False)
    token = create_token(organisation=tenant.organisation, name="t").plaintext
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    with connection.execute_wrapper(_refuse_queries):
        response = client.get("/api/v1/sites/", HTTP_ACCEPT_LANGUAGE="en")
    body = problem(response, 503)
    assert body["type"] == "/api/v1/problems/dependency-down"
    assert body["title"] == "Service temporarily unavailable"
    assert int(response["Retry-After"]) > 0


# --- language -----------------------------------------------------------------------------------


def test_french_by_default_english_on_request(operator_client, tenant):
    payload = {"points": [{"ts": "2026-03-29T01:00:00Z"}]}
    french = problem(operator_client.post(_series_url(tenant), payload, format="json"), 400)
    english = problem(
        operator_client.post(
            _series_url(tenant), payload, format="json", HTTP_ACCEPT_LANGUAGE="en"
        ),
        400,
    )
    assert (french["title"], english["title"]) == ("Données invalides", "Invalid input")
    assert french["errors"][0]["reason"] == "Ce champ est obligatoire."
    assert english["errors"][0]["reason"] == "This field is required."


def test_a_domain_reason_follows_the_language(operator_client):
    # hub.identifiers' reason, written in French in the code.
    payload = {"kind": "gas_pce", "identifier": "GI12"}
    french = operator_client.post("/api/v1/metering-points/", payload, format="json")
    english = operator_client.post(
        "/api/v1/metering-points/", payload, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert field_errors(french) == {
        "identifier": ["un PCE fait 14 chiffres ou « GI » suivi de 6 chiffres"]
    }
    assert field_errors(english) == {
        "identifier": ["a PCE is 14 digits or « GI » followed by 6 digits"]
    }


def test_problem_types_are_described(client):
    for slug in problems.KINDS:
        response = client.get(f"/api/v1/problems/{slug}")
        assert response.status_code == 200
        assert response.json()["type"] == f"/api/v1/problems/{slug}"
    assert problem(client.get("/api/v1/problems/unknown"), 404)


# --- pagination ---------------------------------------------------------------------------------

# Flex Ready's Annex 1 endpoints answer the annex's own shapes (OperatorClient reads other BACS
# with them); hub pages everything else.
ANNEX_SHAPED = ("api/v1/<", "api/v1/bacs", "api/v1/operator/", "api/v1/sessions/")


def api_routes() -> list[str]:
    from django.urls import get_resolver

    routes = {r for r in walk_all(get_resolver().url_patterns) if r.startswith("api/v1/")}
    return sorted(r for r in routes if "format" not in r and not r.startswith(ANNEX_SHAPED))


def walk_all(patterns: list[Any], prefix: str = "") -> Any:
    from django.urls import URLPattern, URLResolver

    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from walk_all(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def test_every_list_answers_one_page(tenant, token_client):
    """Walks every /api/v1/ route (ids filled with the caller's own objects): no answer is a bare
    array, and every ``results`` comes with count, next and previous."""
    assert walk  # the tenant-isolation walk names the same routes with ids
    lists, made = [], {}
    for route in api_routes():
        keys = sorted((k for k in FOREIGN_KWARGS if k in route), key=len, reverse=True)
        if "<" in route and not keys:
            continue
        if keys and keys[0] not in made:
            try:
                with transaction.atomic():
                    made[keys[0]] = FOREIGN_KWARGS[keys[0]](tenant)
            except IntegrityError:  # two factories make the same object: reuse the first's
                made[keys[0]] = next(
                    v for k, v in made.items() if k.split("/")[0] == keys[0].split("/")[0]
                )
        url = fill(route, made[keys[0]] if keys else {})
        response = token_client.get(url, QUERY)
        if response.status_code != 200 or "json" not in response.get("Content-Type", ""):
            continue
        body = response.json()
        assert not isinstance(body, list), f"{url} answers a bare array"
        if isinstance(body, dict) and "results" in body:
            assert {"count", "next", "previous"} <= body.keys(), url
            lists.append(url)
    assert len(lists) >= 15, lists
