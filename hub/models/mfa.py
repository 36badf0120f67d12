"""Second factors and the record of failed sign-ins.

django-otp's own ``TOTPDevice`` keeps its secret as plain hex and its ``StaticToken`` keeps
recovery codes in clear. The two devices here follow the same django-otp ``Device`` contract
(so ``OTPMiddleware``, ``devices_for_user`` and ``django_otp.login`` work unchanged) but keep the
TOTP secret encrypted with the hub's field keys and only a hash of each recovery code.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from binascii import unhexlify
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from hub.fields import EncryptedTextField


def _random_hex_key() -> str:
    return secrets.token_hex(20)  # 160 bits, RFC 4226's recommended HMAC-SHA1 key length


class EncryptedTOTPDevice(TimestampMixin, ThrottlingMixin, Device):
    """A TOTP authenticator app (RFC 6238, SHA-1, 6 digits, 30 s)."""

    # Redeclared from Device without a reverse accessor: django-otp's untyped DeviceManager
    # would leave type checkers unable to resolve one.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    key = EncryptedTextField(_("secret"), default=_random_hex_key)
    step = models.PositiveSmallIntegerField(default=30)
    digits = models.PositiveSmallIntegerField(default=6)
    # One step either side absorbs clock skew between the phone and the server.
    tolerance = models.PositiveSmallIntegerField(default=1)
    # The time step of the last accepted code: a code is accepted only for a later step,
    # so a code seen by a shoulder-surfer or replayed from a log is refused.
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        verbose_name = _("application d'authentification")
        verbose_name_plural = _("applications d'authentification")

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.key.encode("ascii"))

    def totp(self) -> TOTP:
        totp = TOTP(self.bin_key, self.step, 0, self.digits, 0)
        totp.time = time.time()
        return totp

    def get_throttle_factor(self) -> int:
        return int(getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1))

    def verify_token(self, token: Any) -> bool:
        """Check ``token``; on success remember its time step so it can never be used again.

        The row is locked while checking so that two concurrent requests carrying the same
        code cannot both pass the ``last_t`` test.
        """
        with transaction.atomic():
            locked = type(self).objects.select_for_update().get(pk=self.pk)
            allowed, _info = locked.verify_is_allowed()
            if not allowed:
                return False
            try:
                code = int(str(token).strip())
            except ValueError:
                code = None
            totp = locked.totp()
            verified = code is not None and totp.verify(code, locked.tolerance, locked.last_t + 1)
            if verified:
                locked.last_t = totp.t()
                locked.throttle_reset(commit=False)
                locked.set_last_used_timestamp(commit=False)
            else:
                locked.throttle_increment(commit=False)
            locked.save()
        for field in (
            "last_t",
            "throttling_failure_count",
            "throttling_failure_timestamp",
            "last_used_at",
        ):
            setattr(self, field, getattr(locked, field))
        return bool(verified)


def hash_recovery_code(code: str) -> str:
    # Codes carry 80 random bits, so a fast hash is enough (as for API tokens).
    return hashlib.sha256(normalise_recovery_code(code).encode("ascii")).hexdigest()


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


class RecoveryCodeDevice(ThrottlingMixin, Device):
    """A user's set of single-use recovery codes (at most one such device per user)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )

    created_at = models.DateTimeField(default=timezone.now)

    class Meta(Device.Meta):
        verbose_name = _("codes de secours")
        verbose_name_plural = _("codes de secours")

    def get_throttle_factor(self) -> int:
        return int(getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1))

    def remaining(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()

    def verify_token(self, token: Any) -> bool:
        allowed, _info = self.verify_is_allowed()
        if not allowed:
            return False
        digest = hash_recovery_code(str(token))
        # A conditional UPDATE consumes the code atomically: of two concurrent uses, one wins.
        used = self.codes.filter(code_hash=digest, used_at__isnull=True).update(
            used_at=timezone.now()
        )
        if used:
            self.throttle_reset()
            return True
        self.throttle_increment()
        return False


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("code de secours")
        constraints = [
            models.UniqueConstraint(fields=["device", "code_hash"], name="recovery_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id}: {'utilisé' if self.used_at else 'disponible'}"


class AuthStage(models.TextChoices):
    PASSWORD = "password", _("mot de passe")
    OTP = "otp", _("second facteur")


class AuthFailure(models.Model):
    """One failed password or second-factor attempt, counted per e-mail and per IP address."""

    at = models.DateTimeField(_("date"), default=timezone.now)
    # The e-mail as typed (normalised), whether or not an account exists: locking unknown
    # addresses too keeps the lock from revealing which addresses have accounts.
    email = models.CharField(_("adresse e-mail"), max_length=254, blank=True)
    ip = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    stage = models.CharField(max_length=16, choices=AuthStage.choices)

    class Meta:
        verbose_name = _("échec de connexion")
        verbose_name_plural = _("échecs de connexion")
        ordering = ("-at",)
        indexes = [
            models.Index(fields=["email", "at"], name="auth_failure_email_at"),
            models.Index(fields=["ip", "at"], name="auth_failure_ip_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.email or '-'} {self.ip or '-'} {self.stage}"


class LockScope(models.TextChoices):
    EMAIL = "email", _("compte")
    IP = "ip", _("adresse IP")


class Lockout(models.Model):
    """Sign-ins refused for ``key`` (an e-mail or an IP address) until ``until`` or an unlock."""

    scope = models.CharField(_("portée"), max_length=8, choices=LockScope.choices)
    key = models.CharField(_("clé"), max_length=254)
    started_at = models.DateTimeField(_("début"))
    until = models.DateTimeField(_("fin"))
    lifted_at = models.DateTimeField(_("levé le"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("verrouillage")
        verbose_name_plural = _("verrouillages")
        ordering = ("-started_at",)
        indexes = [models.Index(fields=["scope", "key", "until"], name="lockout_scope_key_until")]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} {self.key} → {self.until:%Y-%m-%d %H:%M}"

    def is_active(self, *, now: Any) -> bool:
        return self.lifted_at is None and self.until > now
