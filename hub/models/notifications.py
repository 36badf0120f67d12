from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hub.models.tenancy import Organisation


class Severity(models.TextChoices):
    INFO = "info", _("information")
    WARNING = "warning", _("avertissement")
    CRITICAL = "critical", _("critique")


class Notification(models.Model):
    """Something an organisation's people should see: an alert raised by an app, or a notice.

    ``dedupe_key`` names the condition (e.g. ``preavis:041436028024``): while a notification with
    the same key is open, raising it again only counts the repeat instead of alerting twice.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="notifications"
    )
    source = models.SlugField(_("source"), max_length=64)
    kind = models.SlugField(_("type"), max_length=64)
    severity = models.CharField(
        _("gravité"), max_length=16, choices=Severity.choices, default=Severity.INFO
    )
    title = models.CharField(_("titre"), max_length=200)
    body = models.TextField(_("détail"), blank=True)
    link = models.CharField(_("lien"), max_length=500, blank=True)
    dedupe_key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(_("créée le"))
    last_seen_at = models.DateTimeField(_("vue pour la dernière fois le"))
    repeats = models.PositiveIntegerField(default=0)
    resolved_at = models.DateTimeField(_("close le"), null=True, blank=True)
    emailed_to = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("notification")
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["organisation", "-created_at"])]
        constraints = [
            # At most one open notification per condition and organisation.
            models.UniqueConstraint(
                fields=["organisation", "source", "dedupe_key"],
                condition=models.Q(resolved_at__isnull=True) & ~models.Q(dedupe_key=""),
                name="notification_one_open_per_key",
            ),
        ]

    def __str__(self) -> str:
        return f"[{self.severity}] {self.title}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
