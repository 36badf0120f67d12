"""The CEMS check of Annex 2 and the stored Ecowatt answer, through the API."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from flexready.market import api
from flexready.market.client.ecowatt import parse_signals
from flexready.market.client.supplier import parse_signal
from flexready.market.models import SupplierFeed
from flexready.market.services import ecowatt
from flexready.market.services.supplier import follow_delivery_point, store_signal
from hub import quantities
from hub.models import MeteringPoint
from hub.services.series import PointIn, ensure_series, upsert_points
from tests.api_problems import field_errors
from tests.conftest import Tenant

from .conftest import APPENDIX, paris
from .test_ecowatt_client import body, day

pytestmark = pytest.mark.django_db

URL = "/api/v1/sessions/{}/cems/commodity/prices"
WINDOW = {"start_date": "2025-12-31T23:00:00+01:00", "end_date": "2026-01-01T00:00:00+01:00"}


@pytest.fixture
def held(feed: SupplierFeed, monkeypatch: pytest.MonkeyPatch) -> SupplierFeed:
    store_signal(point=feed.metering_point, signal=parse_signal(APPENDIX))
    monkeypatch.setattr(api, "_now", lambda: paris(2026, 1, 1, 12))
    return feed


def test_check_returns_the_held_signal_and_valid(
    token_client: APIClient, held: SupplierFeed
) -> None:
    response = token_client.post(
        URL.format("s1"),
        {"delivery_point": held.metering_point.identifier, **WINDOW},
        format="json",
    )
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "valid" and data["errors"] == []
    assert data["session_id"] == "s1"
    assert data["signal"]["step"] == [1, 2, 3, 4]
    assert data["signal"]["horodate"][0] == "2025-12-31T23:00:00+01:00"
    assert [c["value"] for c in data["signal"]["cost"]] == [1200, 120, 12, 1]
    assert [p["value"] for p in data["signal"]["power"]] == [12, 12.5, 13, 13.5]
    assert data["signal"]["power"][0]["multiplier"] == "k"
    assert data["last_poll"]["status"] == "never"


def test_check_window_is_half_open(token_client: APIClient, held: SupplierFeed) -> None:
    window = {"start_date": "2025-12-31T23:15:00+01:00", "end_date": "2025-12-31T23:45:00+01:00"}
    data = token_client.post(
        URL.format("s1"),
        {"delivery_point": held.metering_point.identifier, **window},
        format="json",
    ).json()
    assert [c["value"] for c in data["signal"]["cost"]] == [120, 12]


def test_check_with_nothing_held_is_missing(token_client: APIClient, feed: SupplierFeed) -> None:
    data = token_client.post(
        URL.format("s1"),
        {"delivery_point": feed.metering_point.identifier, **WINDOW},
        format="json",
    ).json()
    assert data["status"] == "missing"
    assert data["signal"]["step"] == []


def test_check_with_a_quantity_missing_is_incomplete(
    token_client: APIClient, feed: SupplierFeed
) -> None:
    store_signal(point=feed.metering_point, signal=parse_signal(APPENDIX))
    extra = ensure_series(
        metering_point=feed.metering_point,
        quantity=quantities.ENERGY_PRICE.name,
        unit="EUR/kWh",
        source="flexready-supplier",
    )
    upsert_points(series=extra, points=[PointIn(paris(2025, 12, 31, 23, 50), 5.0)])
    data = token_client.post(
        URL.format("s1"),
        {"delivery_point": feed.metering_point.identifier, **WINDOW},
        format="json",
    ).json()
    assert data["status"] == "incomplete"
    assert len(data["signal"]["step"]) == 4
    assert data["errors"][0]["field"] == "horodate"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"delivery_point": "x", **WINDOW}, "delivery_point"),
        ({"delivery_point": "99999999999999", **WINDOW}, "delivery_point"),
        ({"start_date": "2026-01-01T00:00:00", "end_date": WINDOW["end_date"]}, "start_date"),
        ({"start_date": WINDOW["end_date"], "end_date": WINDOW["start_date"]}, "end_date"),
        ({"start_date": "2026-01-01", "end_date": "2026-03-01"}, "end_date"),
        ({"start_date": 5, "end_date": WINDOW["end_date"]}, "start_date"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    token_client: APIClient, feed: SupplierFeed, payload: dict[str, object], field: str
) -> None:
    payload = {"delivery_point": feed.metering_point.identifier} | payload
    response = token_client.post(URL.format("s1"), payload, format="json")
    assert response.status_code == 400, response.content
    assert field in field_errors(response)


def test_missing_delivery_point_is_a_400(token_client: APIClient, feed: SupplierFeed) -> None:
    response = token_client.post(URL.format("s1"), WINDOW, format="json")
    assert response.status_code == 400 and "delivery_point" in field_errors(response)


def test_a_prm_not_followed_in_the_session_is_a_400(
    token_client: APIClient, feed: SupplierFeed, tenant: Tenant
) -> None:
    other = MeteringPoint.objects.create(
        organisation=tenant.organisation, kind="elec_prm", identifier="11111111111111"
    )
    follow_delivery_point(
        organisation=tenant.organisation, delivery_point=other.identifier, session_id="s2"
    )
    response = token_client.post(
        URL.format("s1"), {"delivery_point": other.identifier, **WINDOW}, format="json"
    )
    assert response.status_code == 400
    assert field_errors(response)["delivery_point"] == ["non suivi dans cette session"]


def test_a_foreign_session_is_a_404(
    token_client: APIClient, foreign: Tenant, tenant: Tenant
) -> None:
    follow_delivery_point(
        organisation=foreign.organisation,
        delivery_point=foreign.point.identifier,
        session_id="theirs",
    )
    response = token_client.post(
        URL.format("theirs"), {"delivery_point": foreign.point.identifier, **WINDOW}, format="json"
    )
    assert response.status_code == 404
    assert token_client.post(URL.format("nobody"), {}, format="json").status_code == 404


def test_anonymous_callers_are_refused(api_client: APIClient, feed: SupplierFeed) -> None:
    assert api_client.post(URL.format("s1"), {}, format="json").status_code in (401, 403)


def test_ecowatt_serves_the_stored_days_in_order(
    viewer_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = body(
        day("2026-03-30T00:00:00+02:00", [1] * 24),
        day("2026-03-29T00:00:00+01:00", [1] * 20 + [2] * 3),
    )
    ecowatt.store_forecast(forecast=parse_signals(stored), fetched_at=paris(2026, 3, 29, 8))
    monkeypatch.setattr(api, "_now", lambda: paris(2026, 3, 29, 9))
    data = viewer_client.get("/api/v1/flexready/ecowatt/signals").json()
    assert [s["jour"] for s in data["signals"]] == [
        "2026-03-29T00:00:00+01:00",
        "2026-03-30T00:00:00+02:00",
    ]
    assert len(data["signals"][0]["values"]) == 23
    assert data["signals"][0]["values"][22] == {"pas": 22, "hvalue": 2}
    assert json.dumps(data)  # plain JSON


def test_check_answers_times_to_the_second_with_the_paris_offset(
    token_client: APIClient, held: SupplierFeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Annex 2's horodates ("2026-01-01T00:00:00+02:00") carry seconds and an offset, no
    fraction: every time of the answer is written the same way."""
    import datetime as dt
    import re

    monkeypatch.setattr(api, "_now", lambda: paris(2026, 1, 1, 12) + dt.timedelta(microseconds=7))
    data = token_client.post(
        URL.format("s1"),
        {"delivery_point": held.metering_point.identifier, **WINDOW},
        format="json",
    ).json()
    shape = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00$")
    for value in (data["checked_at"], data["start_date"], data["end_date"]):
        assert shape.match(value), value
    assert data["checked_at"] == "2026-01-01T12:00:00+01:00"
    assert all(shape.match(h) for h in data["signal"]["horodate"])


def test_the_documented_examples_have_the_answers_shape(
    token_client: APIClient, held: SupplierFeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OpenAPI example names the keys the operation really answers (issue 19.5)."""
    from flexready.market import api_examples
    from tests.api_examples import shape_mismatches

    check = token_client.post(
        URL.format("s1"),
        {**api_examples.CEMS_IN, "delivery_point": held.metering_point.identifier, **WINDOW},
        format="json",
    )
    stored = body(day("2026-01-01T00:00:00+01:00", [1] * 17 + [2] * 3 + [1] * 4))
    ecowatt.store_forecast(forecast=parse_signals(stored), fetched_at=paris(2026, 1, 1, 8))
    signals = token_client.get("/api/v1/flexready/ecowatt/signals")
    assert (check.status_code, signals.status_code) == (200, 200)
    assert shape_mismatches(api_examples.CEMS_CHECK, check.json()) == []
    assert shape_mismatches(api_examples.ECOWATT, signals.json()) == []
