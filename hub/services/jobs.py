"""Background jobs: queued after the request commits, run by a worker, followed by their id.

An app declares a job body with :func:`job_task` (a Celery task taking the job id) and starts it
with :func:`start`; the requester follows it at ``/api/v1/jobs/{id}/`` or on its portal page.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from celery import shared_task
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from kombu.exceptions import OperationalError

from hub import labels
from hub.actors import NOBODY, Actor
from hub.models import Job, JobStatus, Organisation
from hub.services import audit

logger = logging.getLogger(__name__)

BROKER_DOWN = _(
    "La file des tâches de fond est injoignable : la tâche n'a pas été lancée. "
    "Réessayez dans quelques minutes."
)
UNEXPECTED = _(
    "La tâche s'est arrêtée sur une erreur inattendue (détail dans les journaux du hub)."
)
# A broker that does not answer must not hold the request for long: two quick tries.
ENQUEUE_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}


class BrokerUnavailable(Exception):
    """The task queue could not be reached: the job is recorded as failed, nothing runs."""

    def __init__(self, job: Job) -> None:
        super().__init__(str(BROKER_DOWN))
        self.job = job
        self.reason = str(BROKER_DOWN)


class JobFailed(Exception):
    """An expected failure, told to the requester as is (in their language: the body runs in
    it), something they can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class JobOutcome:
    """What a job body returns: a summary for the API and page, and optionally a file."""

    summary: Mapping[str, Any] = field(default_factory=dict)
    content: bytes | None = None
    filename: str = ""
    content_type: str = "application/octet-stream"


class Enqueueable(Protocol):
    def apply_async(self, *args: Any, **kwargs: Any) -> Any: ...


class JobBody(Protocol):
    def __call__(self, *, job: Job, progress: Progress) -> JobOutcome: ...


class Progress:
    """Reports a running job's progress; each call is one small UPDATE, visible at once."""

    def __init__(self, job: Job) -> None:
        self.job = job

    def __call__(self, done: int, total: int | None = None) -> None:
        changes: dict[str, Any] = {"progress_done": max(0, done)}
        if total is not None:
            changes["progress_total"] = max(0, total)
        Job.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING).update(**changes)


def start(
    *,
    organisation: Organisation,
    kind: str,
    task: Enqueueable,
    params: Mapping[str, Any],
    now: dt.datetime,
    actor: Actor = NOBODY,
    label: str = "",
) -> Job:
    """Record the job and queue it once the transaction commits (the worker must find the row).

    The job runs in the requester's language (``params["language"]``, else the active one), so
    its messages read as the page that asked; its title is the kind's registered label, read in
    each reader's language (``Job.title``), ``label`` being kept for kinds no app registered.
    Raises :class:`BrokerUnavailable` when the queue cannot be reached; the job row then says so.
    """
    params = {"language": translation.get_language() or settings.LANGUAGE_CODE, **params}
    if not label:
        with translation.override(settings.LANGUAGE_CODE):
            label = labels.job_label(kind, params)
    # A person is kept as the job's actor; an API token (no user row) by its label.
    with transaction.atomic():
        job = Job.objects.create(
            organisation=organisation,
            kind=kind,
            label=label,
            params=dict(params),
            actor=actor.user,
            actor_label=actor.label[:200],
            created_at=now,
        )
        audit.record(
            action="job.queued",
            actor=actor,
            organisation=organisation,
            target=job,
            after={"kind": kind, "label": label},
            at=now,
        )
        transaction.on_commit(partial(_enqueue, job=job, task=task))
    return job


def _enqueue(*, job: Job, task: Enqueueable) -> None:
    try:
        task.apply_async(kwargs={"job_id": str(job.pk)}, retry=True, retry_policy=ENQUEUE_RETRY)
    except (OperationalError, OSError) as exc:
        logger.warning("job not queued", extra={"job": str(job.pk), "error": str(exc)})
        _finish(job, status=JobStatus.FAILED, error=str(BROKER_DOWN), now=timezone.now())
        job.refresh_from_db()
        raise BrokerUnavailable(job) from exc


def job_task() -> Callable[[JobBody], Any]:
    """Turn ``body(job=, progress=) -> JobOutcome`` into a Celery task taking ``job_id``; its
    queue is its app's (``CELERY_TASK_ROUTES``, by the task's name)."""

    def decorator(body: JobBody) -> Any:
        name = f"{body.__module__}.{getattr(body, '__name__', 'job')}"

        @shared_task(name=name, ignore_result=True)
        def task(*, job_id: str) -> str:
            return run(job_id=job_id, body=body)

        task.__doc__ = body.__doc__
        return task

    return decorator


def run(*, job_id: str, body: JobBody) -> str:
    """Run one job in the worker; a job already finished (a redelivered message) is skipped."""
    job = Job.objects.select_related("organisation").filter(pk=job_id).first()
    if job is None or job.finished:
        return "skipped"
    started = timezone.now()
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, started_at=started, progress_done=0
    )
    job.status = JobStatus.RUNNING
    with translation.override(job.params.get("language") or settings.LANGUAGE_CODE):
        try:
            outcome = body(job=job, progress=Progress(job))
        except JobFailed as exc:
            _finish(job, status=JobStatus.FAILED, error=exc.reason, now=timezone.now())
            return "failed"
        except Exception:
            logger.exception("job failed", extra={"job": str(job.pk), "kind": job.kind})
            _finish(job, status=JobStatus.FAILED, error=str(UNEXPECTED), now=timezone.now())
            return "failed"
        _finish(job, status=JobStatus.SUCCEEDED, outcome=outcome, now=timezone.now())
    return "succeeded"


def _finish(
    job: Job,
    *,
    status: JobStatus,
    now: dt.datetime,
    outcome: JobOutcome | None = None,
    error: str = "",
) -> None:
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        locked.status = status
        locked.finished_at = now
        locked.error = error
        if outcome is not None:
            locked.result = audit.redact(dict(outcome.summary)) or {}
            if locked.progress_total:
                locked.progress_done = locked.progress_total
            if outcome.content is not None:
                locked.result_name = outcome.filename or f"{locked.kind}-{locked.pk}"
                locked.result_content_type = outcome.content_type
                locked.result_file.save(
                    locked.result_name, ContentFile(outcome.content), save=False
                )
        locked.save()
        audit.record(
            action=f"job.{status}",
            actor=Actor.system("tâche de fond"),
            organisation=locked.organisation,
            target=locked,
            after={"kind": locked.kind, "status": status, "error": error},
            at=now,
        )
