"""Demo TIC data for ``seed_demo``: a port, a PME-PMI meter and its last half hour.

The port points at ``loop://`` and is disabled: there is no meter behind it. Its last half hour
is produced by a simulated meter fed through the real ingestion path, so the portal shows live
values, power against PS on the chart, a PREAVIS episode, a tariff change and counters.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from hub.models import MeteringPoint, MeteringPointKind, Organisation
from tic.ingest import Ingestor, PortStatus, Received
from tic.models import PortState, TicPort
from tic.protocol import TicStreamDecoder
from tic.simulator import SimulatedPmePmi

DEMO_ADS = "041436028024"
STEP = dt.timedelta(seconds=10)
SPAN = dt.timedelta(minutes=30)


def _power_at(minute: float) -> float:
    # A plateau near 60 % of PS, a 4-minute peak above 90 % (PREAVIS), then back down.
    if 14 <= minute < 18:
        return 40_000.0
    return 25_000.0 + 3_000.0 * (int(minute) % 3)


def seed_demo(sender: Any = None, *, organisation: Organisation, today: dt.date, **_: Any) -> None:
    point, _created = MeteringPoint.objects.get_or_create(
        organisation=organisation,
        kind=MeteringPointKind.TIC_METER,
        identifier=DEMO_ADS,
        defaults={"label": "TIC PME-PMI (démo)"},
    )
    port, created = TicPort.objects.get_or_create(
        organisation=organisation,
        name="Démo PME-PMI",
        defaults={
            "url": "loop://",
            "family": "pmepmi",
            "baud": "9600",
            "metering_point": point,
            "enabled": False,
        },
    )
    if not created and port.meters.exists():
        return
    now = timezone.now()
    ingestor = Ingestor()
    meter = SimulatedPmePmi(ads=DEMO_ADS, drift=dt.timedelta(seconds=3))
    decoder = TicStreamDecoder()
    ingestor.handle(PortStatus(port.pk, PortState.READING, now - SPAN, 9600))
    at = now - SPAN
    while at < now:
        minute = (at - (now - SPAN)).total_seconds() / 60
        period = "HPE" if minute < 22 else "HCE"
        for frame in decoder.feed(meter.frame(at=at, power_va=_power_at(minute), period=period)):
            ingestor.handle(Received(port.pk, frame, at, 9600))
        at += STEP
    ingestor.handle(PortStatus(port.pk, PortState.STOPPED, now, None))
    ingestor.flush(now=now)
