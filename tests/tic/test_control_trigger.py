"""The ingest asks the control layer for an evaluation at once when PREAVIS starts or ends or
the power share crosses a servo threshold, for the controlled sites with loads behind the meter."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from hub.control import tasks
from hub.control.models import SiteControl
from tests.conftest import Tenant
from tests.hub.control.conftest import Building, make_building
from tic.ingest import Ingestor, Received
from tic.models import TicMeter, TicPort
from tic.protocol import TicStreamDecoder
from tic.simulator import SimulatedPmePmi

START = dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)  # the spring-forward day, Paris
STEP = dt.timedelta(minutes=1)

pytestmark = pytest.mark.django_db


class Line:
    """A PME-PMI meter (PS 60 kVA, PREAVIS over 90 %) read by one ingestor, state every minute."""

    def __init__(self, building: Building) -> None:
        self.port = TicPort.objects.create(
            organisation=building.site.organisation,
            name="tic",
            url="loop://",
            metering_point=building.point,
        )
        self.meter = SimulatedPmePmi(ads=building.point.identifier, ps_kva=60)
        self.decoder = TicStreamDecoder()
        # The meter's state is due only every 60 s: a trigger must bring it forward.
        self.ingestor = Ingestor(state_interval=60.0, clock=lambda: self.clock)
        self.clock = 0.0
        self.at = START

    def send(self, power_va: float) -> None:
        self.at += STEP
        self.clock += 1.0
        for frame in self.decoder.feed(self.meter.frame(at=self.at, power_va=power_va)):
            self.ingestor.handle(Received(self.port.pk, frame, self.at, 9600))
        self.ingestor.write(self.ingestor.collect(now=self.at))


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sites: list[int] = []

    def apply_async(args: tuple[int], **_options: object) -> None:
        sites.extend(args)

    monkeypatch.setattr(tasks.evaluate_site, "apply_async", apply_async)
    return sites


def test_preavis_start_and_end_and_share_crossings_queue_the_site(
    tenant: Tenant, queued: list[int], django_capture_on_commit_callbacks
) -> None:
    """02E PME-PMI: PREAVIS « émis que lorsque la puissance atteinte mesurée 1 mn est supérieure
    au seuil de 90% de la puissance souscrite »; the servo acts on PREAVIS and on the share of PS
    over Td crossing its shed (90 %) or release (80 %) threshold, so each of those changes asks
    for an evaluation of the site at once, after the meter's state is committed."""
    building = make_building(tenant, None, dry_run=True)
    line = Line(building)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(12):
            line.send(30_000)  # 50 % of PS over a full Td: quiet
    assert queued == []

    with django_capture_on_commit_callbacks(execute=True):
        line.send(57_000)  # 95 %: PREAVIS
    assert queued == [building.site.pk]
    meter = TicMeter.objects.get()
    assert meter.preavis_active  # written with the request, not 60 s later

    with django_capture_on_commit_callbacks(execute=True):
        line.send(30_000)  # PREAVIS ends; the Td mean is still between the thresholds
    assert queued == [building.site.pk] * 2
    assert not TicMeter.objects.get().preavis_active

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(12):
            line.send(57_000)  # PREAVIS again, and the Td mean climbs over 80 then 90
    assert queued == [building.site.pk] * 5  # PREAVIS, the band entered, shed reached
    assert TicMeter.objects.get().power_share >= 90

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(12):
            line.send(30_000)  # PREAVIS ends, the Td mean falls through the band under 80
    assert queued == [building.site.pk] * 8
    assert TicMeter.objects.get().power_share <= 80


def test_meters_without_a_controlled_site_queue_nothing(
    tenant: Tenant, queued: list[int], django_capture_on_commit_callbacks
) -> None:
    """Only a site whose control is enabled and that has loads behind the meter is evaluated."""
    building = make_building(tenant, None, dry_run=True)
    SiteControl.objects.filter(site=building.site).update(enabled=False)
    line = Line(building)
    with django_capture_on_commit_callbacks(execute=True):
        for power in (30_000, 30_000, 57_000, 30_000):
            line.send(power)
    assert TicMeter.objects.get().preavis_active is False
    assert queued == []


def test_a_broker_outage_leaves_ingest_whole(
    tenant: Tenant, broker_down: None, django_capture_on_commit_callbacks, caplog
) -> None:
    """The periodic evaluation (``CONTROL_EVALUATE_SECONDS``) is the fallback: ingest stores
    the frame and the PREAVIS event, logs, and goes on."""
    building = make_building(tenant, None, dry_run=True)
    line = Line(building)
    with (
        caplog.at_level(logging.WARNING, logger="tic.ingest"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        line.send(30_000)
        line.send(57_000)
        line.send(30_000)
    meter = TicMeter.objects.get()
    assert meter.valid == 3 and meter.preavis_active is False
    assert meter.events.filter(kind__startswith="preavis").count() == 2
    assert "not queued" in caplog.text
