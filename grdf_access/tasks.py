"""Celery tasks of GRDF access: thin, keyword arguments only, queue declared on each task."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from grdf_access import csv_import, export, selectors, services
from grdf_access.adict_gateway import GatewayError, gateway_for
from grdf_access.models import AccessRight, Pce, RightState
from grdf_access.purge import purge
from grdf_access.sync import full_sync
from hub.actors import Actor
from hub.clock import local_day_of
from hub.models import Job, Organisation
from hub.services.jobs import JobFailed, JobOutcome, Progress, job_task


@shared_task(ignore_result=True)
def sync_organisation(*, organisation_pk: int) -> str:
    organisation = Organisation.objects.filter(pk=organisation_pk).first()
    if organisation is None:
        return "skipped"
    now = timezone.now()
    try:
        with gateway_for(organisation) as gateway:
            report = full_sync(
                organisation=organisation, gateway=gateway, now=now, today=local_day_of(now)
            )
    except GatewayError as exc:  # recorded on the poll run; the next beat tries again
        return f"failed: {exc.reason}"
    return f"{report.data.tasks} calls, {report.data.points} points"


@shared_task(ignore_result=True)
def sync_due() -> int:
    """Beat's fan-out: one sync per organisation with GRDF PCEs (each plans what is due)."""
    organisation_pks = sorted(set(Pce.objects.values_list("organisation_id", flat=True)))
    for pk in organisation_pks:
        transaction.on_commit(
            partial(sync_organisation.apply_async, kwargs={"organisation_pk": pk})
        )
    return len(organisation_pks)


@shared_task(ignore_result=True)
def purge_expired() -> int:
    now = timezone.now()
    return purge(today=local_day_of(now), now=now).points


# -- background jobs asked from the portal or the API (hub.services.jobs) -------------------

IMPORT_CHUNK = 50  # rights declared between two progress reports

SYNC_JOB = "grdf.sync"
IMPORT_JOB = "grdf.import"
EXPORT_JOB = "grdf.export"


def _day(text: object) -> str:
    try:
        return f"{dt.date.fromisoformat(str(text)):%d/%m/%Y}"
    except ValueError:
        return str(text)


def _import_label(params: Mapping[str, Any]) -> str:
    rows = params.get("rows")
    if not isinstance(rows, int):
        return gettext("Import de demandes de droit d'accès GRDF")
    return ngettext(
        "Import de %(n)d demande de droit d'accès GRDF",
        "Import de %(n)d demandes de droit d'accès GRDF",
        rows,
    ) % {"n": rows}


def _export_label(params: Mapping[str, Any]) -> str:
    return gettext("Export GRDF de %(n)d PCE (du %(start)s au %(end)s)") % {
        "n": len(params.get("pces") or []),
        "start": _day(params.get("start")),
        "end": _day(params.get("end")),
    }


# The titles of this app's jobs, in the reader's language (hub.labels.register_job, from ready).
JOB_LABELS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    SYNC_JOB: lambda params: gettext("Synchronisation GRDF"),
    IMPORT_JOB: _import_label,
    EXPORT_JOB: _export_label,
}


def _now() -> dt.datetime:
    return timezone.now()


def import_in_background(*, rows: int) -> bool:
    """Whether an import is large enough to leave the request (one GRDF call per row)."""
    return rows > settings.GRDF_IMPORT_INLINE_ROWS


def export_in_background(*, pces: int, start: dt.date, end: dt.date) -> bool:
    """Whether an export is large enough to leave the request (PCEs times days over the setting)."""
    return pces * max(1, (end - start).days) > settings.GRDF_EXPORT_INLINE_PCE_DAYS


@job_task()
def sync_job(*, job: Job, progress: Progress) -> JobOutcome:
    """Rights then data, now, for the organisation or the PCEs asked (``Synchroniser``)."""
    now = _now()
    progress(0, 1)
    try:
        with gateway_for(job.organisation) as gateway:
            report = full_sync(
                organisation=job.organisation,
                gateway=gateway,
                now=now,
                today=local_day_of(now),
                pces=[str(p) for p in job.params.get("pces", [])],
                force=True,
            )
    except GatewayError as exc:
        raise JobFailed(
            gettext("Synchronisation impossible : %(reason)s") % {"reason": exc.reason}
        ) from exc
    data = report.data
    message = gettext(
        "Synchronisation : %(seen)d droit(s) lu(s), %(changed)d changé(s) ; "
        "%(points)d valeur(s) enregistrée(s)"
    ) % {"seen": report.rights_seen, "changed": report.rights_changed, "points": data.points}
    if data.warnings:
        message += gettext(", %(n)d avertissement(s)") % {"n": len(data.warnings)}
    if data.failed:
        message += gettext(", %(n)d appel(s) en échec") % {"n": data.failed}
    message += "."
    return JobOutcome(
        summary={
            "rights_seen": report.rights_seen,
            "rights_changed": report.rights_changed,
            "calls": data.tasks,
            "failed": data.failed,
            "points": data.points,
            "warnings": data.warnings,
            "message": message,
        }
    )


@job_task()
def import_job(*, job: Job, progress: Progress) -> JobOutcome:
    """A checked CSV file of access-right requests, declared to GRDF in chunks."""
    now = _now()
    content = base64.b64decode(job.params["content"])
    parsed = csv_import.parse(content, organisation=job.organisation, today=local_day_of(now))
    if parsed.errors:
        first = parsed.errors[0].as_json()
        raise JobFailed(
            gettext("Fichier refusé : %(n)d erreur(s), la première ligne %(line)s : %(reason)s.")
            % {
                "n": len(parsed.errors),
                "line": first.get("line"),
                "reason": first.get("reason") or first,
            }
        )
    specs = [spec for _line, spec in parsed.specs]
    progress(0, len(specs))
    rights: list[AccessRight] = []
    with gateway_for(job.organisation) as gateway:
        for start in range(0, len(specs), IMPORT_CHUNK):
            rights += services.declare_rights(
                organisation=job.organisation,
                specs=specs[start : start + IMPORT_CHUNK],
                gateway=gateway,
                now=_now(),
                actor=Actor(user=job.actor, label=job.actor_label, ip=job.params.get("ip")),
            )
            progress(len(rights))
    refused = [r for r in rights if r.state == RightState.DECLARATION_FAILED]
    message = gettext("%(n)d demande(s) de droit d'accès transmise(s) à GRDF") % {
        "n": len(rights) - len(refused)
    } + (gettext(", %(n)d refusée(s) par GRDF.") % {"n": len(refused)} if refused else ".")
    return JobOutcome(
        summary={
            "rows": len(specs),
            "declared": len(rights) - len(refused),
            "refused": [
                {"pce": r.pce.identifier, "reason": r.state_reason, "right": r.pk} for r in refused
            ],
            "rights": [r.pk for r in rights],
            "message": message,
        }
    )


@job_task()
def export_job(*, job: Job, progress: Progress) -> JobOutcome:
    """A data export (CSV or XLSX) of many PCEs, kept as the job's result file."""
    params = job.params
    start, end = dt.date.fromisoformat(params["start"]), dt.date.fromisoformat(params["end"])
    pces = list(
        selectors.pces(organisation=job.organisation)
        .filter(metering_point__identifier__in=params["pces"])
        .prefetch_related("rights__pce")
    )
    if len(pces) != len(set(params["pces"])):
        raise JobFailed(gettext("Un des PCE demandés n'appartient plus à l'organisation."))
    progress(0, 1)
    today = local_day_of(_now())
    try:
        if params["format"] == "xlsx":
            with translation.override(params.get("language") or settings.LANGUAGE_CODE):
                body = export.to_xlsx(
                    pces=pces, types=params["types"], start=start, end=end, today=today
                )
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            text = export.to_csv(
                pces=pces, types=params["types"], start=start, end=end, today=today
            )
            body = text.encode("utf-8")
            content_type = "text/csv; charset=utf-8"
    except (selectors.OutsideConsent, export.ExportError) as exc:
        raise JobFailed(gettext("Export refusé : %(reason)s.") % {"reason": exc.reason}) from exc
    name = f"grdf-{start}-{end}.{params['format']}"
    return JobOutcome(
        summary={
            "pces": len(pces),
            "bytes": len(body),
            "message": gettext("Export prêt : %(name)s.") % {"name": name},
        },
        content=body,
        filename=name,
        content_type=content_type,
    )
