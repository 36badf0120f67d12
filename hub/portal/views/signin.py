"""The two doors: the password, then the second factor (or enrolling one at first sign-in)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from hub.models import AuthStage, User
from hub.netaddr import client_ip
from hub.portal import lockout, mfa
from hub.portal.access import is_verified, safe_next, with_next
from hub.portal.forms import CodeForm, LoginForm

SIGNED_OUT_HEADERS = {
    # A shared workstation: drop whatever the browser kept of the previous person's pages.
    "Clear-Site-Data": '"cache", "storage"',
}


def refusal_message(refusal: lockout.Refusal) -> str:
    until = formats.time_format(timezone.localtime(refusal.until), "H:i:s")
    if refusal.locked:
        return _(
            "Trop de tentatives infructueuses : la connexion est verrouillée jusqu'à %(until)s. "
            "Réessayez plus tard ou demandez à un administrateur de lever le verrouillage."
        ) % {"until": until}
    return _(
        "Trop de tentatives infructueuses : patientez quelques secondes (jusqu'à %(until)s) "
        "avant de réessayer."
    ) % {"until": until}


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request)
    user = request.user
    if user.is_authenticated and is_verified(user):
        return redirect(next_url)
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = lockout.normalise_email(form.cleaned_data["email"])
        ip = client_ip(request) or None
        refusal = lockout.refusal(email=email, ip=ip)
        if refusal is not None:
            form.add_error(None, refusal_message(refusal))
        else:
            account = authenticate(request, username=email, password=form.cleaned_data["password"])
            if account is None:
                known = User.objects.filter(email=email).first()
                lock = lockout.note_failure(
                    email=email, ip=ip, stage=AuthStage.PASSWORD, user=known
                )
                form.add_error(None, _("Adresse e-mail ou mot de passe incorrect."))
                if lock is not None:
                    form.add_error(None, refusal_message(lockout.Refusal(True, lock.until)))
            else:
                # Only half signed in: every page still asks for the second factor.
                login(request, account)
                step = "portal:second_factor" if mfa.is_enrolled(account) else "portal:enrol"
                return redirect(with_next(step, next_url))
    return render(request, "registration/login.html", {"form": form, "next": next_url})


@csrf_protect
@never_cache
def second_factor(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request)
    user = request.user
    if not user.is_authenticated:
        return redirect(with_next("portal:login", next_url))
    assert isinstance(user, User)
    if is_verified(user):
        return redirect(next_url)
    devices = mfa.devices_of(user)
    if devices.strong == 0:
        return redirect(with_next("portal:enrol", next_url))
    form = CodeForm(request.POST or None)
    ip = client_ip(request) or None
    if request.method == "POST" and form.is_valid():
        refusal = lockout.refusal(email=user.email, ip=ip)
        if refusal is not None and refusal.locked:
            return _locked_out(request, refusal)
        if refusal is not None:
            form.add_error(None, refusal_message(refusal))
        else:
            device = mfa.match_code(user, form.cleaned_data["code"])
            if device is not None:
                request.session.cycle_key()  # a new session id for the now trusted session
                mfa.complete_login(request, device)
                return redirect(next_url)
            lock = lockout.note_failure(email=user.email, ip=ip, stage=AuthStage.OTP, user=user)
            if lock is not None:
                return _locked_out(request, lockout.Refusal(True, lock.until))
            form.add_error("code", _("Code incorrect, expiré ou déjà utilisé."))
    return render(
        request,
        "registration/second_factor.html",
        {
            "form": form,
            "next": next_url,
            "has_keys": bool(devices.keys),
            "has_totp": bool(devices.totp),
            "has_recovery": devices.recovery is not None,
        },
    )


def _locked_out(request: HttpRequest, refusal: lockout.Refusal) -> HttpResponse:
    logout(request)
    messages.error(request, refusal_message(refusal))
    return redirect("portal:login")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)  # flushes the whole session: organisation, OTP device, everything
    messages.info(request, _("Vous êtes déconnecté."))
    response = redirect("portal:login")
    for name, value in SIGNED_OUT_HEADERS.items():
        response[name] = value
    return response
