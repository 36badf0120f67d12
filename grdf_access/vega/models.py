"""VEGA catalogue (releases, flux, web services), per-organisation use, publication watch, PCEs."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils.translation import gettext_lazy as _

from grdf_access.models import Pce
from hub.models import Organisation


class DateStatus(models.TextChoices):
    UNKNOWN = "unknown", _("à annoncer")
    TENTATIVE = "tentative", _("prévisionnelle")
    CONFIRMED = "confirmed", _("confirmée")


class DatePrecision(models.TextChoices):
    DAY = "day", _("jour")
    MONTH = "month", _("mois")


class Release(models.Model):
    """An OMEGA/VEGA release (V24.1 … V27.3) and its production date as last announced."""

    code = models.CharField(_("version OMEGA"), max_length=10, unique=True)
    rank = models.PositiveSmallIntegerField(_("ordre"))
    planned_date = models.DateField(_("date de mise en production"), null=True, blank=True)
    date_precision = models.CharField(
        _("précision"), max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    date_status = models.CharField(
        _("statut de la date"),
        max_length=10,
        choices=DateStatus.choices,
        default=DateStatus.UNKNOWN,
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["rank"]
        verbose_name = _("version OMEGA")
        verbose_name_plural = _("versions OMEGA")

    def __str__(self) -> str:
        return self.code


class ReleaseDateChange(models.Model):
    """One announced change of a release's date: the history is kept, never overwritten."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="date_changes")
    previous_date = models.DateField(null=True, blank=True)
    previous_status = models.CharField(max_length=10, choices=DateStatus.choices, blank=True)
    date = models.DateField(null=True, blank=True)
    date_precision = models.CharField(
        max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    status = models.CharField(max_length=10, choices=DateStatus.choices)
    note = models.TextField(blank=True)
    announced_on = models.DateField(_("annoncé le"), null=True, blank=True)
    changed_at = models.DateTimeField()
    actor_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["release__rank", "changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.release_id}: {self.previous_date} -> {self.date}"


class ItemKind(models.TextChoices):
    FLUX = "flux", _("publication (flux)")
    WEB_SERVICE = "ws", _("web service / API")


class CatalogueItem(models.Model):
    """A GRDF publication or web service and what VEGA does to it."""

    kind = models.CharField(_("nature"), max_length=4, choices=ItemKind.choices)
    code = models.CharField(_("code"), max_length=60, unique=True)
    aliases = models.CharField(_("autres codes"), max_length=120, blank=True)
    name = models.CharField(_("nom"), max_length=200, blank=True)
    obsolete = models.BooleanField(_("obsolète"), default=False)
    replacement = models.TextField(_("remplacement"), blank=True)
    recommendation = models.TextField(_("préconisation GRDF"), blank=True)
    double_run_start = models.ForeignKey(
        Release, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    double_run_end = models.ForeignKey(
        Release, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    no_double_run = models.BooleanField(_("pas de double run"), default=False)
    decommissioned_in = models.ForeignKey(
        Release,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("décommissionné en"),
    )
    notes = models.TextField(_("notes"), blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        ordering = ["kind", "pk"]
        verbose_name = _("flux ou service")
        verbose_name_plural = _("catalogue VEGA")

    def __str__(self) -> str:
        return self.code

    def alias_list(self) -> list[str]:
        return [a.strip() for a in self.aliases.split(",") if a.strip()]


class ReleaseCell(models.Model):
    """The seed's grid: what the table says of an item at a release ("V14", "X", "(fin V14)")."""

    item = models.ForeignKey(CatalogueItem, on_delete=models.CASCADE, related_name="cells")
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="cells")
    value = models.CharField(max_length=300)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "release"], name="vega_cell_unique"),
        ]
        ordering = ["item", "release__rank"]

    def __str__(self) -> str:
        return self.value


class ItemVersion(models.Model):
    """A version of an item and the releases that supersede it and end it."""

    item = models.ForeignKey(CatalogueItem, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(_("version"), max_length=20)
    superseded_in = models.ForeignKey(
        Release,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("nouvelle version en"),
    )
    ends_in = models.ForeignKey(
        Release,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("fin en"),
    )
    end_is_proposal = models.BooleanField(_("fin seulement proposée"), default=False)
    note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "version"], name="vega_version_unique"),
        ]
        ordering = ["item", "version"]

    def __str__(self) -> str:
        return f"{self.item.code} {self.version}"


class Usage(models.Model):
    """What an organisation consumes, at which version."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="vega_usages"
    )
    item = models.ForeignKey(CatalogueItem, on_delete=models.PROTECT, related_name="usages")
    version = models.CharField(_("version utilisée"), max_length=20)
    note = models.CharField(_("note"), max_length=300, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "item"], name="vega_usage_unique"),
        ]
        ordering = ["item__kind", "item__pk"]

    def __str__(self) -> str:
        return f"{self.item_id} {self.version}"


class UsageAlert(models.Model):
    """An end-of-version reminder already sent (90, 30 or 7 days): each goes once."""

    usage = models.ForeignKey(Usage, on_delete=models.CASCADE, related_name="alerts")
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="+")
    days = models.PositiveSmallIntegerField()
    end_date = models.DateField()
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["usage", "release", "days", "end_date"], name="vega_usage_alert_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.usage_id} J-{self.days}"


class Cadence(models.TextChoices):
    WORKING_DAYS = "working_days", _("quotidienne, jours ouvrés")
    DAILY = "daily", _("quotidienne, tous les jours")
    WEEKLY = "weekly", _("hebdomadaire")
    MONTHLY = "monthly", _("mensuelle")


class ExpectedPublication(models.Model):
    """A publication an organisation expects, with its cadence and time of arrival (Paris)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="vega_expected"
    )
    item = models.ForeignKey(CatalogueItem, on_delete=models.PROTECT, related_name="+")
    cadence = models.CharField(max_length=14, choices=Cadence.choices)
    # Weekly: 0 = Monday; monthly: the day of the month (moved to the next working day).
    weekday = models.PositiveSmallIntegerField(null=True, blank=True)
    day_of_month = models.PositiveSmallIntegerField(null=True, blank=True)
    expected_time = models.TimeField(_("heure attendue (Paris)"))
    grace_minutes = models.PositiveSmallIntegerField(_("tolérance (minutes)"), default=30)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "item"], name="vega_expected_unique"),
        ]
        ordering = ["item__pk"]

    def __str__(self) -> str:
        return f"{self.item.code} ({self.get_cadence_display()})"


class WatchedDirectory(models.Model):
    """A directory where an SFTP server drops the organisation's publications (admin only)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="vega_directories"
    )
    path = models.CharField(_("chemin du dépôt"), max_length=500, unique=True)
    active = models.BooleanField(default=True)
    retention_days = models.PositiveIntegerField(_("conservation (jours)"), default=400)
    last_scan_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("répertoire surveillé")
        verbose_name_plural = _("répertoires surveillés")

    def __str__(self) -> str:
        return self.path


def publication_storage() -> FileSystemStorage:
    # Under var/, like the other files the hub keeps: the deployment's persistent volume.
    return FileSystemStorage(location=Path(settings.VAR_DIR) / "vega-publications")


class ArrivalSource(models.TextChoices):
    PORTAL = "portal", _("portail")
    API = "api", _("API")
    DIRECTORY = "directory", _("répertoire surveillé")


class Arrival(models.Model):
    """One publication file received: what it is, its fingerprint, what the checks found."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="vega_arrivals"
    )
    item = models.ForeignKey(
        CatalogueItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    flux_code = models.CharField(max_length=60, blank=True)
    version = models.CharField(max_length=20, blank=True)
    file_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    rows = models.PositiveIntegerField()
    data_rows = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    source = models.CharField(max_length=10, choices=ArrivalSource.choices)
    publication_day = models.DateField()
    received_at = models.DateTimeField()
    file = models.FileField(storage=publication_storage, max_length=400, blank=True)
    retain_until = models.DateField()
    file_purged_at = models.DateTimeField(null=True, blank=True)
    parser = models.CharField(max_length=80, blank=True)
    gas_days = models.JSONField(default=list, blank=True)
    empty_values = models.PositiveIntegerField(null=True, blank=True)
    issues = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "sha256"], name="vega_arrival_once"),
        ]
        indexes = [models.Index(fields=["organisation", "flux_code", "publication_day"])]
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return self.file_name


class MissedPublication(models.Model):
    """An expected publication not arrived by its time: the "alarme jalon"."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="vega_missed"
    )
    expected = models.ForeignKey(
        ExpectedPublication, on_delete=models.CASCADE, related_name="missed"
    )
    day = models.DateField()
    due_at = models.DateTimeField()
    detected_at = models.DateTimeField()
    arrived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["expected", "day"], name="vega_missed_once"),
        ]
        ordering = ["-day", "pk"]

    def __str__(self) -> str:
        return f"{self.expected_id} {self.day}"


class SpecialReadingRequest(models.Model):
    """A free special reading asked for a long-estimated PCE (two a year)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="vega_special_readings"
    )
    pce = models.ForeignKey(Pce, on_delete=models.CASCADE, related_name="vega_special_readings")
    requested_on = models.DateField(_("demandé le"))
    reference = models.CharField(_("référence de la demande"), max_length=60, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-requested_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.pce_id} {self.requested_on}"


class GrdfEstimatedList(models.Model):
    """GRDF's monthly list of long-estimated PCEs, as imported."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="vega_estimated_lists"
    )
    month = models.DateField(_("mois"))
    file_name = models.CharField(max_length=255)
    imported_at = models.DateTimeField()

    class Meta:
        ordering = ["-month", "-imported_at"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.file_name}"


class GrdfEstimatedEntry(models.Model):
    listing = models.ForeignKey(GrdfEstimatedList, on_delete=models.CASCADE, related_name="entries")
    pce_identifier = models.CharField(max_length=14)
    last_real_reading = models.DateField(null=True, blank=True)
    months_estimated = models.PositiveSmallIntegerField(null=True, blank=True)
    line = models.PositiveIntegerField()

    class Meta:
        ordering = ["pce_identifier"]

    def __str__(self) -> str:
        return self.pce_identifier
