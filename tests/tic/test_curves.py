"""The 5-minute load curves the ingest derives from the active energy registers.

02E §2.9.3: « EA_s : énergie active soutirée depuis le début de la période d'intégration Td »,
« EA_i : énergie active injectée » (the same, injected); with PS in kVA the power over Td is
apparent (« dépassement de puissance apparente », EAPP_s), so the active power Flex Ready needs
is derived from EA_s. 54E §6.2: « EAST : énergie active soutirée totale » (Wh). The curve rule
(``tic.ingest._Curve``): « A step is given out once a frame has passed its end, and only when
one unbroken run of frames covers it from its start ».
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone

from hub import quantities
from hub.actors import Actor
from hub.models import Point, Series
from tests.conftest import Tenant
from tic import services as tic_services
from tic.ingest import CURVE_MAX_GAP, Ingestor, Received
from tic.models import TicPort
from tic.protocol import TicStreamDecoder
from tic.simulator import SimulatedPmePmi, linky_standard_frame

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 10, 25, 0, 58, 3, tzinfo=dt.UTC)  # 02:58 CEST, just before the change


def _port(tenant: Tenant, family: str) -> TicPort:
    return tic_services.add_port(
        organisation=tenant.organisation, url="loop://", family=family,
        metering_point=tenant.point, actor=Actor.system("test"), now=timezone.now(),
    )  # fmt: skip


def _feed(
    port: TicPort, frame_at: Callable[[dt.datetime], bytes], start: dt.datetime,
    end: dt.datetime, every: dt.timedelta, *, skip: tuple[dt.datetime, dt.datetime] | None = None,
) -> None:  # fmt: skip
    ingestor = Ingestor()
    at = start
    while at < end:
        if skip is None or not skip[0] <= at < skip[1]:
            for frame in TicStreamDecoder().feed(frame_at(at)):
                ingestor.handle(Received(port.pk, frame, at, 9600))
        at += every
    ingestor.flush(now=end)


def _curve(
    tenant: Tenant, quantity: quantities.Quantity
) -> tuple[Series, dict[dt.datetime, float]]:
    series = Series.objects.get(metering_point=tenant.point, quantity=quantity.name, source="tic")
    points = Point.objects.filter(series=series).order_by("ts").values_list("ts", "value")
    return series, {ts: value for ts, value in points}


def test_a_kva_pme_pmi_gives_active_energy_and_power_per_five_minutes(tenant: Tenant) -> None:
    port = _port(tenant, "pmepmi")
    meter = SimulatedPmePmi(ads="041436028024", ps_kva=60)  # PS in kVA: power over Td apparent
    end = START + dt.timedelta(minutes=23)
    _feed(
        port, lambda at: meter.frame(at=at, power_va=30_000), START, end, dt.timedelta(seconds=10)
    )
    energy, steps = _curve(tenant, quantities.ACTIVE_ENERGY_IMPORT)
    assert (energy.step_seconds, energy.kind, energy.unit) == (300, "interval", "Wh")
    first = dt.datetime(2026, 10, 25, 1, 0, tzinfo=dt.UTC)
    # 00:55 began before the first frame: not covered; 01:20 still open at the last frame.
    assert sorted(steps) == [first + i * dt.timedelta(minutes=5) for i in range(4)]
    for wh in steps.values():  # 27 kW active (cos φ 0.9) for 5 minutes, EA_s in whole Wh
        assert wh == pytest.approx(2250, abs=5)
    power, watts = _curve(tenant, quantities.ACTIVE_POWER_IMPORT)
    assert power.step_seconds == 300 and sorted(watts) == sorted(steps)
    assert all(w == pytest.approx(27_000, abs=60) for w in watts.values())
    # The apparent power over Td is still what the servo follows.
    assert Series.objects.filter(
        metering_point=tenant.point, quantity=quantities.APPARENT_POWER_IMPORT.name
    ).exists()


def test_a_producer_gives_its_export_curve_across_td_tops(tenant: Tenant) -> None:
    port = _port(tenant, "pmepmi")
    meter = SimulatedPmePmi(ads="041436028024", ps_kva=250, producer=True)
    end = START + dt.timedelta(minutes=33)  # three Td tops on the way

    def frame(at: dt.datetime) -> bytes:
        return meter.frame(at=at, power_va=500, export_w=120_000)

    _feed(port, frame, START, end, dt.timedelta(seconds=7))
    series, steps = _curve(tenant, quantities.ACTIVE_ENERGY_EXPORT)
    assert len(steps) == 6 and series.step_seconds == 300
    for wh in steps.values():  # 120 kW for 5 minutes
        assert wh == pytest.approx(10_000, abs=10)


def test_a_gap_leaves_the_steps_it_touches_to_other_sources(tenant: Tenant) -> None:
    port = _port(tenant, "pmepmi")
    meter = SimulatedPmePmi(ads="041436028024", ps_kva=60)
    end = START + dt.timedelta(minutes=40)
    gap = (START + dt.timedelta(minutes=12), START + dt.timedelta(minutes=12) + CURVE_MAX_GAP * 2)
    _feed(
        port, lambda at: meter.frame(at=at, power_va=20_000), START, end,
        dt.timedelta(seconds=10), skip=gap,
    )  # fmt: skip
    _series, steps = _curve(tenant, quantities.ACTIVE_ENERGY_IMPORT)
    local = sorted(ts.strftime("%H:%M") for ts in steps)
    # The last frame before the gap is at 01:09:53, the next at 01:14:03: 01:05 (its last 7 s
    # unseen) and 01:10 are not booked; the new run covers 01:15 from its start.
    assert local == ["01:00", "01:15", "01:20", "01:25", "01:30"]


def test_linky_standard_gives_active_power_from_east(tenant: Tenant) -> None:
    port = _port(tenant, "linky-standard")
    start = dt.datetime(2026, 3, 29, 0, 59, 1, tzinfo=dt.UTC)  # 01:59 CET, then 03:00 CEST
    east = {"wh": 1_000_000.0}

    def frame(at: dt.datetime) -> bytes:
        east["wh"] += 3_000 * 2 / 3600  # 3 kW for the 2 s since the last frame
        return linky_standard_frame(adsc="041436028025", at=at, east=int(east["wh"]), sinsts=3300)

    _feed(port, frame, start, start + dt.timedelta(minutes=12), dt.timedelta(seconds=2))
    _series, watts = _curve(tenant, quantities.ACTIVE_POWER_IMPORT)
    assert sorted(ts.strftime("%H:%M") for ts in watts) == ["01:00", "01:05"]
    assert all(w == pytest.approx(3_000, abs=15) for w in watts.values())
