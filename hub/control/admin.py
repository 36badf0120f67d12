"""Back-office of control: channels and loads editable; commands read-only (the audit)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from hub.control.models import (
    ActuatorChannel,
    Command,
    ControllableLoad,
    ManualOverride,
    SiteControl,
)


@admin.register(SiteControl)
class SiteControlAdmin(admin.ModelAdmin):
    list_display = ["site", "organisation", "enabled", "dry_run", "last_evaluated_at"]
    list_filter = ["dry_run", "enabled"]


@admin.register(ActuatorChannel)
class ActuatorChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "kind", "host", "port", "enabled", "last_heartbeat_at"]
    list_filter = ["kind", "enabled"]
    readonly_fields = ["last_heartbeat_at", "last_error"]


@admin.register(ControllableLoad)
class ControllableLoadAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "kind", "channel", "priority", "nominal_power_w", "value"]
    list_filter = ["kind"]
    raw_id_fields = ["metering_point"]
    readonly_fields = ["value", "value_read_at", "changed_at", "held_by", "held_reason"]


@admin.register(Command)
class CommandAdmin(admin.ModelAdmin):
    list_display = ["at", "load", "value", "source", "status", "latency_ms"]
    list_filter = ["status", "source"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ManualOverride)
class ManualOverrideAdmin(admin.ModelAdmin):
    list_display = ["load", "value", "starts_at", "ends_at", "created_by", "cancelled_at"]
