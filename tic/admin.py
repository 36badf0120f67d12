"""Back-office: the TIC ports tic_read reads (configured here), meters and events read-only."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from hub.webhook_forms import WebhookAdminForm
from tic.models import TicEvent, TicMeter, TicPort, TicWebhook, TicWebhookDelivery

COUNTERS = ("frames", "valid", "invalid", "interrupted", "bad_groups", "last_frame_at")


@admin.register(TicPort)
class TicPortAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "url", "family", "baud", "enabled", "state", "valid")
    list_filter = ("enabled", "state", "family")
    search_fields = ("name", "url")
    fields = (
        "organisation",
        "name",
        "url",
        "family",
        "baud",
        "metering_point",
        "integration_minutes",
        "check_parity",
        "max_power_kva",
        "enabled",
        "state",
        "state_since",
        "current_baud",
        "last_error",
        *COUNTERS,
        "noise_bytes",
        "parity_errors",
    )
    readonly_fields = (
        "state",
        "state_since",
        "current_baud",
        "last_error",
        *COUNTERS,
        "noise_bytes",
        "parity_errors",
    )


@admin.register(TicMeter)
class TicMeterAdmin(admin.ModelAdmin):
    list_display = ("identifier", "organisation", "port", "family", "mode", "last_frame_at")
    list_filter = ("family",)
    search_fields = ("identifier",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # meters appear when their frames are read

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(TicEvent)
class TicEventAdmin(admin.ModelAdmin):
    list_display = ("at", "meter", "kind", "calendar", "previous", "current", "value")
    list_filter = ("kind",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class TicWebhookForm(WebhookAdminForm):
    class Meta:
        model = TicWebhook
        fields = ["organisation", "meter", "url", "enabled"]


@admin.register(TicWebhook)
class TicWebhookAdmin(admin.ModelAdmin):
    form = TicWebhookForm
    list_display = ("url", "organisation", "meter", "enabled")


@admin.register(TicWebhookDelivery)
class TicWebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "webhook", "event", "status", "attempts", "last_status_code")
    list_filter = ("status",)
    exclude = ("payload",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
