"""Throttling then lockout after repeated failures, per account and per IP, and unlocking."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from hub.models import AuditEvent, Lockout
from hub.portal import lockout
from tests.hub.test_portal_support import enrol_totp, password_step, sign_in, totp_code

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_throttle_delay(settings) -> None:
    # The lock is what these tests look at; the short waits before it are tested on their own.
    settings.PORTAL_LOCKOUT = {**settings.PORTAL_LOCKOUT, "throttle_base_seconds": 0}


def fail_passwords(client: Client, user, times: int, **extra) -> None:
    for _ in range(times):
        response = password_step(client, user, password="wrong password!", **extra)
        assert response.status_code == 200


def test_five_wrong_passwords_lock_the_account(client: Client, tenant) -> None:
    enrol_totp(tenant.viewer)
    fail_passwords(client, tenant.viewer, 4)
    assert not Lockout.objects.exists()
    fail_passwords(client, tenant.viewer, 1)
    assert Lockout.objects.filter(scope="email", key=tenant.viewer.email).exists()

    response = password_step(client, tenant.viewer)  # the right password, refused unchecked
    assert response.status_code == 200
    assert "la connexion est verrouillée" in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 5
    assert AuditEvent.objects.filter(action="auth.locked").count() == 2  # account and IP

    # From another address the account stays locked.
    other = Client(REMOTE_ADDR="198.51.100.7")
    assert password_step(other, tenant.viewer).status_code == 200


def test_unknown_addresses_lock_like_real_ones(client: Client, tenant) -> None:
    for _ in range(5):
        client.post("/accounts/login/", {"email": "nobody@acme.example", "password": "x" * 12})
    assert Lockout.objects.filter(scope="email", key="nobody@acme.example").exists()


def test_failures_from_one_ip_lock_that_ip(client: Client, tenant, foreign) -> None:
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for user in (tenant.viewer, tenant.operator, foreign.viewer, foreign.operator, foreign.admin):
        fail_passwords(attacker, user, 1)
    assert Lockout.objects.filter(scope="ip", key="203.0.113.9").exists()
    assert not Lockout.objects.filter(scope="email").exists()

    enrol_totp(tenant.admin)
    response = password_step(attacker, tenant.admin)
    assert "verrouillée" in response.content.decode()
    # The same person from elsewhere is not locked.
    assert password_step(Client(REMOTE_ADDR="198.51.100.7"), tenant.admin).status_code == 302


def test_wrong_codes_lock_and_sign_out(client: Client, tenant) -> None:
    device = enrol_totp(tenant.viewer)
    password_step(client, tenant.viewer)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    for _ in range(4):
        response = client.post("/accounts/second-factor/", {"code": wrong})
        assert response.status_code == 200
    response = client.post("/accounts/second-factor/", {"code": wrong}, follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert "verrouillée" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert password_step(client, tenant.viewer).status_code == 200  # still locked


def test_throttle_asks_to_wait_before_the_lock(client: Client, tenant, settings) -> None:
    settings.PORTAL_LOCKOUT = {**settings.PORTAL_LOCKOUT, "throttle_base_seconds": 60}
    enrol_totp(tenant.viewer)
    fail_passwords(client, tenant.viewer, 2)
    response = password_step(client, tenant.viewer)
    assert "patientez" in response.content.decode()
    assert not Lockout.objects.exists()
    # The refused attempt was not even checked, so it is not a failure either.
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 2


def test_lock_ends_by_itself(tenant) -> None:
    now = timezone.now()
    for i in range(5):
        lockout.note_failure(
            email=tenant.viewer.email,
            ip="192.0.2.1",
            stage="password",
            now=now + dt.timedelta(seconds=i),
        )
    assert lockout.refusal(email=tenant.viewer.email, ip=None, now=now).locked
    later = now + dt.timedelta(minutes=16)
    assert lockout.refusal(email=tenant.viewer.email, ip=None, now=later) is None


def test_unlock_command(client: Client, tenant, capsys) -> None:
    enrol_totp(tenant.viewer)
    fail_passwords(client, tenant.viewer, 5)
    call_command("unlock_user", tenant.viewer.email.upper(), "--ip", "127.0.0.1")
    assert "2 verrouillage(s)" in capsys.readouterr().out
    assert password_step(client, tenant.viewer).status_code == 302
    event = AuditEvent.objects.filter(action="auth.unlocked").first()
    assert event is not None and event.actor_label == "manage.py unlock_user"


def test_admin_unlocks_from_the_admin(client: Client, tenant) -> None:
    staff = tenant.admin
    staff.is_staff = staff.is_superuser = True
    staff.save()
    victim = Client(REMOTE_ADDR="198.51.100.20")
    enrol_totp(tenant.viewer)
    fail_passwords(victim, tenant.viewer, 5)
    locks = list(Lockout.objects.values_list("pk", flat=True))
    assert len(locks) == 2

    sign_in(client, staff)
    response = client.post(
        "/admin/hub/lockout/", {"action": "unlock", "_selected_action": locks}, follow=True
    )
    assert response.status_code == 200
    assert not Lockout.objects.filter(lifted_at__isnull=True).exists()
    assert set(Lockout.objects.values_list("lifted_by", flat=True)) == {staff.pk}
    assert AuditEvent.objects.filter(action="auth.unlocked", actor=staff).count() == 2
    assert password_step(victim, tenant.viewer).status_code == 302


def test_a_complete_sign_in_forgets_earlier_failures(client: Client, tenant) -> None:
    fail_passwords(client, tenant.viewer, 4)
    sign_in(client, tenant.viewer)
    client.post("/accounts/logout/")
    fail_passwords(client, tenant.viewer, 1)
    assert not Lockout.objects.filter(scope="email").exists()
