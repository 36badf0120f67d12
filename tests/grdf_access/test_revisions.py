"""GRDF's corrected data: a replaced definitive value is kept with its time of replacement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from grdf_access.models import Revision, RightState
from grdf_access.sync import SERIES, series_ids, sync_data
from hub.clock import gas_day_bounds
from hub.models import Point, Quality
from hub.services.series import upsert_rows
from tests.api_problems import field_errors
from tests.grdf_access.conftest import NOW, PCE_ID, TODAY, active_right
from tests.hub.test_portal_support import sign_in

pytestmark = pytest.mark.django_db

SEPTEMBER = [dt.date(2026, 9, 1) + dt.timedelta(days=n) for n in range(30)]


def test_a_corrected_definitive_value_keeps_the_replaced_one(
    tenant, gateway, viewer_client, client: Client
) -> None:
    """ "Renvoi des données corrigées": GRDF sends again a period whose definitive value
    changed (reference §1.5 statut_conso "Définitive"; §1.8 informative data become
    definitive after publication). The new value is stored, the previous one is kept with the
    time it was replaced, readable in the API and on the PCE page; never a silent overwrite.
    A provisional value turning definitive is the normal course, not a correction."""
    right = active_right(tenant, types=("informatives",), data_start=dt.date(2026, 9, 1))
    pce = right.pce
    ids = series_ids([pce.pk], ["daily_energy", "daily_volume"])
    energy, volume = ids[(pce.pk, "daily_energy")], ids[(pce.pk, "daily_volume")]
    upsert_rows(
        rows=[(energy, gas_day_bounds(d)[0], 1.0, Quality.MEASURED, False) for d in SEPTEMBER]
        + [(volume, gas_day_bounds(d)[0], 1.0, Quality.MEASURED, True) for d in SEPTEMBER]
    )
    report = sync_data(
        organisation=tenant.organisation, gateway=gateway, now=NOW, today=TODAY, force=True
    )
    assert report.failed == 0, report.errors
    revisions = list(Revision.objects.order_by("ts"))
    assert {r.series_id for r in revisions} == {energy}  # the provisional volumes are not
    assert len(revisions) == len(SEPTEMBER)
    first = revisions[0]
    assert first.ts == gas_day_bounds(SEPTEMBER[0])[0] and first.previous_value == 1.0
    stored = Point.objects.get(series_id=energy, ts=first.ts)
    assert first.value == stored.value != 1.0 and first.replaced_at == NOW

    # The same values sent again are no correction.
    sync_data(organisation=tenant.organisation, gateway=gateway, now=NOW, today=TODAY, force=True)
    assert Revision.objects.count() == len(SEPTEMBER)

    answer = viewer_client.get(f"/api/v1/grdf/pces/{PCE_ID}/revisions", {"start": "2026-09-01"})
    assert answer.status_code == 200
    listed = answer.json()["revisions"]
    assert len(listed) == len(SEPTEMBER)
    assert {r["quantity"] for r in listed} == {SERIES["daily_energy"].quantity}
    assert listed[0]["previous_value"] == 1.0 and listed[0]["replaced_at"]
    bad = viewer_client.get(f"/api/v1/grdf/pces/{PCE_ID}/revisions", {"start": "hier"})
    assert bad.status_code == 400 and "start" in field_errors(bad)

    sign_in(client, tenant.viewer)
    page = client.get(f"/grdf/pce/{PCE_ID}/")
    assert len(page.context["revisions"]) == len(SEPTEMBER)
    assert "Données corrigées par GRDF" in page.content.decode()

    # Like every GRDF read, only inside the consent.
    right.state = RightState.REVOKED
    right.save()
    answer = viewer_client.get(f"/api/v1/grdf/pces/{PCE_ID}/revisions")
    assert answer.json()["revisions"] == []
