"""A mosquitto broker of the test's own (Debian's /usr/sbin/mosquitto), optionally with users and
TLS, and a subscriber that collects what reaches it (retained messages included)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt

from tests.conftest import require
from tests.hub.control.conftest import MOSQUITTO, _wait_for_port, free_port


@dataclass
class Broker:
    port: int
    ca_pem: str = ""


def _tls_files(workdir: Path) -> str:
    """A CA and a server certificate for 127.0.0.1 signed by it; the CA's PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hub test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_pem = ca.public_bytes(pem).decode()
    (workdir / "ca.pem").write_text(ca_pem)
    (workdir / "server.pem").write_bytes(cert.public_bytes(pem))
    (workdir / "server.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_pem


@contextmanager
def mosquitto(
    workdir: Path, *, users: dict[str, str] | None = None, tls: bool = False
) -> Iterator[Broker]:
    require(Path(MOSQUITTO).exists() or shutil.which("mosquitto") is not None, "mosquitto")
    port = free_port()
    lines = [f"listener {port} 127.0.0.1", "persistence false"]
    if os.geteuid() == 0:
        # As root mosquitto would switch to its own user, who cannot read pytest's 0700 dirs.
        lines.append("user root")
    if users:
        passwords = workdir / "passwd"
        for number, (user, password) in enumerate(users.items()):
            create = ["-c"] if number == 0 else []
            subprocess.run(
                ["mosquitto_passwd", *create, "-b", str(passwords), user, password], check=True
            )
        lines += ["allow_anonymous false", f"password_file {passwords}"]
    else:
        lines.append("allow_anonymous true")
    ca_pem = ""
    if tls:
        ca_pem = _tls_files(workdir)
        lines += [
            f"cafile {workdir / 'ca.pem'}",
            f"certfile {workdir / 'server.pem'}",
            f"keyfile {workdir / 'server.key'}",
        ]
    conf = workdir / "mosquitto.conf"
    conf.write_text("\n".join(lines) + "\n")
    binary = MOSQUITTO if Path(MOSQUITTO).exists() else "mosquitto"
    process = subprocess.Popen(
        [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_for_port(port, process)
        yield Broker(port, ca_pem)
    finally:
        process.terminate()
        process.wait(10)


@dataclass
class Received:
    topic: str
    payload: str
    retain: bool

    def json(self) -> dict:  # type: ignore[type-arg]
        return json.loads(self.payload)


class Subscriber:
    """Subscribes to ``#`` and keeps every message; ``wait`` blocks on a condition, not a sleep."""

    def __init__(self, port: int) -> None:
        self.messages: list[Received] = []
        self._changed = threading.Condition()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-subscriber")
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.on_connect = lambda client, *args: client.subscribe("#", qos=1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert subscribed.wait(30), "subscription not acknowledged"

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._changed:
            self.messages.append(
                Received(message.topic, message.payload.decode(), bool(message.retain))
            )
            self._changed.notify_all()

    def wait(
        self, found: Callable[[list[Received]], bool], timeout: float = 30.0
    ) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not found(self.messages):
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"not received; got {[m.topic for m in self.messages]}"
                self._changed.wait(remaining)
            return list(self.messages)

    def on(self, topic: str) -> list[Received]:
        with self._changed:
            return [m for m in self.messages if m.topic == topic]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


# -- Home Assistant's discovery schema, as documented --

TOPIC_ID = r"[a-zA-Z0-9_-]+"
# https://www.home-assistant.io/integrations/sensor#device-class (units each class accepts)
UNITS = {
    "energy": {"Wh", "kWh", "MWh", "MJ", "GJ"},
    "power": {"W", "kW", "MW"},
    "apparent_power": {"VA"},
    "duration": {"d", "h", "min", "s", "ms"},
}
STATE_CLASSES = {"measurement", "total", "total_increasing"}
KEYS = {
    "sensor": {"unit_of_measurement", "device_class", "state_class", "icon"},
    "binary_sensor": {"payload_on", "payload_off", "device_class", "icon"},
    "event": {"event_types", "device_class", "icon"},
}
COMMON = {
    "name",
    "unique_id",
    "state_topic",
    "availability_topic",
    "payload_available",
    "payload_not_available",
    "device",
    "origin",
}


def check_discovery(topic: str, payload: dict, *, discovery_prefix: str = "homeassistant") -> str:  # type: ignore[type-arg]
    """Check one discovery message against HA's documented MQTT discovery schema; its component.

    * Topic « <discovery_prefix>/<component>/[<node_id>/]<object_id>/config », ids of
      « [a-zA-Z0-9_-] » only (https://www.home-assistant.io/integrations/mqtt/#discovery-topic).
    * « The payload must be a JSON dictionary » with the component's options; ``unique_id`` and
      a ``device`` with ``identifiers`` so entities group under one device
      (https://www.home-assistant.io/integrations/sensor.mqtt/ and /binary_sensor.mqtt/).
    * ``availability_topic`` with ``payload_available`` (default « online ») and
      ``payload_not_available`` (« offline »).
    * State classes: « measurement », « total », « total_increasing » (a monotonically
      increasing total such as an electricity meter,
      https://developers.home-assistant.io/blog/2021/08/16/state_class_total); energy sensors
      take an energy unit (Wh, kWh, MWh, MJ, GJ).
    * Event entities: « event_types » is required; the state payload is JSON with
      « event_type » (https://www.home-assistant.io/integrations/event.mqtt).
    """
    import re

    match = re.fullmatch(
        rf"{re.escape(discovery_prefix)}/(sensor|binary_sensor|event)/({TOPIC_ID}/)?{TOPIC_ID}/config",
        topic,
    )
    assert match, topic
    component = match.group(1)
    assert isinstance(payload, dict)
    assert set(payload) <= COMMON | KEYS[component], set(payload) - COMMON - KEYS[component]
    assert payload["unique_id"] and payload["name"]
    assert payload["state_topic"] and "#" not in payload["state_topic"]
    assert "+" not in payload["state_topic"]
    device = payload["device"]
    assert isinstance(device["identifiers"], list) and device["identifiers"] and device["name"]
    assert payload["availability_topic"]
    assert (payload["payload_available"], payload["payload_not_available"]) == ("online", "offline")
    if "state_class" in payload:
        assert payload["state_class"] in STATE_CLASSES
    device_class = payload.get("device_class")
    if component == "sensor" and device_class in UNITS:
        assert payload.get("unit_of_measurement") in UNITS[device_class], payload
    if device_class == "energy":
        assert payload.get("state_class") in {"total", "total_increasing"}
    if component == "event":
        types = payload["event_types"]
        assert isinstance(types, list) and types and all(isinstance(t, str) for t in types)
    return component
