"""Saving an organisation's MQTT broker: password encrypted, every change audited."""

from __future__ import annotations

from django.db import transaction

from hub.actors import NOBODY, Actor
from hub.models import MqttBroker
from hub.services import audit

_PUBLIC_FIELDS = (
    "enabled",
    "host",
    "port",
    "tls",
    "username",
    "topic_prefix",
    "discovery_prefix",
    "min_interval_seconds",
)


@transaction.atomic
def save_broker(*, broker: MqttBroker, password: str | None, actor: Actor = NOBODY) -> MqttBroker:
    """Save a new or changed broker; ``password=None`` keeps the stored one, "" clears it."""
    stored = (
        MqttBroker.objects.filter(pk=broker.pk).values(*_PUBLIC_FIELDS, "ca_certificate").first()
        if broker.pk
        else None
    )
    if password is not None:
        broker.password = password
    broker.save()
    after = {f: getattr(broker, f) for f in _PUBLIC_FIELDS}
    audit.record(
        action="mqtt.broker_created" if stored is None else "mqtt.broker_updated",
        actor=actor,
        organisation=broker.organisation,
        target=broker,
        before={f: stored[f] for f in _PUBLIC_FIELDS} if stored else None,
        after={
            **after,
            "password_changed": password is not None,
            "ca_changed": stored is None or stored["ca_certificate"] != broker.ca_certificate,
        },
    )
    return broker


@transaction.atomic
def delete_broker(*, broker: MqttBroker, actor: Actor = NOBODY) -> None:
    audit.record(
        action="mqtt.broker_deleted",
        actor=actor,
        organisation=broker.organisation,
        target=broker,
        before={f: getattr(broker, f) for f in _PUBLIC_FIELDS},
    )
    broker.delete()
