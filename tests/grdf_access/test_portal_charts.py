"""The PCE page's histogram and period, and the thresholds as the pages show them (issue 19).

"Charts and states that explain themselves: an empty chart says why and what to do; […] the
histogram has a legend for estimated values; the threshold page and the dashboard agree."
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from grdf_access import thresholds
from grdf_access.models import Pce, Threshold
from grdf_access.sync import sync_data
from hub import quantities
from hub.models import Notification, Point, Quality, Series
from tests.conftest import Tenant
from tests.grdf_access.conftest import NOW, PCE_ID, TODAY, active_right
from tests.hub.test_portal_support import sign_in

pytestmark = pytest.mark.django_db

PAGE = f"/grdf/pce/{PCE_ID}/"
OCTOBER = {"debut": "01/10/2026", "fin": "01/11/2026"}


@pytest.fixture
def operator(client: Client, tenant: Tenant) -> Client:
    sign_in(client, tenant.operator)
    return client


def synced(tenant: Tenant, gateway) -> None:
    active_right(tenant)
    sync_data(organisation=tenant.organisation, gateway=gateway, now=NOW, today=TODAY, force=True)


def daily_series() -> Series:
    return Series.objects.get(source="grdf", quantity=quantities.GAS_ENERGY_DAILY.name)


def test_histogram_legend_names_the_colour_of_every_bar(sim, tenant, gateway, operator) -> None:
    synced(tenant, gateway)
    # One October day estimated by GRDF: its bar must be told apart from measured ones.
    estimated = Point.objects.filter(series=daily_series()).order_by("ts")[10].ts
    Point.objects.filter(series=daily_series(), ts=estimated).update(quality=Quality.ESTIMATED)
    page = operator.get(PAGE, OCTOBER)
    assert page.status_code == 200
    html = page.content.decode()
    colour_of = {item["key"]: item["colour"] for item in page.context["legend"]}
    bars = page.context["bars"]
    assert {b.quality for b in bars} == {"measured", "estimated"}
    # Each bar is drawn in the colour its category has in the legend under the chart.
    assert page.context["chart"]["colours"] == [colour_of[b.quality] for b in bars]
    legend = html.split('id="histogram-legend"')[1].split("</ul>")[0]
    assert 'data-quality="estimated"' in legend and "estimée par GRDF" in legend
    assert colour_of["estimated"] in legend and colour_of["measured"] in legend
    operator.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = operator.get(PAGE, OCTOBER).content.decode()
    assert "estimated by GRDF" in english and "measured (actual reading)" in english


def test_an_empty_histogram_says_why_and_what_to_do(sim, tenant, operator) -> None:
    active_right(tenant)  # a consent, but nothing synchronised yet
    html = operator.get(PAGE, OCTOBER).content.decode()
    assert 'id="histogram"' not in html and 'id="histogram-legend"' not in html
    empty = html.split('id="histogram-empty">')[1].split("</p>")[0]
    assert "01/10/2026" in empty and "Synchroniser maintenant" in empty


def test_the_period_is_typed_in_the_page_language(sim, tenant, gateway, operator) -> None:
    """ "date inputs localised": 01/10/2026 in a text field, never the browser's date picker."""
    synced(tenant, gateway)
    html = operator.get(PAGE, OCTOBER).content.decode()
    assert 'type="date"' not in html
    assert re.search(
        r'<input type="text" name="debut" value="01/10/2026"[^>]*placeholder="JJ/MM/AAAA"', html
    )
    bad = operator.get(PAGE, {"debut": "31/02/2026", "fin": "01/11/2026"})
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "Date invalide" in text and "JJ/MM/AAAA" in text and 'value="31/02/2026"' in text
    operator.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = operator.get(PAGE, OCTOBER).content.decode()
    assert 'placeholder="DD/MM/YYYY"' in english and 'value="01/10/2026"' in english


def states(html: str, table: str) -> dict[str, str]:
    """threshold id → the state a page shows for it (``data-state`` of its row)."""
    body = html.split(f'id="{table}"')[1].split("</table>")[0]
    rows = re.findall(r'data-threshold="(\d+)".*?data-state="(\w+)"', body, flags=re.S)
    return dict(rows)


def test_thresholds_page_pce_page_and_dashboard_agree(sim, tenant, gateway, operator) -> None:
    synced(tenant, gateway)
    pce = Pce.objects.get(metering_point__identifier=PCE_ID)
    made = {}
    # The consumption of each period over the threshold: 10 times (over), 90 % (near, the
    # warning being at 80 %), half (ok).
    for frequency, ratio in (("daily", 10), ("monthly", 0.9), ("yearly", 0.5)):
        threshold = Threshold.objects.create(
            organisation=tenant.organisation, pce=pce, frequency=frequency, value_kwh=1
        )
        check = thresholds.check(threshold, today=TODAY)
        assert check is not None
        threshold.value_kwh = check.total / ratio
        threshold.save()
        made[str(threshold.pk)] = {10: "over", 0.9: "near", 0.5: "ok"}[ratio]
    page = operator.get("/grdf/seuils/").content.decode()
    dashboard = operator.get("/").content.decode()
    pce_page = operator.get(PAGE).content.decode()
    assert states(page, "thresholds") == made
    assert states(dashboard, "dashboard-thresholds") == made
    assert dict(re.findall(r'data-threshold="(\d+)".*?data-state="(\w+)"', pce_page)) == made


def test_an_alert_whose_threshold_no_longer_holds_is_closed(sim, tenant, gateway) -> None:
    """The dashboard's alerts never say more than the thresholds page: a threshold back under
    its level (GRDF corrected the data, or the value was raised) closes its alert."""
    synced(tenant, gateway)
    pce = Pce.objects.get(metering_point__identifier=PCE_ID)
    threshold = Threshold.objects.create(
        organisation=tenant.organisation, pce=pce, frequency="monthly", value_kwh=1
    )
    evaluate = {
        "organisation": tenant.organisation,
        "pce_ids": [pce.pk],
        "now": NOW,
        "today": TODAY,
    }
    thresholds.evaluate(**evaluate)
    open_alerts = Notification.objects.filter(resolved_at__isnull=True, source="grdf")
    assert list(open_alerts.values_list("kind", flat=True)) == ["threshold_exceeded"]
    threshold.value_kwh = 10**9
    threshold.save()
    thresholds.evaluate(**evaluate)
    assert not open_alerts.exists()
