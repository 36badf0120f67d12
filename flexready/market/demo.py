"""Demo data: the demo organisation's PRM follows the supplier signal, with values already there.

Seeded rows come straight from the simulator's generator, since the web server (and so the
simulator's URL) may not be up while ``seed_demo`` runs; beat's polling takes over afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flexready.market.client.ecowatt import parse_signals
from flexready.market.client.supplier import parse_signal
from flexready.market.models import EcowattDay
from flexready.market.services import ecowatt, supplier
from flexready.market.simulator import ecowatt as ecowatt_sim
from flexready.market.simulator import supplier as supplier_sim
from hub.clock import PARIS, local_midnight
from hub.models import MeteringPoint, MeteringPointKind, Organisation

DEMO_PRM = "30001234567890"
DEMO_SESSION = "demo"


def seed(*, organisation: Organisation, today: dt.date) -> None:
    """Idempotent: a feed for the demo PRM, four days of signal, and Ecowatt if none is stored."""
    if not MeteringPoint.objects.filter(
        organisation=organisation, kind=MeteringPointKind.ELEC_PRM, identifier=DEMO_PRM
    ).exists():
        return
    feed = supplier.follow_delivery_point(
        organisation=organisation, delivery_point=DEMO_PRM, session_id=DEMO_SESSION
    )
    start = local_midnight(today)
    end = local_midnight(today + dt.timedelta(days=supplier.HORIZON_DAYS))
    signal = parse_signal(supplier_sim.default_signal(start=start, end=end))
    supplier.store_signal(point=feed.metering_point, signal=signal)
    if not EcowattDay.objects.filter(day=today).exists():
        noon = dt.datetime.combine(today, dt.time(12), tzinfo=PARIS).astimezone(dt.UTC)
        body = ecowatt_sim.body_at(noon)
        ecowatt.store_forecast(forecast=parse_signals(json.dumps(body)), fetched_at=noon)


def on_demo_seeded(sender: Any, *, organisation: Organisation, today: dt.date, **_: Any) -> None:
    seed(organisation=organisation, today=today)
