"""The closed loop through TIC ingestion: a simulated PME-PMI meter whose power follows the
loads left on in the Modbus building, its frames decoded and stored by the ``tic`` ingest path,
the servo shedding on PREAVIS and restoring once it ends."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.control import services
from hub.control.models import Command
from tests.hub.control.conftest import make_building
from tic.ingest import Ingestor, Received
from tic.models import TicMeter, TicPort
from tic.protocol import TicStreamDecoder
from tic.simulator import SimulatedPmePmi

START = dt.datetime(2026, 10, 25, 0, 0, tzinfo=dt.UTC)  # the fall-back day, Paris
STEP = dt.timedelta(minutes=1)

pytestmark = pytest.mark.django_db


def test_power_rises_preavis_sheds_preavis_ends_loads_come_back(tenant, building):
    """02E PME-PMI: « [PREAVIS] : émis que lorsque la puissance atteinte mesurée 1 mn est
    supérieure au seuil de 90% de la puissance souscrite »; the servo (P1) sheds by priority on
    PREAVIS and restores in reverse order below its release threshold."""
    b = make_building(tenant, building)
    for load, watts in zip(b.loads, (6_000, 8_000, 4_000, 10_000), strict=True):
        load.nominal_power_w = watts
        load.save()
    port = TicPort.objects.create(
        organisation=tenant.organisation, name="tic", url="loop://", metering_point=b.point
    )
    meter = SimulatedPmePmi(ads=b.point.identifier, ps_kva=60)
    decoder, ingestor = TicStreamDecoder(), Ingestor(state_interval=0)
    at = START

    def step(base_va: float) -> list[Command]:
        nonlocal at
        at += STEP
        drawn = base_va
        for load in b.loads:
            raw = building.get(load.register, int(load.address))
            full = 1 if load.register == "coil" else load.full_value
            drawn += load.nominal_power_w * raw / full
        for frame in decoder.feed(meter.frame(at=at, power_va=drawn)):
            ingestor.handle(Received(port.pk, frame, at, 9600))
        ingestor.flush(now=at)
        return services.evaluate_site(site=b.site, now=at)

    assert step(10_000) == []  # reads the building: 38 kVA of 60
    for _ in range(12):
        assert step(10_000) == []  # a Td period and more, quiet
    assert not TicMeter.objects.get().preavis_active

    sheds: list[Command] = []
    for _ in range(6):  # the base rises to 50 kVA: 78 kVA, PREAVIS
        sheds += step(50_000)
    assert TicMeter.objects.get().preavis_active is False  # shedding ended it
    assert sheds and all(c.value == 0 for c in sheds)
    order = [c.load_id for c in sheds]
    assert order == [x.pk for x in b.loads][: len(order)]  # by shedding order, none twice

    restores: list[Command] = []
    for _ in range(30):  # the base falls back: after the Td mean follows, loads come back
        restores += step(5_000)
    assert [c.load_id for c in restores] == list(reversed(order))  # the last shed first
    assert all(
        building.get(x.register, int(x.address)) >= (1 if x.register == "coil" else 100)
        for x in b.loads
    )
