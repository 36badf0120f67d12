"""Queries per call of the token-authenticated API's hot endpoints: bounded, and not growing
with the number of rows listed (NetBox-style query-count tests)."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.models import MeteringPoint, SeriesKind
from hub.quantities import ACTIVE_POWER_IMPORT
from hub.services.series import PointIn, ensure_series, upsert_points

pytestmark = pytest.mark.django_db


@pytest.fixture
def warm(token_client):
    # The token's first use from an address is recorded (an audit event and an UPDATE);
    # the counts below are those of every later call.
    assert token_client.get("/api/v1/ping").status_code == 200
    return token_client


def test_ping_is_one_query_the_token_lookup(warm, tenant, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        response = warm.get("/api/v1/ping")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "organisation": tenant.organisation.slug}


def test_ping_needs_a_token(api_client):
    assert api_client.get("/api/v1/ping").status_code in (401, 403)


@pytest.mark.parametrize("rows", [1, 30])
def test_metering_point_list_does_not_grow_with_rows(
    warm, tenant, rows, django_assert_max_num_queries
):
    MeteringPoint.objects.bulk_create(
        MeteringPoint(organisation=tenant.organisation, kind="elec_prm", identifier=f"{i:014d}")
        for i in range(rows)
    )
    # The page is not full: it tells its total, no COUNT (hub.api.pagination.PagePagination).
    with django_assert_max_num_queries(2):  # token, page
        response = warm.get("/api/v1/metering-points/?limit=50")
    assert response.status_code == 200
    assert response.json()["count"] == rows + 1  # and the tenant's own point


def test_series_list_and_points(warm, tenant, django_assert_max_num_queries):
    series = ensure_series(
        metering_point=tenant.point,
        quantity=ACTIVE_POWER_IMPORT.name,
        unit="kW",
        source="test",
        kind=SeriesKind.INSTANT,
        step_seconds=900,
    )
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    upsert_points(
        series=series,
        points=[PointIn(start + dt.timedelta(minutes=15 * i), float(i)) for i in range(96)],
    )
    with django_assert_max_num_queries(2):  # token, page (not full: no COUNT)
        assert warm.get(f"/api/v1/series/?metering_point={tenant.point.pk}").status_code == 200
    url = f"/api/v1/series/{series.pk}/points/?start=2026-01-01T00:00:00Z&end=2026-01-02T00:00:00Z"
    with django_assert_max_num_queries(4):  # token, series, read guard, points
        response = warm.get(url)
    assert response.status_code == 200
    assert len(response.json()["points"]) == 96


@pytest.mark.parametrize("hours", [24, 8_760])
def test_points_read_is_one_query_whatever_the_range(
    warm, tenant, hours, django_assert_max_num_queries
):
    # README "Series storage": "The API runs one SQL query per format": a year of hourly
    # points costs the queries of a day (token, series, points), none per row or per chunk.
    series = ensure_series(
        metering_point=tenant.point,
        quantity=ACTIVE_POWER_IMPORT.name,
        unit="kW",
        source="test",
        kind=SeriesKind.INSTANT,
        step_seconds=3600,
    )
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    upsert_points(
        series=series,
        points=[PointIn(start + dt.timedelta(hours=h), float(h)) for h in range(hours)],
    )
    end = start + dt.timedelta(hours=hours)
    url = f"/api/v1/series/{series.pk}/points/?start=2025-01-01T00:00:00Z"
    url += f"&end={end:%Y-%m-%dT%H:%M:%SZ}"
    with django_assert_max_num_queries(3):  # token, series, points
        response = warm.get(url)
    assert response.status_code == 200
    points = response.json()["points"]
    assert len(points) == hours
    assert points[-1] == {
        "ts": f"{end - dt.timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}",
        "value": float(hours - 1),
        "count": 1,
        "quality": 0,
    }


def test_points_keep_their_instant_to_the_microsecond_in_utc(warm, tenant):
    # The JSON writes each point's instant in UTC with a Z, fractional seconds when it has
    # some (README "Series": RFC 3339 with Z), whatever loader decodes the cursor's rows.
    series = ensure_series(
        metering_point=tenant.point,
        quantity=ACTIVE_POWER_IMPORT.name,
        unit="kW",
        source="test",
        kind=SeriesKind.INSTANT,
    )
    paris = dt.timezone(dt.timedelta(hours=1))
    upsert_points(
        series=series,
        points=[
            PointIn(dt.datetime(2026, 1, 1, 1, 0, 0, 250_000, tzinfo=paris), 1.5),
            PointIn(dt.datetime(2026, 1, 1, 1, 0, 1, tzinfo=paris), 2.0),
        ],
    )
    response = warm.get(
        f"/api/v1/series/{series.pk}/points/?start=2026-01-01T00:00:00Z&end=2026-01-02T00:00:00Z"
    )
    assert [p["ts"] for p in response.json()["points"]] == [
        "2026-01-01T00:00:00.250000Z",
        "2026-01-01T00:00:01Z",
    ]
