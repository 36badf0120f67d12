"""Password change and reset, with their e-mails and audit events."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from hub.models import AuditEvent
from tests.conftest import PASSWORD
from tests.hub.test_portal_support import enrol_totp, password_step, sign_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a fresh and long passphrase 42"


def test_password_change_needs_the_second_factor(client: Client, tenant) -> None:
    enrol_totp(tenant.viewer)
    password_step(client, tenant.viewer)
    assert client.get("/accounts/password/change/")["Location"].startswith(
        "/accounts/second-factor/"
    )


def test_password_change(client: Client, tenant) -> None:
    sign_in(client, tenant.viewer)
    response = client.post(
        "/accounts/password/change/",
        {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response["Location"] == "/accounts/password/change/done/"
    # Still signed in, still verified.
    assert client.get("/").status_code == 200
    tenant.viewer.refresh_from_db()
    assert tenant.viewer.check_password(NEW_PASSWORD)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [tenant.viewer.email]
    assert "changé" in mail.outbox[0].body
    event = AuditEvent.objects.get(action="auth.password_changed")
    assert event.actor == tenant.viewer and event.after == {"how": "change"}


def test_password_reset_by_email(client: Client, tenant) -> None:
    response = client.post("/accounts/password/reset/", {"email": tenant.viewer.email.upper()})
    assert response["Location"] == "/accounts/password/reset/done/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [tenant.viewer.email]
    assert "Réinitialisation" in message.subject
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/)", message.body).group(1)

    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response["Location"] == "/accounts/password/reset/complete/"
    tenant.viewer.refresh_from_db()
    assert tenant.viewer.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="auth.password_changed", actor=tenant.viewer).exists()
    assert len(mail.outbox) == 2 and "réinitialisé" in mail.outbox[1].body
    # The reset signs nobody in: both doors are still there.
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_password_reset_for_an_unknown_address_sends_nothing(client: Client, db) -> None:
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert response["Location"] == "/accounts/password/reset/done/"
    assert mail.outbox == []


def test_password_set_from_the_admin_is_audited_and_told(client: Client, tenant) -> None:
    staff = tenant.admin
    staff.is_staff = staff.is_superuser = True
    staff.save()
    sign_in(client, staff)
    response = client.post(
        f"/admin/hub/user/{tenant.viewer.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:500]
    tenant.viewer.refresh_from_db()
    assert tenant.viewer.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="auth.password_changed")
    assert event.actor == staff and event.object_id == str(tenant.viewer.pk)
    assert event.after == {"how": "admin"}
    assert [m.to for m in mail.outbox] == [[tenant.viewer.email]]


@pytest.fixture
def fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def test_reset_mails_per_address_are_limited(client: Client, tenant, fresh_cache) -> None:
    for _ in range(5):
        response = client.post("/accounts/password/reset/", {"email": tenant.viewer.email})
        assert response["Location"] == "/accounts/password/reset/done/"
    assert len(mail.outbox) == 3


def test_reset_requests_per_ip_are_limited(client: Client, db, fresh_cache) -> None:
    codes = [
        client.post("/accounts/password/reset/", {"email": f"n{i}@example.org"}).status_code
        for i in range(11)
    ]
    assert codes[:10] == [302] * 10
    assert codes[10] == 429
