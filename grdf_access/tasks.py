"""Celery tasks of GRDF access: thin, keyword arguments only, queue declared on each task."""

from __future__ import annotations

from functools import partial

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from grdf_access.adict_gateway import gateway_for
from grdf_access.gateway import GatewayError
from grdf_access.models import Pce
from grdf_access.purge import purge
from grdf_access.sync import full_sync
from hub.clock import local_day_of
from hub.models import Organisation


@shared_task(queue="polling", ignore_result=True)
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


@shared_task(queue="polling", ignore_result=True)
def sync_due() -> int:
    """Beat's fan-out: one sync per organisation with GRDF PCEs (each plans what is due)."""
    organisation_pks = sorted(set(Pce.objects.values_list("organisation_id", flat=True)))
    for pk in organisation_pks:
        transaction.on_commit(
            partial(sync_organisation.apply_async, kwargs={"organisation_pk": pk})
        )
    return len(organisation_pks)


@shared_task(queue="default", ignore_result=True)
def purge_expired() -> int:
    now = timezone.now()
    return purge(today=local_day_of(now), now=now).points
