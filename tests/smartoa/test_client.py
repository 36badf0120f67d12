from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest

from hub.http import ProviderError
from smartoa import simulator
from smartoa.client import Credentials, SmartOAClient, SmartOAResponseError, parse_schedule

from .conftest import SEED_BODY, paris, wsgi_transport


def test_seed_example_gives_three_periods_and_one_stop() -> None:
    schedule = parse_schedule(SEED_BODY, expected_id="BOAXXXXX")
    assert schedule.contract_id == "BOAXXXXX"
    assert schedule.application_date == dt.date(2025, 9, 22)
    assert schedule.update_date == paris(2025, 9, 21, 12, 55, 5)
    assert [p.value for p in schedule.periods] == [0.0, 1.0, 0.0]
    [stop] = schedule.episodes
    assert (stop.start, stop.end) == (paris(2025, 9, 22, 11, 55), paris(2025, 9, 22, 18, 0))
    assert stop.start.tzinfo is dt.UTC


def _seed(**changes: object) -> dict[str, object]:
    body = json.loads(SEED_BODY)
    body.update(changes)
    return body


def _with_period(index: int, **changes: object) -> dict[str, object]:
    body = json.loads(SEED_BODY)
    body["data"][index].update(changes)
    return body


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "not JSON"),
        ([], "not a JSON object"),
        (_seed(id=None), "id is missing"),
        (_seed(update_date="2025-09-21T12:55:05"), "update_date has no UTC offset"),
        (_seed(update_date="yesterday"), "update_date is not an ISO 8601"),
        (_seed(application_date="22/09/2025"), "application_date"),
        (_seed(data=[]), "data is missing or empty"),
        (_with_period(1, value=0.5), "data[1].value must be 0.0 or 1.0"),
        (_with_period(1, value=True), "data[1].value must be 0.0 or 1.0"),
        (_with_period(1, value="1.0"), "data[1].value must be 0.0 or 1.0"),
        (_with_period(1, start_date="2025-09-22T12:00:00+02:00"), "data[1] does not start"),
        (_with_period(1, end_date="2025-09-22T11:00:00+02:00"), "data[1] ends before"),
        (_with_period(2, end_date="2025-09-22T23:00:00+02:00"), "do not cover the local day"),
        (_with_period(0, start_date="2025-09-22T00:00:00+00:00"), "do not cover the local day"),
        (_seed(application_date="2025-09-23"), "do not cover the local day"),
    ],
)
def test_bad_answers_raise_a_typed_error(body: object, reason: str) -> None:
    text = body if isinstance(body, str) else json.dumps(body)
    with pytest.raises(SmartOAResponseError) as caught:
        parse_schedule(text)
    assert reason in caught.value.reason


def test_answer_for_another_contract_is_refused() -> None:
    with pytest.raises(SmartOAResponseError, match="not the contract"):
        parse_schedule(SEED_BODY, expected_id="BOA-OTHER")


def test_utc_offsets_are_accepted_when_they_cover_the_day() -> None:
    body = json.loads(SEED_BODY)
    body["data"][0]["start_date"] = "2025-09-21T22:00:00Z"
    assert parse_schedule(json.dumps(body)).periods[0].start == paris(2025, 9, 22)


def test_credentials_never_show_the_token() -> None:
    assert "s3cret" not in repr(Credentials(account_id="BOA1", token="s3cret"))


@pytest.mark.parametrize("scheme", ["bearer", "basic"])
def test_client_fetches_from_the_simulator(oa_client: SmartOAClient, scheme: str) -> None:
    credentials = Credentials("BOA-123", simulator.token_for("BOA-123"), scheme)
    schedule = oa_client.fetch_schedule(credentials=credentials, contract_id="BOA-123")
    assert schedule.contract_id == "BOA-123"
    assert schedule.application_date == dt.date(2025, 9, 22)
    [stop] = schedule.episodes
    assert (stop.start, stop.end) == (paris(2025, 9, 22, 11, 55), paris(2025, 9, 22, 18, 0))


def test_a_cookie_set_for_one_contract_is_not_sent_with_another_contracts_call() -> None:
    # One client serves every contract, each with its own token: nothing but the connections
    # is shared between their calls.
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.headers["Authorization"], request.headers.get("Cookie")))
        return httpx.Response(
            200, headers={"Set-Cookie": "lb=node-1; Path=/"}, content=SEED_BODY.encode()
        )

    with SmartOAClient(base_url="https://oa.test", transport=httpx.MockTransport(handler)) as c:
        c.fetch_schedule(credentials=Credentials("BOA-123", "token-a"))
        c.fetch_schedule(credentials=Credentials("BOA-456", "token-b"))
    assert seen == [("Bearer token-a", None), ("Bearer token-b", None)]


def test_each_call_asks_for_json_at_the_resource_under_the_base_url() -> None:
    seen: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers["Accept"]))
        return httpx.Response(200, content=SEED_BODY.encode())

    with SmartOAClient(
        base_url="https://oa.test/api/v1",
        resource_path="/effacement",
        transport=httpx.MockTransport(handler),
    ) as client:
        for _ in range(2):
            client.fetch_schedule(credentials=Credentials("BOA-123", "token"))
    assert seen == [("https://oa.test/api/v1/effacement", "application/json")] * 2


def test_wrong_token_is_a_provider_error(oa_client: SmartOAClient) -> None:
    credentials = Credentials("BOA-123", simulator.token_for("BOA-999"), "basic")
    with pytest.raises(ProviderError) as caught:
        oa_client.fetch_schedule(credentials=credentials)
    assert caught.value.status == 401


def test_wrong_ip_is_refused_with_403(sim: simulator.SimulatorState, in_process_wsgi: None) -> None:
    credentials = Credentials("BOA-123", simulator.token_for("BOA-123"))
    with (
        SmartOAClient(transport=wsgi_transport("203.0.113.7")) as client,
        pytest.raises(ProviderError) as caught,
    ):
        client.fetch_schedule(credentials=credentials)
    assert caught.value.status == 403


def test_server_errors_are_retried_then_raised(
    oa_client: SmartOAClient, sim: simulator.SimulatorState, no_waits: list[float]
) -> None:
    sim.faults["BOA-123"] = simulator.SERVER_ERROR
    with pytest.raises(ProviderError) as caught:
        oa_client.fetch_schedule(credentials=Credentials("BOA-123", simulator.token_for("BOA-123")))
    assert caught.value.status == 503
    assert sim.calls == 4  # the first attempt and three retries
    assert len(no_waits) == 3
