"""Back-office for GRDF access: read-mostly; rights change through the services (audited)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from grdf_access.models import (
    AccessRight,
    AlertDelivery,
    AlertWebhook,
    Pce,
    Proof,
    Snapshot,
    Subscription,
    Threshold,
)
from hub.webhook_forms import WebhookAdminForm


class ReadOnly(admin.ModelAdmin):
    """Rights, proofs and snapshots mirror GRDF and the consent: edited only by the services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Pce)
class PceAdmin(admin.ModelAdmin):
    list_display = [
        "metering_point",
        "organisation",
        "alias",
        "site_label",
        "client_name",
        "frequency",
    ]
    list_filter = ["organisation", "frequency", "holder"]
    search_fields = ["metering_point__identifier", "alias", "site_label", "client_name"]
    readonly_fields = [
        "organisation",
        "metering_point",
        "informative_polled_at",
        "published_polled_at",
    ]


@admin.register(AccessRight)
class AccessRightAdmin(ReadOnly):
    # Rights end by their own flows (revoke, terminate), which tell GRDF and audit it.
    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    list_display = [
        "pce",
        "organisation",
        "state",
        "role",
        "consent_start",
        "consent_end",
        "proof_status",
    ]
    list_filter = ["organisation", "state", "proof_status", "role"]
    search_fields = ["pce__metering_point__identifier", "grdf_id", "holder_company", "holder_name"]


@admin.register(Snapshot)
class SnapshotAdmin(ReadOnly):
    list_display = ["pce", "kind", "fetched_at"]
    list_filter = ["kind"]


@admin.register(Proof)
class ProofAdmin(ReadOnly):
    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    list_display = ["right", "filename", "content_type", "size", "uploaded_at", "sent_at"]


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnly):
    list_display = ["pce", "kind", "state", "start", "end"]


@admin.register(Threshold)
class ThresholdAdmin(ReadOnly):
    list_display = ["pce", "frequency", "value_kwh", "notify_before", "notify_after", "enabled"]


class AlertWebhookForm(WebhookAdminForm):
    class Meta:
        model = AlertWebhook
        fields = ["organisation", "url", "enabled"]


@admin.register(AlertWebhook)
class AlertWebhookAdmin(admin.ModelAdmin):
    form = AlertWebhookForm
    list_display = ["url", "organisation", "enabled", "created_at"]
    list_filter = ["organisation", "enabled"]


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "webhook",
        "notification",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
    ]
    list_filter = ["status"]
    readonly_fields = [f.name for f in AlertDelivery._meta.fields]
