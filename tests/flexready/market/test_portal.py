"""The portal page of the market signals: scoped by organisation, charts' data, Ecowatt alert."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from flexready.market import views
from flexready.market.client.ecowatt import parse_signals
from flexready.market.client.supplier import parse_signal
from flexready.market.models import SupplierFeed
from flexready.market.services import ecowatt
from flexready.market.services.supplier import follow_delivery_point, store_signal
from tests.conftest import Tenant
from tests.hub.test_portal_support import sign_in

from .conftest import APPENDIX, paris
from .test_ecowatt_client import body, day

pytestmark = pytest.mark.django_db

URL = "/flexready/signals/"


def chart_data(page: str, name: str) -> object:
    match = re.search(rf'<script id="{name}" type="application/json">(.*?)</script>', page, re.S)
    assert match, name
    return json.loads(match.group(1))


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    # "Today" is 2025-12-31 so that the appendix's horodates fall within the four days shown.
    monkeypatch.setattr(views, "_now", lambda: paris(2025, 12, 31, 10))


def test_page_needs_a_signed_in_member(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_page_shows_the_organisation_signal_and_ecowatt(
    client: Client, tenant: Tenant, feed: SupplierFeed, pinned: None
) -> None:
    store_signal(point=feed.metering_point, signal=parse_signal(APPENDIX))
    ecowatt.store_forecast(
        forecast=parse_signals(
            body(
                day("2026-01-01T00:00:00+01:00", [1] * 18 + [3] * 2 + [1] * 4),
                day("2025-12-31T00:00:00+01:00", [0] * 6 + [1] * 18),
            )
        ),
        fetched_at=paris(2025, 12, 31, 9),
    )
    sign_in(client, tenant.viewer)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="ecowatt-alert"' in page and "Alerte Ecowatt rouge le 01/01/2026" in page
    assert "18h, 19h" in page
    supplier = chart_data(page, "supplier-data")
    assert supplier["price"] == [1200, 120, 12, 1]  # type: ignore[index]
    assert supplier["labels"][0] == "31/12 23h00"  # type: ignore[index]
    ecowatt_data = chart_data(page, "ecowatt-data")
    assert len(ecowatt_data["levels"]) == 48  # type: ignore[index]
    assert ecowatt_data["levels"][0] == 0 and ecowatt_data["levels"][42] == 3  # type: ignore[index]
    assert "vendor/chart.umd.min.js" in page
    assert feed.metering_point.identifier in page


def test_no_alert_when_ecowatt_is_calm(client: Client, tenant: Tenant, pinned: None) -> None:
    ecowatt.store_forecast(
        forecast=parse_signals(body(day("2025-12-31T00:00:00+01:00", [1] * 24))),
        fetched_at=paris(2025, 12, 31, 9),
    )
    sign_in(client, tenant.viewer)
    page = client.get(URL).content.decode()
    assert 'id="ecowatt-alert"' not in page
    assert "Aucun point de livraison" in page


def test_a_foreign_delivery_point_is_never_shown(
    client: Client, tenant: Tenant, foreign: Tenant, feed: SupplierFeed, pinned: None
) -> None:
    theirs = follow_delivery_point(
        organisation=foreign.organisation, delivery_point=foreign.point.identifier
    )
    store_signal(point=theirs.metering_point, signal=parse_signal(APPENDIX))
    sign_in(client, tenant.viewer)
    page = client.get(URL, {"dp": foreign.point.identifier}).content.decode()
    assert foreign.point.identifier not in page
    # The organisation's own feed is shown instead, and it holds nothing.
    assert "Aucune valeur" in page


def test_choosing_among_the_organisation_feeds(
    client: Client, tenant: Tenant, feed: SupplierFeed, pinned: None
) -> None:
    from hub.models import MeteringPoint

    other = MeteringPoint.objects.create(
        organisation=tenant.organisation, kind="elec_prm", identifier="22222222222222"
    )
    second = follow_delivery_point(
        organisation=tenant.organisation, delivery_point=other.identifier
    )
    store_signal(point=second.metering_point, signal=parse_signal(APPENDIX))
    sign_in(client, tenant.viewer)
    page = client.get(URL, {"dp": "22222222222222"}).content.decode()
    assert chart_data(page, "supplier-data")["co2"][0] == 3.1  # type: ignore[index]


def test_an_operator_follows_a_prm_of_the_organisation(client: Client, tenant: Tenant) -> None:
    sign_in(client, tenant.operator)
    page = client.get(URL).content.decode()
    assert 'id="follow-form"' in page and tenant.point.identifier in page
    response = client.post(URL + "follow/", {"delivery_point": tenant.point.identifier})
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?dp={tenant.point.identifier}"
    feed = SupplierFeed.objects.get(organisation=tenant.organisation)
    assert feed.metering_point == tenant.point and feed.session_id == "default"


def test_following_a_foreign_prm_is_refused(
    client: Client, tenant: Tenant, foreign: Tenant
) -> None:
    sign_in(client, tenant.operator)
    response = client.post(URL + "follow/", {"delivery_point": foreign.point.identifier})
    assert response.status_code == 302
    page = client.get(URL).content.decode()
    assert "Point de livraison refusé" in page
    assert not SupplierFeed.objects.exists()


def test_a_viewer_may_not_follow(client: Client, tenant: Tenant) -> None:
    sign_in(client, tenant.viewer)
    assert 'id="follow-form"' not in client.get(URL).content.decode()
    response = client.post(URL + "follow/", {"delivery_point": tenant.point.identifier})
    assert response.status_code == 403
    assert not SupplierFeed.objects.exists()


UPLOAD = "/flexready/signals/upload/"


def _upload(client: Client, delivery_point: str, body: str) -> object:
    import io

    return client.post(
        UPLOAD,
        {"delivery_point": delivery_point, "signal_file": io.BytesIO(body.encode())},
    )


def test_an_admin_uploads_a_signal_for_the_organisations_feed(
    client: Client, tenant: Tenant, feed: SupplierFeed
) -> None:
    """Annex 2, "Add Supplier Signal" (``POST /admin/signals``, ``signal_file``): in the hub an
    organisation admin stores such a file for its own feed; it is validated, stored like a
    polled signal and audited."""
    from hub.models import AuditEvent, Point

    sign_in(client, tenant.admin)
    response = _upload(client, feed.metering_point.identifier, APPENDIX)
    assert response.status_code == 302
    # Four steps of price, CO2 and power.
    assert Point.objects.filter(series__metering_point=feed.metering_point).count() == 12
    event = AuditEvent.objects.get(action="flexready.supplier_signal.uploaded")
    assert event.organisation == tenant.organisation
    assert event.after is not None and event.after["points"] == 4


def test_upload_refuses_bad_files_other_roles_and_foreign_feeds(
    client: Client, tenant: Tenant, foreign: Tenant, feed: SupplierFeed
) -> None:
    from hub.models import Point

    theirs = follow_delivery_point(
        organisation=foreign.organisation, delivery_point=foreign.point.identifier
    )
    sign_in(client, tenant.admin)
    bad = APPENDIX.replace('"value": 1200', '"value": "1e999999"')
    response = _upload(client, feed.metering_point.identifier, bad)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "cost[0].value" in page
    assert _upload(client, theirs.metering_point.identifier, APPENDIX).status_code == 404
    client.logout()
    sign_in(client, tenant.operator)
    assert _upload(client, feed.metering_point.identifier, APPENDIX).status_code == 403
    assert not Point.objects.exists()


def test_the_hubs_admin_uploads_a_signal_for_a_feed(
    client: Client, tenant: Tenant, feed: SupplierFeed
) -> None:
    """The same upload from the hub's back-office (staff), on the feed's page."""
    import io

    from hub.models import AuditEvent, Point

    staff = tenant.admin
    staff.is_staff = staff.is_superuser = True
    staff.save()
    sign_in(client, staff)
    change = client.get(f"/admin/flexready_market/supplierfeed/{feed.pk}/change/")
    url = f"/admin/flexready_market/supplierfeed/{feed.pk}/upload-signal/"
    assert url in change.content.decode()
    bad = APPENDIX.replace('"unit": "€/kWh"', '"unit": "W"', 1)
    response = client.post(url, {"signal_file": io.BytesIO(bad.encode())})
    assert response.status_code == 200 and "cost[0].unit" in response.content.decode()
    response = client.post(url, {"signal_file": io.BytesIO(APPENDIX.encode())})
    assert response.status_code == 302
    assert Point.objects.filter(series__metering_point=feed.metering_point).count() == 12
    assert AuditEvent.objects.filter(
        action="flexready.supplier_signal.uploaded", actor=staff
    ).exists()


def test_an_uploaded_signal_is_not_contradicted_by_a_never_polled_status(
    client: Client, tenant: Tenant, feed: SupplierFeed, pinned: None
) -> None:
    """Issue 19: "the supplier signal says « jamais relevé » over populated charts"."""
    store_signal(point=feed.metering_point, signal=parse_signal(APPENDIX))
    sign_in(client, tenant.viewer)
    page = client.get(URL).content.decode()
    assert chart_data(page, "supplier-data")["labels"]  # type: ignore[index]
    status = page[page.index('id="feed-status"') :][:300]
    assert "jamais relevé" not in status
    assert "viennent d'un signal déposé" in status, status
