"""Control API and portal page: organisation scope, write scope, 404 for a foreign id, 400s."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from hub.control.models import ManualOverride, SiteControl
from hub.models import ApiToken, AuditEvent
from hub.services.tokens import create_token
from tests.api_problems import field_errors
from tests.hub.control.conftest import make_building
from tests.hub.test_portal_support import sign_in

pytestmark = pytest.mark.django_db


def _client(tenant, scopes=(), name="t"):  # type: ignore[no-untyped-def]
    client = APIClient()
    name = f"{name}-{'-'.join(scopes)}-{ApiToken.objects.count()}"
    token = create_token(organisation=tenant.organisation, name=name, scopes=scopes).plaintext
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_site_lists_its_loads_and_a_foreign_site_is_404(tenant, foreign):
    mine = make_building(tenant, None)
    theirs = make_building(foreign, None, name="Ailleurs")
    client = _client(tenant, ["read"])
    response = client.get(f"/api/v1/control/sites/{mine.site.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert [x["name"] for x in body["loads"]] == [x.name for x in mine.loads]
    assert body["dry_run"] is False
    assert client.get(f"/api/v1/control/sites/{theirs.site.pk}/").status_code == 404
    assert client.get("/api/v1/control/sites/").json()["results"][0]["id"] == mine.site.pk


def test_an_override_needs_the_write_scope_and_is_audited(tenant):
    b = make_building(tenant, None)
    ends = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    url = f"/api/v1/control/loads/{b.loads[0].pk}/override/"
    body = {"value": 0, "ends_at": ends, "reason": "visite"}
    assert _client(tenant, ["read"]).post(url, body, format="json").status_code == 403
    response = _client(tenant, ["write"], name="robot").post(url, body, format="json")
    assert response.status_code == 201, response.content
    override = ManualOverride.objects.get()
    assert override.created_by.startswith("jeton robot")
    assert AuditEvent.objects.filter(action="control.override_set").count() == 1
    cancel = f"/api/v1/control/overrides/{override.pk}/cancel/"
    writer = _client(tenant, ["write"])
    assert writer.post(cancel).status_code == 204
    assert writer.post(cancel).status_code == 404  # already cancelled


def test_bad_input_is_a_400_naming_the_field(tenant):
    b = make_building(tenant, None)
    client = _client(tenant, ["write"])
    url = f"/api/v1/control/loads/{b.loads[0].pk}/override/"
    past = (timezone.now() - dt.timedelta(minutes=1)).isoformat()
    response = client.post(url, {"value": 0, "ends_at": past}, format="json")
    assert response.status_code == 400 and "ends_at" in field_errors(response)
    response = client.post(url, {"value": "x", "ends_at": past}, format="json")
    assert response.status_code == 400 and "value" in field_errors(response)
    response = client.post(
        url,
        {"value": 5, "ends_at": (timezone.now() + dt.timedelta(hours=1)).isoformat()},
        format="json",
    )
    assert response.status_code == 400 and "value" in field_errors(response)
    dry = f"/api/v1/control/sites/{b.site.pk}/dry-run/"
    assert client.post(dry, {"dry_run": "peut-être"}, format="json").status_code == 400


def test_the_dry_run_switch_through_the_api(tenant, foreign):
    b = make_building(tenant, None)
    theirs = make_building(foreign, None, name="Ailleurs")
    client = _client(tenant, ["write"])
    response = client.post(
        f"/api/v1/control/sites/{b.site.pk}/dry-run/", {"dry_run": True}, format="json"
    )
    assert response.status_code == 200 and SiteControl.objects.get(site=b.site).dry_run
    foreign_url = f"/api/v1/control/sites/{theirs.site.pk}/dry-run/"
    assert client.post(foreign_url, {"dry_run": True}, format="json").status_code == 404
    assert AuditEvent.objects.filter(action="control.dry_run").count() == 1


def test_the_portal_page_shows_loads_holders_and_the_override_form_in_french(tenant, client):
    b = make_building(tenant, None)
    load = b.loads[1]
    load.value, load.held_by, load.held_reason = 0.0, "tic.servo", "préavis de dépassement"
    load.save()
    sign_in(client, tenant.operator)
    page = client.get(f"/control/sites/{b.site.pk}/")
    text = page.content.decode()
    assert page.status_code == 200
    for label in ("Charges", "Tenue par", "Forçage manuel", "Commandes du jour", "arrêtée"):
        assert label in text
    assert "préavis de dépassement" in text
    ends = (timezone.localtime() + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/control/loads/{load.pk}/override/", {"value": "1", "ends_at": ends, "reason": "test"}
    )
    assert response.status_code == 302
    assert ManualOverride.objects.get().value == 1.0


def test_a_viewer_sees_the_page_but_cannot_override(tenant, client):
    b = make_building(tenant, None)
    sign_in(client, tenant.viewer)
    assert "Forcer" not in client.get(f"/control/sites/{b.site.pk}/").content.decode()
    ends = (timezone.localtime() + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/control/loads/{b.loads[0].pk}/override/", {"value": "0", "ends_at": ends}
    )
    assert response.status_code == 403
