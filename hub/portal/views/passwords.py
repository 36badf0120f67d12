"""Password change and reset: Django's views, French templates, an audit event and a notice."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _

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
        actor=actor or user,
        target=user,
        after={"how": how},
        ip=client_ip(request),
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


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("portal:password_reset_done")


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
