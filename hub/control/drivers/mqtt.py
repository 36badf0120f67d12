"""MQTT through paho-mqtt: ``<prefix>/<address>/set`` commands (QoS 1), the equipment answers on
the retained ``<prefix>/<address>/state`` topic (the acknowledgement is the applied state), and the
hub refreshes ``<prefix>/heartbeat`` for the equipment's watchdog.
"""

from __future__ import annotations

import ssl
import threading
import time
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt

from hub.control.drivers.base import Ack, DriverError

if TYPE_CHECKING:
    from hub.control.models import ActuatorChannel, ControllableLoad


def _number(payload: bytes) -> float | None:
    try:
        return float(payload.decode().strip())
    except (UnicodeDecodeError, ValueError):
        return None


class MqttDriver:
    def __init__(self, channel: ActuatorChannel) -> None:
        self.prefix = channel.topic_prefix.rstrip("/")
        self.timeout = channel.timeout_seconds
        self._states: dict[str, float] = {}
        self._changed = threading.Condition()
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"hub-control-{channel.pk}"
        )
        if channel.username:
            self._client.username_pw_set(channel.username, channel.password or None)
        if channel.tls:
            self._client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        self._client.on_message = self._on_message
        self._client.on_connect = self._on_connect
        self._connected = threading.Event()
        try:
            self._client.connect(channel.host, channel.port or 1883, keepalive=30)
        except OSError as exc:
            raise DriverError(f"connexion MQTT impossible : {exc}"[:300]) from exc
        self._client.loop_start()
        if not self._connected.wait(self.timeout):
            self.close()
            raise DriverError("connexion MQTT sans réponse du courtier")

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any
    ) -> None:
        client.subscribe(f"{self.prefix}/+/state", qos=1)
        self._connected.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        parts = message.topic.split("/")
        value = _number(message.payload)
        if len(parts) >= 2 and value is not None:
            with self._changed:
                self._states[parts[-2]] = value
                self._changed.notify_all()

    def _wait_for(self, address: str, wanted: float | None) -> float:
        deadline = time.monotonic() + self.timeout
        with self._changed:
            while True:
                value = self._states.get(address)
                if value is not None and (wanted is None or abs(value - wanted) < 1e-6):
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise DriverError("pas d'acquittement MQTT dans le délai")
                self._changed.wait(remaining)

    def write(self, load: ControllableLoad, value: float) -> Ack:
        info = self._client.publish(f"{self.prefix}/{load.address}/set", f"{value:g}", qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise DriverError(f"publication MQTT refusée ({info.rc})")
        return Ack(self._wait_for(load.address, value))

    def read(self, load: ControllableLoad) -> float:
        # The state topic is retained: the broker sends it at subscription.
        return self._wait_for(load.address, None)

    def heartbeat(self, counter: int) -> None:
        info = self._client.publish(f"{self.prefix}/heartbeat", str(counter), qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise DriverError(f"signal de vie MQTT refusé ({info.rc})")

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()
