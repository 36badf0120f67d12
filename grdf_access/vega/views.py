"""Portal pages of the VEGA change: what to change by when, catalogue, watch, PCEs.

Readers see; operators change. Everything is scoped by the current organisation: a foreign id
is a 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grdf_access import selectors
from grdf_access.vega import calendar, estimates, exports, watch
from grdf_access.vega.forms import (
    ExpectedForm,
    ListImportForm,
    SpecialReadingForm,
    UploadForm,
    UsageForm,
)
from grdf_access.vega.models import (
    Arrival,
    ArrivalSource,
    CatalogueItem,
    ExpectedPublication,
    ItemKind,
    MissedPublication,
    Release,
    Usage,
    WatchedDirectory,
)
from hub.actors import Actor
from hub.clock import local_day_of
from hub.models import Organisation, Role
from hub.portal.access import membership_of, role_required

ARRIVALS_SHOWN = 100


def _now() -> dt.datetime:
    return timezone.now()


def _today() -> dt.date:
    return local_day_of(_now())


def _organisation(request: HttpRequest) -> Organisation:
    return membership_of(request).organisation


def _may_change(request: HttpRequest) -> bool:
    return membership_of(request).allows(Role.OPERATOR)


def _only_operators(request: HttpRequest) -> None:
    if request.method == "POST" and not _may_change(request):
        raise PermissionDenied


@role_required(Role.VIEWER)
def migration(request: HttpRequest) -> HttpResponse:
    """What the organisation must change, by when; operators declare what they use."""
    _only_operators(request)
    organisation = _organisation(request)
    form = UsageForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            item = calendar.find_item(form.cleaned_data["code"])
            if item is None:
                raise Http404
            try:
                calendar.save_usage(
                    organisation=organisation,
                    item=item,
                    version=form.cleaned_data["version"],
                    note=form.cleaned_data["note"],
                    actor=Actor.from_request(request),
                    now=_now(),
                )
            except calendar.UnknownVersion as exc:
                form.add_error("version", str(exc))
            else:
                messages.success(request, _("Usage enregistré."))
                return redirect("grdf:vega:migration")
        status = 400
    rows = calendar.migration_rows(organisation=organisation, today=_today())
    return render(
        request,
        "grdf_access/vega/migration.html",
        {
            "rows": rows,
            "labels": calendar.STATUS_LABELS,
            "form": form,
            "may_change": _may_change(request),
            "releases": Release.objects.prefetch_related("date_changes"),
            "today": _today(),
        },
        status=status,
    )


@role_required(Role.VIEWER)
def migration_export(request: HttpRequest, kind: str) -> HttpResponse:
    rows = calendar.migration_rows(organisation=_organisation(request), today=_today())
    table = exports.migration_table(rows)
    if kind == "csv":
        response = HttpResponse(
            exports.to_csv(header=exports.MIGRATION_HEADER, rows=table),
            content_type="text/csv; charset=utf-8",
        )
    elif kind == "xlsx":
        response = HttpResponse(
            exports.to_xlsx(header=exports.MIGRATION_HEADER, rows=table, sheet="Migration VEGA"),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="vega-migration.{kind}"'
    return response


@role_required(Role.VIEWER)
def catalogue(request: HttpRequest) -> HttpResponse:
    releases = list(Release.objects.prefetch_related("date_changes"))
    items = CatalogueItem.objects.select_related(
        "double_run_start", "double_run_end", "decommissioned_in"
    ).prefetch_related("cells__release", "versions__superseded_in", "versions__ends_in")
    tables: list[dict[str, Any]] = []
    for kind, label in ItemKind.choices:
        found = [i for i in items if i.kind == kind]
        used = sorted(
            {c.release.code for i in found for c in i.cells.all()},
            key=lambda code: next(r.rank for r in releases if r.code == code),
        )
        tables.append(
            {
                "label": label,
                "columns": used,
                "rows": [
                    {
                        "item": i,
                        "cells": [
                            next((c.value for c in i.cells.all() if c.release.code == code), "")
                            for code in used
                        ],
                        "double_run": calendar.double_run_label(i),
                    }
                    for i in found
                ],
            }
        )
    return render(
        request, "grdf_access/vega/catalogue.html", {"tables": tables, "releases": releases}
    )


@require_POST
@role_required(Role.OPERATOR)
def usage_delete(request: HttpRequest, usage_pk: int) -> HttpResponse:
    usage = get_object_or_404(Usage, pk=usage_pk, organisation=_organisation(request))
    calendar.delete_usage(usage=usage, actor=Actor.from_request(request), now=_now())
    messages.success(request, _("Usage supprimé."))
    return redirect("grdf:vega:migration")


@role_required(Role.VIEWER)
def watch_page(request: HttpRequest) -> HttpResponse:
    """Expected publications, arrivals with their checks, milestone alarms, upload."""
    _only_operators(request)
    organisation = _organisation(request)
    expected_form = ExpectedForm(request.POST if "cadence" in request.POST else None)
    upload_form = UploadForm(
        request.POST if "upload" in request.POST else None,
        request.FILES if "upload" in request.POST else None,
    )
    status = 200
    if request.method == "POST":
        if "upload" in request.POST and upload_form.is_valid():
            upload = upload_form.cleaned_data["file"]
            try:
                arrival = watch.ingest(
                    organisation=organisation,
                    name=upload.name,
                    data=upload.read(),
                    source=ArrivalSource.PORTAL,
                    actor=Actor.from_request(request),
                    now=_now(),
                )
            except watch.ArrivalRefused as exc:
                upload_form.add_error("file", exc.reason)
            else:
                if arrival.issues:
                    messages.warning(
                        request,
                        _("Fichier enregistré avec des alertes : %(issues)s")
                        % {"issues": " ; ".join(i["message"] for i in arrival.issues)},
                    )
                else:
                    messages.success(request, _("Fichier enregistré, aucune anomalie détectée."))
                return redirect("grdf:vega:watch")
        elif "cadence" in request.POST and expected_form.is_valid():
            data = expected_form.cleaned_data
            item = calendar.find_item(data["code"])
            if item is None:
                raise Http404
            try:
                watch.save_expected(
                    organisation=organisation,
                    item=item,
                    cadence=data["cadence"],
                    expected_time=data["expected_time"],
                    weekday=data["weekday"],
                    day_of_month=data["day_of_month"],
                    grace_minutes=data["grace_minutes"],
                    actor=Actor.from_request(request),
                    now=_now(),
                )
            except watch.ArrivalRefused as exc:
                field = exc.field if exc.field in expected_form.fields else None
                expected_form.add_error(field, exc.reason)
            else:
                messages.success(request, _("Publication attendue enregistrée."))
                return redirect("grdf:vega:watch")
        status = 400
    return render(
        request,
        "grdf_access/vega/watch.html",
        {
            "expected": ExpectedPublication.objects.filter(
                organisation=organisation
            ).select_related("item"),
            "arrivals": Arrival.objects.filter(organisation=organisation)[:ARRIVALS_SHOWN],
            "missed": MissedPublication.objects.filter(
                organisation=organisation, arrived_at__isnull=True
            ).select_related("expected__item")[:100],
            "directories": WatchedDirectory.objects.filter(organisation=organisation),
            "expected_form": expected_form,
            "upload_form": upload_form,
            "may_change": _may_change(request),
        },
        status=status,
    )


@require_POST
@role_required(Role.OPERATOR)
def expected_delete(request: HttpRequest, expected_pk: int) -> HttpResponse:
    found = get_object_or_404(
        ExpectedPublication, pk=expected_pk, organisation=_organisation(request)
    )
    watch.delete_expected(expected=found, actor=Actor.from_request(request), now=_now())
    messages.success(request, _("Publication attendue supprimée."))
    return redirect("grdf:vega:watch")


@role_required(Role.VIEWER)
def estimated(request: HttpRequest) -> HttpResponse:
    """Free special readings per PCE, GRDF's monthly list against the hub's report."""
    _only_operators(request)
    organisation = _organisation(request)
    importing = "mois" in request.POST
    import_form = ListImportForm(
        request.POST if importing else None, request.FILES if importing else None
    )
    request_form = SpecialReadingForm(
        request.POST if request.method == "POST" and not importing else None
    )
    errors: list[estimates.RowError] = []
    status = 200
    if request.method == "POST":
        if importing and import_form.is_valid():
            upload = import_form.cleaned_data["file"]
            rows, errors = estimates.parse_list(upload.read())
            if not errors:
                estimates.import_list(
                    organisation=organisation,
                    month=dt.date.fromisoformat(import_form.cleaned_data["mois"] + "-01"),
                    file_name=upload.name,
                    rows=rows,
                    actor=Actor.from_request(request),
                    now=_now(),
                )
                messages.success(request, _("Liste GRDF importée : %(n)d PCE.") % {"n": len(rows)})
                return redirect("grdf:vega:estimated")
        elif not importing and request_form.is_valid():
            data = request_form.cleaned_data
            try:
                pce = selectors.pce(organisation=organisation, identifier=data["pce"])
            except selectors.NotFound:
                raise Http404 from None
            try:
                estimates.record_request(
                    organisation=organisation,
                    pce=pce,
                    requested_on=data["requested_on"],
                    reference=data["reference"],
                    actor=Actor.from_request(request),
                    now=_now(),
                    today=_today(),
                )
            except estimates.RequestRefused as exc:
                request_form.add_error(
                    exc.field if exc.field in request_form.fields else None, exc.reason
                )
            else:
                messages.success(request, _("Demande de relevé spécial enregistrée."))
                return redirect("grdf:vega:estimated")
        status = 400
    found = estimates.eligibility(organisation=organisation, today=_today())
    return render(
        request,
        "grdf_access/vega/estimated.html",
        {
            "rows": found,
            "to_act_on": [r for r in found if r.status == "eligible"],
            "labels": estimates.STATUS_LABELS,
            "differences": estimates.differences(organisation=organisation, today=_today()),
            "import_form": import_form,
            "request_form": request_form,
            "import_errors": errors,
            "may_change": _may_change(request),
            "free_per_year": estimates.FREE_READINGS_PER_YEAR,
        },
        status=status,
    )
