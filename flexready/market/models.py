"""Market signals: which delivery points follow the supplier's signal, and RTE Ecowatt.

The supplier's values themselves are ``hub`` series of the delivery point's PRM. Ecowatt is one
national signal: it is kept once here (days and hours), not copied into every organisation.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hub.models import MeteringPoint, Organisation


class FeedStatus(models.TextChoices):
    NEVER = "never", _("jamais relevé")
    VALID = "valid", _("valide")
    INVALID = "invalid", _("signal invalide")
    FAILED = "failed", _("appel échoué")


class SupplierFeed(models.Model):
    """One delivery point (a PRM of the organisation) whose supplier signal the hub polls."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="supplier_feeds"
    )
    metering_point = models.ForeignKey(
        MeteringPoint, on_delete=models.CASCADE, related_name="supplier_feeds"
    )
    # The path segment the supplier API (and its emulator) files the calls under.
    session_id = models.CharField(_("session"), max_length=100, default="default")
    enabled = models.BooleanField(_("actif"), default=True)
    last_polled_at = models.DateTimeField(_("dernière relève"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("dernier succès"), null=True, blank=True)
    last_status = models.CharField(
        _("état"), max_length=16, choices=FeedStatus.choices, default=FeedStatus.NEVER
    )
    last_error = models.TextField(_("dernière erreur"), blank=True)
    last_window_start = models.DateTimeField(null=True, blank=True)
    last_window_end = models.DateTimeField(null=True, blank=True)
    last_points = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("signal fournisseur suivi")
        verbose_name_plural = _("signaux fournisseur suivis")
        ordering = ("organisation_id", "metering_point__identifier")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "metering_point"], name="supplier_feed_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(last_status__in=FeedStatus.values),
                name="supplier_feed_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "session_id"])]

    def __str__(self) -> str:
        return f"{self.metering_point.identifier} ({self.session_id})"


class EcowattState(models.Model):
    """The single row that paces calls to RTE and keeps the last answer to serve in between.

    Workers claim a call by locking this row: at most one call per ``next_call_at`` window,
    whatever the number of processes.
    """

    singleton = models.PositiveSmallIntegerField(primary_key=True, default=1)
    next_call_at = models.DateTimeField(null=True, blank=True)
    last_called_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    last_body = models.TextField(blank=True)  # the last valid answer, verbatim

    class Meta:
        verbose_name = _("état Ecowatt")
        constraints = [
            models.CheckConstraint(condition=models.Q(singleton=1), name="ecowatt_state_single"),
        ]

    def __str__(self) -> str:
        return f"Ecowatt ({self.last_outcome or 'jamais appelé'})"


class EcowattDay(models.Model):
    """A local day's national signal, as last published (``dvalue`` and RTE's message)."""

    day = models.DateField(_("jour"), unique=True)
    level = models.PositiveSmallIntegerField(_("niveau du jour"))
    message = models.TextField(_("message"), blank=True)
    generated_at = models.DateTimeField(_("généré le"), null=True, blank=True)
    fetched_at = models.DateTimeField(_("reçu le"))

    class Meta:
        verbose_name = _("jour Ecowatt")
        verbose_name_plural = _("jours Ecowatt")
        ordering = ("day",)
        constraints = [
            models.CheckConstraint(condition=models.Q(level__lte=3), name="ecowatt_day_level"),
        ]

    def __str__(self) -> str:
        return f"{self.day} : {self.level}"


class EcowattHour(models.Model):
    """One hour of the national series: starts at local midnight + ``pas`` hours (UTC)."""

    day = models.ForeignKey(EcowattDay, on_delete=models.CASCADE, related_name="hours")
    pas = models.PositiveSmallIntegerField()
    start = models.DateTimeField(unique=True)
    level = models.PositiveSmallIntegerField(_("niveau"))

    class Meta:
        verbose_name = _("heure Ecowatt")
        ordering = ("start",)
        constraints = [
            models.UniqueConstraint(fields=["day", "pas"], name="ecowatt_hour_unique"),
            models.CheckConstraint(condition=models.Q(level__lte=3), name="ecowatt_hour_level"),
            models.CheckConstraint(condition=models.Q(pas__lte=24), name="ecowatt_hour_pas"),
        ]

    def __str__(self) -> str:
        return f"{self.start.isoformat()} : {self.level}"


class SimulatedSignal(models.Model):
    """The supplier simulator's uploaded signals (Annex 2, ``POST /admin/signals``).

    An empty delivery point is the default signal. A new upload archives the current one.
    """

    delivery_point = models.CharField(max_length=14, blank=True)
    body = models.JSONField()
    uploaded_at = models.DateTimeField()
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("signal simulé")
        ordering = ("delivery_point", "-uploaded_at")
        constraints = [
            models.UniqueConstraint(
                fields=["delivery_point"],
                condition=models.Q(archived_at__isnull=True),
                name="simulated_signal_one_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.delivery_point or 'défaut'} @ {self.uploaded_at.isoformat()}"
