"""Filters by id answer alike for another organisation's id and an id that does not exist."""

from __future__ import annotations

import pytest

from hub.models import Site
from hub.services.series import ensure_series
from tests.api_problems import field_errors

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "param"),
    [("/api/v1/metering-points/", "site"), ("/api/v1/series/", "metering_point")],
)
def test_foreign_and_missing_ids_answer_the_same(token_client, tenant, foreign, url, param):
    """Finding: "`?site=<another org's id>` answers 200 empty, a nonexistent id 400 (also
    `series?metering_point=`): answer the same for both"."""
    foreign_site = Site.objects.create(organisation=foreign.organisation, name="Leur site")
    foreign.point.site = foreign_site
    foreign.point.save()
    ensure_series(metering_point=foreign.point, quantity="p", unit="W", source="t")
    foreign_id = foreign_site.pk if param == "site" else foreign.point.pk
    missing_id = max(Site.objects.latest("pk").pk, foreign.point.pk) + 1000
    answers = []
    for value in (foreign_id, missing_id):
        response = token_client.get(url, {param: value})
        answers.append((response.status_code, response.json()))
    assert (
        answers[0]
        == answers[1]
        == (200, {"count": 0, "next": None, "previous": None, "results": []})
    )


def test_own_ids_still_filter(token_client, tenant):
    site = Site.objects.create(organisation=tenant.organisation, name="Usine")
    tenant.point.site = site
    tenant.point.save()
    series = ensure_series(metering_point=tenant.point, quantity="p", unit="W", source="t")
    points = token_client.get("/api/v1/metering-points/", {"site": site.pk}).json()["results"]
    assert [p["id"] for p in points] == [tenant.point.pk]
    found = token_client.get("/api/v1/series/", {"metering_point": tenant.point.pk}).json()
    assert [s["id"] for s in found["results"]] == [series.pk]


def test_a_malformed_id_is_a_400_naming_the_parameter(token_client):
    response = token_client.get("/api/v1/metering-points/", {"site": "abc"})
    assert response.status_code == 400 and "site" in field_errors(response)
