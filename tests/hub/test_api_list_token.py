"""Lists read with a remembered token (``TokenCheckedListMixin``): the page's query proves the
token, and a token revoked, expired, narrowed or moved elsewhere stops listing at once, as it
would if its row were read first (every test holds on SQLite too, where it is)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from hub.models import ApiToken, MeteringPoint, Site

pytestmark = pytest.mark.django_db

LISTS = ["/api/v1/metering-points/", "/api/v1/series/", "/api/v1/sites/"]
REVOKED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def client(remembering_client):
    return remembering_client


@pytest.fixture
def listed(tenant, client):
    from hub.models import SeriesKind
    from hub.services.series import ensure_series

    ensure_series(
        metering_point=tenant.point, quantity="p", unit="W", source="test", kind=SeriesKind.INSTANT
    )
    Site.objects.create(organisation=tenant.organisation, name="Siège")
    for url in LISTS:
        assert client.get(url).json()["count"] == 1
    return client


def test_a_page_is_one_statement_with_the_token_checked_in_it(
    listed, tenant, django_assert_num_queries
):
    expected = 1 if connection.vendor == "postgresql" else 2  # SQLite: the token first
    for url in LISTS:
        with django_assert_num_queries(expected) as captured:
            response = listed.get(url)
        assert response.status_code == 200
        ids = {
            LISTS[0]: tenant.point.pk,
            LISTS[1]: tenant.point.series.get().pk,
            LISTS[2]: Site.objects.get(organisation=tenant.organisation).pk,
        }
        assert [row["id"] for row in response.json()["results"]] == [ids[url]]
    if connection.vendor == "postgresql":
        assert "hub_apitoken" in captured.captured_queries[0]["sql"]


@pytest.mark.parametrize(
    "change",
    [
        {"revoked_at": REVOKED},
        {"expires_at": REVOKED},
    ],
)
@pytest.mark.parametrize("query", ["", "?limit=1", "?kind=elec_prm", "?site=not-an-id"])
@pytest.mark.parametrize("url", LISTS)
def test_a_token_revoked_elsewhere_stops_listing_at_once(listed, issued, change, query, url):
    # Another process revokes (or expires) the token: this one still remembers it as usable.
    ApiToken.objects.filter(pk=issued.token.pk).update(**change)
    response = listed.get(url + query)
    # A 401 before anything else: not the page, nor a filter's 400.
    assert response.status_code == 401
    assert b"results" not in response.content


def test_an_empty_page_proves_nothing(listed, tenant, issued):
    ApiToken.objects.filter(pk=issued.token.pk).update(revoked_at=REVOKED)
    assert listed.get("/api/v1/metering-points/?identifier=nothing-like-it").status_code == 401


def test_a_token_narrowed_elsewhere_is_checked_again(listed, issued):
    ApiToken.objects.filter(pk=issued.token.pk).update(allowed_networks=["10.0.0.0/8"])
    assert listed.get(LISTS[0]).status_code == 403
    ApiToken.objects.filter(pk=issued.token.pk).update(allowed_networks=[], scopes=["write"])
    assert listed.get(LISTS[0]).status_code == 200
    ApiToken.objects.filter(pk=issued.token.pk).update(scopes=["admin-only-unknown"])
    assert listed.get(LISTS[0]).status_code == 403


def test_a_token_moved_to_another_organisation_lists_that_one(listed, issued, tenant, foreign):
    # The remembered token names the first organisation; its row now names the other.
    MeteringPoint.objects.create(
        organisation=foreign.organisation, kind="elec_prm", identifier="77777777777777"
    )
    ApiToken.objects.filter(pk=issued.token.pk).update(organisation=foreign.organisation)
    page = listed.get(LISTS[0]).json()
    identifiers = {row["identifier"] for row in page["results"]}
    assert tenant.point.identifier not in identifiers
    assert "77777777777777" in identifiers


def test_a_page_past_the_end_is_proved_by_its_count(listed, issued):
    # Its count ran with the token's check: a revoked token counts nothing, and is refused.
    assert listed.get(LISTS[0] + "?offset=10").json()["count"] == 1
    ApiToken.objects.filter(pk=issued.token.pk).update(revoked_at=REVOKED)
    assert listed.get(LISTS[0] + "?offset=10").status_code == 401
