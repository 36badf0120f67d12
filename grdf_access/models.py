"""GRDF consent-based data access: PCEs, rights, subscriptions, snapshots, proofs, thresholds.

State strings are GRDF's own (``etat_droit_acces``, ``statut_controle_preuve``), so a right's
state reads the same here as in GRDF's answers and in the Espace Client.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from hub.fields import EncryptedTextField
from hub.http import urlsafety
from hub.models import (
    AbstractWebhookDelivery,
    DeliveryStatus,
    MeteringPoint,
    Notification,
    Organisation,
    Quality,
    Series,
)


class DataType(models.TextChoices):
    """The five data types a right can grant (seed 000, "Type" of the RSF access right)."""

    PUBLISHED = "publiees", _("Publiées")
    INFORMATIVE_DAILY = "informatives_journalieres", _("Informatives journalières")
    INFORMATIVE_HOURLY = "informatives_horaires", _("Informatives horaires")
    CONTRACTUAL = "contractuelles", _("Contractuelles")
    TECHNICAL = "techniques", _("Techniques")


# The right's boolean field for each data type.
TYPE_FIELDS: dict[str, str] = {
    DataType.PUBLISHED: "published",
    DataType.INFORMATIVE_DAILY: "informative_daily",
    DataType.INFORMATIVE_HOURLY: "informative_hourly",
    DataType.CONTRACTUAL: "contractual",
    DataType.TECHNICAL: "technical",
}


class Role(models.TextChoices):
    HOLDER = "DETENTEUR_CONTRAT_FOURNITURE", _("Fournisseur titulaire")
    AUTHORISED = "AUTORISE_CONTRAT_FOURNITURE", _("Tiers autorisé")


# ``parcours`` of a right (ADICT): who declares it and where the holder consents.
JOURNEY_LABELS = {
    "TIERS_DIRECT": _("tiers direct (validation par e-mail)"),
    "CLIENT_CONNECT": _("Client Connect (consentement sur le site GRDF)"),
}


class RightState(models.TextChoices):
    # Local states before GRDF has answered, then GRDF's etat_droit_acces values.
    DRAFT = "A declarer", _("À déclarer")
    DECLARATION_FAILED = "Rejetee", _("Rejetée à la déclaration")
    TO_VALIDATE = "A valider", _("En attente de validation")
    ACTIVE = "Active", _("Actif")
    TO_RECHECK = "A reverifier", _("À revérifier")
    REFUSED = "Refusee", _("Refusé")
    REVOKED = "Revoquee", _("Révoqué")
    OBSOLETE = "Obsolete", _("Obsolète")
    TERMINATED = "Resiliee", _("Résilié")


# States after which nothing is fetched or served again.
FINAL_STATES = frozenset(
    {
        RightState.DECLARATION_FAILED,
        RightState.REFUSED,
        RightState.REVOKED,
        RightState.OBSOLETE,
        RightState.TERMINATED,
    }
)


class ProofStatus(models.TextChoices):
    NONE = "", _("Aucun contrôle")
    AWAITED = "Preuve en attente", _("En attente de preuves")
    CHECKING = "Preuve en cours de vérification", _("Preuves en cours de vérification")
    OK = "Preuve Vérifiée OK", _("Preuves vérifiées OK")
    KO = "Preuve Vérifiée KO", _("Preuves vérifiées KO")


class Frequency(models.TextChoices):
    """``caracteristiques_compteur.frequence``: how often the meter's published data come."""

    UNKNOWN = "", _("inconnue")
    SEMESTRIAL = "6M", _("semestrielle (6M)")
    MONTHLY_1M = "1M", _("mensuelle, Gazpar (1M)")
    MONTHLY_MM = "MM", _("mensuelle (MM)")
    DAILY = "JJ", _("journalière (JJ)")


class Pce(models.Model):
    """A gas PCE as the GRDF pages know it: the hub's metering point plus the Espace Client's
    labels and what GRDF told us about the meter."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="grdf_pces"
    )
    # PROTECT: deleting the metering point must not take the consent records with it.
    metering_point = models.OneToOneField(
        MeteringPoint, on_delete=models.PROTECT, related_name="grdf_pce"
    )
    alias = models.CharField(_("alias"), max_length=120, blank=True)
    site_label = models.CharField(_("libellé du site"), max_length=200, blank=True)
    client_name = models.CharField(_("dénomination du client"), max_length=200, blank=True)
    postcode = models.CharField(_("code postal"), max_length=5, blank=True)
    # Whether the organisation holds the supply contract: decides the default rights.
    holder = models.BooleanField(_("fournisseur titulaire"), default=False)
    frequency = models.CharField(
        _("fréquence de relève"), max_length=2, choices=Frequency.choices, blank=True
    )
    mes_date = models.DateField(_("date de mise en service"), null=True, blank=True)
    # Last time each kind of data was asked for (None: never); the beat fan-out reads them.
    informative_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    snapshots_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    # First gas day fetched of each dated type, without a gap up to the last poll (None:
    # never fetched); a range starting earlier is then fetched back to its start.
    informative_fetched_from = models.DateField(null=True, blank=True, editable=False)
    published_fetched_from = models.DateField(null=True, blank=True, editable=False)
    hourly_fetched_from = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("PCE")
        verbose_name_plural = _("PCE")
        ordering = ("metering_point__identifier",)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(frequency__in=Frequency.values), name="grdf_pce_frequency_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.identifier

    @property
    def identifier(self) -> str:
        return self.metering_point.identifier


class AccessRight(models.Model):
    """One access right declared to GRDF for one PCE, matching the customer's consent.

    Consent dates say when the hub may ask; the data range says which days' data it may ask
    for (bounded by the PCE's commissioning date and the consent end); the five flags say which
    data types (seed 000, "Conformité réglementaire & RGPD").
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="grdf_rights"
    )
    # A right ends through its own flows (revoke, terminate), never as a side effect.
    pce = models.ForeignKey(Pce, on_delete=models.PROTECT, related_name="rights")
    grdf_id = models.CharField(_("identifiant GRDF"), max_length=64, blank=True)
    role = models.CharField(_("rôle"), max_length=40, choices=Role.choices)
    holder_name = models.CharField(_("nom du titulaire"), max_length=200, blank=True)
    holder_company = models.CharField(_("raison sociale du titulaire"), max_length=200, blank=True)
    holder_email = models.EmailField(_("courriel du titulaire"), blank=True)
    holder_phone = models.CharField(_("mobile du titulaire"), max_length=20, blank=True)
    postcode = models.CharField(_("code postal"), max_length=5)
    consent_start = models.DateField(_("début du consentement"))
    consent_end = models.DateField(_("fin du consentement"))
    data_start = models.DateField(_("début de la plage de données"))
    data_end = models.DateField(_("fin de la plage de données"))
    published = models.BooleanField(_("publiées"), default=False)
    informative_daily = models.BooleanField(_("informatives journalières"), default=False)
    informative_hourly = models.BooleanField(_("informatives horaires"), default=False)
    contractual = models.BooleanField(_("contractuelles"), default=False)
    technical = models.BooleanField(_("techniques"), default=False)
    state = models.CharField(
        _("état"), max_length=16, choices=RightState.choices, default=RightState.DRAFT
    )
    state_reason = models.CharField(_("motif"), max_length=300, blank=True)
    proof_status = models.CharField(
        _("contrôle des preuves"), max_length=40, choices=ProofStatus.choices, blank=True
    )
    proof_deadline = models.DateField(_("date limite des preuves"), null=True, blank=True)
    journey = models.CharField(_("parcours"), max_length=20, blank=True)
    # Declared outside the hub (GRDF's portal, another tool on the same credential), imported.
    external = models.BooleanField(_("déclaré hors du hub"), default=False)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(_("dernière synchronisation"), null=True, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("droit d'accès")
        verbose_name_plural = _("droits d'accès")
        ordering = ("-created_at", "-pk")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=RightState.values), name="grdf_right_state_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="grdf_right_role_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(proof_status__in=ProofStatus.values),
                name="grdf_right_proof_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(consent_end__gte=models.F("consent_start")),
                name="grdf_right_consent_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(data_end__gte=models.F("data_start")),
                name="grdf_right_data_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(data_end__lte=models.F("consent_end")),
                name="grdf_right_data_within_consent",
            ),
            models.UniqueConstraint(
                fields=["organisation", "grdf_id"],
                condition=~models.Q(grdf_id=""),
                name="grdf_right_unique_grdf_id",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "state"], name="grdf_right_org_state")]

    def __str__(self) -> str:
        return f"{self.pce} · {self.get_state_display()} · {self.consent_start}→{self.consent_end}"

    @property
    def holder_label(self) -> str:
        return self.holder_company or self.holder_name

    def grants(self, data_type: str) -> bool:
        return bool(getattr(self, TYPE_FIELDS[data_type]))

    @property
    def granted_types(self) -> list[str]:
        return [t for t in DataType.values if self.grants(t)]

    @property
    def granted_type_labels(self) -> list[str]:
        return [str(DataType(t).label) for t in self.granted_types]

    @property
    def journey_label(self) -> str:
        return str(JOURNEY_LABELS.get(self.journey, self.journey))

    def days_left_for_proofs(self, today: dt.date) -> int | None:
        if self.proof_deadline is None:
            return None
        return (self.proof_deadline - today).days


class FetchBackoff(models.Model):
    """A data call GRDF refused or that failed: not asked again before ``next_attempt_at``.

    Without it a failed call stays due and is repeated by every sync (each hour); with it the
    wait doubles after each failure (see ``grdf_access.sync.backoff_delay``). A success, or a
    change of the PCE's rights at GRDF, clears it.
    """

    pce = models.ForeignKey(Pce, on_delete=models.CASCADE, related_name="backoffs")
    data_type = models.CharField(max_length=32, choices=DataType.choices)
    failures = models.PositiveIntegerField(default=0)
    # Refused by GRDF (a functional answer about the right or the call) rather than failed.
    refused = models.BooleanField(default=False)
    last_error = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("appel différé")
        verbose_name_plural = _("appels différés")
        constraints = [
            models.UniqueConstraint(fields=["pce", "data_type"], name="grdf_backoff_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.pce} {self.data_type} → {self.next_attempt_at:%Y-%m-%d %H:%M}"


class Revision(models.Model):
    """A definitive value GRDF replaced ("renvoi des données corrigées"): the value it had,
    and when it was replaced; the series holds the new one."""

    pce = models.ForeignKey(Pce, on_delete=models.CASCADE, related_name="revisions")
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="grdf_revisions")
    ts = models.DateTimeField(_("instant"))
    previous_value = models.FloatField(_("valeur remplacée"), null=True)
    previous_quality = models.PositiveSmallIntegerField(choices=Quality.choices)
    value = models.FloatField(_("nouvelle valeur"), null=True)
    quality = models.PositiveSmallIntegerField(choices=Quality.choices)
    replaced_at = models.DateTimeField(_("remplacée le"))

    class Meta:
        verbose_name = _("révision")
        verbose_name_plural = _("révisions")
        ordering = ("series", "ts", "replaced_at")
        indexes = [models.Index(fields=["pce", "ts"], name="grdf_revision_pce_ts")]

    def __str__(self) -> str:
        return f"{self.series_id} {self.ts:%Y-%m-%d %H:%M} {self.previous_value} → {self.value}"


class SubscriptionKind(models.TextChoices):
    TJDC = "TJDC", _("TJDC (transmission journalière des données de consommation)")
    PPH = "PPH", _("PPH (publication des pas horaires)")


class SubscriptionState(models.TextChoices):
    REQUESTED = "requested", _("demandé")
    ACTIVE = "active", _("actif")
    CANCELLED = "cancelled", _("résilié")


class Subscription(models.Model):
    """A TJDC or PPH subscription of a PCE (RSF turns them into subscriptions, seed 000)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="grdf_subscriptions"
    )
    pce = models.ForeignKey(Pce, on_delete=models.CASCADE, related_name="subscriptions")
    kind = models.CharField(_("type"), max_length=4, choices=SubscriptionKind.choices)
    state = models.CharField(
        _("état"),
        max_length=16,
        choices=SubscriptionState.choices,
        default=SubscriptionState.REQUESTED,
    )
    start = models.DateField(_("début"))
    end = models.DateField(_("fin"), null=True, blank=True)
    grdf_id = models.CharField(_("identifiant GRDF"), max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("abonnement")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=SubscriptionKind.values),
                name="grdf_subscription_kind_valid",
            ),
            models.UniqueConstraint(
                fields=["pce", "kind"],
                condition=~models.Q(state="cancelled"),
                name="grdf_subscription_one_open_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pce} {self.kind} {self.state}"


class SnapshotKind(models.TextChoices):
    CONTRACTUAL = "contractuelles", _("données contractuelles")
    TECHNICAL = "techniques", _("données techniques")


class Snapshot(models.Model):
    """Contractual or technical data as GRDF returned them; a new row only when they change."""

    pce = models.ForeignKey(Pce, on_delete=models.CASCADE, related_name="snapshots")
    kind = models.CharField(max_length=16, choices=SnapshotKind.choices)
    fetched_at = models.DateTimeField(_("relevé le"))
    data = models.JSONField()
    digest = models.CharField(max_length=64)
    # {"field.path": [before, after]} against the previous snapshot of the same kind.
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("instantané")
        ordering = ("pce", "kind", "-fetched_at")
        constraints = [
            models.UniqueConstraint(
                fields=["pce", "kind", "digest"], name="grdf_snapshot_unique_content"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pce} {self.kind} {self.fetched_at:%Y-%m-%d}"


def proof_storage() -> FileSystemStorage:
    """Consent proofs are personal documents: kept under the var directory, never served."""
    return FileSystemStorage(location=Path(settings.VAR_DIR) / "grdf-proofs")


class Proof(models.Model):
    """A consent proof uploaded for GRDF's security control (≤ 3 files of ≤ 4 MB per right)."""

    right = models.ForeignKey(AccessRight, on_delete=models.CASCADE, related_name="proofs")
    file = models.FileField(upload_to="%Y/%m/", storage=proof_storage)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("preuve de consentement")
        verbose_name_plural = _("preuves de consentement")
        ordering = ("right", "uploaded_at")

    def __str__(self) -> str:
        return self.filename


class ThresholdFrequency(models.TextChoices):
    DAILY = "daily", _("journalier")
    MONTHLY = "monthly", _("mensuel")
    YEARLY = "yearly", _("annuel")


class Threshold(models.Model):
    """A consumption threshold (kWh per day, month or year) and who is told when it is near or
    crossed, like the Espace Client's "seuils" (seed 004)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="grdf_thresholds"
    )
    pce = models.ForeignKey(Pce, on_delete=models.CASCADE, related_name="thresholds")
    frequency = models.CharField(_("fréquence"), max_length=8, choices=ThresholdFrequency.choices)
    value_kwh = models.FloatField(_("seuil (kWh)"))
    # Notify before: once consumption reaches ``before_percent`` % of the threshold.
    notify_before = models.BooleanField(_("prévenir avant le dépassement"), default=False)
    before_percent = models.PositiveSmallIntegerField(_("à % du seuil"), default=80)
    notify_after = models.BooleanField(_("prévenir après le dépassement"), default=True)
    emails = models.TextField(_("courriels"), blank=True, help_text=_("un par ligne"))
    enabled = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("seuil de consommation")
        verbose_name_plural = _("seuils de consommation")
        ordering = ("pce", "frequency")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(value_kwh__gt=0), name="grdf_threshold_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(frequency__in=ThresholdFrequency.values),
                name="grdf_threshold_frequency_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(before_percent__gte=1, before_percent__lte=99),
                name="grdf_threshold_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pce} {self.get_frequency_display()} {self.value_kwh:g} kWh"

    @property
    def email_list(self) -> list[str]:
        return [e.strip() for e in self.emails.splitlines() if e.strip()]


def validate_webhook_url(value: str) -> None:
    try:
        urlsafety.check_url(value)
    except urlsafety.UnsafeWebhookURL as exc:
        raise ValidationError(exc.reason) from None


class AlertWebhook(models.Model):
    """Where an organisation's access-right alerts are also POSTed, signed (see webhooks.py)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="grdf_alert_webhooks"
    )
    url = models.URLField(_("adresse"), max_length=500, validators=[validate_webhook_url])
    # Signs each body (HMAC-SHA256); encrypted at rest, never shown again.
    secret = EncryptedTextField(_("secret de signature"))
    enabled = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook des alertes GRDF")
        verbose_name_plural = _("webhooks des alertes GRDF")

    def __str__(self) -> str:
        return self.url


AlertDeliveryStatus = DeliveryStatus  # the hub's, shared by every app's deliveries


class AlertDelivery(AbstractWebhookDelivery):
    """One alert sent to one webhook, retried until acknowledged (2xx) or given up."""

    endpoint_field = "webhook"

    webhook = models.ForeignKey(AlertWebhook, on_delete=models.CASCADE, related_name="deliveries")
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="grdf_alert_deliveries"
    )

    class Meta(AbstractWebhookDelivery.Meta):
        verbose_name = _("envoi d'alerte GRDF")
        verbose_name_plural = _("envois d'alertes GRDF")
        constraints = [
            *AbstractWebhookDelivery.Meta.constraints,
            models.UniqueConstraint(
                fields=["webhook", "notification"], name="grdf_alert_delivery_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id} → {self.webhook}"


@receiver(post_delete, sender=Proof, dispatch_uid="grdf_access.proof_file")
def _remove_proof_file(sender: type[Proof], instance: Proof, **kwargs: object) -> None:
    """A proof's file goes with its row, once the deletion is committed (a rolled-back
    deletion keeps both)."""
    name, storage = instance.file.name, instance.file.storage
    if name:
        transaction.on_commit(lambda: storage.delete(name))
