"""TIC data: serial ports configured in the admin, the meters read on them, their events.

Measured values go to ``hub`` series (see ``tic.ingest``); these tables hold what the reader
needs to run (ports), what the portal and API show at a glance (each meter's last state and
counters), the use cases' events (PREAVIS, tariff period changes, clock drift), the energy per
tariff period per day, and outgoing webhooks.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from hub.fields import EncryptedTextField
from hub.http.urlsafety import UnsafeWebhookURL, check_url
from hub.models import (
    AbstractWebhookDelivery,
    MeteringPoint,
    MeteringPointKind,
    Organisation,
)
from hub.models import (
    DeliveryStatus as DeliveryStatus,  # re-exported: the delivery rows use the hub's
)

# The points a TIC meter can measure (a gas PCE has no TIC).
MEASURED_KINDS = [
    MeteringPointKind.ELEC_PRM,
    MeteringPointKind.OA_SITE,
    MeteringPointKind.TIC_METER,
]


class Family(models.TextChoices):
    # Values are tic.protocol.MeterFamily's, so a port's family feeds the decoder as is.
    AUTO = "auto", _("détection automatique")
    PMEPMI = "pmepmi", _("PME-PMI")
    SAPHIR = "saphir", _("SAPHIR")
    LINKY_HISTORIQUE = "linky-historique", _("Linky, mode historique")
    LINKY_STANDARD = "linky-standard", _("Linky, mode standard")
    CBE = "cbe", _("compteur bleu électronique")


class TariffCalendar(models.TextChoices):
    # The keys of a meter's tariff_periods (tic.usecases.TARIFF_LABELS): whose calendar.
    DISTRIBUTEUR = "distributeur", _("distributeur")
    FOURNISSEUR = "fournisseur", _("fournisseur")


class Baud(models.TextChoices):
    AUTO = "auto", _("automatique (sondage)")
    B1200 = "1200", "1200"
    B2400 = "2400", "2400"
    B4800 = "4800", "4800"
    B9600 = "9600", "9600"
    B19200 = "19200", "19200"


class PortState(models.TextChoices):
    STOPPED = "stopped", _("arrêté")
    OPENING = "opening", _("ouverture")
    PROBING = "probing", _("recherche de la vitesse")
    READING = "reading", _("lecture")
    SILENT = "silent", _("aucune trame valide")
    DOWN = "down", _("port indisponible")


class Counted(models.Model):
    """Frame counters shared by ports and meters (02E Annex A: a receiver reports errors)."""

    frames = models.PositiveBigIntegerField(_("trames"), default=0)
    valid = models.PositiveBigIntegerField(_("valides"), default=0)
    invalid = models.PositiveBigIntegerField(_("invalides"), default=0)
    interrupted = models.PositiveBigIntegerField(_("interrompues"), default=0)
    bad_groups = models.PositiveBigIntegerField(_("groupes erronés"), default=0)
    last_frame_at = models.DateTimeField(_("dernière trame"), null=True, blank=True)

    class Meta:
        abstract = True

    def counters(self) -> dict[str, int]:
        return {
            "frames": self.frames,
            "valid": self.valid,
            "invalid": self.invalid,
            "interrupted": self.interrupted,
            "bad_groups": self.bad_groups,
        }


class TicPort(Counted):
    """One TIC input: a serial device or a network bridge, read by ``manage.py tic_read``."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="tic_ports"
    )
    name = models.CharField(_("nom"), max_length=100)
    # Anything pyserial's serial_for_url opens: /dev/ttyUSB0, socket://host:port,
    # rfc2217://host:port, loop://.
    url = models.CharField(_("adresse du port"), max_length=300)
    family = models.CharField(
        _("famille de compteur"), max_length=20, choices=Family.choices, default=Family.AUTO
    )
    baud = models.CharField(_("vitesse"), max_length=8, choices=Baud.choices, default=Baud.AUTO)
    # What the meter behind the port measures: the building's PRM or the plant's OA site, so
    # that its series are the ones the other apps read for that point (or a point of its own,
    # kind TIC meter). Left empty, one is created from the address (ADCO/ADSC/ADS) the first
    # frames carry.
    metering_point = models.ForeignKey(
        MeteringPoint,
        on_delete=models.PROTECT,  # a port reading into it holds it, like its meter
        null=True,
        blank=True,
        related_name="tic_ports",
        limit_choices_to={"kind__in": MEASURED_KINDS},
        verbose_name=_("point de comptage"),
    )
    # Td: the integration period of EA_s/EAPP_s (PME-PMI frames do not carry it; SAPHIR long
    # frames do, as TD, and override this).
    integration_minutes = models.PositiveSmallIntegerField(
        _("temps d'intégration Td (min)"), default=10
    )
    enabled = models.BooleanField(_("actif"), default=True)
    state = models.CharField(
        _("état"), max_length=16, choices=PortState.choices, default=PortState.STOPPED
    )
    state_since = models.DateTimeField(_("depuis"), null=True, blank=True)
    current_baud = models.PositiveIntegerField(_("vitesse en cours"), null=True, blank=True)
    last_error = models.CharField(_("dernière erreur"), max_length=300, blank=True)
    noise_bytes = models.PositiveBigIntegerField(_("octets hors trame"), default=0)
    # The line is read 8N1 so that each character's even-parity bit reaches the decoder
    # (02E §1.5.3.1 step A). A network bridge that drops that bit delivers 7-bit bytes: only
    # then is the check switched off.
    check_parity = models.BooleanField(
        _("contrôler la parité"),
        default=True,
        help_text=_("Décochez seulement pour un pont réseau qui ne transmet pas le bit de parité."),
    )
    parity_errors = models.PositiveBigIntegerField(_("octets de parité fausse"), default=0)
    # Bounds how fast an index may advance (with the subscribed power the frames give).
    max_power_kva = models.PositiveIntegerField(
        _("puissance maximale (kVA)"),
        null=True,
        blank=True,
        help_text=_("Vide : la puissance souscrite lue dans les trames (PS, PSpx, PREF, ISOUSC)."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("port TIC")
        verbose_name_plural = _("ports TIC")
        ordering = ("organisation", "name")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="tic_port_unique_name"),
            models.CheckConstraint(
                condition=models.Q(family__in=Family.values), name="tic_port_family_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(baud__in=Baud.values), name="tic_port_baud_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(integration_minutes__gte=1, integration_minutes__lte=60),
                name="tic_port_integration_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def counters(self) -> dict[str, int]:
        return {
            **super().counters(),
            "noise_bytes": self.noise_bytes,
            "parity_errors": self.parity_errors,
        }

    def clean(self) -> None:
        point = self.metering_point if self.metering_point_id else None
        if point is None:
            return
        if point.organisation_id != self.organisation_id:
            raise ValidationError(
                {"metering_point": _("Le point de comptage appartient à une autre organisation.")}
            )
        if point.kind not in MEASURED_KINDS:
            raise ValidationError(
                {
                    "metering_point": _(
                        "Choisissez un PRM électricité, un site de contrat OA ou un compteur TIC."
                    )
                }
            )


class TicPortLease(models.Model):
    """Which ``tic_read`` process reads a port: held while its heartbeat is fresh.

    A reader renews its leases every few seconds and takes free or expired ones up to its
    capacity, each with a compare-and-set on the holder, heartbeat and generation it saw
    (``tic.leases``).
    Kept apart from the port row, which the readers rewrite with their state every 5 s.
    """

    port = models.OneToOneField(
        TicPort, on_delete=models.CASCADE, primary_key=True, related_name="lease"
    )
    holder = models.CharField(_("lecteur"), max_length=200, blank=True)  # "" = free
    heartbeat_at = models.DateTimeField(_("dernier signe de vie"), null=True, blank=True)
    acquired_at = models.DateTimeField(_("pris le"), null=True, blank=True)
    # The fencing token: one more at every taking of the lease, never reset. A write of the
    # reader's batch checks it, so a holder that lost the lease without knowing it stores nothing.
    generation = models.BigIntegerField(_("génération"), default=0)

    class Meta:
        verbose_name = _("bail de port TIC")
        verbose_name_plural = _("baux de ports TIC")
        indexes = [models.Index(fields=["holder"], name="tic_lease_holder")]

    def __str__(self) -> str:
        return f"{self.port_id}: {self.holder or '-'}"


class TicMeter(Counted):
    """A meter seen on a port, with the state the use cases need, as of its last frame."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="tic_meters"
    )
    port = models.ForeignKey(TicPort, on_delete=models.CASCADE, related_name="meters")
    metering_point = models.ForeignKey(
        MeteringPoint, on_delete=models.PROTECT, related_name="tic_meters"
    )
    identifier = models.CharField(_("adresse (ADCO/ADSC/ADS)"), max_length=12)
    family = models.CharField(_("famille"), max_length=20)
    mode = models.CharField(_("mode"), max_length=12, blank=True)
    # Label → value as received (raw text), from the last valid frame; long-frame-only labels
    # (SAPHIR TLG) are kept until the next long frame replaces them.
    last_values = models.JSONField(_("dernières valeurs"), default=dict, blank=True)
    # The last few frames, newest first: {"at", "valid", "interrupted", "errors", "groups"}.
    recent_frames = models.JSONField(_("dernières trames"), default=list, blank=True)
    # Calendar → current tariff period, e.g. {"distributeur": "HPE", "fournisseur": "HPE"}.
    tariff_periods = models.JSONField(_("périodes tarifaires"), default=dict, blank=True)
    preavis_active = models.BooleanField(_("préavis de dépassement"), default=False)
    preavis_since = models.DateTimeField(null=True, blank=True)
    clock_drift_seconds = models.FloatField(_("dérive d'horloge (s)"), null=True, blank=True)
    subscribed_power = models.FloatField(_("puissance souscrite"), null=True, blank=True)
    power_unit = models.CharField(max_length=4, blank=True)  # "W" (HTA, SAPHIR) or "VA"
    power = models.FloatField(_("puissance sur Td"), null=True, blank=True)
    power_share = models.FloatField(_("part de PS (%)"), null=True, blank=True)
    # Index values refused as impossible (backwards, or faster than the power allows).
    implausible = models.PositiveBigIntegerField(_("valeurs invraisemblables"), default=0)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("compteur TIC")
        verbose_name_plural = _("compteurs TIC")
        ordering = ("organisation", "identifier")
        constraints = [
            models.UniqueConstraint(fields=["port", "identifier"], name="tic_meter_unique"),
        ]

    def __str__(self) -> str:
        return self.identifier

    def counters(self) -> dict[str, int]:
        return {**super().counters(), "implausible": self.implausible}


class EventKind(models.TextChoices):
    PREAVIS_START = "preavis_start", _("début de préavis de dépassement")
    PREAVIS_END = "preavis_end", _("fin de préavis de dépassement")
    TARIFF_CHANGE = "tariff_change", _("changement de période tarifaire")
    DRIFT_ALERT = "drift_alert", _("dérive d'horloge hors seuil")
    DRIFT_CLEARED = "drift_cleared", _("dérive d'horloge revenue sous le seuil")
    IMPLAUSIBLE = "implausible", _("index invraisemblable écarté")


class TicEvent(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="tic_events"
    )
    meter = models.ForeignKey(TicMeter, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    at = models.DateTimeField(_("reçu le"))
    calendar = models.CharField(max_length=20, blank=True)
    previous = models.CharField(max_length=40, blank=True)
    current = models.CharField(max_length=40, blank=True)
    value = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("événement TIC")
        verbose_name_plural = _("événements TIC")
        ordering = ("-at", "-pk")
        indexes = [models.Index(fields=["meter", "-at"], name="tic_event_meter_at")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=EventKind.values), name="tic_event_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meter} · {self.kind} · {self.at:%Y-%m-%d %H:%M:%S}"

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.pk,
            "meter": self.meter.identifier,
            "kind": self.kind,
            "at": self.at.isoformat(),
            "calendar": self.calendar,
            "previous": self.previous,
            "current": self.current,
            "value": self.value,
        }


class DailyEnergy(models.Model):
    """Active energy drawn in one tariff period of one calendar on one Paris local day."""

    meter = models.ForeignKey(TicMeter, on_delete=models.CASCADE, related_name="daily_energy")
    day = models.DateField(_("jour"))
    calendar = models.CharField(_("calendrier"), max_length=20)
    period = models.CharField(_("période tarifaire"), max_length=40)
    energy_wh = models.FloatField(_("énergie (Wh)"), default=0)

    class Meta:
        verbose_name = _("énergie par période tarifaire et par jour")
        ordering = ("meter", "-day", "calendar", "period")
        constraints = [
            models.UniqueConstraint(
                fields=["meter", "day", "calendar", "period"], name="tic_daily_energy_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meter_id} · {self.day} · {self.calendar} {self.period}"


class TicWebhook(models.Model):
    """Where an event (PREAVIS, drift) is POSTed, signed with HMAC-SHA256."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="tic_webhooks"
    )
    # Empty: every meter of the organisation.
    meter = models.ForeignKey(
        TicMeter, on_delete=models.CASCADE, null=True, blank=True, related_name="webhooks"
    )
    url = models.URLField(_("adresse"), max_length=500)
    secret = EncryptedTextField(_("secret de signature"))
    enabled = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook TIC")
        verbose_name_plural = _("webhooks TIC")

    def __str__(self) -> str:
        return self.url

    def clean(self) -> None:
        # A customer-typed URL: no loopback, private or metadata addresses, https only.
        try:
            check_url(self.url)
        except UnsafeWebhookURL as exc:
            raise ValidationError({"url": exc.reason}) from None


class TicWebhookDelivery(AbstractWebhookDelivery):
    endpoint_field = "webhook"

    webhook = models.ForeignKey(TicWebhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(TicEvent, on_delete=models.CASCADE, related_name="deliveries")

    class Meta(AbstractWebhookDelivery.Meta):
        verbose_name = _("envoi de webhook TIC")
        verbose_name_plural = _("envois de webhook TIC")
        constraints = [
            *AbstractWebhookDelivery.Meta.constraints,
            models.UniqueConstraint(fields=["webhook", "event"], name="tic_delivery_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.webhook} · {self.event_id} · {self.status}"
