"""An organisation's MQTT broker, where the hub publishes states and events (Home Assistant)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from hub.fields import EncryptedTextField
from hub.models.tenancy import Organisation

TOPIC_PART = RegexValidator(
    r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*$", _("lettres, chiffres, _ - et /")
)


class MqttBroker(models.Model):
    """One per organisation: its own broker (its Home Assistant's), never another's."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="mqtt_broker"
    )
    enabled = models.BooleanField(_("activé"), default=True)
    host = models.CharField(_("hôte"), max_length=255)
    port = models.PositiveIntegerField(
        _("port"), default=1883, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    tls = models.BooleanField(_("TLS"), default=False)
    # PEM of the CA that signed the broker's certificate; empty: the system's trust store.
    ca_certificate = models.TextField(_("certificat de l'autorité (PEM)"), blank=True)
    username = models.CharField(_("utilisateur"), max_length=200, blank=True)
    password = EncryptedTextField(_("mot de passe"), blank=True)
    topic_prefix = models.CharField(
        _("préfixe des sujets"), max_length=100, default="hub", validators=[TOPIC_PART]
    )
    discovery_prefix = models.CharField(
        _("préfixe de découverte Home Assistant"),
        max_length=100,
        default="homeassistant",
        validators=[TOPIC_PART],
    )
    # A meter's states go out at most this often (events and changes of PREAVIS at once).
    min_interval_seconds = models.PositiveIntegerField(
        _("intervalle minimal par compteur (s)"), default=10, validators=[MaxValueValidator(3600)]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("courtier MQTT")
        verbose_name_plural = _("courtiers MQTT")

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"
