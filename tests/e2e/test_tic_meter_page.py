"""The TIC meter page in a real browser: live part refreshed by htmx, power against PS drawn."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from django.utils import timezone

from hub.models import Membership, Organisation, Role, User
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.hub.test_portal_support import enrol_totp
from tic.ingest import Ingestor, Received
from tic.models import TicMeter, TicPort
from tic.protocol import TicStreamDecoder
from tic.simulator import SimulatedPmePmi

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _feed(port: TicPort, sim: SimulatedPmePmi, start: dt.datetime, seconds: int, power: float):  # type: ignore[no-untyped-def]
    ingestor = Ingestor()
    decoder = TicStreamDecoder()
    for second in range(0, seconds, 10):
        at = start + dt.timedelta(seconds=second)
        for frame in decoder.feed(sim.frame(at=at, power_va=power)):
            ingestor.handle(Received(port.pk, frame, at, 9600))
    ingestor.flush(now=timezone.now())


def test_meter_page_live_refresh_and_chart(page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    organisation = Organisation.objects.create(slug="tic-e2e", name="Usine TIC")
    user = User.objects.create_user("ops@tic.example", PASSWORD)
    Membership.objects.create(user=user, organisation=organisation, role=Role.VIEWER)
    device = enrol_totp(user)
    port = TicPort.objects.create(
        organisation=organisation, name="TGBT", url="loop://", family="pmepmi"
    )
    sim = SimulatedPmePmi(ads="041436028024")
    now = timezone.now()
    _feed(port, sim, now - dt.timedelta(minutes=10), 540, 25_000)
    meter = TicMeter.objects.get()
    assert not meter.preavis_active

    sign_in(page, user.email, device, start=f"/tic/meters/{meter.pk}/")
    page.wait_for_url(re.compile(rf"/tic/meters/{meter.pk}/$"))
    assert "HPE" in page.inner_text("#tic-periods")
    assert page.locator("#tic-preavis").count() == 0
    # Chart.js drew the two series (power over Td, PS) from chart.json.
    page.wait_for_function(
        "() => { const c = Chart.getChart('tic-power-chart');"
        " return c && c.data.datasets[0].data.length > 0 && c.data.datasets[1].data.length > 0; }"
    )

    # The meter goes over 90 % of PS: the next htmx refresh shows the PREAVIS without a reload.
    _feed(port, sim, timezone.now() - dt.timedelta(seconds=30), 30, 40_000)
    page.wait_for_selector("#tic-preavis", timeout=10_000)
    assert "PRÉAVIS" in page.inner_text("#tic-preavis")
    if os.environ.get("TIC_SCREENSHOT"):
        page.screenshot(path=os.environ["TIC_SCREENSHOT"], full_page=True)
