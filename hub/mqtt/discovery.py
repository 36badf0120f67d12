"""Home Assistant MQTT discovery: the devices and entities the hub announces, and their topics.

Topics (``<prefix>`` is the broker's topic prefix, ``<disc>`` its discovery prefix):

* ``<prefix>/status``: ``online`` / ``offline`` (retained; ``offline`` is the connection's will);
  every entity's availability topic.
* ``<prefix>/<device>/<entity>``: an entity's state (retained for sensors; events are not).
* ``<disc>/<component>/<device>/<entity>/config``: its discovery payload (retained), as HA's
  ``<discovery_prefix>/<component>/[<node_id>/]<object_id>/config``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SAFE = re.compile(r"[^A-Za-z0-9_-]+")
AVAILABLE, NOT_AVAILABLE = "online", "offline"


def slug(text: str) -> str:
    """An id HA accepts in a topic (``[a-zA-Z0-9_-]``)."""
    return SAFE.sub("_", text).strip("_").lower() or "x"


@dataclass(frozen=True, slots=True)
class Entity:
    """One value of a device: a sensor, a binary sensor or an event entity."""

    key: str  # object id within the device
    name: str
    component: str = "sensor"  # sensor | binary_sensor | event
    unit: str | None = None
    device_class: str | None = None
    state_class: str | None = None  # measurement | total | total_increasing
    event_types: tuple[str, ...] = ()  # event entities only
    icon: str | None = None


@dataclass(frozen=True, slots=True)
class Device:
    key: str  # stable id, e.g. ``tic_meter_12``
    name: str
    model: str = ""
    manufacturer: str = ""
    via: str = ""  # the hub device's key, for devices seen through it
    extra: dict[str, str] = field(default_factory=dict)


def status_topic(prefix: str) -> str:
    return f"{prefix}/status"


def state_topic(prefix: str, device: Device, entity: Entity) -> str:
    return f"{prefix}/{slug(device.key)}/{slug(entity.key)}"


def config_topic(discovery_prefix: str, device: Device, entity: Entity) -> str:
    return f"{discovery_prefix}/{entity.component}/{slug(device.key)}/{slug(entity.key)}/config"


def config_payload(*, prefix: str, node: str, device: Device, entity: Entity) -> dict[str, Any]:
    """The discovery payload of one entity (HA's MQTT sensor / binary sensor / event schema).

    ``node`` distinguishes hubs sharing one broker in unique ids.
    """
    unique = f"{slug(node)}_{slug(device.key)}_{slug(entity.key)}"
    payload: dict[str, Any] = {
        "name": entity.name,
        "unique_id": unique,
        "state_topic": state_topic(prefix, device, entity),
        "availability_topic": status_topic(prefix),
        "payload_available": AVAILABLE,
        "payload_not_available": NOT_AVAILABLE,
        "device": {
            "identifiers": [f"{slug(node)}_{slug(device.key)}"],
            "name": device.name,
            **({"model": device.model} if device.model else {}),
            **({"manufacturer": device.manufacturer} if device.manufacturer else {}),
            **({"via_device": f"{slug(node)}_{slug(device.via)}"} if device.via else {}),
        },
        "origin": {"name": "supplier-data-hub"},
    }
    if entity.component == "binary_sensor":
        payload["payload_on"], payload["payload_off"] = "ON", "OFF"
    if entity.component == "event":
        payload["event_types"] = list(entity.event_types)
    if entity.unit:
        payload["unit_of_measurement"] = entity.unit
    if entity.device_class:
        payload["device_class"] = entity.device_class
    if entity.state_class:
        payload["state_class"] = entity.state_class
    if entity.icon:
        payload["icon"] = entity.icon
    return payload


def state_text(entity: Entity, value: object) -> str:
    """A state as HA reads it: ON/OFF for binary sensors, numbers without a useless ``.0``."""
    if entity.component == "binary_sensor":
        return "ON" if value else "OFF"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
