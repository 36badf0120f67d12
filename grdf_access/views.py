"""Portal pages of GRDF access: the Espace Client features of seed 004 inside the hub.

Rights table (filters, full view), unit request and mass import, a PCE's consumption table and
histogram, export, thresholds, security controls with proofs, long-estimated PCEs. Readers see;
operators change. Everything is scoped by the current organisation: a foreign id is a 404.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grdf_access import (
    consent,
    csv_import,
    export,
    proofs,
    selectors,
    services,
    specs,
    subscription_import,
    tasks,
    thresholds,
)
from grdf_access.adict_gateway import gateway_for
from grdf_access.forms import (
    ExportForm,
    ImportForm,
    ModifyForm,
    PeriodForm,
    RightForm,
    SubscriptionForm,
    ThresholdForm,
)
from grdf_access.models import (
    FINAL_STATES,
    AccessRight,
    DataType,
    Pce,
    RightState,
    Snapshot,
    Subscription,
    Threshold,
)
from grdf_access.sync import CONSUMPTION_TYPES
from hub.actors import Actor
from hub.clock import local_day_of
from hub.models import MeteringPoint, Organisation, Role, Site
from hub.netaddr import client_ip
from hub.portal.access import membership_of, role_required
from hub.services import jobs

# The consumption histogram's colour per bar category (``Bar.quality``); its legend shows the
# same, so a bar's colour always has a meaning written under the chart.
HISTOGRAM_COLOURS = {"measured": "#0b5cad", "estimated": "#c77700", "missing": "#9aa1ad"}
CORRECTED_BORDER = "#1d2330"  # a bar holding a value GRDF corrected has a dark outline

IMPORT_SESSION_KEY = "grdf_import"
SUBSCRIPTION_IMPORT_SESSION_KEY = "grdf_subscription_import"
RIGHTS_SHOWN = 500


def _now() -> dt.datetime:
    return timezone.now()


def _today() -> dt.date:
    return local_day_of(_now())


def _organisation(request: HttpRequest) -> Organisation:
    return membership_of(request).organisation


def _may_change(request: HttpRequest) -> bool:
    return membership_of(request).allows(Role.OPERATOR)


def _right(request: HttpRequest, right_pk: int) -> AccessRight:
    try:
        return selectors.right(organisation=_organisation(request), pk=right_pk)
    except selectors.NotFound:
        raise Http404 from None


def _pce(request: HttpRequest, identifier: str) -> Pce:
    try:
        return selectors.pce(organisation=_organisation(request), identifier=identifier)
    except selectors.NotFound:
        raise Http404 from None


@role_required(Role.VIEWER)
def rights_table(request: HttpRequest) -> HttpResponse:
    organisation = _organisation(request)
    filters = {k: request.GET.get(k, "").strip() for k in ("state", "client", "site_label", "pce")}
    rights = selectors.rights(organisation=organisation, **filters)
    return render(
        request,
        "grdf_access/rights.html",
        {
            "rights": rights[:RIGHTS_SHOWN],
            "total": rights.count(),
            "filters": filters,
            "states": RightState.choices,
            "full": request.GET.get("vue") == "complete",
            "may_change": _may_change(request),
            "summary": selectors.rights_summary(organisation=organisation),
        },
    )


@role_required(Role.OPERATOR)
def right_new(request: HttpRequest) -> HttpResponse:
    today = _today()
    form = RightForm(
        request.POST or None,
        initial={
            "debut_consentement": today,
            "fin_consentement": specs.shift_years(today, 1),
            "debut_donnees": specs.shift_years(today, -1),
            "fin_donnees": specs.shift_years(today, 1),
            "types": [DataType.PUBLISHED, DataType.INFORMATIVE_DAILY, DataType.TECHNICAL],
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            spec = specs.validate(form.raw(), today=today)
        except specs.SpecInvalid as exc:
            for error in exc.errors:
                name = error.field if error.field in form.fields else None
                if error.field in DataType.values:
                    name = "types"
                form.add_error(name, error.reason)
        else:
            organisation = _organisation(request)
            try:
                with gateway_for(organisation) as gateway:
                    [right] = services.declare_rights(
                        organisation=organisation,
                        specs=[spec],
                        gateway=gateway,
                        now=_now(),
                        actor=Actor.from_request(request),
                    )
            except services.RightError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.reason)
            else:
                _declared_message(request, [right])
                return redirect("grdf:right", right_pk=right.pk)
    return render(request, "grdf_access/right_form.html", {"form": form})


def _declared_message(request: HttpRequest, rights: list[AccessRight]) -> None:
    failed = [r for r in rights if r.state == RightState.DECLARATION_FAILED]
    if failed:
        for right in failed:
            messages.error(
                request,
                _("PCE %(pce)s : GRDF a refusé la demande (%(reason)s).")
                % {"pce": right.pce.identifier, "reason": right.state_reason},
            )
    declared = len(rights) - len(failed)
    if declared:
        messages.success(
            request,
            ngettext(
                "%(n)d demande de droit d'accès transmise à GRDF.",
                "%(n)d demandes de droit d'accès transmises à GRDF.",
                declared,
            )
            % {"n": declared},
        )


@role_required(Role.VIEWER)
def import_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(csv_import.template(today=_today()), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="modele-droits-acces.csv"'
    return response


class _DryRunReport(Protocol):
    @property
    def ok(self) -> bool: ...

    @property
    def errors(self) -> Any: ...


_Report = TypeVar("_Report", bound=_DryRunReport)


def _dry_run(
    request: HttpRequest, session_key: str, parse: Callable[[bytes], _Report]
) -> tuple[ImportForm, _Report | None, str]:
    """An uploaded file's dry run; a clean one is kept in the session until it is confirmed."""
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return form, None, ""
    content = form.cleaned_data["file"].read()
    report = parse(content)
    token = ""
    if report.ok:
        # The confirmation must name this very file: a second tab's upload cannot be confirmed.
        token = hashlib.sha256(content).hexdigest()[:32]
        request.session[session_key] = {
            "token": token,
            "content": base64.b64encode(content).decode(),
        }
    return form, report, token


def _confirmed_upload(request: HttpRequest, session_key: str) -> bytes | None:
    """The file of the dry run being confirmed, or None (told) when the session lost it."""
    stored = request.session.get(session_key) or {}
    if stored.get("token") != request.POST["confirm"]:
        messages.error(request, _("Simulation expirée : déposez le fichier à nouveau."))
        return None
    return base64.b64decode(stored["content"])


def _import_page(
    request: HttpRequest,
    template: str,
    form: ImportForm,
    report: _DryRunReport | None,
    token: str,
) -> HttpResponse:
    status = 400 if report is not None and report.errors else 200
    return render(
        request, template, {"form": form, "report": report, "token": token}, status=status
    )


@role_required(Role.OPERATOR)
def rights_import(request: HttpRequest) -> HttpResponseBase:
    """Dry run first (a line-numbered report); the import itself only after a clean run."""
    organisation = _organisation(request)
    form = ImportForm()
    report: csv_import.ParsedFile | None = None
    token = ""
    if request.method == "POST" and "confirm" in request.POST:
        content = _confirmed_upload(request, IMPORT_SESSION_KEY)
        if content is None:
            return redirect("grdf:import")
        report = csv_import.parse(content, organisation=organisation, today=_today())
        if report.ok and tasks.import_in_background(rows=len(report.specs)):
            del request.session[IMPORT_SESSION_KEY]
            return _start_job(
                request,
                kind=tasks.IMPORT_JOB,
                task=tasks.import_job,
                params={
                    "rows": len(report.specs),
                    "content": base64.b64encode(content).decode(),
                    "ip": client_ip(request),
                    "back_url": reverse("grdf:rights"),
                },
            )
        if report.ok:
            del request.session[IMPORT_SESSION_KEY]
            with gateway_for(organisation) as gateway:
                rights = services.declare_rights(
                    organisation=organisation,
                    specs=[s for _line, s in report.specs],
                    gateway=gateway,
                    now=_now(),
                    actor=Actor.from_request(request),
                )
            _declared_message(request, rights)
            return redirect("grdf:rights")
    elif request.method == "POST":
        form, report, token = _dry_run(
            request,
            IMPORT_SESSION_KEY,
            lambda content: csv_import.parse(content, organisation=organisation, today=_today()),
        )
    return _import_page(request, "grdf_access/import.html", form, report, token)


@role_required(Role.VIEWER)
def right_detail(request: HttpRequest, right_pk: int) -> HttpResponse:
    right = _right(request, right_pk)
    form = ModifyForm(
        request.POST or None,
        initial={
            "fin_consentement": right.consent_end,
            "debut_donnees": right.data_start,
            "fin_donnees": right.data_end,
            "types": right.granted_types,
        },
    )
    if request.method == "POST":
        if not _may_change(request):
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            changes = services.RightChanges(
                consent_end=data["fin_consentement"],
                data_start=data["debut_donnees"],
                data_end=data["fin_donnees"],
                types=frozenset(data["types"]),
            )
            try:
                with gateway_for(right.organisation) as gateway:
                    services.modify_right(
                        right=right,
                        changes=changes,
                        gateway=gateway,
                        now=_now(),
                        today=_today(),
                        actor=Actor.from_request(request),
                    )
            except services.RightError as exc:
                form.add_error(None, exc.reason)
            else:
                messages.success(request, _("Droit d'accès modifié."))
                return redirect("grdf:right", right_pk=right.pk)
    return render(
        request,
        "grdf_access/right_detail.html",
        {
            "right": right,
            "form": form,
            "may_change": _may_change(request),
            "final": right.state in FINAL_STATES,
            "days_left": right.days_left_for_proofs(_today()),
        },
    )


def _end(request: HttpRequest, right_pk: int, *, revoke: bool) -> HttpResponseBase:
    right = _right(request, right_pk)
    end = services.revoke_right if revoke else services.terminate_right
    try:
        with gateway_for(right.organisation) as gateway:
            end(
                right=right,
                gateway=gateway,
                now=_now(),
                today=_today(),
                actor=Actor.from_request(request),
            )
    except services.RightError as exc:
        messages.error(request, exc.reason)
    else:
        messages.success(
            request, _("Droit d'accès révoqué.") if revoke else _("Droit d'accès résilié.")
        )
    return redirect("grdf:right", right_pk=right.pk)


@require_POST
@role_required(Role.OPERATOR)
def right_terminate(request: HttpRequest, right_pk: int) -> HttpResponseBase:
    return _end(request, right_pk, revoke=False)


@require_POST
@role_required(Role.OPERATOR)
def right_revoke(request: HttpRequest, right_pk: int) -> HttpResponseBase:
    return _end(request, right_pk, revoke=True)


def _histogram_legend() -> list[dict[str, str]]:
    """What each colour of the histogram means, in the page's language."""
    return [
        {
            "key": "measured",
            "label": _("mesurée (relevé réel)"),
            "colour": HISTOGRAM_COLOURS["measured"],
        },
        {
            "key": "estimated",
            "label": _("estimée par GRDF (au moins une journée)"),
            "colour": HISTOGRAM_COLOURS["estimated"],
        },
        {
            "key": "missing",
            "label": _("incomplète : au moins une journée sans valeur"),
            "colour": HISTOGRAM_COLOURS["missing"],
        },
        {
            "key": "corrected",
            "label": _("contour foncé : valeur corrigée par GRDF"),
            "colour": "transparent",
            "border": CORRECTED_BORDER,
        },
    ]


@role_required(Role.VIEWER)
def pce_detail(request: HttpRequest, pce: str) -> HttpResponse:
    found = _pce(request, pce)
    today = _today()
    step = request.GET.get("pas", "day")
    if step not in selectors.STEPS:
        step = "day"
    data_type = request.GET.get("type", DataType.INFORMATIVE_DAILY)
    if data_type not in CONSUMPTION_TYPES:
        data_type = DataType.INFORMATIVE_DAILY
    decision = consent.decide_any(rights=found.rights.all(), data_type=data_type, today=today)
    default_start = today - dt.timedelta(days=30)
    if decision.window is not None:
        default_start = max(default_start, decision.window.start)
    asked = any(name in request.GET for name in ("debut", "fin"))
    period = PeriodForm(
        request.GET if asked else None, initial={"debut": default_start, "fin": today}
    )
    chosen: dict[str, Any] = {}
    if period.is_bound:
        period.is_valid()  # a bad date is shown with its error; the other one still counts
        chosen = period.cleaned_data
    start = chosen.get("debut") or default_start
    end = chosen.get("fin") or today
    refusal = ""
    bars: list[selectors.Bar] = []
    if end <= start:
        refusal = _("La fin doit suivre le début.")
    else:
        try:
            bars = selectors.consumption(
                pce=found, start=start, end=end, step=step, today=today, data_type=data_type
            )
        except selectors.OutsideConsent as exc:
            refusal = _("Données non affichées : %(reason)s.") % {"reason": exc.reason}
    snapshots: list[Snapshot] = []
    for kind in (DataType.CONTRACTUAL, DataType.TECHNICAL):
        if consent.decide_any(rights=found.rights.all(), data_type=kind, today=today).allowed:
            latest = Snapshot.objects.filter(pce=found, kind=kind).order_by("-fetched_at")[:5]
            snapshots.extend(latest)
    chart = {
        "labels": [b.label for b in bars],
        "energy": [b.energy_kwh for b in bars],
        "estimated": [b.estimated for b in bars],
        "colours": [HISTOGRAM_COLOURS[b.quality] for b in bars],
        "borders": [
            CORRECTED_BORDER if b.corrected else HISTOGRAM_COLOURS[b.quality] for b in bars
        ],
        "border_widths": [2 if b.corrected else 0 for b in bars],
    }
    return render(
        request,
        "grdf_access/pce.html",
        {
            "pce": found,
            "rights": found.rights.all(),
            "bars": bars,
            "chart": chart,
            "step": step,
            "data_type": data_type,
            "types": [(t, DataType(t).label) for t in CONSUMPTION_TYPES],
            "start": start,
            "end": end,
            "period": period,
            "legend": _histogram_legend(),
            "refusal": refusal,
            "snapshots": snapshots,
            "revisions": selectors.revisions(pce=found, today=today)[:50],
            "thresholds": selectors.threshold_states(
                organisation=found.organisation, today=today, pce=found
            ),
            "window": decision.window,
        },
        status=400 if period.errors else 403 if refusal and end > start else 200,
    )


@role_required(Role.VIEWER)
def export_view(request: HttpRequest) -> HttpResponseBase:
    organisation = _organisation(request)
    identifiers = list(
        selectors.pces(organisation=organisation).values_list(
            "metering_point__identifier", flat=True
        )
    )
    today = _today()
    form = ExportForm(
        request.POST or None,
        pces=identifiers,
        initial={"start": today - dt.timedelta(days=30), "end": today, "format": "xlsx"},
    )
    refusal = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if tasks.export_in_background(pces=len(data["pces"]), start=data["start"], end=data["end"]):
            return _start_job(
                request,
                kind=tasks.EXPORT_JOB,
                task=tasks.export_job,
                params={
                    "pces": sorted(data["pces"]),
                    "types": list(data["types"]),
                    "start": data["start"].isoformat(),
                    "end": data["end"].isoformat(),
                    "format": data["format"],
                    # The workbook's labels in the language of the person who asked.
                    "language": get_language(),
                    "back_url": reverse("grdf:export"),
                },
            )
        chosen = list(
            selectors.pces(organisation=organisation)
            .filter(metering_point__identifier__in=data["pces"])
            .prefetch_related("rights__pce")
        )
        try:
            if data["format"] == "xlsx":
                body: bytes | str = export.to_xlsx(
                    pces=chosen,
                    types=data["types"],
                    start=data["start"],
                    end=data["end"],
                    today=today,
                )
                content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            else:
                body = export.to_csv(
                    pces=chosen,
                    types=data["types"],
                    start=data["start"],
                    end=data["end"],
                    today=today,
                )
                content_type = "text/csv; charset=utf-8"
        except selectors.OutsideConsent as exc:
            refusal = f"Export refusé : {exc.reason}."
        except export.ExportError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.reason)
        else:
            response = HttpResponse(body, content_type=content_type)
            name = f"grdf-{data['start']}-{data['end']}.{data['format']}"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
    return render(
        request,
        "grdf_access/export.html",
        {"form": form, "refusal": refusal},
        status=403 if refusal else 200,
    )


@role_required(Role.VIEWER)
def thresholds_view(request: HttpRequest) -> HttpResponse:
    organisation = _organisation(request)
    identifiers = list(
        selectors.pces(organisation=organisation).values_list(
            "metering_point__identifier", flat=True
        )
    )
    form = ThresholdForm(request.POST or None, pces=identifiers)
    if request.method == "POST":
        if not _may_change(request):
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                thresholds.save_threshold(
                    organisation=organisation,
                    pce=_pce(request, data["pce"]),
                    frequency=data["frequency"],
                    value_kwh=data["value_kwh"],
                    notify_before=data["notify_before"],
                    before_percent=data["before_percent"],
                    notify_after=data["notify_after"],
                    emails=data["emails"],
                    actor=Actor.from_request(request),
                    now=_now(),
                )
            except thresholds.ThresholdError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.reason)
            else:
                messages.success(request, _("Seuil enregistré."))
                return redirect("grdf:thresholds")
    return render(
        request,
        "grdf_access/thresholds.html",
        {
            "form": form,
            "states": selectors.threshold_states(organisation=organisation, today=_today()),
            "may_change": _may_change(request),
        },
    )


@require_POST
@role_required(Role.OPERATOR)
def threshold_delete(request: HttpRequest, threshold_pk: int) -> HttpResponseBase:
    found = get_object_or_404(Threshold, pk=threshold_pk, organisation=_organisation(request))
    thresholds.delete_threshold(threshold=found, actor=Actor.from_request(request), now=_now())
    messages.success(request, _("Seuil supprimé."))
    return redirect("grdf:thresholds")


def dashboard_card(*, organisation: Organisation, now: dt.datetime) -> dict[str, Any] | None:
    """The dashboard's card of consumption thresholds: the same reading as the thresholds page
    (``selectors.threshold_states``); left out when the organisation has no threshold."""
    states = selectors.threshold_states(organisation=organisation, today=local_day_of(now))
    return {"states": states} if states else None


@role_required(Role.VIEWER)
def controls(request: HttpRequest) -> HttpResponse:
    organisation = _organisation(request)
    today = _today()
    rows = [
        (r, r.days_left_for_proofs(today))
        for r in selectors.under_control(organisation=organisation)
    ]
    return render(
        request,
        "grdf_access/controls.html",
        {
            "rows": rows,
            "counts": selectors.control_counts(organisation=organisation),
            "may_change": _may_change(request),
            "max_files": proofs.MAX_FILES,
        },
    )


@require_POST
@role_required(Role.OPERATOR)
def proofs_upload(request: HttpRequest, right_pk: int) -> HttpResponseBase:
    right = _right(request, right_pk)
    uploads = [
        proofs.Upload(f.name or "preuve", f.read()) for f in request.FILES.getlist("preuves")
    ]
    try:
        with gateway_for(right.organisation) as gateway:
            proofs.upload_proofs(
                right=right,
                uploads=uploads,
                gateway=gateway,
                now=_now(),
                actor=Actor.from_request(request),
            )
    except proofs.ProofError as exc:
        messages.error(
            request,
            _("PCE %(pce)s : %(reason)s.") % {"pce": right.pce.identifier, "reason": exc.reason},
        )
    else:
        messages.success(
            request, _("PCE %(pce)s : preuves transmises à GRDF.") % {"pce": right.pce.identifier}
        )
    return redirect("grdf:controls")


@require_POST
@role_required(Role.OPERATOR)
def sync_now(request: HttpRequest) -> HttpResponseBase:
    """Rights then data for the organisation (what beat does every hour), as a background job."""
    return _start_job(
        request,
        kind=tasks.SYNC_JOB,
        task=tasks.sync_job,
        params={"pces": [], "back_url": reverse("grdf:rights")},
    )


def _start_job(
    request: HttpRequest, *, kind: str, task: Any, params: dict[str, Any]
) -> HttpResponseBase:
    """Queue the job and show its page; a queue that cannot be reached is a 503 on that page."""
    try:
        job = jobs.start(
            organisation=_organisation(request),
            kind=kind,
            task=task,
            params=params,
            now=_now(),
            actor=Actor.from_request(request),
        )
    except jobs.BrokerUnavailable as exc:
        return render(request, "portal/job.html", {"job": exc.job}, status=503)
    return redirect("portal:job", pk=job.pk)


@role_required(Role.VIEWER)
def long_estimated(request: HttpRequest) -> HttpResponse:
    found = selectors.long_estimated(organisation=_organisation(request), today=_today())
    return render(request, "grdf_access/estimated.html", {"rows": found})


# -- TJDC / PPH subscriptions -------------------------------------------------------------------


@role_required(Role.VIEWER)
def subscriptions_view(request: HttpRequest) -> HttpResponse:
    """The organisation's subscriptions; an operator subscribes a PCE inside its consent."""
    organisation = _organisation(request)
    identifiers = list(
        selectors.pces(organisation=organisation).values_list(
            "metering_point__identifier", flat=True
        )
    )
    form = SubscriptionForm(request.POST or None, pces=identifiers)
    status = 200
    if request.method == "POST":
        if not _may_change(request):
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            pce = _pce(request, data["pce"])
            try:
                with gateway_for(organisation) as gateway:
                    services.subscribe(
                        pce=pce,
                        kind=data["kind"],
                        start=data["start"],
                        end=data["end"],
                        gateway=gateway,
                        now=_now(),
                        today=_today(),
                        actor=Actor.from_request(request),
                    )
            except services.RightError as exc:
                field = {"kind": "kind", "start": "start", "end": "end"}.get(exc.field)
                form.add_error(field, exc.reason)
            else:
                messages.success(request, _("Abonnement souscrit."))
                return redirect("grdf:subscriptions")
        status = 400
    found = (
        Subscription.objects.filter(organisation=organisation)
        .select_related("pce__metering_point")
        .order_by("pce__metering_point__identifier", "kind", "-created_at")
    )
    return render(
        request,
        "grdf_access/subscriptions.html",
        {"form": form, "subscriptions": found, "may_change": _may_change(request)},
        status=status,
    )


@require_POST
@role_required(Role.OPERATOR)
def subscription_cancel(request: HttpRequest, subscription_pk: int) -> HttpResponse:
    found = get_object_or_404(Subscription, pk=subscription_pk, organisation=_organisation(request))
    try:
        with gateway_for(found.organisation) as gateway:
            services.cancel_subscription(
                subscription=found,
                gateway=gateway,
                now=_now(),
                today=_today(),
                actor=Actor.from_request(request),
            )
    except services.RightError as exc:
        messages.error(request, _("Résiliation impossible : %(reason)s") % {"reason": exc.reason})
    else:
        messages.success(request, _("Abonnement résilié."))
    return redirect("grdf:subscriptions")


@role_required(Role.VIEWER)
def subscriptions_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(
        subscription_import.template(today=_today()), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="grdf-abonnements.csv"'
    return response


@role_required(Role.OPERATOR)
def subscriptions_import(request: HttpRequest) -> HttpResponse:
    """Mass subscription: a dry run first (a line-numbered report), then the subscriptions."""
    organisation = _organisation(request)
    form = ImportForm()
    report: subscription_import.ParsedSubscriptions | None = None
    token = ""
    failures: list[str] = []
    if request.method == "POST" and "confirm" in request.POST:
        content = _confirmed_upload(request, SUBSCRIPTION_IMPORT_SESSION_KEY)
        if content is None:
            return redirect("grdf:subscriptions_import")
        report = subscription_import.parse(content, organisation=organisation, today=_today())
        if report.ok:
            del request.session[SUBSCRIPTION_IMPORT_SESSION_KEY]
            made = 0
            with gateway_for(organisation) as gateway:
                for line, item in report.items:
                    try:
                        services.subscribe(
                            pce=item.pce,
                            kind=item.kind,
                            start=item.start,
                            end=item.end,
                            gateway=gateway,
                            now=_now(),
                            today=_today(),
                            actor=Actor.from_request(request),
                        )
                        made += 1
                    except services.RightError as exc:
                        failures.append(f"ligne {line} : {exc.reason}")
            messages.success(
                request,
                ngettext("%(n)d abonnement souscrit.", "%(n)d abonnements souscrits.", made)
                % {"n": made},
            )
            for failure in failures:
                messages.error(request, _("GRDF a refusé %(failure)s") % {"failure": failure})
            return redirect("grdf:subscriptions")
    elif request.method == "POST":
        form, report, token = _dry_run(
            request,
            SUBSCRIPTION_IMPORT_SESSION_KEY,
            lambda content: subscription_import.parse(
                content, organisation=organisation, today=_today()
            ),
        )
    return _import_page(request, "grdf_access/subscriptions_import.html", form, report, token)


def site_panel(
    *, site: Site, points: Sequence[MeteringPoint], now: dt.datetime
) -> dict[str, object] | None:
    """The site view's GRDF panel: the site's PCEs, each with its latest right and consent."""
    rows = []
    for pce in selectors.pces_of_points(organisation=site.organisation, points=points):
        rights = list(pce.rights.all())
        rows.append((pce, rights[0] if rights else None))
    return {"rows": rows, "today": local_day_of(now)} if rows else None
