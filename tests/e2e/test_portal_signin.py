"""Signing in through a real browser: TOTP enrolment and reuse, then a FIDO2 security key."""

from __future__ import annotations

import base64
import re
import time

import pytest
from django_otp.oath import TOTP
from django_otp_webauthn.models import WebAuthnCredential

from hub.models import AuditEvent, EncryptedTOTPDevice, Membership, Organisation, Role, User
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def totp_from_secret(secret: str, steps_ahead: int = 0) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{TOTP(key, drift=steps_ahead).token():06d}"


def make_person(email: str) -> User:
    organisation = Organisation.objects.create(slug="e2e", name="Énergie E2E")
    user = User.objects.create_user(email, PASSWORD)
    Membership.objects.create(user=user, organisation=organisation, role=Role.ADMIN)
    return user


def password_step(page, email: str) -> None:
    page.goto("/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")


def log_out(page) -> None:
    page.click("#logout")
    page.wait_for_url(re.compile(r"/accounts/login/$"))


def test_totp_enrolment_then_sign_in_and_reuse_refused(page) -> None:
    started = time.monotonic()
    make_person("alice@e2e.example")

    password_step(page, "alice@e2e.example")
    page.wait_for_url(re.compile(r"/accounts/second-factor/enrol/"))
    assert page.locator(".qr svg").count() == 1
    secret = page.get_attribute("#totp-secret", "data-secret")
    assert secret and page.inner_text("#totp-secret").replace(" ", "") == secret
    page.fill("input[name=code]", totp_from_secret(secret))
    page.click("#enrol-submit")
    assert page.locator("#recovery-codes li").count() == 10
    page.click("#codes-continue")
    page.wait_for_selector("#dashboard-title")
    assert page.inner_text("#dashboard-title") == "Énergie E2E"
    log_out(page)

    # The code of the next time step is fresh (the device allows one step of clock skew),
    # so the second sign-in needs no wait for the clock to move on.
    fresh = totp_from_secret(secret, steps_ahead=1)
    password_step(page, "alice@e2e.example")
    page.wait_for_url(re.compile(r"/accounts/second-factor/"))
    page.fill("input[name=code]", fresh)
    page.click("#code-submit")
    page.wait_for_selector("#dashboard-title")
    log_out(page)

    password_step(page, "alice@e2e.example")
    page.fill("input[name=code]", fresh)
    page.click("#code-submit")
    assert "déjà utilisé" in page.inner_text(".field.invalid")
    assert "/accounts/second-factor/" in page.url
    page.goto("/")
    assert "/accounts/second-factor/" in page.url
    print(f"\ne2e TOTP: {time.monotonic() - started:.1f} s")


def test_security_key_registration_and_sign_in(page, portal_url) -> None:
    started = time.monotonic()
    user = make_person("bob@e2e.example")
    device = EncryptedTOTPDevice.objects.create(user=user, name="Téléphone", confirmed=True)

    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )

    password_step(page, "bob@e2e.example")
    page.fill("input[name=code]", f"{TOTP(device.bin_key).token():06d}")
    page.click("#code-submit")
    page.wait_for_selector("#dashboard-title")

    page.goto("/security/")
    page.click("#passkey-register-button")
    page.wait_for_selector("#security-keys li form")  # the page reloads with the new key
    assert WebAuthnCredential.objects.filter(user=user, confirmed=True).count() == 1
    log_out(page)

    password_step(page, "bob@e2e.example")
    page.wait_for_url(re.compile(r"/accounts/second-factor/"))
    page.click("#passkey-verification-button")
    page.wait_for_selector("#dashboard-title")
    assert page.url == f"{portal_url}/"
    assert AuditEvent.objects.filter(
        action="auth.login", actor=user, after__factor="webauthncredential"
    ).exists()
    print(f"\ne2e WebAuthn: {time.monotonic() - started:.1f} s")
