"""Market-signal fixtures: the simulators behind a WSGI transport, pinned clocks, feeds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
from django.core.cache import cache

import hub.http.retry
import hub.wsgi
from flexready.market.client.ecowatt import EcowattClient
from flexready.market.client.supplier import SupplierClient
from flexready.market.models import SupplierFeed
from flexready.market.services.supplier import follow_delivery_point
from flexready.market.simulator import ecowatt as ecowatt_sim
from hub.clock import PARIS
from hub.http import clear_token_cache
from tests.conftest import Tenant

APPENDIX = """{  "step": [1, 2, 3, 4],
  "horodate": ["2026-01-01T00:00:00+02:00",
               "2026-01-01T00:15:00+02:00",
               "2026-01-01T00:30:00+02:00",
               "2026-01-01T00:45:00+02:00"],
  "power": [{"value": 12, "unit": "W", "multiplier": "k"},
            {"value": 12.5, "unit": "W", "multiplier": "k"},
            {"value": 13, "unit": "W", "multiplier": "k"},
            {"value": 13.5, "unit": "W", "multiplier": "k"}],
  "cost": [{"value": 1200, "unit": "€/kWh", "multiplier": ""},
           {"value": 120, "unit": "€/kWh", "multiplier": ""},
           {"value": 12, "unit": "€/kWh", "multiplier": ""},
           {"value": 1, "unit": "€/kWh", "multiplier": ""}],
  "co2": [{"value": 3.1, "unit": "gCO2eq/kWh", "multiplier": ""},
          {"value": 3.14, "unit": "gCO2eq/kWh", "multiplier": ""},
          {"value": 3.141, "unit": "gCO2eq/kWh", "multiplier": ""},
          {"value": 3.1415, "unit": "gCO2eq/kWh", "multiplier": ""}]
}"""


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(hub.http.retry, "pause", waits.append)
    return waits


@pytest.fixture(autouse=True)
def fresh_tokens_and_cache() -> Iterator[None]:
    clear_token_cache()
    cache.clear()
    yield
    clear_token_cache()
    cache.clear()


def wsgi_transport() -> httpx.WSGITransport:
    return httpx.WSGITransport(app=hub.wsgi.application, remote_addr="127.0.0.1")


@pytest.fixture
def ecowatt_state() -> Iterator[ecowatt_sim.SimulatorState]:
    """The Ecowatt simulator, its clock pinned to 2026-01-15 10:00 Paris (a Thursday)."""
    ecowatt_sim.STATE.reset()
    ecowatt_sim.STATE.clock = lambda: paris(2026, 1, 15, 10, 0)
    yield ecowatt_sim.STATE
    ecowatt_sim.STATE.reset()


@pytest.fixture
def ecowatt_client(
    ecowatt_state: ecowatt_sim.SimulatorState, in_process_wsgi: None
) -> Iterator[EcowattClient]:
    with EcowattClient(transport=wsgi_transport()) as client:
        yield client


@pytest.fixture
def supplier_client(in_process_wsgi: None) -> Iterator[SupplierClient]:
    with SupplierClient(transport=wsgi_transport()) as client:
        yield client


@pytest.fixture
def feed(tenant: Tenant) -> SupplierFeed:
    return follow_delivery_point(
        organisation=tenant.organisation, delivery_point=tenant.point.identifier, session_id="s1"
    )
