"""The dashboard, switching organisation, roles, API tokens and device removal."""

from __future__ import annotations

import pytest
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import Client
from django.utils import timezone
from django_otp.middleware import OTPMiddleware
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from hub.models import ApiToken, AuditEvent, EncryptedTOTPDevice, Membership, PollRun, Role
from hub.portal.api_auth import VerifiedSessionAuthentication
from hub.services.tokens import create_token
from tests.hub.test_portal_support import enrol_totp, password_step, sign_in

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_dashboard_shows_only_the_current_organisation(client: Client, tenant, foreign) -> None:
    PollRun.objects.create(
        organisation=tenant.organisation,
        source="grdf-acme",
        started_at=timezone.now(),
        outcome="success",
    )
    PollRun.objects.create(
        organisation=foreign.organisation,
        source="grdf-rival",
        started_at=timezone.now(),
        outcome="failed",
    )
    sign_in(client, tenant.viewer)
    page = client.get("/").content.decode()
    assert tenant.point.identifier in page and "grdf-acme" in page
    assert foreign.point.identifier not in page and "grdf-rival" not in page


def test_dashboard_names_poll_sources_and_explains_an_empty_list(client: Client, tenant) -> None:
    """Rule (reach): "every code shown as its label" and "an empty chart says why and what to
    do": a run's source is named in the page's language, and with no run yet the card says
    where the shown data came from and when runs will appear."""
    sign_in(client, tenant.viewer)
    empty = client.get("/").content.decode()
    assert "Aucune collecte automatique n'a encore tourné" in empty
    PollRun.objects.create(
        organisation=tenant.organisation,
        source="flexready-supplier",
        started_at=timezone.now(),
        outcome="success",
    )
    page = client.get("/").content.decode()
    assert "Signal fournisseur (prix, CO2)" in page and "flexready-supplier" not in page
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Supplier signal (price, CO2)" in english


def test_switching_to_an_own_organisation(client: Client, tenant, foreign) -> None:
    Membership.objects.create(
        user=tenant.viewer, organisation=foreign.organisation, role=Role.VIEWER
    )
    sign_in(client, tenant.viewer)
    assert (
        client.post("/organisation/", {"organisation": foreign.organisation.pk}).status_code == 302
    )
    assert client.session["organisation_id"] == foreign.organisation.pk
    assert foreign.point.identifier in client.get("/").content.decode()


def test_switching_to_a_foreign_organisation_is_refused(client: Client, tenant, foreign) -> None:
    sign_in(client, tenant.admin)
    response = client.post("/organisation/", {"organisation": foreign.organisation.pk})
    assert response.status_code == 404
    assert "organisation_id" not in client.session
    assert client.post("/organisation/", {"organisation": "x"}).status_code == 404
    assert client.get("/organisation/").status_code == 405


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_token_page_is_for_admins_only(client: Client, tenant, role) -> None:
    user = getattr(tenant, role)
    sign_in(client, user)
    assert client.get("/tokens/").status_code == 403
    token = create_token(organisation=tenant.organisation, name="t").token
    assert client.post(f"/tokens/{token.pk}/revoke/").status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None
    assert "Jetons d&#x27;API" not in client.get("/").content.decode()


def test_admin_creates_a_token_shown_once(client: Client, tenant) -> None:
    sign_in(client, tenant.admin)
    response = client.post(
        "/tokens/",
        {"name": "ERP", "scopes": ["read"], "allowed_networks": "203.0.113.0/24\n198.51.100.7"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    token = ApiToken.objects.get(organisation=tenant.organisation, name="ERP")
    assert f"hub_{token.prefix}_" in page
    assert token.allowed_networks == ["203.0.113.0/24", "198.51.100.7/32"]
    assert token.created_by == tenant.admin
    event = AuditEvent.objects.get(action="api_token.created")
    assert event.actor == tenant.admin and event.organisation == tenant.organisation
    # The list shows the prefix, never the plaintext again.
    listing = client.get("/tokens/").content.decode()
    assert token.prefix in listing and f"hub_{token.prefix}_" not in listing


def test_bad_token_specs_are_form_errors(client: Client, tenant) -> None:
    sign_in(client, tenant.admin)
    create_token(organisation=tenant.organisation, name="ERP")
    page = client.post("/tokens/", {"name": "ERP", "scopes": ["read"]}).content.decode()
    assert "porte déjà ce nom" in page
    page = client.post(
        "/tokens/", {"name": "New", "scopes": ["read"], "allowed_networks": "not-a-network"}
    ).content.decode()
    assert "Réseau invalide" in page
    page = client.post(
        "/tokens/", {"name": "Old", "scopes": ["read"], "expires_on": "2000-01-01"}
    ).content.decode()
    assert "date future" in page
    assert ApiToken.objects.filter(organisation=tenant.organisation).count() == 1


def test_admin_revokes_a_token_with_htmx(client: Client, tenant) -> None:
    token = create_token(organisation=tenant.organisation, name="ERP").token
    sign_in(client, tenant.admin)
    response = client.post(f"/tokens/{token.pk}/revoke/", **HTMX)
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith(f'<tr id="token-{token.pk}"')
    assert "révoqué le" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    event = AuditEvent.objects.get(action="api_token.revoked")
    assert event.actor == tenant.admin and event.object_id == str(token.pk)


def test_revoking_without_htmx_redirects(client: Client, tenant) -> None:
    token = create_token(organisation=tenant.organisation, name="ERP").token
    sign_in(client, tenant.admin)
    assert client.post(f"/tokens/{token.pk}/revoke/")["Location"] == "/tokens/"


def test_a_foreign_token_id_answers_404(client: Client, tenant, foreign) -> None:
    theirs = create_token(organisation=foreign.organisation, name="theirs").token
    sign_in(client, tenant.admin)
    assert client.post(f"/tokens/{theirs.pk}/revoke/", **HTMX).status_code == 404
    assert client.post("/tokens/999999/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_removing_a_device_is_scoped_to_its_owner(client: Client, tenant) -> None:
    sign_in(client, tenant.admin)
    spare = enrol_totp(tenant.admin)
    others = enrol_totp(tenant.viewer)
    assert client.post(f"/security/devices/totp/{others.pk}/remove/").status_code == 404
    assert client.post("/security/devices/bogus/1/remove/").status_code == 404
    assert client.post(f"/security/devices/totp/{spare.pk}/remove/").status_code == 302
    assert not EncryptedTOTPDevice.objects.filter(pk=spare.pk).exists()
    assert AuditEvent.objects.filter(action="mfa.device_removed", actor=tenant.admin).count() == 1


def test_the_last_factor_cannot_be_removed(client: Client, tenant) -> None:
    device = sign_in(client, tenant.admin)
    client.post(f"/security/devices/totp/{device.pk}/remove/")
    assert EncryptedTOTPDevice.objects.filter(pk=device.pk).exists()


def test_security_page_lists_factors(client: Client, tenant) -> None:
    sign_in(client, tenant.viewer)
    page = client.get("/security/").content.decode()
    assert "Téléphone" in page and "passkey-register-button" in page


def test_security_key_scripts_speak_french(client: Client) -> None:
    assert "Enregistrement annul" in client.get("/webauthn/jsi18n/").content.decode()


def _api_authenticate(session_client: Client):
    """What VerifiedSessionAuthentication makes of a request carrying this client's session."""
    request = APIRequestFactory().get("/api/v1/")
    request.COOKIES = {k: v.value for k, v in session_client.cookies.items()}
    SessionMiddleware(lambda r: None).process_request(request)
    AuthenticationMiddleware(lambda r: None).process_request(request)
    OTPMiddleware(lambda r: None)._install_lazy_accessors(request)
    request._dont_enforce_csrf_checks = True
    return VerifiedSessionAuthentication().authenticate(Request(request))


def test_api_session_authentication_wants_the_second_factor(tenant) -> None:
    enrol_totp(tenant.viewer)
    half = Client()
    password_step(half, tenant.viewer)
    assert _api_authenticate(half) is None
    full = Client()
    sign_in(full, tenant.viewer, steps_ahead=1)
    user, _auth = _api_authenticate(full)
    assert user.pk == tenant.viewer.pk


def test_error_pages_speak_french(client: Client, tenant) -> None:
    sign_in(client, tenant.viewer)
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404 and "Page introuvable" in missing.content.decode()
    denied = client.get("/tokens/")  # viewers may not manage tokens
    assert denied.status_code == 403 and "Accès refusé" in denied.content.decode()


def test_iso_days_kept_in_json_are_shown_in_the_readers_format() -> None:
    """Rule (reach): "dates ... in the user's locale (10/12/2026)": a day stored as ISO text in
    a JSON field (a realisation's baseline days) is not shown as 2026-11-29."""
    from django.utils import translation

    from hub.templatetags.hub_labels import iso_day

    with translation.override("fr"):
        assert iso_day("2026-11-29") == "29/11/2026"
    with translation.override("en"):
        assert iso_day("2026-11-29") == "29/11/2026"
    assert iso_day("") == "" and iso_day("not a day") == "not a day"
