"""Storing third-party credentials: encrypted, audited, never echoed back."""

from __future__ import annotations

from django.db import transaction

from hub.actors import NOBODY, Actor
from hub.models import ProviderCredential
from hub.services import audit

_PUBLIC_FIELDS = ("provider", "label", "client_id")


class CredentialError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@transaction.atomic
def save_credential(
    *,
    credential: ProviderCredential,
    secret: str | None,
    actor: Actor = NOBODY,
) -> ProviderCredential:
    """Save a new or changed credential; ``secret=None`` keeps the stored secret."""
    stored = (
        ProviderCredential.objects.filter(pk=credential.pk).values(*_PUBLIC_FIELDS).first()
        if credential.pk
        else None
    )
    if stored is None and not secret:
        raise CredentialError("secret", "required for a new credential")
    if secret:
        credential.secret = secret
    credential.save()
    audit.record(
        action="credential.created" if stored is None else "credential.updated",
        actor=actor,
        organisation=credential.organisation,
        target=credential,
        before=stored,
        after={
            **{f: getattr(credential, f) for f in _PUBLIC_FIELDS},
            "secret_changed": bool(secret),
        },
    )
    return credential


@transaction.atomic
def delete_credential(*, credential: ProviderCredential, actor: Actor = NOBODY) -> None:
    audit.record(
        action="credential.deleted",
        actor=actor,
        organisation=credential.organisation,
        target=credential,
        before={f: getattr(credential, f) for f in _PUBLIC_FIELDS},
    )
    credential.delete()
