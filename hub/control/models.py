"""Controllable loads, the channels that reach them, their commands and manual overrides."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hub.fields import EncryptedTextField
from hub.models import MeteringPoint, Organisation, Site


class SiteControl(models.Model):
    """A site's control settings; in dry run commands are computed and recorded, never sent."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="site_controls"
    )
    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="control")
    dry_run = models.BooleanField(_("simulation (commandes non envoyées)"), default=True)
    enabled = models.BooleanField(_("pilotage actif"), default=True)
    last_evaluated_at = models.DateTimeField(_("dernière évaluation"), null=True, blank=True)

    class Meta:
        verbose_name = _("pilotage d'un site")
        verbose_name_plural = _("pilotage des sites")

    def __str__(self) -> str:
        return str(self.site)


class ChannelKind(models.TextChoices):
    MODBUS = "modbus", _("Modbus TCP")
    MQTT = "mqtt", _("MQTT")
    WEBHOOK = "webhook", _("webhook signé")


class ActuatorChannel(models.Model):
    """How the hub reaches a site's equipment: one driver, one connection, one watchdog."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="actuator_channels"
    )
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="actuator_channels")
    name = models.CharField(_("nom"), max_length=100)
    kind = models.CharField(_("protocole"), max_length=10, choices=ChannelKind.choices)
    host = models.CharField(_("hôte"), max_length=200, blank=True)
    port = models.PositiveIntegerField(_("port"), null=True, blank=True)
    unit_id = models.PositiveSmallIntegerField(_("unité Modbus"), default=1)
    tls = models.BooleanField(_("TLS"), default=False)
    username = models.CharField(_("identifiant"), max_length=200, blank=True)
    password = EncryptedTextField(_("mot de passe"), blank=True, default="")
    topic_prefix = models.CharField(_("préfixe des sujets MQTT"), max_length=200, blank=True)
    url = models.URLField(_("adresse du webhook"), max_length=500, blank=True)
    secret = EncryptedTextField(_("secret de signature"), blank=True, default="")
    # Modbus: the holding register the hub increments; MQTT: "<prefix>/heartbeat".
    heartbeat_register = models.PositiveIntegerField(_("registre de vie"), null=True, blank=True)
    watchdog_seconds = models.PositiveIntegerField(_("chien de garde (s)"), default=60)
    timeout_seconds = models.FloatField(_("délai de réponse (s)"), default=3.0)
    enabled = models.BooleanField(_("actif"), default=True)
    last_heartbeat_at = models.DateTimeField(_("dernier signal de vie"), null=True, blank=True)
    last_error = models.CharField(_("dernière erreur"), max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("canal d'actionnement")
        verbose_name_plural = _("canaux d'actionnement")
        ordering = ("site", "name")
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="control_channel_unique"),
            models.CheckConstraint(
                condition=models.Q(kind__in=ChannelKind.values), name="control_channel_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class LoadKind(models.TextChoices):
    SHEDDABLE = "sheddable", _("délestable")
    SHIFTABLE = "shiftable", _("décalable")
    GENERATOR = "generator", _("production")


class RegisterKind(models.TextChoices):
    COIL = "coil", _("bobine (marche/arrêt)")
    HOLDING = "holding", _("registre (consigne)")


class ControllableLoad(models.Model):
    """A load (or a plant) the hub may switch or set; ``full_value`` is its normal state."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="controllable_loads"
    )
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="controllable_loads")
    channel = models.ForeignKey(ActuatorChannel, on_delete=models.PROTECT, related_name="loads")
    # The meter the load sits behind: the servo and Flex Ready pick loads by it.
    metering_point = models.ForeignKey(
        MeteringPoint,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="controllable_loads",
        verbose_name=_("point de comptage"),
    )
    name = models.CharField(_("nom"), max_length=100)
    kind = models.CharField(_("type"), max_length=10, choices=LoadKind.choices)
    nominal_power_w = models.FloatField(_("puissance nominale (W)"))
    # Lower sheds first; restored in reverse order.
    priority = models.PositiveSmallIntegerField(_("ordre de délestage"), default=100)
    min_off_seconds = models.PositiveIntegerField(_("durée minimale d'arrêt (s)"), default=0)
    min_on_seconds = models.PositiveIntegerField(_("durée minimale de marche (s)"), default=0)
    max_off_seconds_per_day = models.PositiveIntegerField(
        _("arrêt maximal par jour (s)"), null=True, blank=True
    )
    full_value = models.FloatField(_("valeur normale"), default=1.0)
    safe_value = models.FloatField(_("valeur sûre (hub injoignable)"), default=1.0)
    register = models.CharField(
        _("type de registre"), max_length=8, choices=RegisterKind.choices, default="coil"
    )
    address = models.CharField(_("adresse (registre ou sujet)"), max_length=200)
    scale = models.FloatField(_("facteur d'échelle"), default=1.0)
    # Controller name → its settings for this load, e.g. {"tariff": {"off": ["HPH"]}}.
    policies = models.JSONField(_("règles par pilote"), default=dict, blank=True)
    value = models.FloatField(_("valeur actuelle"), null=True, blank=True)
    value_read_at = models.DateTimeField(_("lue le"), null=True, blank=True)
    changed_at = models.DateTimeField(_("changée le"), null=True, blank=True)
    off_day = models.DateField(null=True, blank=True)
    off_seconds = models.FloatField(_("arrêt du jour (s)"), default=0)
    held_by = models.CharField(_("tenue par"), max_length=40, blank=True)
    held_reason = models.CharField(_("motif"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("charge pilotable")
        verbose_name_plural = _("charges pilotables")
        ordering = ("site", "priority", "name")
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="control_load_unique"),
            models.CheckConstraint(
                condition=models.Q(kind__in=LoadKind.values), name="control_load_kind"
            ),
            models.CheckConstraint(
                condition=models.Q(nominal_power_w__gte=0), name="control_load_power"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_off(self, value: float | None = None) -> bool:
        current = self.value if value is None else value
        return current is not None and current < self.full_value


class CommandStatus(models.TextChoices):
    DRY_RUN = "dry_run", _("simulée")
    ACKNOWLEDGED = "acked", _("acquittée")
    FAILED = "failed", _("échouée")


class Command(models.Model):
    """One value sent (or, in dry run, computed) for a load, with who asked and why."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="control_commands"
    )
    load = models.ForeignKey(ControllableLoad, on_delete=models.CASCADE, related_name="commands")
    at = models.DateTimeField(_("émise le"))
    value = models.FloatField(_("valeur"))
    previous = models.FloatField(_("valeur précédente"), null=True, blank=True)
    source = models.CharField(_("demandeur"), max_length=40)
    reason = models.CharField(_("motif"), max_length=300, blank=True)
    status = models.CharField(_("état"), max_length=10, choices=CommandStatus.choices)
    acked_value = models.FloatField(_("valeur relue"), null=True, blank=True)
    latency_ms = models.FloatField(_("latence (ms)"), null=True, blank=True)
    error = models.CharField(_("erreur"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("commande")
        ordering = ("-at", "-pk")
        indexes = [models.Index(fields=["load", "at"], name="control_command_load_at")]

    def __str__(self) -> str:
        return f"{self.load} ← {self.value} ({self.source})"


class ManualOverride(models.Model):
    """An operator holds a load at a value until ``ends_at`` (or until cancelled)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="control_overrides"
    )
    load = models.ForeignKey(ControllableLoad, on_delete=models.CASCADE, related_name="overrides")
    value = models.FloatField(_("valeur"))
    reason = models.CharField(_("motif"), max_length=300)
    starts_at = models.DateTimeField(_("début"))
    ends_at = models.DateTimeField(_("fin"))
    created_by = models.CharField(_("par"), max_length=200)
    cancelled_at = models.DateTimeField(_("annulée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("forçage manuel")
        verbose_name_plural = _("forçages manuels")
        ordering = ("-starts_at",)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="control_override_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.load} = {self.value} → {self.ends_at.isoformat()}"
