"""Portal pages: BACS and potentials (operators edit, viewers read), request timeline and chart."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from flexready import services
from flexready.models import AllowedPeriod, Asset, FlexRequest
from flexready.program import ProgramStep
from hub.models import AuditEvent
from tests.flexready.conftest import hourly_curve, paris
from tests.hub.test_portal_support import sign_in


@pytest.fixture
def whole(annex: Any) -> Asset:
    return Asset.objects.get(bacs__bacs_id=annex[0].bacs_id, asset_id="WholeBuilding")


def realised_request(asset: Asset, tenant: Any) -> FlexRequest:
    day = dt.date(2026, 6, 12)

    def watts(local: dt.datetime) -> float:
        return 60_000.0 if local.date() == day and local.hour == 12 else 100_000.0

    hourly_curve(tenant.point, first=day - dt.timedelta(days=10), last=day, watts=watts)
    start = paris(2026, 6, 12, 12)
    AllowedPeriod.objects.create(asset=asset, start=start, end=start + dt.timedelta(hours=1))
    asset.max_duration_s = 3600
    asset.save()
    steps = [ProgramStep(start, start + dt.timedelta(hours=1), Decimal(40_000))]
    caller = services.Caller("test-operator")
    outcome = services.create_request(
        asset=asset,
        request_id="p-1",
        flex_product="WID",
        steps=steps,
        now=start - dt.timedelta(hours=1),
        caller=caller,
    )
    assert not outcome.refused, outcome.reasons
    confirmed = services.confirm_request(
        request=outcome.request,
        flex_product="WID",
        steps=steps,
        ack_price=None,
        now=start - dt.timedelta(minutes=30),
        caller=caller,
    )
    return services.advance(
        request=confirmed.request, now=start + dt.timedelta(hours=2), caller=caller
    )


def test_viewer_sees_bacs_and_potentials_but_no_edit(
    client: Client, tenant: Any, whole: Asset
) -> None:
    sign_in(client, tenant.viewer)
    page = client.get("/flexready/").content.decode()
    assert "BACS Whole Building with Heating System" in page
    assert "100 kW" in page and "HeatingSystem" in page
    assert "/edit/" not in page
    assert client.get(f"/flexready/assets/{whole.pk}/edit/").status_code == 403


def test_operator_edits_potential_audited(client: Client, tenant: Any, whole: Asset) -> None:
    sign_in(client, tenant.operator)
    url = f"/flexready/assets/{whole.pk}/edit/"
    form = client.get(url).content.decode()
    # "date inputs localised" (issue 19): periods are shown and typed as 02/04/2025 12:00.
    assert "02/04/2025 12:00 → 02/04/2025 14:00" in form
    response = client.post(
        url,
        {
            "flex_product": "WID",
            "power_kw": "80.5",
            "mobilisation_delay_s": "120",
            "max_duration_s": "900",
            "activations_per_day": "2",
            "periods": "29/03/2026 01:00 → 29/03/2026 04:00\n",
        },
    )
    assert response.status_code == 302
    whole.refresh_from_db()
    assert whole.power_w == Decimal("80500")
    (period,) = whole.periods.all()
    # 01:00 to 04:00 on the 23-hour day is two hours of real time.
    assert period.end - period.start == dt.timedelta(hours=2)
    event = AuditEvent.objects.get(action="flexready.potential.changed")
    assert event.before is not None and event.after is not None
    assert event.before["power_w"] == "100000.000" and event.after["power_w"] == "80500.000"


def test_bad_period_is_a_form_error(client: Client, tenant: Any, whole: Asset) -> None:
    sign_in(client, tenant.operator)
    response = client.post(
        f"/flexready/assets/{whole.pk}/edit/",
        {
            "flex_product": "WID",
            "power_kw": "10",
            "mobilisation_delay_s": "0",
            "max_duration_s": "60",
            "activations_per_day": "1",
            "periods": "2026-01-01T10:00 2026-01-01T09:00",
        },
    )
    assert response.status_code == 200
    assert "la fin précède le début" in response.content.decode()


def test_period_on_the_night_clocks_go_back_needs_its_offset(
    client: Client, tenant: Any, whole: Asset
) -> None:
    """ "local time with its offset where a DST day makes it ambiguous" (issue 19): 02:30 comes
    twice on 25/10/2026; without its offset it is refused, with it the period is kept."""
    sign_in(client, tenant.operator)
    url = f"/flexready/assets/{whole.pk}/edit/"
    fields = {
        "flex_product": "WID",
        "power_kw": "10",
        "mobilisation_delay_s": "0",
        "max_duration_s": "60",
        "activations_per_day": "1",
    }
    refused = client.post(url, {**fields, "periods": "25/10/2026 02:30 - 25/10/2026 04:00"})
    assert refused.status_code == 200
    assert "Ligne 1" in refused.content.decode() and "+02:00" in refused.content.decode()
    kept = client.post(url, {**fields, "periods": "25/10/2026 02:30+01:00 - 25/10/2026 04:00"})
    assert kept.status_code == 302
    (period,) = whole.periods.all()
    assert period.end - period.start == dt.timedelta(hours=1, minutes=30)
    # Shown back with its offset, so the same period is read again unchanged.
    assert "25/10/2026 02:30+01:00 → 25/10/2026 04:00" in client.get(url).content.decode()


def test_foreign_asset_and_request_are_404(
    client: Client, tenant: Any, foreign: Any, whole: Asset
) -> None:
    request = realised_request(whole, tenant)
    sign_in(client, foreign.operator)
    assert client.get(f"/flexready/assets/{whole.pk}/edit/").status_code == 404
    assert client.get(f"/flexready/requests/{request.pk}/").status_code == 404
    assert "BACS Whole Building Only" not in client.get("/flexready/").content.decode()


def test_request_page_shows_timeline_and_realisation(
    client: Client, tenant: Any, whole: Asset
) -> None:
    request = realised_request(whole, tenant)
    assert request.status == "realised"
    sign_in(client, tenant.viewer)
    page = client.get(f"/flexready/requests/{request.pk}/").content.decode()
    for step in ("received", "accepted", "confirmed", "active", "realised"):
        assert f'data-action="flexready.request.{step}"' in page
    # Each step by its French label, never its code ("the Flex Ready lifecycle in English").
    for label in ("reçue", "acceptée", "confirmée", "en cours", "réalisée"):
        assert f"<strong>{label}</strong>" in page
    assert 'id="realisation-chart"' in page
    assert "40,000 kWh" in page or "40.000 kWh" in page


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("power_kw", "1e999999"),
        ("power_kw", "99999999999999"),
        ("mobilisation_delay_s", "99999999999"),
        ("max_duration_s", "4294967296"),
        ("activations_per_day", "70000"),
    ],
)
def test_numbers_out_of_bounds_are_form_errors(
    client: Client, tenant: Any, whole: Asset, field: str, value: str
) -> None:
    """Every numeric input is bounded: a huge one is an error on its field, not a 500."""
    sign_in(client, tenant.operator)
    data = {
        "flex_product": "WID",
        "power_kw": "10",
        "mobilisation_delay_s": "0",
        "max_duration_s": "60",
        "activations_per_day": "1",
        "periods": "",
    }
    response = client.post(f"/flexready/assets/{whole.pk}/edit/", {**data, field: value})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    whole.refresh_from_db()
    assert whole.power_w == Decimal("100000.000")
