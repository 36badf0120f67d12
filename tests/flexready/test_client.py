"""The operator-side client, sending requests to a BACS API: here the hub's own, in process."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from flexready.client import BacsApiError, OperatorClient, PowerStep
from flexready.models import CertificationSession, FlexRequest, RequestStatus
from hub.wsgi import application
from tests.flexready.conftest import make_jwt, paris

BACS_2 = "a987fbc9-4bed-4078-9f07-9141ba07c9f3"

pytestmark = pytest.mark.usefixtures("in_process_wsgi", "annex")


def client(**kwargs: Any) -> OperatorClient:
    return OperatorClient(
        base_url="http://testserver/api/v1",
        token=make_jwt(subject="aggregator"),
        transport=httpx.WSGITransport(app=application),
        **kwargs,
    )


def test_full_cycle_through_the_client(clock: Any) -> None:
    clock(paris(2025, 4, 2, 11, 0))
    with client(session_id="cert-42", emulator_headers={"Run": "7"}) as bacs:
        names = {b.bacs_id: b.name for b in bacs.list_bacs()}
        assert names[BACS_2] == "BACS Whole Building with Heating System"
        assets = {a.asset_id: a for a in bacs.list_assets(BACS_2)}
        assert set(assets) == {"WholeBuilding", "HeatingSystem"}
        potential = bacs.potential(BACS_2, "HeatingSystem")
        assert potential["power"] == {"unit": "W", "multiplier": "k", "value": 50.0}
        start = dt.datetime(2025, 4, 2, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
        steps = [
            PowerStep(start, start + dt.timedelta(minutes=15), 40),
            PowerStep(start + dt.timedelta(minutes=15), start + dt.timedelta(minutes=30), 20),
        ]
        answer = bacs.create_request(
            bacs_id=BACS_2,
            asset_id="HeatingSystem",
            request_id="agg-1",
            flex_product="WID",
            steps=steps,
        )
        assert answer.status_code == 201 and answer.status == "accepted"
        too_much = bacs.create_request(
            bacs_id=BACS_2,
            asset_id="HeatingSystem",
            request_id="agg-2",
            flex_product="WID",
            steps=[PowerStep(start, start + dt.timedelta(minutes=5), 51)],
        )
        assert too_much.refused
        assert {r["code"] for r in too_much.reasons} == {"power_above_potential"}
        confirmed = bacs.confirm_request(
            bacs_id=BACS_2,
            asset_id="HeatingSystem",
            request_id="agg-1",
            flex_product="WID",
            steps=steps,
            ack_price={"unit": "€/MWh", "multiplier": "", "value": 95},
        )
        assert confirmed.status == "confirmed"
        clock(paris(2025, 4, 2, 13, 30))
        realised = bacs.realisation(bacs_id=BACS_2, asset_id="HeatingSystem", request_id="agg-1")
        assert realised["status"] in {"active", "failed"}  # no meter data in this test
    request = FlexRequest.objects.get(request_id="agg-1")
    assert request.status in {RequestStatus.ACTIVE, RequestStatus.FAILED}
    assert request.emulator_headers == {"Emulator-Run": "7"}
    session = CertificationSession.objects.get(session_id="cert-42")
    assert session.entries.count() == 7


def test_client_raises_on_errors() -> None:
    with client(operator=False) as bacs:
        with pytest.raises(BacsApiError) as caught:
            bacs.list_assets("no-such-bacs")
        assert caught.value.status == 404
    with OperatorClient(
        base_url="http://testserver/api/v1",
        token=make_jwt(secret="wrong-secret-wrong-secret-wrong!"),
        transport=httpx.WSGITransport(app=application),
    ) as bacs:
        with pytest.raises(BacsApiError) as caught:
            bacs.list_bacs()
        assert caught.value.status == 401
