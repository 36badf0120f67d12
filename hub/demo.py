"""The demo organisation the embedded start seeds, so a first login shows something."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db import transaction

from hub import quantities
from hub.clock import local_day_bounds
from hub.models import (
    Membership,
    MeteringPoint,
    MeteringPointKind,
    Organisation,
    Role,
    SeriesKind,
    Site,
    User,
)
from hub.services.series import PointIn, ensure_series, upsert_points
from hub.signals import demo_seeded

DEMO_ORG_SLUG = "demo"
DEMO_EMAIL = "demo@hub.example"
DEMO_PASSWORD = "demo-hub-2026"  # noqa: S105 — documented in the README; embedded defaults only

POINTS = [
    (MeteringPointKind.GAS_PCE, "GI123456", "Chaufferie — PCE"),
    (MeteringPointKind.GAS_PCE, "12345678901234", "Cuisine centrale — PCE"),
    (MeteringPointKind.ELEC_PRM, "30001234567890", "Bâtiment A — PRM"),
    (MeteringPointKind.TIC_METER, "041436028024", "Bâtiment A — compteur PME-PMI"),
    (MeteringPointKind.OA_SITE, "BOA-2024-000123", "Centrale PV du toit"),
]


@dataclass(frozen=True)
class DemoSeed:
    organisation: Organisation
    user: User
    user_created: bool


@transaction.atomic
def seed_demo(*, today: dt.date) -> DemoSeed:
    organisation, _ = Organisation.objects.get_or_create(
        slug=DEMO_ORG_SLUG, defaults={"name": "Démo Énergie"}
    )
    user = User.objects.filter(email=DEMO_EMAIL).first()
    created = user is None
    if user is None:
        user = User.objects.create_superuser(
            DEMO_EMAIL, DEMO_PASSWORD, full_name="Compte de démonstration"
        )
    Membership.objects.get_or_create(
        user=user, organisation=organisation, defaults={"role": Role.ADMIN}
    )
    site, _ = Site.objects.get_or_create(
        organisation=organisation,
        name="Campus Lyon",
        defaults={"postcode": "69003", "city": "Lyon"},
    )
    for kind, identifier, label in POINTS:
        point, _ = MeteringPoint.objects.get_or_create(
            organisation=organisation,
            kind=kind,
            identifier=identifier,
            defaults={"label": label, "site": site},
        )
        if kind == MeteringPointKind.ELEC_PRM:
            _seed_load_curve(point, today=today)
    # Each domain app adds its own demo objects (contracts, rights, BACS, meters).
    demo_seeded.send(sender=DemoSeed, organisation=organisation, today=today)
    return DemoSeed(organisation, user, created)


def _seed_load_curve(point: MeteringPoint, *, today: dt.date) -> None:
    """Seven local days of a plausible hourly building load, ending yesterday (idempotent)."""
    series = ensure_series(
        metering_point=point,
        quantity=quantities.ACTIVE_ENERGY_IMPORT.name,
        unit="Wh",
        source="demo",
        kind=SeriesKind.INTERVAL,
        step_seconds=3600,
    )
    start, _ = local_day_bounds(today - dt.timedelta(days=7))
    _, end = local_day_bounds(today - dt.timedelta(days=1))
    hours = int((end - start).total_seconds() // 3600)
    points = []
    for i in range(hours):
        ts = start + dt.timedelta(hours=i)
        daily = 1 + 0.6 * math.sin((ts.hour - 7) / 24 * 2 * math.pi)
        points.append(PointIn(ts, round(40_000 * daily, 1)))
    upsert_points(series=series, points=points)
