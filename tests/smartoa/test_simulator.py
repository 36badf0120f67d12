from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest

from smartoa import simulator
from smartoa.client import parse_schedule

from .conftest import paris, wsgi_transport

URL = "http://127.0.0.1:8000/sim/smartoa/effacement"


def _get(
    headers: dict[str, str], remote_addr: str = "127.0.0.1", auth: httpx.Auth | None = None
) -> httpx.Response:
    with httpx.Client(transport=wsgi_transport(remote_addr)) as client:
        return client.get(URL, headers=headers, auth=auth)


def _bearer(account: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {simulator.token_for(account)}"}


@pytest.mark.usefixtures("sim", "in_process_wsgi")
class TestAccess:
    def test_no_token_is_401(self) -> None:
        response = _get({})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")

    def test_forged_token_is_401(self) -> None:
        assert _get({"Authorization": "Bearer BOA-1.0123456789abcdef"}).status_code == 401

    def test_basic_needs_the_right_account(self) -> None:
        token = simulator.token_for("BOA-1")
        assert _get({}, auth=httpx.BasicAuth("BOA-1", token)).status_code == 200
        assert _get({}, auth=httpx.BasicAuth("BOA-2", token)).status_code == 401

    def test_outside_the_allow_list_is_403(self) -> None:
        response = _get(_bearer("BOA-1"), remote_addr="198.51.100.20")
        assert response.status_code == 403
        assert "IP" in response.json()["detail"]

    def test_registered_account_has_its_own_token_and_networks(
        self, sim: simulator.SimulatorState
    ) -> None:
        sim.accounts["acct-7"] = simulator.Account(
            contract_id="BOA-7", token="tok-7", networks=["198.51.100.0/24"]
        )
        headers = {"Authorization": "Bearer tok-7"}
        assert _get(headers).status_code == 403
        response = _get(headers, remote_addr="198.51.100.20")
        assert response.status_code == 200
        assert response.json()["id"] == "BOA-7"

    def test_only_get(self) -> None:
        with httpx.Client(transport=wsgi_transport()) as client:
            assert client.post(URL, headers=_bearer("BOA-1")).status_code == 405


@pytest.mark.parametrize(
    ("now", "day", "update", "stops"),
    [
        # Before the change of the day: the version published the day before, as in the seed.
        (paris(2025, 9, 22, 8, 0), dt.date(2025, 9, 22), paris(2025, 9, 21, 12, 55, 5), 1),
        # Changed during the day, with a new update date.
        (paris(2025, 9, 22, 10, 0), dt.date(2025, 9, 22), paris(2025, 9, 22, 9, 30), 2),
        # After the publication time, tomorrow's schedule.
        (paris(2025, 9, 22, 13, 0), dt.date(2025, 9, 23), paris(2025, 9, 22, 12, 55, 5), 1),
    ],
)
def test_scripted_day(now: dt.datetime, day: dt.date, update: dt.datetime, stops: int) -> None:
    body = simulator.current_body(contract_id="BOA-1", now=now)
    schedule = parse_schedule(json.dumps(body), expected_id="BOA-1")
    assert schedule.application_date == day
    assert schedule.update_date == update
    assert len(schedule.episodes) == stops


@pytest.mark.parametrize(
    ("day", "hours"), [(dt.date(2026, 3, 29), 23), (dt.date(2026, 10, 25), 25)]
)
def test_bodies_cover_dst_days(day: dt.date, hours: int) -> None:
    for update, stops in simulator.versions_of(day):
        body = simulator.body_for(contract_id="BOA-1", day=day, update_date=update, stops=stops)
        schedule = parse_schedule(json.dumps(body))
        span = schedule.periods[-1].end - schedule.periods[0].start
        assert span == dt.timedelta(hours=hours)


def test_local_offsets_in_bodies() -> None:
    body = simulator.current_body(contract_id="BOA-1", now=paris(2025, 9, 22, 8, 0))
    assert body["update_date"] == "2025-09-21T12:55:05+02:00"
    assert body["data"][1] == {
        "start_date": "2025-09-22T11:55:00+02:00",
        "end_date": "2025-09-22T18:00:00+02:00",
        "value": 1.0,
    }
