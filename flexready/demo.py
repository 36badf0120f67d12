"""Annex 1's data set (two BACS, their assets and potentials) in an organisation, idempotently.

BACS 1 and its asset are exactly the annex's. The annex's copy we hold stops after naming
BACS 2's "WholeBuilding" asset: its potential and BACS 2's heating-system asset are assumed
(same potential as BACS 1's whole building; a 50 kW heating system), and said so in the README.
Naive times of the annex are Paris wall time. The annex's allowed period (2 April 2025) is long
past: the demo organisation's assets are allowed from the seeding day for ``DEMO_WINDOW_DAYS``
instead, so a request can be made and confirmed at once; the annex's own dates stay for tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from flexready import services
from flexready.models import AllowedPeriod, Asset, Bacs, FlexRequest, OperatorIdentity
from flexready.program import ProgramStep
from hub import quantities
from hub.clock import PARIS, local_day_bounds
from hub.models import MeteringPoint, MeteringPointKind, Organisation, SeriesKind
from hub.services.series import PointIn, ensure_series, upsert_points

BACS_1 = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
BACS_2 = "a987fbc9-4bed-4078-9f07-9141ba07c9f3"
DEMO_PRM = "30001234567890"


@dataclass(frozen=True)
class AssetSpec:
    asset_id: str
    description: str
    power_w: Decimal
    delay_s: int
    max_s: int
    per_day: int
    periods: tuple[tuple[str, str], ...]


ANNEX_PERIOD = (("2025-04-02T12:00:00", "2025-04-02T14:00:00"),)
DEMO_WINDOW_DAYS = 30

DATA_SET: list[tuple[str, str, str, list[AssetSpec]]] = [
    (
        BACS_1,
        "BACS Whole Building Only",
        "A BACS configured for a whole building that has a single associated asset.",
        [AssetSpec("WholeBuilding", "Whole building", Decimal(100_000), 60, 120, 1, ANNEX_PERIOD)],
    ),
    (
        BACS_2,
        "BACS Whole Building with Heating System",
        "A BACS configured for a whole building that has multiple associated assets.",
        [
            AssetSpec(
                "WholeBuilding", "Whole building", Decimal(100_000), 60, 120, 1, ANNEX_PERIOD
            ),
            # Assumed: the annex's text of this asset is missing from our copy.
            AssetSpec(
                "HeatingSystem", "Heating system", Decimal(50_000), 300, 3600, 2, ANNEX_PERIOD
            ),
        ],
    ),
]


def _local(raw: str) -> dt.datetime:
    return dt.datetime.fromisoformat(raw).replace(tzinfo=PARIS).astimezone(dt.UTC)


@transaction.atomic
def load_annex_data_set(
    *,
    organisation: Organisation,
    metering_point: MeteringPoint | None = None,
    periods: Sequence[tuple[dt.datetime, dt.datetime]] | None = None,
) -> list[Bacs]:
    """Create what is missing; potentials already there (perhaps edited) are left alone.

    ``periods`` replaces the annex's allowed periods of newly created assets (aware instants).
    """
    loaded = []
    for bacs_id, name, description, assets in DATA_SET:
        bacs, _ = Bacs.objects.get_or_create(
            organisation=organisation,
            bacs_id=bacs_id,
            defaults={"name": name, "description": description, "metering_point": metering_point},
        )
        for spec in assets:
            asset, created = Asset.objects.get_or_create(
                bacs=bacs,
                asset_id=spec.asset_id,
                defaults={
                    "description": spec.description,
                    "flex_product": "WID",
                    "power_w": spec.power_w,
                    "power_multiplier": "k",
                    "mobilisation_delay_s": spec.delay_s,
                    "max_duration_s": spec.max_s,
                    "activations_per_day": spec.per_day,
                },
            )
            if created:
                bounds = (
                    [(_local(start), _local(end)) for start, end in spec.periods]
                    if periods is None
                    else periods
                )
                for start, end in bounds:
                    AllowedPeriod.objects.create(asset=asset, start=start, end=end)
        loaded.append(bacs)
    return loaded


def on_demo_seeded(sender: Any, *, organisation: Organisation, today: dt.date, **_: Any) -> None:
    """Receiver of ``hub.signals.demo_seeded``: the annex data set and one realised request."""
    point = MeteringPoint.objects.filter(
        organisation=organisation, kind=MeteringPointKind.ELEC_PRM, identifier=DEMO_PRM
    ).first()
    window = demo_window(today)
    loaded = load_annex_data_set(organisation=organisation, metering_point=point, periods=[window])
    for asset in Asset.objects.filter(bacs__in=loaded):
        # A demo asset whose periods have all run out (seeded weeks ago, or holding the annex's
        # 2025 period) is opened again from today; one with a period still ahead is left alone.
        if not asset.periods.filter(end__gt=window[0] + dt.timedelta(days=1)).exists():
            AllowedPeriod.objects.create(asset=asset, start=window[0], end=window[1])
    if settings.HUB_SIMULATORS:
        # Every subject of the configured issuer acts for the demo organisation: only where the
        # issuer is the local one whose tokens `flexready_jwt` mints, never a real operator's.
        OperatorIdentity.objects.get_or_create(
            issuer=settings.FLEXREADY_JWT_ISSUER,
            subject="",
            defaults={"organisation": organisation, "label": "Démo : tout opérateur de l'émetteur"},
        )
    if point is not None:
        _demo_request(organisation=organisation, point=point, today=today)


def demo_window(today: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Paris midnight of ``today`` to Paris midnight ``DEMO_WINDOW_DAYS`` later (aware, UTC)."""
    start, _ = local_day_bounds(today)
    _, end = local_day_bounds(today + dt.timedelta(days=DEMO_WINDOW_DAYS - 1))
    return start, end


def _demo_request(*, organisation: Organisation, point: MeteringPoint, today: dt.date) -> None:
    """Yesterday 12:00-13:00 on the heating system: confirmed, then 30 kW less on the meter."""
    asset = Asset.objects.get(
        bacs__organisation=organisation, bacs__bacs_id=BACS_2, asset_id="HeatingSystem"
    )
    yesterday = today - dt.timedelta(days=1)
    start = dt.datetime.combine(yesterday, dt.time(12), tzinfo=PARIS).astimezone(dt.UTC)
    end = start + dt.timedelta(hours=1)
    AllowedPeriod.objects.get_or_create(asset=asset, start=start, end=end)
    series = ensure_series(
        metering_point=point,
        quantity=quantities.ACTIVE_ENERGY_IMPORT.name,
        unit="Wh",
        source="demo",
        kind=SeriesKind.INTERVAL,
        step_seconds=3600,
    )
    existing = {
        p.ts: p.value
        for p in series.points.filter(ts__gte=start, ts__lt=end)
        if p.value is not None
    }
    # The building shed 30 kW during the request: its hourly energies are 30 kWh lower.
    upsert_points(
        series=series, points=[PointIn(ts, value - 30_000) for ts, value in existing.items()]
    )
    # seed_demo rewrote the load curve just before: the dip is applied again each time.
    request_id = f"demo-{yesterday.isoformat()}"
    if FlexRequest.objects.filter(asset=asset, request_id=request_id).exists():
        return
    caller = services.Caller("démonstration")
    steps = [ProgramStep(start, end, Decimal(30_000))]
    received = start - dt.timedelta(hours=1)
    outcome = services.create_request(
        asset=asset,
        request_id=request_id,
        flex_product="WID",
        steps=steps,
        now=received,
        caller=caller,
    )
    if outcome.refused:
        return
    confirmed = services.confirm_request(
        request=outcome.request,
        flex_product="WID",
        steps=steps,
        ack_price=services.parse_ack_price({"value": 120, "unit": "EUR/MWh", "multiplier": ""}),
        now=received + dt.timedelta(minutes=5),
        caller=caller,
    )
    services.advance(request=confirmed.request, now=start, caller=caller)
    services.advance(request=confirmed.request, now=end + dt.timedelta(hours=1), caller=caller)
