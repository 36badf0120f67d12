"""Lockouts in the admin, with the unlock action (the command ``unlock_user`` does the same)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.actors import Actor
from hub.admin import ReadOnlyAdmin
from hub.models import AuthFailure, Lockout
from hub.portal import lockout


@admin.register(Lockout)
class LockoutAdmin(ReadOnlyAdmin):
    list_display = ["scope", "key", "started_at", "until", "lifted_at", "lifted_by"]
    list_filter = ["scope"]
    search_fields = ["key"]
    actions = ["unlock"]

    @admin.action(description=_("Lever le verrouillage"), permissions=["view"])
    def unlock(self, request: HttpRequest, queryset: QuerySet[Lockout]) -> None:
        now = timezone.now()
        count = 0
        for lock in queryset.filter(lifted_at__isnull=True, until__gt=now):
            email = lock.key if lock.scope == "email" else None
            ip = lock.key if lock.scope == "ip" else None
            count += lockout.unlock(email=email, ip=ip, actor=Actor.from_request(request), now=now)
        self.message_user(
            request, _("%(n)d verrouillage(s) levé(s).") % {"n": count}, messages.SUCCESS
        )


@admin.register(AuthFailure)
class AuthFailureAdmin(admin.ModelAdmin):
    list_display = ["at", "email", "ip", "stage"]
    list_filter = ["stage"]
    search_fields = ["email", "ip"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
