"""Back-office of the VEGA catalogue: editable; a release's date changes keep their history."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from grdf_access.vega import calendar, watch
from grdf_access.vega.models import (
    Arrival,
    CatalogueItem,
    ExpectedPublication,
    ItemVersion,
    Release,
    ReleaseCell,
    ReleaseDateChange,
    WatchedDirectory,
)
from hub.actors import Actor


class DateChangeInline(admin.TabularInline):
    model = ReleaseDateChange
    extra = 0
    can_delete = False
    readonly_fields = [
        "changed_at",
        "previous_date",
        "previous_status",
        "date",
        "date_precision",
        "status",
        "announced_on",
        "note",
        "actor_label",
    ]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ["code", "planned_date", "date_precision", "date_status"]
    inlines = [DateChangeInline]

    def save_model(self, request: HttpRequest, obj: Release, form: Any, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        # A new date goes through the service: history kept, users of the release told.
        stored = Release.objects.get(pk=obj.pk)
        wanted = (obj.planned_date, obj.date_status, obj.date_precision)
        obj.planned_date, obj.date_status, obj.date_precision = (
            stored.planned_date,
            stored.date_status,
            stored.date_precision,
        )
        super().save_model(request, obj, form, change)
        calendar.set_release_date(
            release=obj,
            date=wanted[0],
            status=wanted[1],
            precision=wanted[2],
            note="modifiée dans l'administration",
            actor=Actor.from_request(request),
            now=timezone.now(),
        )


class CellInline(admin.TabularInline):
    model = ReleaseCell
    extra = 0


class VersionInline(admin.TabularInline):
    model = ItemVersion
    extra = 0


@admin.register(CatalogueItem)
class CatalogueItemAdmin(admin.ModelAdmin):
    list_display = ["code", "kind", "name", "decommissioned_in", "double_run_end", "obsolete"]
    list_filter = ["kind", "obsolete"]
    search_fields = ["code", "aliases", "name"]
    inlines = [CellInline, VersionInline]


class WatchedDirectoryForm(forms.ModelForm):
    class Meta:
        model = WatchedDirectory
        fields = ["organisation", "path", "active", "retention_days"]

    def clean_path(self) -> str:
        path: str = self.cleaned_data["path"]
        try:
            return str(watch.check_directory(path))
        except watch.DropRootViolation as exc:
            raise forms.ValidationError(str(exc)) from None


@admin.register(WatchedDirectory)
class WatchedDirectoryAdmin(admin.ModelAdmin):
    form = WatchedDirectoryForm
    list_display = ["path", "organisation", "active", "retention_days", "last_scan_at"]


@admin.register(ExpectedPublication)
class ExpectedPublicationAdmin(admin.ModelAdmin):
    list_display = ["organisation", "item", "cadence", "expected_time", "grace_minutes", "active"]
    list_filter = ["cadence", "active"]


@admin.register(Arrival)
class ArrivalAdmin(admin.ModelAdmin):
    list_display = ["file_name", "organisation", "flux_code", "publication_day", "data_rows"]
    list_filter = ["flux_code", "source"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
