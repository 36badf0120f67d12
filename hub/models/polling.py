from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hub.models.tenancy import Organisation


class PollOutcome(models.TextChoices):
    RUNNING = "running", _("en cours")
    SUCCESS = "success", _("réussi")
    PARTIAL = "partial", _("partiel")
    FAILED = "failed", _("échoué")


class PollRun(models.Model):
    """One batch of calls to an external system: what, when, how it went, how much came back."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="poll_runs", null=True, blank=True
    )
    source = models.SlugField(_("source"), max_length=64)
    target = models.CharField(_("objet"), max_length=200, blank=True)
    started_at = models.DateTimeField(_("début"))
    finished_at = models.DateTimeField(_("fin"), null=True, blank=True)
    outcome = models.CharField(
        max_length=16, choices=PollOutcome.choices, default=PollOutcome.RUNNING
    )
    items_received = models.PositiveIntegerField(default=0)
    items_stored = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("relève")
        ordering = ("-started_at",)
        indexes = [models.Index(fields=["organisation", "source", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.source} {self.target} {self.started_at:%Y-%m-%d %H:%M} {self.outcome}"
