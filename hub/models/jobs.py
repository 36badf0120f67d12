"""Background jobs: long work (syncs, imports, exports) run by a worker, followed by its id."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils.translation import gettext_lazy as _

from hub.labels import job_label
from hub.models.tenancy import Organisation


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("en attente")
    RUNNING = "running", _("en cours")
    SUCCEEDED = "succeeded", _("terminée")
    FAILED = "failed", _("échouée")


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED)


def result_storage() -> FileSystemStorage:
    # Under var/, like the other files the hub keeps: the deployment's persistent volume.
    return FileSystemStorage(location=Path(settings.VAR_DIR) / "job-results")


class Job(models.Model):
    """One piece of work asked by a person or a token, with its progress and its result."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(_("type"), max_length=64)
    label = models.CharField(_("libellé"), max_length=200)
    status = models.CharField(
        _("état"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    params = models.JSONField(default=dict, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)
    result_file = models.FileField(upload_to="%Y/%m/", storage=result_storage, blank=True)
    result_name = models.CharField(max_length=200, blank=True)
    result_content_type = models.CharField(max_length=120, blank=True)
    error = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    actor_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(_("demandée le"))
    started_at = models.DateTimeField(_("commencée le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finie le"), null=True, blank=True)

    class Meta:
        verbose_name = _("tâche de fond")
        verbose_name_plural = _("tâches de fond")
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["organisation", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} {self.status}"

    @property
    def title(self) -> str:
        """The job's label in the reader's language (registered by its app, by kind)."""
        return job_label(self.kind, self.params, self.label)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def percent(self) -> int | None:
        if self.status == JobStatus.SUCCEEDED:
            return 100
        if not self.progress_total:
            return None
        return min(100, round(100 * self.progress_done / self.progress_total))
