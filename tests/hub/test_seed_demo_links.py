"""`seed_demo` links the demo TIC meters to the points the other apps read.

Issue "one hub", done means: « `seed_demo` links the demo TIC meter to the demo building and
plant »; §2: « A TIC meter is attached to the PRM (or OA site) it measures ».
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from flexready import realisation
from flexready.models import Bacs
from hub import quantities
from hub.control.models import ControllableLoad
from hub.models import MeteringPoint, MeteringPointKind, Series
from hub.selectors.series import Step
from hub.selectors.sources import read_best
from smartoa.models import Contract
from tic.models import TicMeter, TicPort

pytestmark = pytest.mark.django_db


def test_the_demo_meters_measure_the_building_and_the_plant(settings) -> None:
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")  # twice: idempotent
    building = Bacs.objects.exclude(metering_point=None).first().metering_point
    plant = Contract.objects.exclude(metering_point=None).first().metering_point
    assert (building.kind, plant.kind) == (MeteringPointKind.ELEC_PRM, MeteringPointKind.OA_SITE)
    assert TicPort.objects.filter(metering_point=building).count() == 1
    assert TicPort.objects.filter(metering_point=plant).count() == 1
    assert {m.metering_point_id for m in TicMeter.objects.all()} == {building.pk, plant.pk}
    # Flex Ready reads the building's meter, Smart OA the plant's export, through the selector.
    assert realisation.meter_series(building).source == "tic"
    export = Series.objects.get(
        metering_point=plant, quantity=quantities.ACTIVE_ENERGY_EXPORT.name, source="tic"
    )
    latest = export.points.order_by("-ts").first()
    read = read_best(
        metering_point=plant, quantity=quantities.ACTIVE_ENERGY_EXPORT,
        start=latest.ts, end=latest.ts + dt.timedelta(minutes=5), step=Step.MIN5,
    )  # fmt: skip
    assert read.readings[0].source == "tic" and read.readings[0].value == pytest.approx(
        10_000, abs=20
    )
    # The servo's loads sit behind the point the building's meter measures.
    behind = set(ControllableLoad.objects.values_list("metering_point_id", flat=True))
    assert behind - {None} == {building.pk}


def test_an_older_demo_is_moved_onto_the_building(settings) -> None:
    settings.DEBUG = True
    call_command("seed_demo")
    port = TicPort.objects.get(name="Démo PME-PMI")
    own, _created = MeteringPoint.objects.get_or_create(
        organisation=port.organisation, kind=MeteringPointKind.TIC_METER, identifier="041436028024"
    )
    TicPort.objects.filter(pk=port.pk).update(metering_point=own)
    TicMeter.objects.filter(port=port).update(metering_point=own)
    call_command("seed_demo")
    port.refresh_from_db()
    assert port.metering_point.kind == MeteringPointKind.ELEC_PRM
    assert {m.metering_point_id for m in port.meters.all()} == {port.metering_point_id}
