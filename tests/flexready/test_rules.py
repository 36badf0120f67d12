"""Each rule of the potential refuses on its own, with a 422 naming it; bad input is a 400."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from flexready.models import Asset, FlexRequest, RequestStatus
from tests.api_problems import field_errors, problem
from tests.flexready.conftest import paris

BACS_1 = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
URL = f"/api/v1/operator/bacs/{BACS_1}/assets/WholeBuilding/flexibilities/request"


def body(
    request_id: str = "r1",
    *,
    product: str = "WID",
    value: Any = 80.0,
    unit: str = "W",
    multiplier: str = "k",
    start: str = "2025-04-02T12:00:00",
    end: str = "2025-04-02T12:02:00",
) -> dict[str, Any]:
    return {
        "requestID": request_id,
        "flexProduct": product,
        "power": [
            {
                "power": {"unit": unit, "multiplier": multiplier, "value": value},
                "start": start,
                "end": end,
            }
        ],
    }


def codes(response: Any) -> set[str]:
    return {r["code"] for r in response.json()["reasons"]}


@pytest.fixture
def at_eleven(clock: Any) -> None:
    clock(paris(2025, 4, 2, 11, 0))


@pytest.mark.usefixtures("at_eleven")
class TestPotentialRules:
    def test_within_potential_is_accepted_units_converted(self, jwt_client: APIClient) -> None:
        # 100 kW = 0.1 MW = 100000 W: all at the limit, all accepted.
        for i, (value, multiplier) in enumerate([(0.1, "M"), (100000, ""), (100, "k")]):
            response = jwt_client.post(
                URL,
                body(f"ok-{i}", value=value, multiplier=multiplier),
                format="json",
            )
            assert response.status_code == (201 if i == 0 else 422), response.content
        # Only one activation a day: the later two were refused for that reason alone.
        refused = FlexRequest.objects.filter(status=RequestStatus.REFUSED)
        assert {tuple(r["code"] for r in f.reasons) for f in refused} == {("activations_per_day",)}

    def test_power_above_potential(self, jwt_client: APIClient) -> None:
        response = jwt_client.post(URL, body(value=100.001), format="json")
        assert response.status_code == 422
        assert codes(response) == {"power_above_potential"}
        assert response.json()["reasons"][0]["field"] == "power[0].power.value"
        # The refused request is kept, with its reasons.
        assert FlexRequest.objects.get(request_id="r1").status == RequestStatus.REFUSED

    def test_power_in_milliwatts_far_below_is_fine_and_zero_is_not(
        self, jwt_client: APIClient
    ) -> None:
        response = jwt_client.post(URL, body(value=0, multiplier="m"), format="json")
        assert codes(response) == {"power_not_positive"}

    def test_duration_above_maximum(self, jwt_client: APIClient) -> None:
        response = jwt_client.post(URL, body(end="2025-04-02T12:02:01"), format="json")
        assert response.status_code == 422
        assert codes(response) == {"duration_above_maximum"}

    def test_start_before_mobilisation_delay(self, jwt_client: APIClient, clock: Any) -> None:
        clock(paris(2025, 4, 2, 11, 59, 1))  # 59 s before the start; 60 s are needed
        response = jwt_client.post(URL, body(), format="json")
        assert codes(response) == {"mobilisation_delay"}
        clock(paris(2025, 4, 2, 11, 59, 0))
        assert jwt_client.post(URL, body("r2"), format="json").status_code == 201

    def test_outside_allowed_periods(self, jwt_client: APIClient) -> None:
        response = jwt_client.post(
            URL, body(start="2025-04-02T13:59:00", end="2025-04-02T14:00:01"), format="json"
        )
        assert codes(response) == {"outside_allowed_periods"}

    def test_product_mismatch(self, jwt_client: APIClient) -> None:
        response = jwt_client.post(URL, body(product="WDA"), format="json")
        assert codes(response) == {"product_mismatch"}

    def test_activations_per_day(self, jwt_client: APIClient) -> None:
        assert jwt_client.post(URL, body("a"), format="json").status_code == 201
        response = jwt_client.post(
            URL, body("b", start="2025-04-02T13:00:00", end="2025-04-02T13:01:00"), format="json"
        )
        assert codes(response) == {"activations_per_day"}

    def test_every_reason_at_once(self, jwt_client: APIClient) -> None:
        response = jwt_client.post(
            URL,
            body(product="WDA", value=150, start="2025-04-02T10:00:00", end="2025-04-02T11:00:00"),
            format="json",
        )
        assert response.status_code == 422
        assert codes(response) == {
            "product_mismatch",
            "power_above_potential",
            "duration_above_maximum",
            "mobilisation_delay",
            "outside_allowed_periods",
        }

    def test_edited_potential_applies(self, jwt_client: APIClient) -> None:
        Asset.objects.filter(asset_id="WholeBuilding").update(power_w=50_000)
        response = jwt_client.post(URL, body(value=60), format="json")
        assert codes(response) == {"power_above_potential"}

    def test_duplicate_request_id_is_409(self, jwt_client: APIClient) -> None:
        assert jwt_client.post(URL, body("same"), format="json").status_code == 201
        response = jwt_client.post(URL, body("same"), format="json")
        conflict = problem(response, 409)
        assert conflict["type"] == "/api/v1/problems/conflict"
        assert [e["field"] for e in conflict["errors"]] == ["requestID"]


@pytest.mark.usefixtures("at_eleven")
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**body(), "requestID": ""}, "requestID"),
        ({**body(), "flexProduct": None}, "flexProduct"),
        ({**body(), "power": []}, "power"),
        (body(unit="Wh"), "power[0].power.unit"),
        (body(unit="parsec"), "power[0].power.unit"),
        (body(multiplier="x"), "power[0].power.multiplier"),
        (body(value="lots"), "power[0].power.value"),
        (body(value=10**400), "power[0].power.value"),
        (body(start="yesterday"), "power[0].start"),
        (body(end="2025-04-02T11:00:00"), "power[0].end"),
        # 02:30 does not exist in Paris on 30 March 2025: an offset is needed.
        (body(start="2025-03-30T02:30:00", end="2025-03-30T03:30:00"), "power[0].start"),
    ],
)
def test_bad_input_is_400_naming_the_field(
    jwt_client: APIClient, payload: dict[str, Any], field: str
) -> None:
    response = jwt_client.post(URL, payload, format="json")
    assert response.status_code == 400, response.content
    assert field in field_errors(response)
    assert FlexRequest.objects.count() == 0


@pytest.mark.usefixtures("at_eleven")
def test_overlapping_steps_are_400(jwt_client: APIClient) -> None:
    payload = body()
    payload["power"].append(
        {
            "power": {"unit": "W", "multiplier": "k", "value": 10},
            "start": "2025-04-02T12:01:00",
            "end": "2025-04-02T12:02:00",
        }
    )
    response = jwt_client.post(URL, payload, format="json")
    assert response.status_code == 400
    assert "power" in field_errors(response)


@pytest.mark.usefixtures("at_eleven")
class TestConfirmation:
    confirm = URL + "/r1/confirm"

    def test_confirm_may_lower_not_raise_and_only_once(self, jwt_client: APIClient) -> None:
        assert jwt_client.post(URL, body(value=50), format="json").status_code == 201
        higher = {k: v for k, v in body(value=60).items() if k != "requestID"}
        response = jwt_client.post(self.confirm, higher, format="json")
        assert response.status_code == 422
        assert codes(response) == {"power_above_request"}
        lower = {k: v for k, v in body(value=40).items() if k != "requestID"}
        response = jwt_client.post(self.confirm, lower, format="json")
        assert response.status_code == 200
        assert response.json()["power"][0]["power"]["value"] == 40.0
        again = jwt_client.post(self.confirm, lower, format="json")
        assert again.status_code == 409

    def test_refused_request_cannot_be_confirmed(self, jwt_client: APIClient) -> None:
        jwt_client.post(URL, body(value=500), format="json")
        lower = {k: v for k, v in body().items() if k != "requestID"}
        assert jwt_client.post(self.confirm, lower, format="json").status_code == 409

    def test_unknown_request_is_404(self, jwt_client: APIClient) -> None:
        lower = {k: v for k, v in body().items() if k != "requestID"}
        assert jwt_client.post(URL + "/nope/confirm", lower, format="json").status_code == 404

    def test_unknown_request_or_asset_is_404_before_a_bad_body(self, jwt_client: APIClient) -> None:
        """What is out of reach answers 404 whatever the body; the body is judged after."""
        bad = {"flexProduct": "WID", "power": "nope"}
        assert jwt_client.post(URL + "/nope/confirm", bad, format="json").status_code == 404
        other = URL.replace("WholeBuilding", "Nope")
        assert jwt_client.post(other, {**bad, "requestID": "x"}, format="json").status_code == 404
        assert jwt_client.post(URL, {**bad, "requestID": "x"}, format="json").status_code == 400

    def test_bad_ack_price_is_400(self, jwt_client: APIClient) -> None:
        jwt_client.post(URL, body(), format="json")
        payload = {
            **{k: v for k, v in body().items() if k != "requestID"},
            "ackPrice": {"unit": "bananas", "value": 3},
        }
        response = jwt_client.post(self.confirm, payload, format="json")
        assert response.status_code == 400
        assert "ackPrice.unit" in field_errors(response)

    @pytest.mark.parametrize(
        ("ack", "field"),
        [
            ({"unit": "W", "multiplier": "k", "value": 3}, "ackPrice.unit"),
            ({"unit": "€/kWh", "multiplier": "k", "value": "1e999999"}, "ackPrice.value"),
            ({"unit": "€/kWh", "multiplier": "", "value": "NaN"}, "ackPrice.value"),
        ],
    )
    def test_ack_price_must_be_a_bounded_price(
        self, jwt_client: APIClient, ack: dict[str, Any], field: str
    ) -> None:
        jwt_client.post(URL, body(), format="json")
        payload = {**{k: v for k, v in body().items() if k != "requestID"}, "ackPrice": ack}
        response = jwt_client.post(self.confirm, payload, format="json")
        assert response.status_code == 400
        assert field in field_errors(response)

    @pytest.mark.parametrize(
        ("ack", "echo"),
        [
            (
                {"unit": "€/kWh", "multiplier": "", "value": 0.12},
                {"unit": "€/kWh", "multiplier": "", "value": 0.12},
            ),
            (
                {"unit": "EUR/MWh", "multiplier": "k", "value": "0.12"},
                {"unit": "EUR/MWh", "multiplier": "k", "value": 0.12},
            ),
        ],
    )
    def test_ack_price_is_echoed_as_the_operators_triplet(
        self, jwt_client: APIClient, ack: dict[str, Any], echo: dict[str, Any]
    ) -> None:
        """Annex 1: ``"ackPrice": { "unit": "<units>", "multiplier": "<multiplier>", "value":
        <value> }``: the answer keeps that shape, a number, the caller's spelling."""
        jwt_client.post(URL, body(), format="json")
        payload = {**{k: v for k, v in body().items() if k != "requestID"}, "ackPrice": ack}
        response = jwt_client.post(self.confirm, payload, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["ackPrice"] == echo
        again = jwt_client.get(f"{URL}/r1").json()["ackPrice"]
        assert again == echo


@pytest.mark.usefixtures("at_eleven")
@pytest.mark.parametrize(
    "value", ["1e999999", "-1e999999", "1e16", 1e300, "9" * 80, "Infinity", "1e-999999"]
)
def test_out_of_range_power_is_400_naming_the_value(jwt_client: APIClient, value: Any) -> None:
    """Every numeric input is bounded: a quantity beyond the bounds is a 400 on its field."""
    response = jwt_client.post(URL, body(value=value, multiplier="G"), format="json")
    assert response.status_code == 400, response.content
    assert "power[0].power.value" in field_errors(response)
    assert not FlexRequest.objects.exists()


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2025-04-02T12:00:00", "2025-04-02T12:02:00"),  # the annex's naive form: Paris time
        ("2025-04-02T12:00:00+02:00", "2025-04-02T12:02:00+02:00"),
        ("2025-04-02T10:00:00Z", "2025-04-02T10:02:00.000000Z"),
        ("2025-04-02T12:00:00.123456", "2025-04-02T12:02:00+02:00"),
    ],
)
def test_times_naive_or_with_offset_answered_to_the_second(
    jwt_client: APIClient, clock: Any, start: str, end: str
) -> None:
    """Annex 1 writes ``"start": "<YYYY-MM-DDTHH:MM:SS>"``; answers carry whole seconds and the
    Paris offset whatever form came in."""
    clock(paris(2025, 4, 2, 11, 0) + dt.timedelta(microseconds=654321))
    response = jwt_client.post(URL, body(start=start, end=end), format="json")
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["power"][0]["start"] == "2025-04-02T12:00:00+02:00"
    assert answer["power"][0]["end"] == "2025-04-02T12:02:00+02:00"
    assert answer["receivedAt"] == "2025-04-02T11:00:00+02:00"


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers()
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
TRIPLET = st.fixed_dictionaries(
    {
        "unit": st.sampled_from(["W", "kW", "Wh", "", "€/kWh", "€/MWh"]) | st.text(max_size=5),
        "value": st.sampled_from(["1e999999", "-1e999999", 10**400, 1e308]) | JSON,
    },
    optional={"multiplier": st.sampled_from(["", "k", "M", "m", "x"]) | JSON},
)
STEP = st.fixed_dictionaries(
    {
        "power": TRIPLET | JSON,
        "start": st.sampled_from(["2025-04-02T12:00:00", "2025-03-30T02:30:00"]) | JSON,
        "end": st.sampled_from(["2025-04-02T12:01:00", "2025-04-02T12:00:00Z"]) | JSON,
    }
)


@pytest.mark.usefixtures("at_eleven")
@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    payload=st.fixed_dictionaries(
        {},
        optional={
            "requestID": st.text(max_size=120) | JSON,
            "flexProduct": st.sampled_from(["WID", "WDA"]) | JSON,
            "power": st.lists(STEP, max_size=3) | JSON,
            "ackPrice": TRIPLET | JSON,
        },
    )
)
def test_no_body_causes_a_server_error(jwt_client: APIClient, payload: dict[str, Any]) -> None:
    create = jwt_client.post(URL, payload, format="json")
    assert create.status_code in {201, 400, 409, 422}, create.content
    confirm = jwt_client.post(f"{URL}/r1/confirm", payload, format="json")
    assert confirm.status_code in {200, 400, 404, 409, 422}, confirm.content
