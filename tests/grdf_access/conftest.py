"""GRDF access fixtures: the simulator served in-process, a pinned clock, PCEs with rights."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
from django.conf import settings
from django.core import signals
from django.db import close_old_connections

import hub.http.retry
import hub.wsgi
from grdf_access import adict_gateway, api, simulator, views
from grdf_access.adict_gateway import AdictGateway
from grdf_access.client import RateLimiter
from grdf_access.models import AccessRight, Pce, RightState, Role
from grdf_access.services import ensure_pce
from hub.clock import PARIS
from hub.http import clear_token_cache
from tests.conftest import Tenant

# After both 2026 DST changes (29 March, 25 October), so their gas days are in the past.
NOW = dt.datetime(2026, 11, 2, 10, 0, tzinfo=PARIS).astimezone(dt.UTC)
TODAY = dt.date(2026, 11, 2)
PCE_ID = "GI654321"
OTHER_PCE = "01234567890123"


class NestedWsgiTransport(httpx.WSGITransport):
    """The hub in-process, callable from inside a test-client request.

    Django's test client reconnects ``close_old_connections`` after each of its requests; a
    nested call would then close the test's database connection when it starts, or when its
    answer is closed. Unhook it for the whole call, reading the answer before restoring.
    """

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = signals.request_started.disconnect(close_old_connections)
        finished = signals.request_finished.disconnect(close_old_connections)
        try:
            response = super().handle_request(request)
            content = response.read()
            response.close()
            return httpx.Response(response.status_code, headers=response.headers, content=content)
        finally:
            if started:
                signals.request_started.connect(close_old_connections)
            if finished:
                signals.request_finished.connect(close_old_connections)


def wsgi() -> httpx.WSGITransport:
    return NestedWsgiTransport(app=hub.wsgi.application, remote_addr="127.0.0.1")


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(hub.http.retry, "pause", waits.append)
    return waits


@pytest.fixture
def sim(in_process_wsgi: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The simulator, reset and pinned to NOW; every gateway of the hub reaches it in-process."""
    simulator.reset()
    simulator.set_now(NOW)
    clear_token_cache()
    # The transport unhooks Django's connection closing around each nested call: a view
    # calling GRDF from inside a test client request must keep the test's connection.
    monkeypatch.setattr(adict_gateway, "default_transport", wsgi)
    monkeypatch.setattr(
        adict_gateway, "default_rate_limiter", lambda: RateLimiter(10_000, burst=1_000)
    )
    monkeypatch.setattr(api, "_now", lambda: NOW)
    monkeypatch.setattr(views, "_now", lambda: NOW)
    yield
    simulator.reset()


@pytest.fixture
def gateway(sim: None, tenant: Tenant) -> Iterator[AdictGateway]:
    with adict_gateway.gateway_for(tenant.organisation) as gw:
        yield gw


def counters() -> dict[str, int]:
    return simulator.counters()


def active_right(
    tenant: Tenant,
    *,
    pce: str = PCE_ID,
    data_start: dt.date = dt.date(2026, 1, 1),
    data_end: dt.date = dt.date(2027, 6, 30),
    consent_start: dt.date = dt.date(2026, 1, 1),
    consent_end: dt.date = dt.date(2027, 6, 30),
    types: tuple[str, ...] = ("publiees", "informatives", "contractuelles", "techniques"),
    hourly: bool = False,
) -> AccessRight:
    """An Active right both at the simulator (seeded) and in the hub."""
    wire_types = (*types, "informatives_horaires") if hourly else types
    [grdf_id] = simulator.seed_rights(
        client_id=settings.GRDF_CLIENT_ID,
        pces=[pce],
        data_start=data_start,
        data_end=data_end,
        consent_start=consent_start,
        consent_end=consent_end,
        types=wire_types,
    )
    record: Pce = ensure_pce(
        organisation=tenant.organisation, identifier=pce, site_label="Site A", client_name="Acme"
    )
    return AccessRight.objects.create(
        organisation=tenant.organisation,
        pce=record,
        grdf_id=grdf_id,
        role=Role.AUTHORISED,
        holder_company="Acme SA",
        holder_email="energie@acme.example",
        postcode="75011",
        consent_start=consent_start,
        consent_end=consent_end,
        data_start=data_start,
        data_end=data_end,
        published="publiees" in types,
        informative_daily="informatives" in types,
        informative_hourly=hourly,
        contractual="contractuelles" in types,
        technical="techniques" in types,
        state=RightState.ACTIVE,
    )
