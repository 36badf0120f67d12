"""Second factors: which a user holds, enrolling a TOTP app, recovery codes, checking a code."""

from __future__ import annotations

import secrets
from base64 import b32encode
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp_webauthn.models import WebAuthnCredential

from hub.actors import Actor
from hub.models import EncryptedTOTPDevice, RecoveryCode, RecoveryCodeDevice, User
from hub.models.mfa import hash_recovery_code
from hub.netaddr import client_ip
from hub.portal import lockout
from hub.services import audit

RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed by hand


@dataclass(frozen=True)
class Devices:
    totp: list[EncryptedTOTPDevice]
    keys: list[WebAuthnCredential]
    recovery: RecoveryCodeDevice | None

    @property
    def strong(self) -> int:
        """Factors that stand on their own (recovery codes only stand in for a lost one)."""
        return len(self.totp) + len(self.keys)


def devices_of(user: User) -> Devices:
    return Devices(
        totp=list(EncryptedTOTPDevice.objects.filter(user=user, confirmed=True).order_by("id")),
        keys=list(WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("id")),
        recovery=RecoveryCodeDevice.objects.filter(user=user, confirmed=True).first(),
    )


def is_enrolled(user: User) -> bool:
    return devices_of(user).strong > 0


# --- TOTP enrolment ---


def pending_totp(user: User) -> EncryptedTOTPDevice:
    """The unconfirmed device being enrolled: the same secret on every reload of the page."""
    device = EncryptedTOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = EncryptedTOTPDevice.objects.create(
            user=user, name=_("Application d'authentification"), confirmed=False
        )
    return device


def b32_secret(device: EncryptedTOTPDevice) -> str:
    return b32encode(device.bin_key).decode("ascii").rstrip("=")


def grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(device: EncryptedTOTPDevice) -> str:
    issuer = str(settings.PORTAL_TOTP_ISSUER).replace(":", "")
    label = quote(f"{issuer}:{device.user.get_username()}")
    params = urlencode(
        {
            "secret": b32_secret(device),
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        }
    )
    return f"otpauth://totp/{label}?{params}"


def qr_svg(data: str) -> str:
    """An inline SVG of ``data``: no image request, nothing sent to a third-party QR service."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")


def confirm_totp(request: HttpRequest, device: EncryptedTOTPDevice, code: str) -> bool:
    if not device.verify_token(code):
        return False
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit.record(
            action="mfa.device_added",
            actor=Actor.from_request(request),
            target=device,
            after={"type": "totp", "name": device.name},
        )
    return True


# --- Recovery codes ---


def _new_code() -> str:
    # 16 characters of 5 bits each: 80 random bits.
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _i in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def regenerate_recovery_codes(request: HttpRequest, user: User) -> list[str]:
    """A fresh set of codes replacing any earlier set; the plaintext exists only in the answer."""
    codes = [_new_code() for _i in range(settings.PORTAL_RECOVERY_CODES)]
    with transaction.atomic():
        device, _created = RecoveryCodeDevice.objects.get_or_create(
            user=user, defaults={"name": _("Codes de secours")}
        )
        device.codes.all().delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(device=device, code_hash=hash_recovery_code(c)) for c in codes
        )
        device.throttle_reset(commit=True)
        audit.record(
            action="mfa.recovery_codes_generated",
            actor=Actor.person(user, ip=client_ip(request)),
            target=device,
            after={"count": len(codes)},
        )
    return codes


# --- Checking a code at the second-factor step ---


def match_code(user: User, code: str) -> Any | None:
    """The device that accepts ``code`` (six digits: a TOTP app; otherwise a recovery code)."""
    compact = "".join(code.split())
    if compact.isdigit() and len(compact) == 6:
        for device in EncryptedTOTPDevice.objects.filter(user=user, confirmed=True):
            if device.verify_token(compact):
                return device
        return None
    recovery = RecoveryCodeDevice.objects.filter(user=user, confirmed=True).first()
    if recovery is not None and recovery.verify_token(compact):
        return recovery
    return None


def complete_login(request: HttpRequest, device: Any) -> None:
    """Mark the session as verified by ``device`` and record the sign-in."""
    if device.user_id != request.user.pk:
        raise PermissionDenied  # never mark a session verified by someone else's device
    otp_login(request, device)
    user = device.user
    lockout.forget_failures(email=user.get_username())
    audit.record(
        action="auth.login",
        actor=Actor.person(user, ip=client_ip(request)),
        target=user,
        after={"factor": device._meta.model_name},
    )
