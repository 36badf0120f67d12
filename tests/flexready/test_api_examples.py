"""The Annex 1 examples are answers the API gives: the example request accepted and confirmed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rest_framework.test import APIClient

from flexready import api_examples as ex
from tests.api_examples import shape_mismatches
from tests.flexready.conftest import hourly_curve, paris

pytestmark = pytest.mark.django_db
BACS = f"/api/v1/operator/bacs/{ex.BACS_ID}"
ASSET = f"{BACS}/assets/{ex.ASSET_ID}"
REQUEST = f"{ASSET}/flexibilities/request"


def test_the_examples_are_what_the_api_answers(
    jwt_client: APIClient, tenant: Any, clock: Any
) -> None:
    # The annex's day: the request is sent before its window, inside the asset's period.
    clock(paris(2025, 4, 2, 9, 41))
    hourly_curve(
        tenant.point,
        first=dt.date(2025, 3, 31),
        last=dt.date(2025, 4, 2),
        watts=lambda local: 140_000.0,
    )
    created = jwt_client.post(REQUEST, ex.CREATE_IN, format="json")
    assert created.status_code == 201, created.content
    confirmed = jwt_client.post(f"{REQUEST}/req-001/confirm", ex.CONFIRM_IN, format="json")
    assert confirmed.status_code == 200, confirmed.content
    answers = {
        "bacs list": (jwt_client.get("/api/v1/operator/bacs"), [ex.BACS]),
        "bacs": (jwt_client.get(BACS), ex.BACS),
        "assets": (jwt_client.get(f"{BACS}/assets"), [ex.ASSET]),
        "asset": (jwt_client.get(ASSET), ex.ASSET),
        "potential": (jwt_client.get(f"{ASSET}/potential"), ex.ASSET_POTENTIAL),
        "create": (created, ex.REQUEST),
        "confirm": (confirmed, ex.CONFIRMED),
        "request": (jwt_client.get(f"{REQUEST}/req-001"), ex.CONFIRMED),
        "realisation": (jwt_client.get(f"{REQUEST}/req-001/consumptions"), ex.REALISATION),
        "consumptions": (
            jwt_client.get(
                f"{ASSET}/consumptions",
                {"start": "2025-04-02T00:00:00", "end": "2025-04-02T02:00:00"},
            ),
            ex.CONSUMPTIONS,
        ),
        "aggregated": (
            jwt_client.get(
                f"{ASSET}/consumptions/aggregated",
                {"start": "2025-04-01T00:00:00", "end": "2025-04-03T00:00:00", "step": "1d"},
            ),
            ex.AGGREGATED,
        ),
        "session": (jwt_client.post("/api/v1/sessions"), ex.SESSION),
        "ping": (jwt_client.get("/api/v1/flexready/ping"), ex.PING),
    }
    statuses = {name: response.status_code for name, (response, _) in answers.items()}
    assert statuses == {name: 201 if name in ("create", "session") else 200 for name in answers}
    wrong = {
        name: shape_mismatches(example, response.json())
        for name, (response, example) in answers.items()
    }
    assert wrong == {name: [] for name in answers}
    assert created.json()["status"] == ex.REQUEST["status"]
    assert confirmed.json()["status"] == ex.CONFIRMED["status"]
