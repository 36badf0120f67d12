"""Parsing the supplier signal of Annex 2, and the client's request."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest

from flexready.market.client.supplier import (
    SupplierClient,
    SupplierSignalError,
    parse_signal,
    signal_json,
)

from .conftest import APPENDIX, paris


def test_the_appendix_example_parses_to_the_right_values() -> None:
    signal = parse_signal(APPENDIX)
    assert [p.step for p in signal.points] == [1, 2, 3, 4]
    # +02:00 as written in the appendix: 2026-01-01 00:00+02:00 is 2025-12-31 22:00 UTC.
    assert [p.at for p in signal.points] == [
        dt.datetime(2025, 12, 31, 22, m, tzinfo=dt.UTC) for m in (0, 15, 30, 45)
    ]
    assert all(p.at.tzinfo is dt.UTC for p in signal.points)
    assert [p.power_kw for p in signal.points] == [12, 12.5, 13, 13.5]
    assert [p.price_eur_per_kwh for p in signal.points] == [1200, 120, 12, 1]
    assert [p.co2_g_per_kwh for p in signal.points] == [3.1, 3.14, 3.141, 3.1415]


def _appendix(**changes: object) -> dict[str, object]:
    body = json.loads(APPENDIX)
    body.update(changes)
    return body


def _with(name: str, index: int, value: object) -> dict[str, object]:
    body = json.loads(APPENDIX)
    body[name][index] = value
    return body


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (_appendix(cost=json.loads(APPENDIX)["cost"][:3]), "step", "unequal length"),
        (_appendix(step=[1, 2, 3]), "step", "cost=4"),
        (_appendix(co2=None), "co2", "missing or not an array"),
        (
            _with("cost", 1, {"value": 1, "unit": "$/kWh", "multiplier": ""}),
            "cost[1].unit",
            "unité inconnue",
        ),
        (
            _with("cost", 2, {"value": 1, "unit": "W", "multiplier": ""}),
            "cost[2].unit",
            "must be EUR/kWh",
        ),
        (
            _with("power", 0, {"value": 1, "unit": "Wh", "multiplier": "k"}),
            "power[0].unit",
            "must be W",
        ),
        (
            _with("power", 3, {"value": 1, "unit": "W", "multiplier": "x"}),
            "power[3].multiplier",
            "multiplicateur inconnu",  # hub.units' reason, in the default language
        ),
        (
            _with("co2", 0, {"value": "a lot", "unit": "gCO2eq/kWh", "multiplier": ""}),
            "co2[0].value",
            "pas un nombre",
        ),
        (_with("co2", 0, {"value": 1, "multiplier": ""}), "co2[0].unit", "missing"),
        (_with("horodate", 1, "2026-01-01T00:15:00"), "horodate[1]", "no UTC offset"),
        (_with("horodate", 1, "tomorrow"), "horodate[1]", "not an ISO 8601"),
        (_with("horodate", 2, "2026-01-01T00:00:00+02:00"), "horodate[2]", "not after"),
        (_with("step", 0, "1"), "step[0]", "not an integer"),
        (_appendix(horizon="4"), "horizon", "not an integer"),
    ],
)
def test_bad_signals_name_the_field_and_reason(body: object, field: str, reason: str) -> None:
    with pytest.raises(SupplierSignalError) as caught:
        parse_signal(json.dumps(body))
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_not_json_and_not_an_object_are_refused() -> None:
    with pytest.raises(SupplierSignalError, match="body"):
        parse_signal("{")
    with pytest.raises(SupplierSignalError, match="not a JSON object"):
        parse_signal("[]")


def test_multipliers_are_applied() -> None:
    body = _with("power", 0, {"value": 1.5, "unit": "W", "multiplier": "M"})
    body = {**body, "cost": [dict(c, value=0.1) for c in body["cost"]]}  # type: ignore[attr-defined]
    signal = parse_signal(json.dumps(body))
    assert signal.points[0].power_kw == 1500
    body["power"][1] = {"value": 800, "unit": "W", "multiplier": ""}  # type: ignore[index]
    assert parse_signal(json.dumps(body)).points[1].power_kw == 0.8


def test_offsets_across_the_october_change_keep_the_repeated_hour() -> None:
    # 2026-10-25: 02:00+02:00 then 02:00+01:00 are one hour apart, both kept.
    horodates = [
        "2026-10-25T01:00:00+02:00",
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T03:00:00+01:00",
    ]
    signal = parse_signal(json.dumps(_appendix(horodate=horodates)))
    assert [p.at.hour for p in signal.points] == [23, 0, 1, 2]
    assert signal.points[2].at - signal.points[1].at == dt.timedelta(hours=1)


def test_offsets_across_the_march_change() -> None:
    horodates = [
        "2026-03-29T01:00:00+01:00",
        "2026-03-29T01:45:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-29T03:15:00+02:00",
    ]
    signal = parse_signal(json.dumps(_appendix(horodate=horodates)))
    assert signal.points[2].at - signal.points[1].at == dt.timedelta(minutes=15)


def test_signal_json_round_trips_in_local_time() -> None:
    signal = parse_signal(APPENDIX)
    out = signal_json(signal.points)
    assert out["horodate"][0] == "2025-12-31T23:00:00+01:00"
    assert out["power"][0] == {"value": 12.0, "unit": "W", "multiplier": "k"}
    assert parse_signal(out).points == signal.points


def test_client_sends_the_annex_query_and_the_bearer_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text=APPENDIX)

    with SupplierClient(
        base_url="https://supplier.example/api", token="jwt", transport=httpx.MockTransport(handler)
    ) as client:
        signal = client.fetch(
            session_id="abc",
            delivery_point="30001234567890",
            start=paris(2026, 1, 1).astimezone(dt.UTC),
            end=paris(2026, 1, 2).astimezone(dt.UTC),
        )
    assert len(signal.points) == 4
    [request] = seen
    assert request.url.path == "/api/sessions/abc/suppliers/commodity/prices"
    assert request.url.params["delivery_point"] == "30001234567890"
    assert request.url.params["start_date"] == "2026-01-01T00:00:00+01:00"
    assert request.url.params["end_date"] == "2026-01-02T00:00:00+01:00"
    assert request.headers["Authorization"] == "Bearer jwt"


def test_a_price_per_mwh_is_converted_to_per_kwh() -> None:
    """Annex 2: cost is a float quantity given as a triplet {value, unit, multiplier}; the
    hub stores prices in EUR/kWh, so 95 EUR/MWh is 0.095 EUR/kWh."""
    body = _with("cost", 1, {"value": 95, "unit": "€/MWh", "multiplier": ""})
    body["cost"][0] = {"value": 0.1, "unit": "EUR/MWh", "multiplier": "k"}  # type: ignore[index]
    points = parse_signal(body).points
    assert points[0].price_eur_per_kwh == pytest.approx(0.1)
    assert points[1].price_eur_per_kwh == pytest.approx(0.095)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            _with("cost", 0, {"value": "1e999999", "unit": "€/kWh", "multiplier": "k"}),
            "cost[0].value",
        ),
        (_with("power", 3, {"value": 1e300, "unit": "W", "multiplier": "G"}), "power[3].value"),
        (_with("co2", 2, {"value": "-1e999999", "unit": "gCO2eq/kWh"}), "co2[2].value"),
        (_with("step", 1, 10**30), "step[1]"),
        (_appendix(horizon=-1), "horizon"),
    ],
)
def test_numbers_out_of_bounds_name_their_field(body: object, field: str) -> None:
    with pytest.raises(SupplierSignalError) as info:
        parse_signal(body)  # type: ignore[arg-type]
    assert info.value.field == field
