"""Back-office for Flex Ready: BACS and assets editable, requests and journals read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from flexready.models import (
    AllowedPeriod,
    Asset,
    Bacs,
    CertificationSession,
    FlexRequest,
    JournalEntry,
    OperatorIdentity,
)


class AssetInline(admin.TabularInline):
    model = Asset
    extra = 0
    fields = (
        "asset_id",
        "flex_product",
        "power_w",
        "mobilisation_delay_s",
        "max_duration_s",
        "activations_per_day",
    )


@admin.register(Bacs)
class BacsAdmin(admin.ModelAdmin):
    list_display = ("bacs_id", "name", "organisation", "metering_point")
    list_filter = ("organisation",)
    search_fields = ("bacs_id", "name")
    inlines = [AssetInline]


class PeriodInline(admin.TabularInline):
    model = AllowedPeriod
    extra = 0


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ("asset_id", "bacs", "flex_product", "power_w", "max_duration_s")
    inlines = [PeriodInline]


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(FlexRequest)
class FlexRequestAdmin(ReadOnly):
    list_display = ("request_id", "asset", "status", "start", "end", "received_at")
    list_filter = ("status",)
    search_fields = ("request_id",)


@admin.register(OperatorIdentity)
class OperatorIdentityAdmin(admin.ModelAdmin):
    list_display = ("issuer", "subject", "organisation", "label")


@admin.register(CertificationSession)
class CertificationSessionAdmin(ReadOnly):
    list_display = ("session_id", "organisation", "created_at", "created_by")


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnly):
    list_display = ("at", "session", "method", "path", "status", "duration_ms")
    list_filter = ("status",)
