from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from hub.services.tokens import create_token
from smartoa import api
from smartoa.client import parse_schedule
from smartoa.models import Contract, ControllerAccess
from smartoa.services import create_contract, record_schedule
from tests.api_problems import field_errors
from tests.conftest import Tenant

from .conftest import CONTRACT_ID, SEED_BODY, paris

BASE = "/api/v1/smartoa/contracts/"


@pytest.fixture
def seeded(contract: Contract, monkeypatch: pytest.MonkeyPatch) -> Contract:
    """The seed's schedule for 2025-09-22 and the next day's, "now" pinned at 13:00 that day."""
    body = SEED_BODY.replace("BOAXXXXX", CONTRACT_ID)
    today = parse_schedule(body)
    tomorrow = parse_schedule(
        body.replace("2025-09-23", "2025-09-24").replace("2025-09-22", "2025-09-23")
    )
    record_schedule(contract=contract, schedule=today, fetched_at=paris(2025, 9, 21, 13, 0))
    record_schedule(contract=contract, schedule=tomorrow, fetched_at=paris(2025, 9, 22, 13, 0))
    monkeypatch.setattr(api, "_now", lambda: paris(2025, 9, 22, 13, 0))
    return contract


def _token_client(tenant: Tenant, name: str, **options: object) -> tuple[APIClient, object]:
    issued = create_token(organisation=tenant.organisation, name=name, **options)  # type: ignore[arg-type]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
    return client, issued.token


def test_list_never_shows_credentials(token_client: APIClient, contract: Contract) -> None:
    response = token_client.get(BASE)
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["contract_id"] == CONTRACT_ID
    assert row["metering_point"] == CONTRACT_ID
    assert "api_token" not in row and "account_id" not in row


def test_setpoint_during_the_seed_stop(token_client: APIClient, seeded: Contract) -> None:
    response = token_client.get(f"{BASE}{CONTRACT_ID}/setpoint")
    assert response.status_code == 200
    body = response.json()
    assert body["value"] == 1.0
    assert body["current_episode"] == {
        "start": "2025-09-22T09:55:00Z",
        "end": "2025-09-22T16:00:00Z",
    }
    assert body["next_episode"] == {"start": "2025-09-23T09:55:00Z", "end": "2025-09-23T16:00:00Z"}
    assert body["version"]["update_date"] == "2025-09-21T10:55:05+00:00"


def test_setpoint_before_the_stop(
    viewer_client: APIClient, seeded: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api, "_now", lambda: paris(2025, 9, 22, 11, 54))
    body = viewer_client.get(f"{BASE}{CONTRACT_ID}/setpoint").json()
    assert body["value"] == 0.0
    assert body["current_episode"] is None
    assert body["next_episode"]["start"] == "2025-09-22T09:55:00Z"


def test_setpoint_without_any_schedule(token_client: APIClient, contract: Contract) -> None:
    body = token_client.get(f"{BASE}{CONTRACT_ID}/setpoint").json()
    assert body["value"] is None and body["version"] is None


def test_schedules_of_a_day(token_client: APIClient, seeded: Contract) -> None:
    response = token_client.get(f"{BASE}{CONTRACT_ID}/schedules", {"date": "2025-09-22"})
    assert response.status_code == 200
    [version] = response.json()["versions"]
    assert len(version["periods"]) == 3
    assert version["episodes"] == [{"start": "2025-09-22T09:55:00Z", "end": "2025-09-22T16:00:00Z"}]
    assert version["diff"] is None
    default_day = token_client.get(f"{BASE}{CONTRACT_ID}/schedules").json()
    assert default_day["date"] == "2025-09-22"


def test_billing_of_the_seed_day(token_client: APIClient, seeded: Contract) -> None:
    response = token_client.get(f"{BASE}{CONTRACT_ID}/billing", {"day": "2025-09-22"})
    assert response.status_code == 200
    body = response.json()
    assert body["steps_in_day"] == 288
    assert (body["neutralised_steps"], body["stop_steps"]) == (2, 71)
    assert body["stop_duration_seconds"] == 6 * 3600 + 300
    assert body["steps"][143] == {
        "start": "2025-09-22T09:55:00+00:00",
        "state": "neutralised",
        "energy": None,
    }
    # No load curve yet: whether the plant was back at full power at 18:00 is unknown.
    [check] = body["returns"]
    assert (check["step"], check["status"]) == ("2025-09-22T16:00:00+00:00", "unknown")
    assert body["back_at_full_power"] is True


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("schedules", {"date": "2025-13-01"}, "date"),
        ("schedules", {"date": "22/09/2025"}, "date"),
        ("billing", {}, "day"),
        ("billing", {"day": "tomorrow"}, "day"),
    ],
)
def test_bad_query_params_are_400_naming_the_field(
    token_client: APIClient, contract: Contract, path: str, params: dict, field: str
) -> None:
    response = token_client.get(f"{BASE}{CONTRACT_ID}/{path}", params)
    assert response.status_code == 400
    assert field in field_errors(response)


@pytest.mark.parametrize("path", ["setpoint", "schedules", "billing?day=2025-09-22"])
def test_foreign_contract_is_404(token_client: APIClient, foreign: Tenant, path: str) -> None:
    create_contract(
        organisation=foreign.organisation, contract_id="BOA-RIVAL", account_id="", api_token="t"
    )
    assert token_client.get(f"{BASE}BOA-RIVAL/{path}").status_code == 404
    assert token_client.get(BASE).json()["results"] == []


def test_token_restricted_to_another_contract_is_404(tenant: Tenant, seeded: Contract) -> None:
    other = create_contract(
        organisation=tenant.organisation, contract_id="BOA-OTHER", account_id="", api_token="t"
    )
    client, token = _token_client(tenant, "plant-other")
    ControllerAccess.objects.create(token=token, contract=other)
    assert client.get(f"{BASE}{CONTRACT_ID}/setpoint").status_code == 404
    assert client.get(f"{BASE}BOA-OTHER/setpoint").status_code == 200
    assert [c["contract_id"] for c in client.get(BASE).json()["results"]] == ["BOA-OTHER"]


def test_unrestricted_token_sees_every_contract(tenant: Tenant, seeded: Contract) -> None:
    create_contract(
        organisation=tenant.organisation, contract_id="BOA-OTHER", account_id="", api_token="t"
    )
    client, _token = _token_client(tenant, "supervisor")
    assert len(client.get(BASE).json()["results"]) == 2


def test_token_outside_its_allow_list_is_403(tenant: Tenant, seeded: Contract) -> None:
    client, _token = _token_client(tenant, "plant", allowed_networks=["10.20.0.0/16"])
    assert client.get(f"{BASE}{CONTRACT_ID}/setpoint", REMOTE_ADDR="192.0.2.1").status_code == 403
    ok = client.get(f"{BASE}{CONTRACT_ID}/setpoint", REMOTE_ADDR="10.20.3.4")
    assert ok.status_code == 200


def test_anonymous_is_refused(api_client: APIClient, contract: Contract) -> None:
    assert api_client.get(f"{BASE}{CONTRACT_ID}/setpoint").status_code in {401, 403}


def test_default_day_is_the_paris_day(
    token_client: APIClient, seeded: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 23:30 UTC on the 21st is already the 22nd in Paris.
    monkeypatch.setattr(api, "_now", lambda: dt.datetime(2025, 9, 21, 23, 30, tzinfo=dt.UTC))
    body = token_client.get(f"{BASE}{CONTRACT_ID}/schedules").json()
    assert body["date"] == "2025-09-22"
    assert len(body["versions"]) == 1


def test_the_documented_examples_have_the_answers_shape(
    token_client: APIClient, seeded: Contract
) -> None:
    """An OpenAPI example names the keys the operation really answers (issue 19.5)."""
    from smartoa import api_examples
    from tests.api_examples import shape_mismatches

    listed = token_client.get(BASE).json()
    answers = {
        "list": (listed["results"][0], api_examples.CONTRACT),
        "setpoint": (
            token_client.get(f"{BASE}{CONTRACT_ID}/setpoint").json(),
            api_examples.SETPOINT,
        ),
        "schedules": (
            token_client.get(f"{BASE}{CONTRACT_ID}/schedules", {"date": "2025-09-22"}).json(),
            api_examples.SCHEDULES,
        ),
        "billing": (
            token_client.get(f"{BASE}{CONTRACT_ID}/billing", {"day": "2025-09-22"}).json(),
            api_examples.BILLING,
        ),
    }
    assert set(listed) == {"count", "next", "previous", "results"}
    wrong = {name: shape_mismatches(example, body) for name, (body, example) in answers.items()}
    assert wrong == {name: [] for name in answers}
