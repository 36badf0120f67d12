"""What every app's signed webhook delivery row holds (``hub.services.webhooks`` sends them)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import migrations, models
from django.db.migrations.operations.base import Operation
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("en attente")
    DELIVERED = "delivered", _("acquitté")
    FAILED = "failed", _("abandonné")


class AbstractWebhookDelivery(models.Model):
    """One body for one endpoint, POSTed signed until acknowledged (2xx) or given up.

    A concrete model adds the foreign key to its endpoint (a row with ``url`` and ``secret``),
    named by ``endpoint_field``, and what the body tells of; it registers a
    ``hub.services.webhooks.Channel`` from its app's ``ready()``.
    """

    endpoint_field: ClassVar[str] = "endpoint"

    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a pending delivery is due again; empty: due since it was created.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="%(app_label)s_%(class)s_due")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values),
                name="%(app_label)s_%(class)s_status_valid",
            ),
        ]

    @property
    def event_name(self) -> str:
        return str(self.payload.get("event", "")) if isinstance(self.payload, dict) else ""

    def endpoint_row(self) -> Any:
        """The endpoint this delivery goes to (has ``url`` and ``secret``)."""
        return getattr(self, self.endpoint_field)


def adoption_operations(*, app_label: str, model_name: str, old_check: str) -> list[Operation]:
    """The schema steps that put an app's existing delivery table under this model: one new
    column, ``created_at`` given a default, the due index, the status check renamed. No row
    is rewritten. Migrations call it, so keep it as it is: a change here is a new function."""
    prefix = f"{app_label}_{model_name}"
    return [
        migrations.RemoveConstraint(model_name=model_name, name=old_check),
        migrations.AddField(
            model_name=model_name,
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name=model_name,
            name="created_at",
            field=models.DateTimeField(default=timezone.now),
        ),
        migrations.AddIndex(
            model_name=model_name,
            index=models.Index(fields=["status", "next_attempt_at"], name=f"{prefix}_due"),
        ),
        migrations.AddConstraint(
            model_name=model_name,
            constraint=models.CheckConstraint(
                condition=models.Q(status__in=["pending", "delivered", "failed"]),
                name=f"{prefix}_status_valid",
            ),
        ),
    ]
