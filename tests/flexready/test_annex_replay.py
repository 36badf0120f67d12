"""Each curl example of Annex 1 replayed against the hub: paths, headers and bodies as written.

Only the JWT placeholder is replaced by a real token. The generic examples are replayed twice:
as written (placeholders and unbalanced JSON included: the hub must answer a clear 4xx) and with
the placeholders filled from the annex's data set.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from rest_framework.test import APIClient

from flexready.models import CertificationSession, FlexRequest, JournalEntry, RequestStatus
from hub.models import AuditEvent
from tests.flexready import annex_examples as curl
from tests.flexready.conftest import hourly_curve, make_jwt, paris

BACS_1 = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
PLACEHOLDERS = {"{bacs_id}": BACS_1, "{asset_id}": "WholeBuilding", "{request_id}": "req-001"}

# The generic bodies with their placeholders filled from the data set (BACS 1's potential:
# 100 kW, 1 min mobilisation, 2 min at most, 12:00-14:00 on 2025-04-02).
CREATE_FILLED = {
    "requestID": "req-001",
    "flexProduct": "WID",
    "power": [
        {
            "power": {"unit": "W", "multiplier": "k", "value": 80.0},
            "start": "2025-04-02T12:00:00",
            "end": "2025-04-02T12:02:00",
        }
    ],
}
CONFIRM_FILLED = {
    **{k: v for k, v in CREATE_FILLED.items() if k != "requestID"},
    "ackPrice": {"unit": "€/MWh", "multiplier": "", "value": 120},
}


TRIPLET_KEYS = {"unit", "multiplier", "value"}
SECONDS_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
INSTANT_KEYS = {"start", "end", "receivedAt", "confirmedAt", "created_at"}


def assert_annex_shapes(body: Any, where: str = "") -> None:
    """Annex 2: "Float quantities (Power, Cost, CO2): each point is represented by a triplet
    (JSON) {"value":<value>, "unit":<unit>, "multiplier":<multiplier>}"; Annex 1 writes
    ``"ackPrice": { "unit", "multiplier", "value" }`` and times to the second
    (``YYYY-MM-DDTHH:MM:SS``). Every object with a unit is such a triplet with a numeric value,
    and every time is whole seconds with its offset."""
    if isinstance(body, dict):
        if "unit" in body:
            assert set(body) == TRIPLET_KEYS, where
            assert isinstance(body["value"], (int, float)), where
            assert not isinstance(body["value"], bool), where
            assert isinstance(body["multiplier"], str) and isinstance(body["unit"], str), where
        for key, value in body.items():
            if key in INSTANT_KEYS and isinstance(value, str):
                assert SECONDS_ISO.match(value), f"{where}.{key}: {value}"
            assert_annex_shapes(value, f"{where}.{key}")
    elif isinstance(body, list):
        for i, item in enumerate(body):
            assert_annex_shapes(item, f"{where}[{i}]")


def replay(
    client: APIClient,
    text: str,
    *,
    token: str | None = None,
    fill: bool = False,
    body: Any = None,
    emulator: tuple[str, str] | None = None,
) -> Any:
    example = curl.parse_curl(text)
    path = example.path
    if fill:
        for placeholder, value in PLACEHOLDERS.items():
            path = path.replace(placeholder, value)
    headers = dict(example.headers)
    if "Authorization" in headers:
        assert headers["Authorization"] == "Bearer <your_jwt_token>"
        headers["Authorization"] = f"Bearer {token}"
    if emulator and "EMULATOR_<any_header>" in headers:
        del headers["EMULATOR_<any_header>"]
        headers[emulator[0]] = emulator[1]
    content_type = headers.pop("Content-Type", "application/octet-stream")
    data = example.body if body is None else json.dumps(body)
    response = client.generic(
        example.method, path, data=data or "", content_type=content_type, headers=headers
    )
    if response.get("Content-Type", "").startswith("application/json"):
        assert_annex_shapes(response.json())
    return response


@pytest.fixture
def meter(tenant: Any) -> Any:
    # 50 kW all day, 100 kW from 12:00 to 13:00 (local) - except on 2 April 2025, when the
    # building shed to 20 kW during that hour. The days before cross the 30 March clock change.
    def watts(local: dt.datetime) -> float:
        if local.hour != 12:
            return 50_000
        return 20_000 if local.date() == dt.date(2025, 4, 2) else 100_000

    return hourly_curve(
        tenant.point, first=dt.date(2025, 3, 1), last=dt.date(2025, 4, 2), watts=watts
    )


def test_generic_examples_as_written_get_clear_refusals(annex: Any, settings: Any) -> None:
    client = APIClient()
    token = make_jwt()
    # No Authorization header in the annex's generic confirmation: 401, with a challenge.
    response = replay(client, curl.CONFIRM_GENERIC)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    # "{bacs_id}" is taken literally: no such BACS.
    response = replay(client, curl.OPERATOR_CREATE_GENERIC, token=token)
    assert response.status_code == 404
    # Placeholders filled in the path, body as written (placeholders, unbalanced JSON): 400.
    response = replay(client, curl.OPERATOR_CREATE_GENERIC, token=token, fill=True)
    assert response.status_code == 400
    assert "JSON" in json.dumps(response.json())
    assert FlexRequest.objects.count() == 0
    # Reads without Authorization: 401 unless the organisation opens them for sessions.
    assert replay(client, curl.REALISE_GENERIC, fill=True).status_code == 401
    assert replay(client, curl.OPERATOR_CONSUMPTIONS_GENERIC, fill=True).status_code == 401


def test_annex_scenario_create_confirm_realise_report(
    annex: Any, meter: Any, clock: Any, tenant: Any, settings: Any
) -> None:
    client = APIClient()
    token = make_jwt(subject="aggregator-1")
    clock(paris(2025, 4, 2, 11, 0))

    # 4. Create (operator), generic example filled from the data set.
    response = replay(
        client,
        curl.OPERATOR_CREATE_GENERIC,
        token=token,
        fill=True,
        body=CREATE_FILLED,
        emulator=("EMULATOR_Trace", "cert-run-7"),
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "accepted"
    assert created["requestID"] == "req-001"
    assert created["power"][0]["power"] == {"unit": "W", "multiplier": "k", "value": 80.0}
    assert created["power"][0]["start"] == "2025-04-02T12:00:00+02:00"
    flex = FlexRequest.objects.get(request_id="req-001")
    assert flex.emulator_headers == {"Emulator-Trace": "cert-run-7"}

    # 5. Confirm, the annex's specific example verbatim: its 80 kW from 10:00 to 12:00 breaks
    # the potential the same annex gives (2 min at most, 12:00-14:00), so it is refused with
    # every reason, and the request stays accepted.
    response = replay(client, curl.CONFIRM_SPECIFIC, token=token)
    assert response.status_code == 422, response.content
    codes = {r["code"] for r in response.json()["reasons"]}
    assert codes == {
        "duration_above_maximum",
        "mobilisation_delay",
        "outside_allowed_periods",
        "outside_request",
    }
    flex.refresh_from_db()
    assert flex.status == RequestStatus.ACCEPTED

    # 5. Confirm (operator), generic example filled: confirmed with its acknowledged price.
    response = replay(
        client, curl.OPERATOR_CONFIRM_GENERIC, token=token, fill=True, body=CONFIRM_FILLED
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "confirmed"
    # Echoed as the operator wrote it: a triplet with a number, its unit spelling and multiplier.
    assert response.json()["ackPrice"] == {"unit": "€/MWh", "multiplier": "", "value": 120.0}
    flex.refresh_from_db()
    assert flex.ack_price is not None and flex.ack_price["eur_per_kwh"] == "0.120"

    # 6. Realise, the specific example verbatim (Accept header only): the organisation opens
    # session reads to callers without a token.
    settings.FLEXREADY_ANONYMOUS_READ_ORGANISATION = tenant.organisation.slug
    clock(paris(2025, 4, 2, 15, 0))
    response = replay(client, curl.REALISE_SPECIFIC)
    assert response.status_code == 200, response.content
    realised = response.json()
    assert realised["status"] == "realised"
    assert realised["complete"] is True
    # Baseline: 100 kW at 12:00 on the five previous weekdays, before and after 30 March.
    assert realised["baseline"]["days"] == [
        "2025-04-01",
        "2025-03-31",
        "2025-03-28",
        "2025-03-27",
        "2025-03-26",
    ]
    (step,) = realised["steps"]
    assert step["measured"]["value"] == pytest.approx(20.0)
    assert step["baseline"]["value"] == pytest.approx(100.0)
    assert step["delivered"]["value"] == pytest.approx(80.0)
    # 80 kW for 2 minutes: 2.667 kWh.
    assert realised["total"]["delivered"]["value"] == pytest.approx(80 * 2 / 60, abs=1e-6)
    assert realised["total"]["delivered"]["unit"] == "Wh"

    # 6. Realise (operator), generic example filled: same answer, with the token.
    response = replay(client, curl.OPERATOR_REALISE_GENERIC, token=token, fill=True)
    assert response.status_code == 200
    assert response.json()["total"] == realised["total"]

    # 7a. Detailed consumption (operator), generic example filled; the body is ignored.
    response = replay(client, curl.OPERATOR_CONSUMPTIONS_GENERIC, fill=True)
    assert response.status_code == 200, response.content
    rows = response.json()["consumptions"]
    assert len(rows) == 24
    assert {r["power"]["value"] for r in rows} == {50.0, 20.0}

    # The lifecycle, one audit event per step.
    actions = list(
        AuditEvent.objects.filter(object_id=str(flex.pk), action__startswith="flexready.request.")
        .order_by("at", "id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "flexready.request.received",
        "flexready.request.accepted",
        "flexready.request.confirmation_refused",
        "flexready.request.confirmed",
        "flexready.request.active",
        "flexready.request.realised",
    ]

    # The session's journal: every call above, secrets masked; then its PDF report.
    session = CertificationSession.objects.get(session_id="{session_id}")
    entries = list(JournalEntry.objects.filter(session=session))
    assert [e.status for e in entries] == [201, 422, 200, 200, 200, 200]
    assert entries[0].request_headers["Authorization"] == "Bearer ***"
    assert entries[0].request_headers["Emulator-Trace"] == "cert-run-7"
    assert json.loads(entries[0].request_body) == CREATE_FILLED
    assert "duration_above_maximum" in entries[1].response_body
    response = client.post(
        "/api/v1/sessions/{session_id}/reports", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert JournalEntry.objects.filter(session=session).count() == 6


def test_session_ids_as_curl_sends_them_and_created_on_first_use(jwt_client: APIClient) -> None:
    # curl's URL globbing turns "{session_id}" into "session_id"; both are sessions.
    for session_id in ("session_id", "{session_id}", "b1c2"):
        response = jwt_client.get(f"/api/v1/{session_id}/operator/bacs")
        assert response.status_code == 200
        assert {b["bacsID"] for b in response.json()} == {
            BACS_1,
            "a987fbc9-4bed-4078-9f07-9141ba07c9f3",
        }
    assert set(CertificationSession.objects.values_list("session_id", flat=True)) == {
        "session_id",
        "{session_id}",
        "b1c2",
    }
    # Without the session segment nothing is journalled.
    jwt_client.get("/api/v1/bacs")
    assert JournalEntry.objects.count() == 3
