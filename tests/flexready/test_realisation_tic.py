"""A confirmed request's realisation read from the TIC meter on the building's PRM.

Issue "one hub" §4: « with a TIC meter on the building's PRM, a confirmed request's measured and
delivered power come from the meter with no other setting »; the meter is read through hub's
best-source selector, each step as the mean power of the meter's 5-minute active energy.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from flexready import realisation
from flexready.models import Asset
from hub import quantities
from hub.actors import Actor
from tests.flexready.conftest import paris
from tests.flexready.test_realisation import make_request
from tic import services as tic_services
from tic.ingest import Ingestor, Received
from tic.protocol import TicStreamDecoder, encode_frame
from tic.simulator import SimulatedPmePmi

pytestmark = pytest.mark.django_db


@pytest.fixture
def asset(annex: Any) -> Asset:
    return Asset.objects.get(bacs__bacs_id=annex[0].bacs_id, asset_id="WholeBuilding")


def _hta_frame(meter: SimulatedPmePmi, at: dt.datetime, watts: float) -> bytes:
    """The simulated PME-PMI frame with PS in kW (an HTA meter, 02E §2.9.3 (K)): active power."""
    (frame,) = TicStreamDecoder().feed(meter.frame(at=at, power_va=watts / meter.power_factor))
    groups = [(label, g.raw) for label, g in frame.groups.items()]
    groups = [(label, "42kW" if label == "PS" else raw) for label, raw in groups]
    return encode_frame(groups, mode=1, separator=" ")


def _kva_frame(meter: SimulatedPmePmi, at: dt.datetime, watts: float) -> bytes:
    """PS in kVA (BT > 36 kVA, 02E §2.9.3 (I)): the power over Td is apparent."""
    return meter.frame(at=at, power_va=watts / meter.power_factor)


@pytest.mark.parametrize("frame_of", [_hta_frame, _kva_frame], ids=["PS in kW", "PS in kVA"])
def test_realisation_reads_the_tic_meter_on_the_building_prm(
    asset: Asset, tenant: Any, frame_of: Any
) -> None:
    point = asset.bacs.metering_point
    assert point == tenant.point
    port = tic_services.add_port(
        organisation=tenant.organisation, url="loop://", family="pmepmi",
        metering_point=point, actor=Actor.system("test"), now=timezone.now(),
    )  # fmt: skip
    start = paris(2026, 6, 12, 12)  # a Friday; similar days: the weekdays before
    ingestor = Ingestor()
    meter = SimulatedPmePmi(ads="041436028024")
    for days_back in range(7, -1, -1):
        day_start = start - dt.timedelta(days=days_back)
        watts = 20_000.0 if days_back == 0 else 30_000.0
        at = day_start - dt.timedelta(minutes=10)
        while at < day_start + dt.timedelta(hours=1, minutes=10):
            for frame in TicStreamDecoder().feed(frame_of(meter, at, watts)):
                ingestor.handle(Received(port.pk, frame, at, 9600))
            at += dt.timedelta(seconds=30)
        ingestor.flush(now=at)
    series = realisation.meter_series(point)
    assert (series.quantity, series.source, series.unit, series.step_seconds) == (
        quantities.ACTIVE_ENERGY_IMPORT.name,
        "tic",
        "Wh",
        300,
    )
    request = make_request(asset, start, start + dt.timedelta(hours=1), kw=10)
    result = realisation.realise(request=request, now=start + dt.timedelta(hours=2))
    assert result.complete and result.step_seconds == 300 and len(result.cells) == 12
    # 30 kW usually, 20 kW during the request: about 10 kWh delivered over the hour.
    delivered = result.totals["delivered"]
    assert abs(delivered - Decimal(10_000)) < Decimal(500), delivered
