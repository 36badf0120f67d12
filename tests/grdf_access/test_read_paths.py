"""Every path that reads stored GRDF data goes through the consent gate.

Seed 000 ("Conformité réglementaire & RGPD"): data are reached only inside the customer's
consent: its dates, the data types granted and the data range. A right revoked, a consent
ended, or a data range narrowed since the data were fetched: nothing of what lies outside is
shown, exported, reported or notified, whichever way it is read.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from grdf_access import selectors, thresholds
from grdf_access.models import AccessRight, RightState, Snapshot, Threshold, ThresholdFrequency
from grdf_access.sync import SERIES, series_ids
from hub import quantities
from hub.clock import gas_day_bounds
from hub.models import Quality, Series
from hub.services.series import upsert_rows
from tests.conftest import Tenant
from tests.grdf_access.conftest import NOW, PCE_ID, TODAY, active_right
from tests.hub.test_portal_support import sign_in

pytestmark = pytest.mark.django_db

DAYS = [dt.date(2026, 10, 1) + dt.timedelta(days=n) for n in range(26)]  # gas days 1 to 26 Oct
MONTHS = [dt.date(2025 + (9 + n) // 12, (9 + n) % 12 + 1, 1) for n in range(13)]  # 10/2025…
RANGE = {"start": "2026-10-01", "end": "2026-10-27"}


def stored(tenant: Tenant) -> AccessRight:
    """An Active right with daily and (estimated) published data stored, snapshots and a
    threshold the stored data cross."""
    right = active_right(tenant, data_start=dt.date(2025, 1, 1))
    pce = right.pce
    ids = series_ids([pce.pk], ["daily_energy", "published_energy"])
    rows = [
        (ids[(pce.pk, "daily_energy")], gas_day_bounds(d)[0], 100.0, Quality.MEASURED, False)
        for d in DAYS
    ] + [
        (ids[(pce.pk, "published_energy")], gas_day_bounds(m)[0], 900.0, Quality.ESTIMATED, False)
        for m in MONTHS
    ]
    upsert_rows(rows=rows)
    for kind in ("contractuelles", "techniques"):
        Snapshot.objects.create(pce=pce, kind=kind, fetched_at=NOW, data={"x": 1}, digest=kind)
    Threshold.objects.create(
        organisation=tenant.organisation,
        pce=pce,
        frequency=ThresholdFrequency.MONTHLY,
        value_kwh=10,
    )
    return right


def revoke(right: AccessRight) -> None:
    right.state = RightState.REVOKED
    right.save()


def expire(right: AccessRight) -> None:
    right.consent_end = right.data_end = dt.date(2026, 10, 31)
    right.save()


def narrow(right: AccessRight) -> None:
    right.data_start = dt.date(2026, 10, 28)
    right.save()


def reads(tenant: Tenant, viewer_client, portal: Client) -> dict[str, object]:
    """What each read path gives for the stored days."""
    daily = Series.objects.get(quantity=SERIES["daily_energy"].quantity)
    consumption = viewer_client.get(f"/api/v1/grdf/pces/{PCE_ID}/consumption", RANGE)
    export_body = {
        "pces": [PCE_ID],
        "types": ["informatives_journalieres"],
        **RANGE,
        "format": "csv",
    }
    export = viewer_client.post("/api/v1/grdf/export", export_body, format="json")
    portal_export = portal.post(
        "/grdf/export/",
        {
            "pces": [PCE_ID],
            "types": ["informatives_journalieres"],
            "start": RANGE["start"],
            "end": RANGE["end"],
            "format": "csv",
        },
    )
    page = portal.get(f"/grdf/pce/{PCE_ID}/", {"debut": RANGE["start"], "fin": RANGE["end"]})
    series_api = viewer_client.get(
        f"/api/v1/series/{daily.pk}/points/",
        {"start": "2026-09-30T22:00:00Z", "end": "2026-10-26T23:00:00Z"},
    )
    report_api = viewer_client.get("/api/v1/grdf/reports/long-estimated")
    report_page = portal.get("/grdf/estimes/")
    threshold = Threshold.objects.select_related("pce").get()
    return {
        "api consumption": consumption.status_code == 200
        and any(b["energy_kwh"] for b in consumption.json()["values"]),
        "api export": export.status_code == 200
        and quantities.GAS_ENERGY_DAILY.name in export.content.decode(),
        "portal export": portal_export.status_code == 200,
        "portal pce page": bool(page.context["bars"]),
        "series api": series_api.status_code == 200,
        "api report": PCE_ID in report_api.content.decode(),
        "portal report": any(r.pce.identifier == PCE_ID for r in report_page.context["rows"]),
        "selector report": bool(
            selectors.long_estimated(organisation=tenant.organisation, today=TODAY)
        ),
        "threshold": thresholds.check(threshold, today=TODAY) is not None,
        "portal thresholds": any(
            s.check is not None for s in portal.get("/grdf/seuils/").context["states"]
        ),
    }


def snapshot_reads(viewer_client, portal: Client) -> dict[str, bool]:
    api = viewer_client.get(f"/api/v1/grdf/pces/{PCE_ID}/snapshots").json()["snapshots"]
    page = portal.get(f"/grdf/pce/{PCE_ID}/")
    return {"api snapshots": bool(api), "portal snapshots": bool(page.context["snapshots"])}


@pytest.fixture
def portal(client: Client, tenant: Tenant) -> Client:
    sign_in(client, tenant.operator)
    return client


def test_every_read_path_serves_the_data_inside_the_consent(
    sim, tenant, viewer_client, portal
) -> None:
    """The other tests' counterpart: with an Active right covering the days, every path shows
    them (so a refusal below is the gate's doing, not an empty store)."""
    stored(tenant)
    assert reads(tenant, viewer_client, portal) == dict.fromkeys(
        reads(tenant, viewer_client, portal), True
    )
    assert snapshot_reads(viewer_client, portal) == {
        "api snapshots": True,
        "portal snapshots": True,
    }


@pytest.mark.parametrize("change", [revoke, expire, narrow], ids=["revoked", "expired", "narrowed"])
def test_no_read_path_shows_data_outside_the_consent(
    sim, tenant, viewer_client, portal, change
) -> None:
    right = stored(tenant)
    change(right)
    shown = reads(tenant, viewer_client, portal)
    assert [path for path, visible in shown.items() if visible] == []
    if change is not narrow:  # contractual and technical data have no days to narrow
        assert snapshot_reads(viewer_client, portal) == {
            "api snapshots": False,
            "portal snapshots": False,
        }
