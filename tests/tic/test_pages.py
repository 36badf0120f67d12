"""Portal pages of the TIC app, through Django's test client."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import Tenant
from tests.hub.test_portal_support import sign_in
from tic.ingest import Ingestor
from tic.models import TicMeter, TicPort
from tic.simulator import SimulatedPmePmi

from .conftest import feed

pytestmark = pytest.mark.django_db


@pytest.fixture
def meter(tic_port: TicPort) -> TicMeter:
    ingestor = Ingestor()
    sim = SimulatedPmePmi(ads="041436028024")
    start = timezone.now() - dt.timedelta(minutes=5)
    for second in range(0, 300, 10):
        at = start + dt.timedelta(seconds=second)
        feed(ingestor, tic_port, sim.frame(at=at, power_va=30_000), at)
    ingestor.flush(now=timezone.now())
    return TicMeter.objects.get()


def test_meter_list_and_page(client: Client, tenant: Tenant, meter: TicMeter) -> None:
    sign_in(client, tenant.viewer)
    listing = client.get("/tic/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "041436028024" in html and "TGBT" in html
    page = client.get(f"/tic/meters/{meter.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'hx-trigger="every 2s"' in html and "chart.umd.min.js" in html
    assert "HPE" in html and "Compteurs de trames" in html


def test_live_partial_and_chart_data(client: Client, tenant: Tenant, meter: TicMeter) -> None:
    sign_in(client, tenant.viewer)
    live = client.get(f"/tic/meters/{meter.pk}/live/", HTTP_HX_REQUEST="true")
    assert live.status_code == 200
    assert b"<html" not in live.content and b"tic-power" in live.content
    chart = client.get(f"/tic/meters/{meter.pk}/chart.json").json()
    assert chart["unit"] == "VA"
    assert chart["subscribed"] and chart["subscribed"][-1]["y"] == 42_000
    # PS is stored on change; its step is carried on to the end of the chart.
    assert chart["subscribed"][-1]["x"] > chart["power"][-1]["x"]
    assert chart["power"] and abs(chart["power"][-1]["y"] - 30_000) < 600


def test_foreign_meter_pages_are_404(client: Client, foreign: Tenant, meter: TicMeter) -> None:
    sign_in(client, foreign.admin)
    assert "041436028024" not in client.get("/tic/").content.decode()
    for suffix in ("", "live/", "chart.json"):
        assert client.get(f"/tic/meters/{meter.pk}/{suffix}").status_code == 404


def test_signed_out_is_sent_to_login(client: Client, meter: TicMeter) -> None:
    response = client.get("/tic/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_power_chart_without_recent_frames_says_why(
    client: Client, tenant: Tenant, meter: TicMeter
) -> None:
    """ "an empty chart says why and what to do" (issue 19): the chart covers the last 30
    minutes; with no frame in them the page names the port and what to check instead."""
    sign_in(client, tenant.viewer)
    live = client.get(f"/tic/meters/{meter.pk}/").content.decode()
    assert '<p class="hint empty-chart" id="tic-chart-empty" hidden>' in live
    TicMeter.objects.filter(pk=meter.pk).update(
        last_frame_at=timezone.now() - dt.timedelta(hours=2)
    )
    quiet = client.get(f"/tic/meters/{meter.pk}/").content.decode()
    note = quiet.split('id="tic-chart-empty">')[1].split("</p>")[0]
    assert "TGBT" in note and "câble TIC" in note
    assert (
        'id="tic-power-chart"' in quiet
        and "hidden" in quiet.split('id="tic-power-chart"')[1].split(">")[0]
    )
