"""Recording audit events: the one way anything in the hub writes to the audit trail.

Every event names its ``Actor`` (``hub.actors``). Record it inside the transaction that makes
the change, so that a change is never stored without its event nor an event without its change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models
from django.utils import timezone

from hub.actors import Actor
from hub.bulk import bulk_insert
from hub.models import AuditEvent, Organisation

# Keys whose values never reach the audit trail, whatever model they come from.
SECRET_KEYS = frozenset(
    {"password", "secret", "client_secret", "token", "key_hash", "api_key", "otp_secret", "key"}
)


def redact(data: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return {
        k: ("***" if k.lower() in SECRET_KEYS or "secret" in k.lower() else _jsonable(v))
        for k, v in data.items()
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def record(
    *,
    action: str,
    actor: Actor,
    organisation: Organisation | None = None,
    target: models.Model | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> AuditEvent:
    event = build(
        action=action,
        actor=actor,
        organisation=organisation,
        target=target,
        before=before,
        after=after,
        at=at,
    )
    event.save()
    return event


def record_many(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """Store events made by ``build`` in one INSERT: for a batch job's many publications."""
    return bulk_insert(list(events))


def build(
    *,
    action: str,
    actor: Actor,
    organisation: Organisation | None = None,
    target: models.Model | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> AuditEvent:
    """An unsaved event, redacted like every other; ``record`` or ``record_many`` stores it."""
    if not isinstance(actor, Actor):
        raise TypeError(f"audit: actor must be an Actor, not {type(actor).__name__}")
    return AuditEvent(
        at=at or timezone.now(),
        actor=actor.user,
        actor_label=actor.label or (str(actor.user) if actor.user else ""),
        organisation=organisation,
        action=action,
        object_type=target._meta.label if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        object_repr=str(target)[:300] if target is not None else "",
        before=redact(before),
        after=redact(after),
        ip=actor.ip or None,
    )
