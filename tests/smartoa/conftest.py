"""Smart OA fixtures: the simulator behind a WSGI transport, a contract, a pinned clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest

import hub.http.retry
import hub.wsgi
from hub.clock import PARIS
from hub.models import MeteringPoint
from smartoa import simulator
from smartoa.client import SmartOAClient
from smartoa.models import Contract
from smartoa.services import create_contract
from tests.conftest import Tenant

SEED_BODY = """{
  "id": "BOAXXXXX",
  "update_date": "2025-09-21T12:55:05+02:00",
  "application_date": "2025-09-22",
  "data": [
    {"start_date": "2025-09-22T00:00:00+02:00", "end_date": "2025-09-22T11:55:00+02:00",
     "value": 0.0},
    {"start_date": "2025-09-22T11:55:00+02:00", "end_date": "2025-09-22T18:00:00+02:00",
     "value": 1.0},
    {"start_date": "2025-09-22T18:00:00+02:00", "end_date": "2025-09-23T00:00:00+02:00",
     "value": 0.0}
  ]
}"""

CONTRACT_ID = "BOA-2025-000042"


def paris(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(hub.http.retry, "pause", waits.append)
    return waits


@pytest.fixture
def sim() -> Iterator[simulator.SimulatorState]:
    """The simulator's state, reset around the test, its clock pinned to 2025-09-22 08:00."""
    simulator.STATE.reset()
    simulator.STATE.clock = lambda: paris(2025, 9, 22, 8, 0)
    yield simulator.STATE
    simulator.STATE.reset()


def wsgi_transport(remote_addr: str = "127.0.0.1") -> httpx.WSGITransport:
    return httpx.WSGITransport(app=hub.wsgi.application, remote_addr=remote_addr)


@pytest.fixture
def oa_client(sim: simulator.SimulatorState, in_process_wsgi: None) -> Iterator[SmartOAClient]:
    """A client on the settings' URL, its calls served in-process by the simulator."""
    with SmartOAClient(transport=wsgi_transport()) as client:
        yield client


@pytest.fixture
def production_point(tenant: Tenant) -> MeteringPoint:
    return MeteringPoint.objects.create(
        organisation=tenant.organisation, kind="oa_site", identifier=CONTRACT_ID
    )


@pytest.fixture
def contract(tenant: Tenant, production_point: MeteringPoint) -> Contract:
    return create_contract(
        organisation=tenant.organisation,
        contract_id=CONTRACT_ID,
        account_id=CONTRACT_ID,
        api_token=simulator.token_for(CONTRACT_ID),
        metering_point=production_point,
    )
