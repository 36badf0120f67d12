from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from hub import identifiers
from hub.models.tenancy import Organisation


class Site(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(_("nom"), max_length=200)
    address = models.CharField(_("adresse"), max_length=300, blank=True)
    postcode = models.CharField(_("code postal"), max_length=5, blank=True)
    city = models.CharField(_("commune"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("site")
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="site_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class MeteringPointKind(models.TextChoices):
    GAS_PCE = "gas_pce", _("PCE gaz")
    ELEC_PRM = "elec_prm", _("PRM électricité")
    TIC_METER = "tic_meter", _("compteur TIC")
    OA_SITE = "oa_site", _("site de contrat OA")


def _identifier_is_valid() -> models.Q:
    condition = models.Q()
    for kind, (pattern, _reason) in identifiers.PATTERNS.items():
        condition |= models.Q(kind=kind, identifier__regex=pattern)
    return condition


class MeteringPoint(models.Model):
    """Where energy is measured: a gas PCE, an electricity PRM, a TIC meter or an OA site."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="metering_points"
    )
    # A point may be known before its site is (a PCE imported from a list, say).
    site = models.ForeignKey(
        Site, on_delete=models.SET_NULL, null=True, blank=True, related_name="metering_points"
    )
    kind = models.CharField(_("type"), max_length=16, choices=MeteringPointKind.choices)
    identifier = models.CharField(_("identifiant"), max_length=40)
    label = models.CharField(_("libellé"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("point de comptage")
        verbose_name_plural = _("points de comptage")
        ordering = ("kind", "identifier")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind", "identifier"], name="metering_point_unique"
            ),
            models.CheckConstraint(
                condition=_identifier_is_valid(), name="metering_point_identifier_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.identifier}"

    def clean(self) -> None:
        try:
            self.identifier = identifiers.normalise(self.kind, self.identifier)
        except identifiers.InvalidIdentifier as exc:
            raise ValidationError({"identifier": exc.reason}) from exc
        if self.site_id and self.site and self.site.organisation_id != self.organisation_id:
            raise ValidationError({"site": _("Le site appartient à une autre organisation.")})
