"""Enrolling a TOTP app, the security page (factors held), removing one, new recovery codes."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST
from django_otp_webauthn.models import WebAuthnCredential

from hub.actors import Actor
from hub.models import EncryptedTOTPDevice, User
from hub.netaddr import client_ip
from hub.portal import mfa
from hub.portal.access import is_verified, safe_next, verified_required, with_next
from hub.portal.forms import EnrolTOTPForm
from hub.services import audit

DEVICE_MODELS = {"totp": EncryptedTOTPDevice, "key": WebAuthnCredential}


@csrf_protect
@never_cache
def enrol(request: HttpRequest) -> HttpResponse:
    """Add a TOTP app: mandatory at first sign-in, or from the security page once verified."""
    next_url = safe_next(request)
    user = request.user
    if not user.is_authenticated:
        return redirect(with_next("portal:login", next_url))
    assert isinstance(user, User)
    first = not is_verified(user)
    if first and mfa.is_enrolled(user):
        # Holding a factor already: prove it before adding another, or MFA could be bypassed.
        return redirect(with_next("portal:second_factor", next_url))
    device = mfa.pending_totp(user)
    form = EnrolTOTPForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["name"]:
            device.name = form.cleaned_data["name"]
            device.save(update_fields=["name"])
        if mfa.confirm_totp(request, device, "".join(form.cleaned_data["code"].split())):
            if first:
                request.session.cycle_key()
                mfa.complete_login(request, device)
            if first or mfa.devices_of(user).recovery is None:
                codes = mfa.regenerate_recovery_codes(request, user)
                return render(
                    request,
                    "portal/recovery_codes.html",
                    {"codes": codes, "next": next_url if first else "/security/"},
                )
            messages.success(request, _("L'application d'authentification a été ajoutée."))
            return redirect("portal:security")
        form.add_error(
            "code", _("Code incorrect : vérifiez l'heure de votre téléphone et réessayez.")
        )
    secret = mfa.b32_secret(device)
    return render(
        request,
        "portal/enrol_totp.html",
        {
            "form": form,
            "next": next_url,
            "first": first,
            "secret": secret,
            "secret_grouped": mfa.grouped(secret),
            "qr_svg": mark_safe(mfa.qr_svg(mfa.provisioning_uri(device))),  # noqa: S308 - our own SVG
        },
    )


@verified_required
def security(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    devices = mfa.devices_of(user)
    return render(
        request,
        "portal/security.html",
        {
            "devices": devices,
            "recovery_remaining": devices.recovery.remaining() if devices.recovery else 0,
        },
    )


@require_POST
@verified_required
def remove_device(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    model = DEVICE_MODELS.get(kind)
    if model is None:
        raise Http404
    user = request.user
    assert isinstance(user, User)
    # Scoped to the signed-in person: another user's device id answers 404.
    device = get_object_or_404(model, pk=pk, user=user, confirmed=True)
    if mfa.devices_of(user).strong <= 1:
        messages.error(
            request,
            _("C'est votre dernier second facteur : ajoutez-en un autre avant de le retirer."),
        )
        return redirect("portal:security")
    with transaction.atomic():
        audit.record(
            action="mfa.device_removed",
            actor=Actor.person(user, ip=client_ip(request)),
            target=device,
            before={"type": kind, "name": device.name},
        )
        device.delete()
    messages.success(
        request, _("Le second facteur « %(name)s » a été retiré.") % {"name": device.name}
    )
    return redirect("portal:security")


@require_POST
@verified_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    codes = mfa.regenerate_recovery_codes(request, user)
    return render(
        request,
        "portal/recovery_codes.html",
        {"codes": codes, "next": "/security/", "regenerated": True},
    )
