"""The process's MQTT publisher: a bounded queue and one thread, so callers never wait on a broker.

Callers (the TIC ingest, Celery tasks, web requests) only put messages in the queue; a full
queue drops the message (counted in ``hub_mqtt_messages_total{outcome="dropped"}``, logged at
most once a minute). The thread keeps one paho client per organisation's broker (network loop
in paho's own thread, reconnecting by itself); a message for a broker that is not connected is
counted ``failed`` and logged once per outage. Discovery payloads are sent again after each
(re)connection, before the first state of each device. Each organisation's connection, last
message, last failure and counts are recorded for the broker page (``hub.mqtt.status``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt

from hub.metrics import MQTT_MESSAGES
from hub.mqtt import status
from hub.mqtt.discovery import (
    AVAILABLE,
    NOT_AVAILABLE,
    Device,
    Entity,
    config_payload,
    config_topic,
    state_text,
    state_topic,
    status_topic,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    organisation_id: int
    host: str
    port: int = 1883
    tls: bool = False
    ca_certificate: str = ""
    username: str = ""
    password: str = ""
    topic_prefix: str = "hub"
    discovery_prefix: str = "homeassistant"
    min_interval_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class Message:
    organisation_id: int | None  # None: every configured broker (hub-wide events)
    device: Device
    values: tuple[tuple[Entity, object], ...]
    event_type: str = ""  # set for an event entity's message (one entity, not retained)
    attributes: dict[str, object] = field(default_factory=dict)


def load_configs() -> dict[int, BrokerConfig]:
    """Every enabled broker, by organisation (one query; a savepoint inside a transaction)."""
    from django.db import transaction

    from hub.models import MqttBroker

    with transaction.atomic():
        brokers = list(MqttBroker.objects.filter(enabled=True))
    return {
        b.organisation_id: BrokerConfig(
            organisation_id=b.organisation_id,
            host=b.host,
            port=b.port,
            tls=b.tls,
            ca_certificate=b.ca_certificate,
            username=b.username,
            password=b.password or "",
            topic_prefix=b.topic_prefix,
            discovery_prefix=b.discovery_prefix,
            min_interval_seconds=b.min_interval_seconds,
        )
        for b in brokers
    }


class _Connection:
    def __init__(self, config: BrokerConfig, *, node: str, recorder: status.StatusRecorder) -> None:
        self.config = config
        self.node = node
        self.recorder = recorder
        self.connected = threading.Event()
        # Set at the broker's first answer, yes or no, or when it cannot be reached.
        self.answered = threading.Event()
        self.announced: set[tuple[str, str]] = set()
        self.down_logged = False
        # Why the broker is not connected (a status.REASONS code and its detail).
        self.failure: tuple[str, str] = ("not_connected", "")
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"hub-{node}-{config.organisation_id}-{os.getpid()}",
        )
        client.will_set(status_topic(config.topic_prefix), NOT_AVAILABLE, qos=1, retain=True)
        if config.username:
            client.username_pw_set(config.username, config.password or None)
        if config.tls:
            context = ssl.create_default_context(cadata=config.ca_certificate or None)
            client.tls_set_context(context)
        client.reconnect_delay_set(1, 60)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        self.client = client
        client.connect_async(config.host, config.port, keepalive=30)
        client.loop_start()

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: object, rc: object, props: object
    ) -> None:
        organisation_id = self.config.organisation_id
        if getattr(rc, "is_failure", False):
            logger.warning("mqtt: broker %s refused the connection (%s)", self.config.host, rc)
            self.failure = (status.refusal_reason(rc), str(rc))
            reason, detail = self.failure
            self.recorder.disconnected(
                organisation_id, now=time.time(), reason=reason, detail=detail
            )
            self.answered.set()
            return
        self.announced.clear()
        client.publish(status_topic(self.config.topic_prefix), AVAILABLE, qos=1, retain=True)
        self.down_logged = False
        self.connected.set()
        self.answered.set()
        self.recorder.connected(organisation_id, now=time.time())
        logger.info("mqtt: connected to %s:%s", self.config.host, self.config.port)

    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        # paho calls this inside its ``except OSError``: the exception says why.
        exc = sys.exception()
        if isinstance(exc, ssl.SSLError):
            reason = "tls"
            detail = getattr(exc, "verify_message", "") or str(exc)
        else:
            reason, detail = "unreachable", str(exc or "")
        self.failure = (reason, detail)
        self.recorder.disconnected(
            self.config.organisation_id, now=time.time(), reason=reason, detail=detail
        )
        self.answered.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: object, flags: object, rc: object, props: object
    ) -> None:
        was_up = self.connected.is_set()
        self.connected.clear()
        if not was_up:
            return  # a refused CONNACK, already recorded
        unexpected = bool(getattr(rc, "is_failure", False))
        if unexpected:
            self.failure = ("disconnected", str(rc))
        self.recorder.disconnected(
            self.config.organisation_id,
            now=time.time(),
            reason="disconnected" if unexpected else "",
            detail=str(rc) if unexpected else "",
        )

    def publish(self, topic: str, payload: str, *, retain: bool, kind: str) -> bool:
        if not self.connected.is_set():
            return False
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return False
        self.recorder.sent(self.config.organisation_id, kind=kind, now=time.time())
        return True

    def announce(self, device: Device, entity: Entity) -> bool:
        key = (device.key, entity.key)
        if key in self.announced:
            return True
        c = self.config
        payload = config_payload(
            prefix=c.topic_prefix, node=self.node, device=device, entity=entity
        )
        sent = self.publish(
            config_topic(c.discovery_prefix, device, entity),
            json.dumps(payload),
            retain=True,
            kind="discovery",
        )
        if sent:
            self.announced.add(key)
        return sent

    def close(self) -> None:
        if self.connected.is_set():
            info = self.client.publish(
                status_topic(self.config.topic_prefix), NOT_AVAILABLE, qos=1, retain=True
            )
            info.wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()


class Publisher:
    def __init__(
        self,
        *,
        node: str = "hub",
        maxsize: int = 10_000,
        loader: Callable[[], dict[int, BrokerConfig]] = load_configs,
        refresh_seconds: float = 30.0,
        connect_wait_seconds: float = 5.0,
        recorder: status.StatusRecorder | None = None,
    ) -> None:
        self.connect_wait_seconds = connect_wait_seconds
        self.recorder = recorder or status.StatusRecorder()
        self.node = node
        self.queue: queue.Queue[Message | None] = queue.Queue(maxsize)
        self.loader = loader
        self.refresh_seconds = refresh_seconds
        self.configs: dict[int, BrokerConfig] = {}
        self._connections: dict[int, _Connection] = {}
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._loaded_at = -1e9
        self._dropped_logged_at = -1e9
        self._last_sent: dict[tuple[int, str], float] = {}
        self._ticked_at = -1e18

    # -- callers' side (any thread; never blocks) --

    def refresh(self, *, now: float) -> None:
        """Re-read the brokers when the last read is older than ``refresh_seconds``; in the
        caller's thread (one small query), so the publisher thread never touches the database."""
        if now - self._loaded_at < self.refresh_seconds:
            return
        self._loaded_at = now
        try:
            self.configs = self.loader()
        except Exception:
            logger.warning(
                "mqtt: broker settings not read; keeping the previous ones", exc_info=True
            )

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name="hub-mqtt", daemon=True)
            self._thread.start()

    def due(self, organisation_id: int, device_key: str, *, now: float, force: bool) -> bool:
        """Whether a device's states may go out now (the broker's per-device minimum interval)."""
        self.refresh(now=now)
        config = self.configs.get(organisation_id)
        if config is None:
            return False
        key = (organisation_id, device_key)
        if not force and now - self._last_sent.get(key, -1e9) < config.min_interval_seconds:
            return False
        self._last_sent[key] = now
        return True

    def submit(self, message: Message) -> bool:
        if self._thread is None or not self._thread.is_alive():
            self._start()
        try:
            self.queue.put_nowait(message)
        except queue.Full:
            MQTT_MESSAGES.labels("dropped").inc()
            now = time.time()
            targets = (
                list(self.configs) if message.organisation_id is None else [message.organisation_id]
            )
            for organisation_id in targets:
                self.recorder.dropped(organisation_id, now=now)
            clock = time.monotonic()
            if clock - self._dropped_logged_at > 60:
                self._dropped_logged_at = clock
                logger.warning("mqtt: publishing queue full, messages dropped")
            return False
        return True

    def stop(self, timeout: float = 5.0) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive():
            with contextlib.suppress(queue.Full):
                self.queue.put(None, timeout=timeout)
            thread.join(timeout)
        self._thread = None

    # -- the publisher thread --

    def _run(self) -> None:
        try:
            while True:
                try:
                    message = self.queue.get(timeout=1.0)
                except queue.Empty:
                    message = False  # type: ignore[assignment]
                if message is None:
                    break
                if message:
                    self._handle(message)
                self._tick(now=time.time())
        finally:
            for connection in self._connections.values():
                connection.close()
            self._connections.clear()
            self.recorder.close(now=time.time())

    def _tick(self, *, now: float) -> None:
        # Once a second at most: the recorder looks at every organisation of the process.
        if now - self._ticked_at < 1.0:
            return
        self._ticked_at = now
        self.recorder.tick(now=now, organisations=self.configs.keys())

    def _connection(self, organisation_id: int) -> _Connection | None:
        config = self.configs.get(organisation_id)
        current = self._connections.get(organisation_id)
        if current is not None and current.config != config:
            current.close()
            del self._connections[organisation_id]
            current = None
        if config is None:
            return None
        if current is None:
            current = self._connections[organisation_id] = _Connection(
                config, node=self.node, recorder=self.recorder
            )
            # A new connection gets a moment to open (in this thread: callers never wait), over
            # as soon as the broker answers; afterwards a broker that is away fails each message
            # at once.
            current.answered.wait(self.connect_wait_seconds)
        return current

    def _handle(self, message: Message) -> None:
        targets = (
            list(self.configs) if message.organisation_id is None else [message.organisation_id]
        )
        for organisation_id in targets:
            connection = self._connection(organisation_id)
            if connection is None:
                continue
            ok = all(
                self._send(connection, message, entity, value) for entity, value in message.values
            )
            MQTT_MESSAGES.labels("published" if ok else "failed").inc()
            now = time.time()
            if ok:
                self.recorder.published(organisation_id, now=now)
            elif connection.connected.is_set():
                self.recorder.failed(organisation_id, reason="publish", now=now)
            else:
                reason, detail = connection.failure
                self.recorder.failed(organisation_id, reason=reason, detail=detail, now=now)
            if not ok and not connection.down_logged:
                connection.down_logged = True
                logger.warning(
                    "mqtt: broker %s:%s unreachable; states are dropped until it is back",
                    connection.config.host,
                    connection.config.port,
                )

    @staticmethod
    def _send(connection: _Connection, message: Message, entity: Entity, value: object) -> bool:
        if not connection.announce(message.device, entity):
            return False
        topic = state_topic(connection.config.topic_prefix, message.device, entity)
        if entity.component == "event":
            body = json.dumps({"event_type": message.event_type, **message.attributes}, default=str)
            return connection.publish(topic, body, retain=False, kind="event")
        return connection.publish(topic, state_text(entity, value), retain=True, kind="state")
