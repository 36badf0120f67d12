"""The site view: one page per site, each app's channel as a panel registered from its ready().

Issue 14.6: "A portal page per site shows every channel of that site together [...] each panel
contributed by its app through a registration hook in hub (hub imports no app; the menu in
templates/base.html is built the same way instead of naming every app)."
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from flexready.models import Asset, Bacs, FlexRequest, RequestStatus
from grdf_access.models import Pce
from hub.control.models import ActuatorChannel, ControllableLoad
from hub.models import MeteringPoint, Site
from hub.portal import menu, panels
from smartoa.services import create_contract
from tests.conftest import Tenant
from tests.hub.test_portal_support import sign_in
from tic import selectors as tic_selectors
from tic.models import TicMeter, TicPort

pytestmark = pytest.mark.django_db

PANEL_KEYS = ["tic", "grdf", "smartoa", "flexready", "signals", "control"]


def _site_with_every_channel(tenant: Tenant, *, ads: str, pce: str, oa: str) -> Site:
    organisation = tenant.organisation
    site = Site.objects.create(organisation=organisation, name=f"Usine {organisation.slug}")
    prm = tenant.point
    prm.site = site
    prm.save()
    tic_point = MeteringPoint.objects.create(
        organisation=organisation, kind="tic_meter", identifier=ads, site=site
    )
    port = TicPort.objects.create(organisation=organisation, name="TGBT", url="loop://")
    TicMeter.objects.create(
        organisation=organisation,
        port=port,
        metering_point=tic_point,
        identifier=ads,
        family="pmepmi",
        power=30_000,
        subscribed_power=42_000,
        power_unit="VA",
        power_share=71.4,
        preavis_active=True,
    )
    gas = MeteringPoint.objects.create(
        organisation=organisation, kind="gas_pce", identifier=pce, site=site
    )
    Pce.objects.create(organisation=organisation, metering_point=gas)
    oa_point = MeteringPoint.objects.create(
        organisation=organisation, kind="oa_site", identifier=oa, site=site
    )
    create_contract(
        organisation=organisation,
        contract_id=oa,
        account_id=oa,
        api_token="x" * 20,
        site=site,
        metering_point=oa_point,
    )
    bacs = Bacs.objects.create(
        organisation=organisation,
        bacs_id=f"bacs-{organisation.slug}",
        name="GTB",
        metering_point=prm,
    )
    asset = Asset.objects.create(
        bacs=bacs,
        asset_id=f"asset-{organisation.slug}",
        flex_product="WID",
        power_w=50_000,
        mobilisation_delay_s=60,
        max_duration_s=3600,
        activations_per_day=2,
    )
    now = timezone.now()
    FlexRequest.objects.create(
        asset=asset,
        request_id=f"req-{organisation.slug}",
        flex_product="WID",
        program=[],
        start=now + dt.timedelta(hours=1),
        end=now + dt.timedelta(hours=2),
        status=RequestStatus.CONFIRMED,
        received_at=now,
    )
    channel = ActuatorChannel.objects.create(
        organisation=organisation, site=site, name="Automate", kind="modbus", host="127.0.0.1"
    )
    ControllableLoad.objects.create(
        organisation=organisation,
        site=site,
        channel=channel,
        name=f"Ventilation {organisation.slug}",
        kind="sheddable",
        nominal_power_w=5_000,
        address="1",
    )
    return site


def test_every_app_contributes_its_panel_in_order() -> None:
    """Registered from the apps' ready(): hub's panels module names none of them."""
    assert [p.key for p in panels.registered()] == PANEL_KEYS
    source = Path(panels.__file__).read_text(encoding="utf-8")
    assert not any(app in source for app in ("grdf_access", "smartoa", "flexready", "tic."))


def test_a_site_shows_each_channel_of_its_own_organisation_only(
    client: Client, tenant: Tenant, foreign: Tenant
) -> None:
    mine = _site_with_every_channel(tenant, ads="041436028024", pce="GI000001", oa="BOA-1")
    _site_with_every_channel(foreign, ads="041436028099", pce="GI000002", oa="BOA-2")
    sign_in(client, tenant.viewer)

    listing = client.get("/sites/").content.decode()
    assert f"/sites/{mine.pk}/" in listing and "Usine rival" not in listing

    response = client.get(f"/sites/{mine.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    for key in PANEL_KEYS:
        assert f'id="panel-{key}"' in page
    assert 'data-state="failed"' not in page
    for shown in ("041436028024", "Préavis de dépassement", "GI000001", "BOA-1", "asset-acme"):
        assert shown in page
    assert "req-acme" in page and "Ventilation acme" in page
    for hidden in ("041436028099", "GI000002", "BOA-2", "asset-rival", "Ventilation rival"):
        assert hidden not in page


def test_a_panel_with_nothing_for_the_site_says_so(client: Client, tenant: Tenant) -> None:
    site = Site.objects.create(organisation=tenant.organisation, name="Entrepôt vide")
    sign_in(client, tenant.viewer)
    page = client.get(f"/sites/{site.pk}/").content.decode()
    assert page.count('data-state="empty"') == len(PANEL_KEYS)
    assert "Aucun compteur TIC ne mesure ce site." in page
    assert "Aucun PCE GRDF sur ce site." in page
    assert "Aucun contrat Smart OA sur ce site." in page
    # "an empty chart says why and what to do" (issue 19): each empty panel says both.
    from hub.portal import panels

    for panel in panels.registered():
        why, _, what = str(panel.empty).partition(". ")
        assert why and what, panel.key


def test_a_failing_panel_degrades_and_the_others_still_render(
    client: Client, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dependency down → "degrade and log", never a 500 (house rule)."""
    site = _site_with_every_channel(tenant, ads="041436028024", pce="GI000001", oa="BOA-1")

    def database_down(**_: object) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(tic_selectors, "meters_of_points", database_down)
    sign_in(client, tenant.viewer)
    response = client.get(f"/sites/{site.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-state="failed"') == 1
    assert 'id="panel-tic" data-state="failed"' in page
    assert "Ce panneau est indisponible pour le moment" in page
    assert "GI000001" in page  # the GRDF panel is still there


def test_a_panel_whose_template_breaks_degrades_too(client: Client, tenant: Tenant) -> None:
    site = Site.objects.create(organisation=tenant.organisation, name="Annexe")
    panels.register(
        key="broken",
        title="Cassé",
        order=999,
        context=lambda **_: {"x": 1},
        template="does/not/exist.html",
    )
    try:
        sign_in(client, tenant.viewer)
        response = client.get(f"/sites/{site.pk}/")
    finally:
        panels.unregister("broken")
    assert response.status_code == 200
    assert 'id="panel-broken" data-state="failed"' in response.content.decode()


def test_another_organisations_site_is_not_found(
    client: Client, tenant: Tenant, foreign: Tenant
) -> None:
    theirs = Site.objects.create(organisation=foreign.organisation, name="theirs")
    sign_in(client, tenant.admin)
    assert client.get(f"/sites/{theirs.pk}/").status_code == 404


def test_the_menu_is_the_registered_entries_the_role_allows(client: Client, tenant: Tenant) -> None:
    sign_in(client, tenant.viewer)
    page = client.get("/").content.decode()
    for key in ("dashboard", "sites", "grdf", "smartoa", "flexready", "tic", "control", "security"):
        assert f'data-menu="{key}"' in page
    assert 'data-menu="tokens"' not in page  # admins only
    assert 'data-menu="admin"' not in page  # staff only

    menu.register(key="extra", label="Nouvelle page", url_name="portal:sites", order=7)
    try:
        client.logout()
        sign_in(client, tenant.admin)
        page = client.get("/").content.decode()
    finally:
        menu.unregister("extra")
    assert 'data-menu="tokens"' in page
    assert page.index('data-menu="sites"') < page.index('data-menu="extra"')
    assert page.index('data-menu="extra"') < page.index('data-menu="grdf"')
