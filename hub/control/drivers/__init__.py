"""Actuator drivers behind one interface, and the per-process pool of open connections.

The pool also remembers which channels have had their state read back since this process
started: after a hub restart nothing is commanded before the equipment's state is re-read.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from hub.control.drivers.base import Ack, Driver, DriverError

if TYPE_CHECKING:
    from hub.control.models import ActuatorChannel

__all__ = ["Ack", "Driver", "DriverError", "close_all", "driver_for", "mark_read", "was_read"]

_lock = threading.Lock()
_drivers: dict[int, tuple[object, Driver]] = {}
_read: set[int] = set()


def driver_for(channel: ActuatorChannel) -> Driver:
    """The open driver of ``channel``; a channel edited since is reconnected."""
    with _lock:
        entry = _drivers.get(channel.pk)
        if entry is not None and entry[0] == channel.updated_at:
            return entry[1]
        if entry is not None:
            entry[1].close()
            _read.discard(channel.pk)
        driver = _build(channel)
        _drivers[channel.pk] = (channel.updated_at, driver)
        return driver


def _build(channel: ActuatorChannel) -> Driver:
    from hub.control.models import ChannelKind

    if channel.kind == ChannelKind.MODBUS:
        from hub.control.drivers.modbus import ModbusDriver

        return ModbusDriver(channel)
    if channel.kind == ChannelKind.MQTT:
        from hub.control.drivers.mqtt import MqttDriver

        return MqttDriver(channel)
    from hub.control.drivers.webhook import WebhookDriver

    return WebhookDriver(channel)


def was_read(channel_id: int) -> bool:
    return channel_id in _read


def mark_read(channel_id: int) -> None:
    _read.add(channel_id)


def close_all() -> None:
    """Close every connection and forget every read-back: what a restarted process starts from."""
    with _lock:
        for _stamp, driver in _drivers.values():
            driver.close()
        _drivers.clear()
        _read.clear()
