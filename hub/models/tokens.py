from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hub.models.tenancy import Organisation

# What each scope code reads as in the portal.
SCOPE_LABELS = {"read": _("Lecture"), "write": _("Écriture")}


class ApiToken(models.Model):
    """A REST client's credential. Only a hash is kept; the token is shown once at creation."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("nom"), max_length=100)
    # The public part of the token, used to find the row without scanning hashes.
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    # SHA-256 of the whole token: tokens carry 256 random bits, so a slow hash adds nothing.
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("portées"), default=list, blank=True)
    allowed_networks = models.JSONField(_("réseaux autorisés"), default=list, blank=True)
    expires_at = models.DateTimeField(_("expire le"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("dernier usage"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("dernière IP"), null=True, blank=True)
    seen_ips = models.JSONField(default=list, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("jeton d'API")
        verbose_name_plural = _("jetons d'API")
        ordering = ("organisation", "name")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="api_token_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def scope_labels(self) -> list[str]:
        return [str(SCOPE_LABELS.get(s, s)) for s in self.scopes]

    def is_usable(self, *, now: dt.datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now
