from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hub.fields import EncryptedTextField
from hub.models.tenancy import Organisation


class ProviderCredential(models.Model):
    """An organisation's account with an external provider (GRDF, an OA contract, a supplier).

    The secret is encrypted at rest and never leaves the hub: not in the API, not in the admin,
    not in the audit trail.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="credentials"
    )
    provider = models.SlugField(_("fournisseur"), max_length=64)
    label = models.CharField(_("libellé"), max_length=200)
    client_id = models.CharField(_("identifiant client"), max_length=200, blank=True)
    secret = EncryptedTextField(_("secret"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("identifiant d'accès")
        verbose_name_plural = _("identifiants d'accès")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "provider", "label"], name="credential_unique_label"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} · {self.label}"
