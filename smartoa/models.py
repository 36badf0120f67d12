"""Smart OA data: contracts and their upstream credentials, every schedule version, its stops."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from hub.fields import EncryptedTextField
from hub.http.urlsafety import UnsafeWebhookURL, check_url
from hub.identifiers import OA_CONTRACT_PATTERN
from hub.models import (
    AbstractWebhookDelivery,
    ApiToken,
    MeteringPoint,
    Organisation,
    Site,
)
from hub.models import (
    DeliveryStatus as DeliveryStatus,  # re-exported: the delivery rows use the hub's
)

# The API's periods are minutes apart at the finest; polling faster than this only loads it.
MIN_POLL_INTERVAL = 60
MAX_CONTACTS = 20


def validate_contacts(value: object) -> None:
    """A list of at most MAX_CONTACTS e-mail addresses."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("Une liste d'adresses e-mail est attendue."))
    if len(value) > MAX_CONTACTS:
        raise ValidationError(_("Au plus %(n)d contacts.") % {"n": MAX_CONTACTS})
    for address in value:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(
                _("Adresse e-mail invalide : %(address)s") % {"address": address}
            ) from None


def validate_webhook_url(value: str) -> None:
    try:
        check_url(value)
    except UnsafeWebhookURL as exc:
        raise ValidationError(exc.reason) from None


class AuthScheme(models.TextChoices):
    BEARER = "bearer", _("jeton (Bearer)")
    BASIC = "basic", _("identifiant + jeton (Basic)")


class Contract(models.Model):
    """An OA contract with its own Smart OA account (one account and one token per contract).

    The token is encrypted at rest and never leaves the hub: not in the API, not in the admin,
    not in the audit trail.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="smartoa_contracts"
    )
    contract_id = models.CharField(_("numéro de contrat"), max_length=40)
    label = models.CharField(_("libellé"), max_length=200, blank=True)
    site = models.ForeignKey(
        Site, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The production meter whose 5-minute energies are billed against the stops.
    metering_point = models.ForeignKey(
        MeteringPoint,
        on_delete=models.PROTECT,  # billing reads its series: a 409 names the contract
        null=True,
        blank=True,
        related_name="smartoa_contracts",
        verbose_name=_("point de comptage de production"),
    )
    account_id = models.CharField(_("identifiant du compte Smart OA"), max_length=100)
    api_token = EncryptedTextField(_("jeton Smart OA"))
    auth_scheme = models.CharField(
        _("authentification"), max_length=8, choices=AuthScheme.choices, default=AuthScheme.BEARER
    )
    enabled = models.BooleanField(_("relève active"), default=True)
    # Told by e-mail of every new or changed stop (besides the webhooks).
    contacts = models.JSONField(
        _("contacts (e-mails)"), default=list, blank=True, validators=[validate_contacts]
    )
    poll_interval = models.PositiveIntegerField(_("intervalle de relève (s)"), default=300)
    # Null means due now. The fan-out task moves it forward when it enqueues a poll.
    next_poll_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the fan-out last enqueued it: a claim not followed by a poll is a lease that ends.
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_polled_at = models.DateTimeField(_("dernière relève"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("dernière relève réussie"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("contrat Smart OA")
        verbose_name_plural = _("contrats Smart OA")
        ordering = ("organisation", "contract_id")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "contract_id"], name="smartoa_contract_unique_id"
            ),
            models.CheckConstraint(
                condition=models.Q(contract_id__regex=OA_CONTRACT_PATTERN),
                name="smartoa_contract_id_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(auth_scheme__in=AuthScheme.values),
                name="smartoa_contract_auth_scheme_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(poll_interval__gte=MIN_POLL_INTERVAL),
                name="smartoa_contract_poll_interval_min",
            ),
        ]
        indexes = [models.Index(fields=["enabled", "next_poll_at"], name="smartoa_contract_due")]

    def __str__(self) -> str:
        return self.contract_id

    def clean(self) -> None:
        errors = {}
        if self.site_id and self.site and self.site.organisation_id != self.organisation_id:
            errors["site"] = _("Le site appartient à une autre organisation.")
        point = self.metering_point if self.metering_point_id else None
        if point is not None and point.organisation_id != self.organisation_id:
            errors["metering_point"] = _(
                "Le point de comptage appartient à une autre organisation."
            )
        if errors:
            raise ValidationError(errors)


class VersionSource(models.TextChoices):
    API = "api", _("API Smart OA")
    # Typed or pasted by an operator from EDF OA's web portal while the API is unreachable.
    MANUAL = "manual", _("saisie manuelle")


class ScheduleVersion(models.Model):
    """One version of one day's schedule, as published (kept whole, never rewritten)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="versions")
    application_date = models.DateField(_("date d'application"))
    update_date = models.DateTimeField(_("date de mise à jour"))
    fetched_at = models.DateTimeField(_("relevée le"))
    raw_body = models.TextField(_("réponse brute"))
    # [{"start": ISO UTC, "end": ISO UTC, "value": 0.0 | 1.0}, ...]: see smartoa.schedule.Period.
    periods = models.JSONField(_("périodes"))
    # Against the version of the same day published just before (None for the first one).
    diff = models.JSONField(_("différence"), null=True, blank=True)
    source = models.CharField(
        _("origine"), max_length=8, choices=VersionSource.choices, default=VersionSource.API
    )

    class Meta:
        verbose_name = _("version de programme d'effacement")
        verbose_name_plural = _("versions de programme d'effacement")
        ordering = ("contract", "-application_date", "-update_date")
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "application_date", "update_date"],
                name="smartoa_version_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(source__in=VersionSource.values),
                name="smartoa_version_source_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract} {self.application_date} @ {self.update_date:%Y-%m-%d %H:%M:%S}"

    @cached_property
    def stops(self) -> list[StopEpisode]:
        """Its stop episodes in order, read once per instance (a version is never rewritten):
        from the prefetched ones when a batch loaded or stored them."""
        return sorted(self.episodes.all(), key=lambda e: e.start)


class StopEpisode(models.Model):
    """A stop derived from a version: consecutive 1.0 periods merged; ``[start, end)`` in UTC."""

    version = models.ForeignKey(ScheduleVersion, on_delete=models.CASCADE, related_name="episodes")
    start = models.DateTimeField(_("début"))
    end = models.DateTimeField(_("fin"))

    class Meta:
        verbose_name = _("épisode d'arrêt")
        verbose_name_plural = _("épisodes d'arrêt")
        ordering = ("version", "start")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="smartoa_episode_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M}-{self.end:%H:%M} UTC"

    @property
    def duration(self) -> dt.timedelta:
        return self.end - self.start


class ControllerAccess(models.Model):
    """Restricts a hub API token to some contracts: a token with any row sees only those."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="smartoa_access")
    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="controller_access"
    )

    class Meta:
        verbose_name = _("accès d'un automate")
        verbose_name_plural = _("accès des automates")
        constraints = [
            models.UniqueConstraint(fields=["token", "contract"], name="smartoa_access_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.token} → {self.contract}"

    def clean(self) -> None:
        if (
            self.token_id
            and self.contract_id
            and self.token.organisation_id != self.contract.organisation_id
        ):
            raise ValidationError(_("Le jeton et le contrat appartiennent à deux organisations."))


class WebhookEndpoint(models.Model):
    """Where the plant (or its operator) is told of a new or changed stop."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="smartoa_webhooks"
    )
    # Empty: every contract of the organisation.
    contracts = models.ManyToManyField(Contract, blank=True, related_name="webhooks")
    url = models.URLField(_("adresse"), max_length=500, validators=[validate_webhook_url])
    # Signs each body (HMAC-SHA256); shown once to whoever sets it, encrypted at rest.
    secret = EncryptedTextField(_("secret de signature"))
    enabled = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook Smart OA")
        verbose_name_plural = _("webhooks Smart OA")

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(AbstractWebhookDelivery):
    """One notification of one version to one endpoint, retried until acknowledged (2xx)."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    version = models.ForeignKey(
        ScheduleVersion, on_delete=models.CASCADE, related_name="deliveries"
    )

    class Meta(AbstractWebhookDelivery.Meta):
        verbose_name = _("envoi de webhook")
        verbose_name_plural = _("envois de webhook")
        constraints = [
            *AbstractWebhookDelivery.Meta.constraints,
            models.UniqueConstraint(fields=["endpoint", "version"], name="smartoa_delivery_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} · {self.version} · {self.status}"
