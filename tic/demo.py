"""Demo TIC data for ``seed_demo``: the building's and the plant's PME-PMI, their last half hour.

The ports point at ``loop://`` and are disabled: there is no meter behind them. Their last half
hour is produced by simulated meters fed through the real ingestion path, so the portal shows
live values, power against PS on the chart, a PREAVIS episode, a tariff change and counters.
The building's meter measures the demo building's PRM (Flex Ready reads its 5-minute curve),
the plant's producer meter the OA site (Smart OA bills from its export curve).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from hub.models import MeteringPoint, MeteringPointKind, Organisation
from tic.ingest import Ingestor, PortStatus, Received
from tic.models import PortState, TicMeter, TicPort
from tic.protocol import TicStreamDecoder
from tic.simulator import SimulatedPmePmi

DEMO_ADS = "041436028024"
DEMO_PLANT_ADS = "041436028031"
STEP = dt.timedelta(seconds=10)
SPAN = dt.timedelta(minutes=30)


def _power_at(minute: float) -> float:
    # A plateau near 60 % of PS, a 4-minute peak above 90 % (PREAVIS), then back down.
    if 14 <= minute < 18:
        return 40_000.0
    return 25_000.0 + 3_000.0 * (int(minute) % 3)


def _demo_point(organisation: Organisation, kind: str) -> MeteringPoint | None:
    # hub's demo seeds one building PRM and one OA site: the points the other apps read.
    return MeteringPoint.objects.filter(organisation=organisation, kind=kind).order_by("pk").first()


def seed_demo(sender: Any = None, *, organisation: Organisation, today: dt.date, **_: Any) -> None:
    """The building's PME-PMI on the demo building's PRM (what Flex Ready's realisation reads)
    and the plant's producer PME-PMI on the OA site (what Smart OA bills from), each with its
    last half hour; a demo seeded before meters measured points is moved onto them."""
    building = _demo_point(organisation, MeteringPointKind.ELEC_PRM)
    if building is None:
        building, _created = MeteringPoint.objects.get_or_create(
            organisation=organisation,
            kind=MeteringPointKind.TIC_METER,
            identifier=DEMO_ADS,
            defaults={"label": "TIC PME-PMI (démo)"},
        )
    _seed_port(
        organisation=organisation, name="Démo PME-PMI", point=building,
        meter=SimulatedPmePmi(ads=DEMO_ADS, drift=dt.timedelta(seconds=3)),
        power_at=_power_at, export_at=None,
    )  # fmt: skip
    plant = _demo_point(organisation, MeteringPointKind.OA_SITE)
    if plant is not None:
        _seed_port(
            organisation=organisation, name="Démo PME-PMI producteur", point=plant,
            meter=SimulatedPmePmi(ads=DEMO_PLANT_ADS, ps_kva=250, producer=True),
            power_at=lambda _minute: 400.0, export_at=_export_at,
        )  # fmt: skip


def _export_at(minute: float) -> float:
    # A roof PV plant around 120 kW, with a passing cloud.
    return 80_000.0 if 10 <= minute < 13 else 120_000.0


def _seed_port(
    *,
    organisation: Organisation,
    name: str,
    point: MeteringPoint,
    meter: SimulatedPmePmi,
    power_at: Callable[[float], float],
    export_at: Callable[[float], float] | None,
) -> None:
    port, created = TicPort.objects.get_or_create(
        organisation=organisation,
        name=name,
        defaults={
            "url": "loop://",
            "family": "pmepmi",
            "baud": "9600",
            "metering_point": point,
            "enabled": False,
        },
    )
    if port.metering_point_id != point.pk:
        # Seeded before the meter measured the building's PRM: it measures it from now on.
        port.metering_point = point
        port.save(update_fields=["metering_point"])
        TicMeter.objects.filter(port=port).update(metering_point=point)
    elif not created and port.meters.exists():
        return
    now = timezone.now()
    ingestor = Ingestor()
    decoder = TicStreamDecoder()
    ingestor.handle(PortStatus(port.pk, PortState.READING, now - SPAN, 9600))
    at = now - SPAN
    while at < now:
        minute = (at - (now - SPAN)).total_seconds() / 60
        period = "HPE" if minute < 22 else "HCE"
        export = export_at(minute) if export_at else 0.0
        raw = meter.frame(at=at, power_va=power_at(minute), period=period, export_w=export)
        for frame in decoder.feed(raw):
            ingestor.handle(Received(port.pk, frame, at, 9600))
        at += STEP
    ingestor.handle(PortStatus(port.pk, PortState.STOPPED, now, None))
    ingestor.flush(now=now)
