"""The Django admin behind the same two doors as the portal."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hub.portal.access import is_verified


class MFAAdminSite(admin.AdminSite):
    """Staff *and* verified by a second factor; signing in goes through the portal's pages.

    Swapped in as the class of ``admin.site`` so every registration made on it stays.
    """

    site_header = _("Hub de données fournisseurs")
    site_title = _("Hub de données fournisseurs")
    index_title = _("Administration")

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and is_verified(request.user)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        if not request.user.is_authenticated:
            return redirect_to_login(next_url, login_url=settings.LOGIN_URL)
        if not is_verified(request.user):
            # Password given, second factor missing: straight to that step.
            return redirect_to_login(next_url, login_url=reverse("portal:second_factor"))
        if self.has_permission(request):
            return redirect(reverse("admin:index", current_app=self.name))
        raise PermissionDenied  # fully signed in, but not staff: no loop back to the login

    def password_change(  # type: ignore[override]
        self, request: HttpRequest, extra_context: Any = None
    ) -> HttpResponse:
        # One place to change a password, audited and notified: the portal's.
        return redirect("portal:password_change")
