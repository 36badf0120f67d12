"""Password change and reset: Django's views, French templates, an audit event and a notice."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _

from hub.actors import Actor
from hub.models import User
from hub.netaddr import client_ip
from hub.portal.access import verified_required
from hub.services import audit


def password_changed(
    request: HttpRequest, user: User, *, how: str, actor: User | None = None
) -> None:
    """Audit the change and tell the account's owner, who may not be the one who did it."""
    audit.record(
        action="auth.password_changed",
        actor=Actor.person(actor or user, ip=client_ip(request)),
        target=user,
        after={"how": how},
    )
    body = render_to_string(
        "registration/password_changed_email.txt",
        {"user": user, "how": how, "ip": client_ip(request)},
    )
    send_mail(
        _("Votre mot de passe a été modifié"), body, settings.DEFAULT_FROM_EMAIL, [user.email]
    )


@method_decorator(verified_required, name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("portal:password_change_done")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        password_changed(self.request, form.user, how="change")
        return response


@method_decorator(verified_required, name="dispatch")
class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "registration/password_change_done.html"


# Reset e-mails per address and requests per client IP, each within RESET_WINDOW_SECONDS: enough
# for a person who mistyped, too few to flood a mailbox or to probe addresses at scale.
RESET_PER_EMAIL = 3
RESET_PER_IP = 10
RESET_WINDOW_SECONDS = 3600


def _over_limit(key: str, limit: int) -> bool:
    """Count one more request under ``key`` in the shared cache; whether it is past ``limit``."""
    cache.add(key, 0, RESET_WINDOW_SECONDS)
    try:
        return cache.incr(key) > limit
    except ValueError:  # expired between add and incr: this is the first of a new window
        cache.set(key, 1, RESET_WINDOW_SECONDS)
        return False


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("portal:password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        ip = client_ip(self.request) or "unknown"
        if _over_limit(f"portal:pwreset:ip:{ip}", RESET_PER_IP):
            form.add_error(None, _("Trop de demandes depuis cette adresse : réessayez plus tard."))
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        email = form.cleaned_data["email"].strip().lower()
        digest = hashlib.sha256(email.encode()).hexdigest()  # no address in cache keys
        if _over_limit(f"portal:pwreset:email:{digest}", RESET_PER_EMAIL):
            # Same answer as a sent e-mail: the page must not tell which addresses exist.
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("portal:password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        password_changed(self.request, form.user, how="reset")
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"
