"""Celery tasks of GRDF access: thin, keyword arguments only, queue declared on each task."""

from __future__ import annotations

import base64
import datetime as dt
from functools import partial

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

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
        raise JobFailed(f"Synchronisation impossible : {exc.reason}") from exc
    data = report.data
    message = (
        f"Synchronisation : {report.rights_seen} droit(s) lu(s), {report.rights_changed} "
        f"changé(s) ; {data.points} valeur(s) enregistrée(s)"
        + (f", {len(data.warnings)} avertissement(s)" if data.warnings else "")
        + (f", {data.failed} appel(s) en échec" if data.failed else "")
        + "."
    )
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
            f"Fichier refusé : {len(parsed.errors)} erreur(s), la première ligne "
            f"{first.get('line')} : {first.get('reason') or first}."
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
    message = f"{len(rights) - len(refused)} demande(s) de droit d'accès transmise(s) à GRDF" + (
        f", {len(refused)} refusée(s) par GRDF." if refused else "."
    )
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
        raise JobFailed("Un des PCE demandés n'appartient plus à l'organisation.")
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
    except selectors.OutsideConsent as exc:
        raise JobFailed(f"Export refusé : {exc.reason}.") from exc
    except export.ExportError as exc:
        raise JobFailed(f"Export refusé : {exc.reason}.") from exc
    name = f"grdf-{start}-{end}.{params['format']}"
    return JobOutcome(
        summary={"pces": len(pces), "bytes": len(body), "message": f"Export prêt : {name}."},
        content=body,
        filename=name,
        content_type=content_type,
    )
