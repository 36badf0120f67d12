"""Publishing to MQTT (Home Assistant discovery): the interface apps call; never blocks them.

Apps describe their devices and entities (``Device``, ``Entity``) and call ``publish_states``
(retained values, at most every ``min_interval_seconds`` per device unless ``force``) or
``publish_event`` (an HA event entity's message). Nothing is sent for an organisation without
an enabled ``hub.models.MqttBroker``. See ``hub.mqtt.publisher`` for the queue and the thread.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction

from hub.mqtt.discovery import Device, Entity
from hub.mqtt.publisher import BrokerConfig, Message, Publisher
from hub.mqtt.status import set_role

__all__ = [
    "BrokerConfig",
    "Device",
    "Entity",
    "configured",
    "hub_device",
    "publish_event",
    "publish_event_on_commit",
    "publish_states",
    "set_role",
]

_publisher: Publisher | None = None


def publisher() -> Publisher:
    global _publisher
    if _publisher is None:
        _publisher = Publisher(node=settings.MQTT_NODE_ID, maxsize=settings.MQTT_QUEUE_SIZE)
    return _publisher


def set_publisher(replacement: Publisher | None) -> Publisher | None:
    """Swap the process's publisher (tests); the previous one is returned, not stopped."""
    global _publisher
    previous, _publisher = _publisher, replacement
    return previous


def hub_device(organisation_id: int | None = None) -> Device:
    """The device that carries the hub's events (one per broker)."""
    return Device(key="hub", name="Hub de données fournisseurs", model="supplier-data-hub")


def configured(organisation_id: int) -> bool:
    """Whether the organisation has an enabled broker (a dict lookup, brokers re-read every
    ``refresh_seconds``): callers skip building their states when it has none."""
    pub = publisher()
    pub.refresh(now=time.monotonic())
    return organisation_id in pub.configs


def publish_states(
    *,
    organisation_id: int,
    device: Device,
    values: Iterable[tuple[Entity, object]],
    force: bool = False,
) -> bool:
    """Queue a device's current values (``None`` values are left out); whether it was queued."""
    pub = publisher()
    if not pub.due(organisation_id, device.key, now=time.monotonic(), force=force):
        return False
    kept = tuple((entity, value) for entity, value in values if value is not None)
    return bool(kept) and pub.submit(Message(organisation_id, device, kept))


def publish_event(
    *,
    organisation_id: int | None,
    entity: Entity,
    event_type: str,
    attributes: dict[str, object] | None = None,
    device: Device | None = None,
) -> bool:
    """Queue one event (``organisation_id`` None: every organisation's broker, e.g. Ecowatt)."""
    pub = publisher()
    pub.refresh(now=time.monotonic())
    if organisation_id is not None and organisation_id not in pub.configs:
        return False
    if organisation_id is None and not pub.configs:
        return False
    message = Message(
        organisation_id,
        device or hub_device(organisation_id),
        ((entity, event_type),),
        event_type=event_type,
        attributes=dict(attributes or {}),
    )
    return pub.submit(message)


def publish_event_on_commit(**kwargs: Any) -> None:
    """``publish_event`` once the caller's transaction commits (nothing if it rolls back)."""
    transaction.on_commit(partial(publish_event, **kwargs))
