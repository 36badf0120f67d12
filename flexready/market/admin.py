"""Back-office of the market signals: feeds editable; Ecowatt and simulator uploads read-only."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from flexready.market.models import (
    EcowattDay,
    EcowattHour,
    EcowattState,
    SimulatedSignal,
    SupplierFeed,
)


@admin.register(SupplierFeed)
class SupplierFeedAdmin(admin.ModelAdmin):
    list_display = [
        "metering_point",
        "organisation",
        "session_id",
        "enabled",
        "last_status",
        "last_polled_at",
        "last_success_at",
    ]
    list_filter = ["enabled", "last_status", "organisation"]
    search_fields = ["metering_point__identifier", "session_id"]
    raw_id_fields = ["metering_point"]
    readonly_fields = [
        "last_polled_at",
        "last_success_at",
        "last_status",
        "last_error",
        "last_window_start",
        "last_window_end",
        "last_points",
    ]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class EcowattHourInline(admin.TabularInline):
    model = EcowattHour
    extra = 0
    can_delete = False
    fields = ["pas", "start", "level"]
    readonly_fields = ["pas", "start", "level"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(EcowattDay)
class EcowattDayAdmin(ReadOnlyAdmin):
    list_display = ["day", "level", "message", "generated_at", "fetched_at"]
    inlines = [EcowattHourInline]


@admin.register(EcowattState)
class EcowattStateAdmin(ReadOnlyAdmin):
    list_display = ["last_outcome", "last_called_at", "last_success_at", "next_call_at"]
    exclude = ["last_body"]


@admin.register(SimulatedSignal)
class SimulatedSignalAdmin(ReadOnlyAdmin):
    list_display = ["delivery_point", "uploaded_at", "archived_at"]
