"""The supplier simulator, polling a delivery point into series, and following PRMs."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import httpx
import pytest
from django.test import Client

from flexready.market.client.supplier import SupplierClient
from flexready.market.models import FeedStatus, SimulatedSignal, SupplierFeed
from flexready.market.selectors import held_signal
from flexready.market.services.supplier import (
    CO2,
    POWER,
    PRICE,
    FeedSpecError,
    follow_delivery_point,
    poll_feed,
    poll_window,
)
from flexready.market.simulator import supplier as supplier_sim
from hub.models import MeteringPoint, Point, PollRun, Series
from tests.conftest import Tenant

from .conftest import APPENDIX, paris

pytestmark = pytest.mark.django_db

PRICES = "/sim/flexready/supplier/sessions/s1/suppliers/commodity/prices"
UPLOAD = "/sim/flexready/supplier/admin/signals"
ADMIN = {"HTTP_AUTHORIZATION": ""}


def admin_headers() -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {supplier_sim.admin_token()}"}


def upload(client: Client, body: str, delivery_point: str = "") -> Any:
    url = UPLOAD + (f"?delivery_point={delivery_point}" if delivery_point else "")
    return client.post(
        url,
        {"signal_file": io.BytesIO(body.encode())},
        **admin_headers(),  # type: ignore[arg-type]
    )


def get_prices(client: Client, **params: str) -> Any:
    query = {
        "delivery_point": "30001234567890",
        "start_date": "2026-01-01T00:00:00+01:00",
        "end_date": "2026-01-02T00:00:00+01:00",
    } | params
    return client.get(PRICES, query, HTTP_AUTHORIZATION="Bearer any")


def test_default_signal_for_an_unknown_delivery_point(client: Client) -> None:
    response = get_prices(
        client, start_date="2026-03-29T00:00:00+01:00", end_date="2026-03-30T00:00:00+02:00"
    )
    assert response.status_code == 200
    body = response.json()
    # The 23-hour day: 92 quarter-hours, offsets changing at 02:00 -> 03:00.
    assert len(body["step"]) == len(body["cost"]) == 92
    assert body["horodate"][8] == "2026-03-29T03:00:00+02:00"
    assert body["horodate"][7] == "2026-03-29T01:45:00+01:00"


def test_upload_archives_the_previous_signal_and_serves_the_new(client: Client) -> None:
    first = upload(client, APPENDIX, "30001234567890")
    assert first.status_code == 201 and first.json()["archived"] == 0
    changed = APPENDIX.replace('"value": 1200', '"value": 999')
    second = upload(client, changed, "30001234567890")
    assert second.json()["archived"] == 1
    assert SimulatedSignal.objects.filter(archived_at__isnull=False).count() == 1
    body = get_prices(client, start_date="2025-12-31T23:00:00+01:00").json()
    assert body["cost"][0]["value"] == 999
    assert len(body["step"]) == 4


def test_uploaded_default_serves_other_delivery_points(client: Client) -> None:
    upload(client, APPENDIX)
    body = get_prices(
        client, delivery_point="12345678901234", start_date="2025-12-31T00:00:00+01:00"
    ).json()
    assert body["power"][3]["value"] == 13.5


def test_upload_refuses_bad_signals_and_strangers(client: Client) -> None:
    unequal = json.loads(APPENDIX)
    unequal["co2"].pop()
    response = upload(client, json.dumps(unequal))
    assert response.status_code == 400
    assert response.json()["field"] == "signal_file.step"
    assert upload(client, APPENDIX, "123").status_code == 400
    assert client.post(UPLOAD, {"signal_file": io.BytesIO(APPENDIX.encode())}).status_code == 401
    assert not SimulatedSignal.objects.exists()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"delivery_point": "3000"}, "delivery_point"),
        ({"start_date": "soon"}, "start_date"),
        ({"end_date": "2025-12-01T00:00:00+01:00"}, "end_date"),
    ],
)
def test_simulator_refuses_bad_queries(client: Client, params: dict[str, str], field: str) -> None:
    response = get_prices(client, **params)
    assert response.status_code == 400 and response.json()["field"] == field


def test_simulator_wants_a_bearer_token(client: Client) -> None:
    assert client.get(PRICES).status_code == 401


def test_following_a_prm_needs_an_existing_prm_of_the_organisation(
    tenant: Tenant, foreign: Tenant
) -> None:
    with pytest.raises(FeedSpecError) as caught:
        follow_delivery_point(organisation=tenant.organisation, delivery_point="123")
    assert caught.value.field == "delivery_point"
    with pytest.raises(FeedSpecError, match="aucun PRM"):
        follow_delivery_point(
            organisation=tenant.organisation, delivery_point=foreign.point.identifier
        )
    assert not MeteringPoint.objects.filter(
        organisation=tenant.organisation, identifier=foreign.point.identifier
    ).exists()
    feed = follow_delivery_point(
        organisation=tenant.organisation, delivery_point=tenant.point.identifier, session_id="a"
    )
    again = follow_delivery_point(
        organisation=tenant.organisation, delivery_point=tenant.point.identifier, session_id="b"
    )
    assert again.pk == feed.pk and again.session_id == "b"
    with pytest.raises(FeedSpecError) as bad_session:
        follow_delivery_point(
            organisation=tenant.organisation,
            delivery_point=tenant.point.identifier,
            session_id="a/b",
        )
    assert bad_session.value.field == "session_id"


def test_poll_window_is_today_and_three_days_in_paris_time() -> None:
    start, end = poll_window(now=paris(2026, 10, 24, 23, 30))
    assert start == paris(2026, 10, 24)
    assert end == paris(2026, 10, 28)
    assert (end - start) == dt.timedelta(days=4, hours=1)  # the 25-hour day inside


def test_poll_stores_price_co2_and_power_series(
    feed: SupplierFeed, supplier_client: SupplierClient
) -> None:
    now = paris(2026, 1, 15, 10)
    result = poll_feed(feed=feed, now=now, client=supplier_client)
    assert result.status == FeedStatus.VALID
    assert result.received == 4 * 96
    series = {s.quantity: s for s in Series.objects.filter(metering_point=feed.metering_point)}
    assert {q: s.unit for q, s in series.items()} == {
        PRICE: "EUR/kWh",
        CO2: "gCO2eq/kWh",
        POWER: "kW",
    }
    assert Point.objects.filter(series=series[PRICE]).count() == 4 * 96
    first = Point.objects.filter(series=series[POWER]).order_by("ts").first()
    assert first is not None and first.ts == paris(2026, 1, 15)
    feed.refresh_from_db()
    assert feed.last_status == FeedStatus.VALID and feed.last_success_at == now
    run = PollRun.objects.get(source="flexready-supplier")
    assert run.organisation == feed.organisation and run.items_received == 384


def test_an_invalid_signal_is_recorded_and_keeps_the_held_values(feed: SupplierFeed) -> None:
    good = json.loads(APPENDIX)
    answers = [json.dumps(good)]
    bad = json.loads(APPENDIX)
    bad["cost"][1]["unit"] = "gCO2eq/kWh"
    answers.append(json.dumps(bad))
    unequal = json.loads(APPENDIX)
    unequal["power"].pop()
    answers.append(json.dumps(unequal))
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text=answers.pop(0)))
    with SupplierClient(base_url="https://s.example", token="jwt", transport=transport) as client:
        assert poll_feed(feed=feed, now=paris(2026, 1, 1, 1), client=client).status == "valid"
        second = poll_feed(feed=feed, now=paris(2026, 1, 1, 2), client=client)
        third = poll_feed(feed=feed, now=paris(2026, 1, 1, 3), client=client)
    assert second.status == FeedStatus.INVALID
    assert "cost[1].unit" in second.error and "EUR/kWh" in second.error
    assert "unequal length" in third.error
    feed.refresh_from_db()
    assert feed.last_status == FeedStatus.INVALID
    assert feed.last_success_at == paris(2026, 1, 1, 1)
    held = held_signal(point=feed.metering_point, start=paris(2025, 12, 31), end=paris(2026, 1, 2))
    assert [p.price_eur_per_kwh for p in held.points] == [1200, 120, 12, 1]


def test_a_provider_error_is_recorded_as_failed(feed: SupplierFeed) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(404, text="no session"))
    with SupplierClient(base_url="https://s.example", token="jwt", transport=transport) as client:
        result = poll_feed(feed=feed, now=paris(2026, 1, 1, 1), client=client)
    assert result.status == FeedStatus.FAILED and "404" in result.error
    assert PollRun.objects.get(source="flexready-supplier").outcome == "failed"
