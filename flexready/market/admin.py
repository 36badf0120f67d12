"""Back-office of the market signals: feeds editable; Ecowatt and simulator uploads read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from flexready.market.client.supplier import SupplierSignalError
from flexready.market.models import (
    EcowattDay,
    EcowattHour,
    EcowattState,
    SimulatedSignal,
    SupplierFeed,
)
from flexready.market.services.supplier import UPLOAD_MAX_BYTES, upload_signal
from hub.actors import Actor


class SignalUploadForm(forms.Form):
    signal_file = forms.FileField(label="Fichier JSON du signal (annexe 2)")


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
    change_form_template = "admin/flexready_market/supplierfeed/change_form.html"

    def get_urls(self) -> list[URLPattern]:
        upload = path(
            "<int:pk>/upload-signal/",
            self.admin_site.admin_view(self.upload_signal_view),
            name="flexready_market_supplierfeed_upload",
        )
        return [upload, *super().get_urls()]

    def upload_signal_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Annex 2's "Add Supplier Signal" for this feed: stored as a poll would, audited."""
        feed = get_object_or_404(
            SupplierFeed.objects.select_related("metering_point", "organisation"), pk=pk
        )
        if not self.has_change_permission(request, feed):
            raise PermissionDenied
        form = SignalUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                stored = upload_signal(
                    feed=feed,
                    body=form.cleaned_data["signal_file"].read(UPLOAD_MAX_BYTES + 1),
                    now=timezone.now(),
                    actor=Actor.from_request(request),
                )
            except SupplierSignalError as exc:
                form.add_error("signal_file", f"{exc.field} : {exc.reason}")
            else:
                self.message_user(
                    request, f"{stored} valeurs enregistrées.", level=messages.SUCCESS
                )
                return redirect(
                    reverse("admin:flexready_market_supplierfeed_change", args=[feed.pk])
                )
        return TemplateResponse(
            request,
            "admin/flexready_market/supplierfeed/upload_signal.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Déposer un signal : {feed.metering_point.identifier}",
                "opts": self.model._meta,
                "original": feed,
                "form": form,
            },
        )


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
