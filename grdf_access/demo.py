"""Demo objects of GRDF access: the demo organisation's two gas PCEs with Active rights.

Seeded without any network call: the rights are written straight into the simulator's state
(Django's cache, shared with the web process) and the hub's rows, and 60 gas days of daily
informative data come from the simulator's own generator, so the first page already shows a
histogram. Idempotent: a second run changes nothing (or re-creates the simulator's rights if
its state was cleared).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from grdf_access.models import AccessRight, Pce, ProofStatus, RightState, Role, Threshold
from grdf_access.services import ensure_pce
from grdf_access.specs import shift_years
from grdf_access.sync import FEEDS, series_ids
from hub.models import MeteringPoint, MeteringPointKind, Organisation, Quality
from hub.services.series import Row, upsert_rows

DEMO_PCES = [
    ("GI123456", "Chaufferie", "Campus Lyon", "69003"),
    ("12345678901234", "Cuisine centrale", "Campus Lyon", "69003"),
]
DAYS = 60


def seed(*, organisation: Organisation, today: dt.date) -> None:
    if not settings.HUB_SIMULATORS:
        return  # real GRDF: rights come from real consents only
    from grdf_access import simulator

    start = today - dt.timedelta(days=DAYS)
    end = shift_years(today, 1)
    with transaction.atomic():
        for identifier, alias, site, postcode in DEMO_PCES:
            if not MeteringPoint.objects.filter(
                organisation=organisation, kind=MeteringPointKind.GAS_PCE, identifier=identifier
            ).exists():
                continue
            pce = ensure_pce(
                organisation=organisation,
                identifier=identifier,
                site_label=site,
                alias=alias,
                client_name=organisation.name,
                postcode=postcode,
                holder=False,
            )
            right = AccessRight.objects.filter(pce=pce, state=RightState.ACTIVE).first()
            if right is not None and simulator.get_right(right.grdf_id) is not None:
                continue
            [grdf_id] = simulator.seed_rights(
                client_id=settings.GRDF_CLIENT_ID,
                pces=[identifier],
                data_start=start,
                data_end=end,
                consent_start=start,
                consent_end=end,
            )
            if right is None:
                right = AccessRight(
                    organisation=organisation,
                    pce=pce,
                    role=Role.AUTHORISED,
                    holder_company=organisation.name,
                    holder_email="energie@demo.example",
                    postcode=postcode,
                    consent_start=start,
                    consent_end=end,
                    data_start=start,
                    data_end=end,
                    published=True,
                    informative_daily=True,
                    contractual=True,
                    technical=True,
                    state=RightState.ACTIVE,
                    journey="TIERS_DIRECT",
                )
            right.grdf_id = grdf_id
            right.last_synced_at = timezone.now()
            right.save()
            _seed_data(pce, start=start, end=today)
        _seed_control(organisation)
        _seed_threshold(organisation)


def _seed_data(pce: Pce, *, start: dt.date, end: dt.date) -> None:
    from grdf_access.simulator import generator

    keys = FEEDS["informatives_journalieres"]
    ids = series_ids([pce.pk], keys)
    now = timezone.now()
    rows: list[Row] = []
    for record in generator.informative_daily(pce.identifier, start, end, now):
        body: dict[str, Any] = record["consommation"]
        ts = dt.datetime.fromisoformat(body["date_debut_consommation"])
        estimated = record["releve_fin"]["qualite_releve"] == "Estimation"
        quality = Quality.ESTIMATED if estimated else Quality.MEASURED
        provisional = body["statut_conso"] == "Provisoire"
        rows.append((ids[(pce.pk, keys[0])], ts, float(body["energie"]), quality, provisional))
        rows.append((ids[(pce.pk, keys[1])], ts, float(body["volume_brut"]), quality, provisional))
        end = dt.datetime.fromisoformat(body["date_fin_consommation"])
        index = record["releve_fin"]["index_brut_fin"]["valeur_index"]
        rows.append((ids[(pce.pk, keys[2])], end, float(index), quality, provisional))
    upsert_rows(rows=rows)


def _seed_control(organisation: Organisation) -> None:
    """GRDF opens a security control on the first PCE's right: the controls page has a row."""
    from grdf_access import simulator

    right = (
        AccessRight.objects.filter(organisation=organisation, state=RightState.ACTIVE)
        .exclude(grdf_id="")
        .order_by("pk")
        .first()
    )
    if right is None or right.proof_status:
        return
    remote = simulator.request_proofs(right.grdf_id)
    right.proof_status = ProofStatus.AWAITED
    deadline = remote.get("date_limite_transmission_preuve")
    right.proof_deadline = dt.date.fromisoformat(deadline[:10]) if deadline else None
    right.save(update_fields=["proof_status", "proof_deadline", "updated_at"])


def _seed_threshold(organisation: Organisation) -> None:
    pce = Pce.objects.filter(organisation=organisation).order_by("pk").first()
    if pce is None or Threshold.objects.filter(pce=pce).exists():
        return
    Threshold.objects.create(
        organisation=organisation,
        pce=pce,
        frequency="monthly",
        value_kwh=30_000,
        notify_before=True,
        before_percent=80,
        notify_after=True,
    )
