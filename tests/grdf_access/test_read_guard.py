"""hub's generic series API serves GRDF points only inside the consent, like the GRDF pages."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from grdf_access.models import RightState
from grdf_access.sync import SERIES, SOURCE
from hub.clock import gas_day_bounds
from hub.models import SeriesKind
from hub.services.series import PointIn, ensure_series, upsert_points
from hub.services.tokens import create_token
from tests.conftest import Tenant

from .conftest import active_right

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(tenant: Tenant) -> APIClient:
    client = APIClient()
    token = create_token(organisation=tenant.organisation, name="reader").plaintext
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _daily_energy(tenant: Tenant):
    right = active_right(tenant, data_start=dt.date(2026, 3, 1), types=("informatives",))
    spec = SERIES["daily_energy"]
    series = ensure_series(
        metering_point=right.pce.metering_point,
        quantity=spec.quantity,
        unit=spec.unit,
        source=SOURCE,
        kind=SeriesKind.INTERVAL,
        step_seconds=spec.step,
    )
    days = [dt.date(2026, 2, 27) + dt.timedelta(days=i) for i in range(40)]
    upsert_points(series=series, points=[PointIn(gas_day_bounds(d)[0], 100.0) for d in days])
    return right, series


def _points(api: APIClient, series_id: int, start: str, end: str):
    return api.get(f"/api/v1/series/{series_id}/points/", {"start": start, "end": end})


def test_inside_the_consent_the_points_are_served(api, tenant) -> None:
    _, series = _daily_energy(tenant)
    answer = _points(api, series.pk, "2026-03-01T05:00:00Z", "2026-03-10T05:00:00Z")
    assert answer.status_code == 200
    assert len(answer.json()["points"]) == 9


def test_before_the_data_range_is_403_with_the_reason(api, tenant) -> None:
    _, series = _daily_energy(tenant)
    answer = _points(api, series.pk, "2026-02-27T05:00:00Z", "2026-03-10T05:00:00Z")
    assert answer.status_code == 403
    assert "plage autorisée" in answer.json()["detail"]


def test_after_revocation_nothing_is_served(api, tenant) -> None:
    right, series = _daily_energy(tenant)
    right.state = RightState.REVOKED
    right.save()
    answer = _points(api, series.pk, "2026-03-01T05:00:00Z", "2026-03-10T05:00:00Z")
    assert answer.status_code == 403 and "pas actif" in answer.json()["detail"]


def test_other_sources_are_not_guarded(api, tenant) -> None:
    series = ensure_series(metering_point=tenant.point, quantity="q", unit="Wh", source="demo")
    answer = _points(api, series.pk, "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z")
    assert answer.status_code == 200
