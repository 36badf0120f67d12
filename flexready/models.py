"""Flex Ready operator side (Annex 1): BACS, their assets and potentials, flexibility requests,
the identities allowed to call, and the certification sessions' journals.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from hub.models import MeteringPoint, Organisation

ID_MAX = 100


class Bacs(models.Model):
    """A building automation and control system the hub speaks for (one building's BACS/CEMS)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="flexready_bacs"
    )
    bacs_id = models.CharField(_("identifiant BACS"), max_length=ID_MAX)
    name = models.CharField(_("nom"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    # The building's meter (typically fed by TIC): realisations are measured on its series.
    metering_point = models.ForeignKey(
        MeteringPoint,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="flexready_bacs",
        verbose_name=_("point de comptage du bâtiment"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("BACS")
        verbose_name_plural = _("BACS")
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(fields=["organisation", "bacs_id"], name="flexready_bacs_id"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.bacs_id})"


class Asset(models.Model):
    """A flexible asset of a BACS (the whole building, a heating system …) and its potential.

    The potential's power is stored in watts; ``power_multiplier`` only says how to display it
    (the annex writes ``{"unit": "W", "multiplier": "k", "value": 100.0}``).
    """

    bacs = models.ForeignKey(Bacs, on_delete=models.CASCADE, related_name="assets")
    asset_id = models.CharField(_("identifiant d'actif"), max_length=ID_MAX)
    description = models.CharField(_("description"), max_length=300, blank=True)
    flex_product = models.CharField(_("produit de flexibilité"), max_length=16)
    power_w = models.DecimalField(_("puissance (W)"), max_digits=16, decimal_places=3)
    power_multiplier = models.CharField(_("multiplicateur d'affichage"), max_length=2, default="k")
    mobilisation_delay_s = models.PositiveIntegerField(_("délai de mobilisation (s)"))
    max_duration_s = models.PositiveIntegerField(_("durée maximale (s)"))
    activations_per_day = models.PositiveSmallIntegerField(_("activations par jour"))

    class Meta:
        verbose_name = _("actif flexible")
        verbose_name_plural = _("actifs flexibles")
        ordering = ("bacs_id", "asset_id")
        constraints = [
            models.UniqueConstraint(fields=["bacs", "asset_id"], name="flexready_asset_id"),
            models.CheckConstraint(
                condition=models.Q(power_w__gt=0), name="flexready_asset_power_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(max_duration_s__gt=0), name="flexready_asset_duration_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bacs.bacs_id}/{self.asset_id}"

    @property
    def power_kw(self) -> Decimal:
        return self.power_w / 1000


class AllowedPeriod(models.Model):
    """A window ``[start, end)`` in which the asset may be activated (UTC)."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="periods")
    start = models.DateTimeField(_("début"))
    end = models.DateTimeField(_("fin"))

    class Meta:
        verbose_name = _("période autorisée")
        ordering = ("start",)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="flexready_period_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"


class RequestStatus(models.TextChoices):
    RECEIVED = "received", _("reçue")
    ACCEPTED = "accepted", _("acceptée")
    REFUSED = "refused", _("refusée")
    CONFIRMED = "confirmed", _("confirmée")
    ACTIVE = "active", _("en cours")
    REALISED = "realised", _("réalisée")
    FAILED = "failed", _("échouée")


class FlexRequest(models.Model):
    """One flexibility request from an operator, through its lifecycle."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="requests")
    request_id = models.CharField(_("identifiant de demande"), max_length=ID_MAX)
    flex_product = models.CharField(_("produit"), max_length=16)
    # The program as normalised steps: [{"start", "end" (ISO UTC), "power_w"}].
    program = models.JSONField(_("programme"))
    start = models.DateTimeField(_("début"))
    end = models.DateTimeField(_("fin"))
    status = models.CharField(max_length=16, choices=RequestStatus.choices)
    reasons = models.JSONField(_("motifs de refus"), default=list, blank=True)
    ack_price = models.JSONField(_("prix acquitté"), null=True, blank=True)
    emulator_headers = models.JSONField(default=dict, blank=True)
    caller = models.CharField(_("appelant"), max_length=200, blank=True)
    session = models.ForeignKey(
        "CertificationSession",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requests",
    )
    received_at = models.DateTimeField(_("reçue le"))
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The last realisation computed, as returned by the API (kept for the portal's chart).
    realisation = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = _("demande de flexibilité")
        verbose_name_plural = _("demandes de flexibilité")
        ordering = ("-received_at",)
        constraints = [
            models.UniqueConstraint(fields=["asset", "request_id"], name="flexready_request_id"),
            models.CheckConstraint(
                condition=models.Q(status__in=RequestStatus.values),
                name="flexready_request_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="flexready_request_ordered"
            ),
        ]
        indexes = [models.Index(fields=["asset", "start"], name="flexready_request_start")]

    def __str__(self) -> str:
        return f"{self.asset} · {self.request_id}"


class OperatorIdentity(models.Model):
    """Which organisation a JWT's issuer (and optionally subject) acts for.

    A blank subject maps every subject of the issuer; an exact subject wins over it.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="flexready_identities"
    )
    issuer = models.CharField(_("émetteur (iss)"), max_length=300)
    subject = models.CharField(_("sujet (sub)"), max_length=300, blank=True)
    label = models.CharField(_("libellé"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("identité d'opérateur")
        verbose_name_plural = _("identités d'opérateur")
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="flexready_identity"),
        ]

    def __str__(self) -> str:
        return f"{self.issuer} / {self.subject or '*'} -> {self.organisation}"


class CertificationSession(models.Model):
    """A certification session: the ``{session_id}`` of the annex's paths, made on first use."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="flexready_sessions"
    )
    session_id = models.CharField(_("identifiant de session"), max_length=ID_MAX)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("session de certification")
        verbose_name_plural = _("sessions de certification")
        ordering = ("-created_at",)
        constraints = [
            # Per organisation: another organisation's id is, for a caller, an unknown one.
            models.UniqueConstraint(
                fields=["organisation", "session_id"], name="flexready_session_id_per_org"
            ),
        ]

    def __str__(self) -> str:
        return self.session_id


class JournalEntry(models.Model):
    """One call made in a certification session: request, response, time."""

    session = models.ForeignKey(
        CertificationSession, on_delete=models.CASCADE, related_name="entries"
    )
    at = models.DateTimeField()
    duration_ms = models.FloatField()
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    caller = models.CharField(max_length=200, blank=True)
    request_headers = models.JSONField(default=dict)
    request_body = models.TextField(blank=True)
    status = models.PositiveSmallIntegerField()
    response_body = models.TextField(blank=True)

    class Meta:
        verbose_name = _("entrée de journal")
        verbose_name_plural = _("journal")
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.at.isoformat()} {self.method} {self.path} -> {self.status}"
