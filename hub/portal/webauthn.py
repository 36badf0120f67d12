"""django-otp-webauthn's ceremonies, tightened for a second-factor-only portal.

* Registering a key needs a session already verified by a second factor (the library lets a
  user without any factor register one directly; here the first factor is always a TOTP app).
* Using a key needs the password step done (passwordless login is off in settings) and
  honours the sign-in lockout; a refused assertion counts as a failure.
* Both record the audit events the other factors record.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django_otp_webauthn import exceptions, views
from django_otp_webauthn.models import WebAuthnCredential

from hub.actors import Actor
from hub.api.parsers import loads_bounded
from hub.models import AuthStage, User
from hub.netaddr import client_ip
from hub.portal import lockout, mfa
from hub.portal.access import is_verified
from hub.services import audit


class LockedOut(exceptions.OTPWebAuthnApiError):
    status_code = 429
    default_detail = _("Trop de tentatives infructueuses : réessayez plus tard.")
    default_code = "locked_out"


class BoundedBody:
    """The caller is checked before the body is read (an anonymous request parses nothing),
    and the JSON is parsed with hub's depth bound: deep nesting is a 400, not a RecursionError."""

    request: HttpRequest

    def check_caller(self) -> None:
        raise NotImplementedError

    def _parse_request_data(self, request: HttpRequest) -> Any:
        self.request = request
        self.check_caller()
        if (request.content_type or "").split(";", 1)[0] == "application/json":
            if not request.body:
                return {}
            try:
                return loads_bounded(request.body)
            except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError and TooDeep
                raise exceptions.MalformedRequest() from exc
        return request.POST


class VerifiedOnlyRegistration(BoundedBody):
    def check_caller(self) -> None:
        if not self.request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        self.check_can_register()

    def check_can_register(self) -> None:
        if not is_verified(self.request.user):
            raise exceptions.NotVerified(
                detail=_("Validez d'abord votre second facteur pour ajouter une clé de sécurité.")
            )


class BeginRegistration(VerifiedOnlyRegistration, views.BeginCredentialRegistrationView):
    pass


class CompleteRegistration(VerifiedOnlyRegistration, views.CompleteCredentialRegistrationView):
    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        # The key and its audit event are stored together, or neither is.
        with transaction.atomic():
            response = super().post(*args, **kwargs)
            if response.status_code == 200:
                key = (
                    WebAuthnCredential.objects.filter(user=self.request.user)
                    .order_by("-id")
                    .first()
                )
                audit.record(
                    action="mfa.device_added",
                    actor=Actor.from_request(self.request),
                    target=key,
                    after={"type": "webauthn", "name": getattr(key, "name", "")},
                )
        return response


class SignInGate(BoundedBody):
    def check_caller(self) -> None:
        self.check_can_authenticate()

    def check_can_authenticate(self) -> None:
        user = self.request.user
        if not user.is_authenticated:
            raise exceptions.PasswordlessLoginDisabled(
                detail=_("Saisissez d'abord votre adresse e-mail et votre mot de passe.")
            )
        refusal = lockout.refusal(email=user.get_username(), ip=client_ip(self.request) or None)
        if refusal is not None:
            raise LockedOut()


class BeginAuthentication(SignInGate, views.BeginCredentialAuthenticationView):
    pass


class CompleteAuthentication(SignInGate, views.CompleteCredentialAuthenticationView):
    def complete_auth(self, device: Any) -> None:
        self.request.session.cycle_key()
        mfa.complete_login(self.request, device)

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().post(*args, **kwargs)
        except (
            exceptions.UnprocessableEntity,
            exceptions.CredentialNotFound,
            exceptions.CredentialUserMismatch,
        ):
            user = self.request.user
            lockout.note_failure(
                email=user.get_username(),
                ip=client_ip(self.request) or None,
                stage=AuthStage.OTP,
                user=user if isinstance(user, User) else None,
            )
            raise
