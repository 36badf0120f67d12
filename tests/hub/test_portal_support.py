"""Helpers for the portal tests: enrolled devices, codes, and signing in through the pages."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django_otp.oath import TOTP

from hub.models import EncryptedTOTPDevice, User
from tests.conftest import PASSWORD


def enrol_totp(user: User) -> EncryptedTOTPDevice:
    return EncryptedTOTPDevice.objects.create(user=user, name="Téléphone", confirmed=True)


def totp_code(device: EncryptedTOTPDevice, steps_ahead: int = 0) -> str:
    """The code the app shows now (or ``steps_ahead`` steps later, within the tolerance)."""
    totp = TOTP(device.bin_key, device.step, 0, device.digits, steps_ahead)
    return f"{totp.token():0{device.digits}d}"


def password_step(client: Client, user: User, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post("/accounts/login/", {"email": user.email, "password": password}, **extra)


def sign_in(
    client: Client, user: User, device: EncryptedTOTPDevice | None = None, steps_ahead: int = 0
) -> EncryptedTOTPDevice:
    """Password then TOTP: the client ends fully signed in."""
    device = device or EncryptedTOTPDevice.objects.filter(user=user).first() or enrol_totp(user)
    response = password_step(client, user)
    assert response.status_code == 302, response.content[:500]
    response = client.post("/accounts/second-factor/", {"code": totp_code(device, steps_ahead)})
    assert response.status_code == 302 and "second-factor" not in response["Location"], (
        response.content[:800]
    )
    return device
