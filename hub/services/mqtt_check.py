"""Trying an organisation's MQTT broker once: connect, wait for its answer, disconnect."""

from __future__ import annotations

import ipaddress
import ssl
import time
from dataclasses import dataclass

import paho.mqtt.client as mqtt

from hub.http import urlsafety
from hub.models import MqttBroker
from hub.mqtt.status import refusal_reason


@dataclass(frozen=True)
class BrokerCheck:
    """``outcome``: connected, credentials (refused who we are), refused (another refusal),
    tls, unreachable (no such host, nothing listening), timeout, unsafe (address not allowed)."""

    outcome: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == "connected"


def _unsafe(host: str, port: int, resolver: urlsafety.Resolver) -> str:
    """Why the broker's address may not be tried from here ("" when it may), as for webhooks:
    a test button would otherwise map the hub's own network."""
    if urlsafety.allow_private():
        return ""
    try:
        addresses = resolver(host, port)
    except (OSError, ValueError):
        return ""  # unresolvable: the connection attempt reports it
    for address in addresses:
        reason = urlsafety.refused_address(ipaddress.ip_address(address))
        if reason:
            return reason
    return ""


def check_broker(
    *,
    broker: MqttBroker,
    timeout: float = 5.0,
    resolver: urlsafety.Resolver = urlsafety.system_resolver,
) -> BrokerCheck:
    """Connect with the stored settings within ``timeout`` seconds and say how it went."""
    reason = _unsafe(broker.host, broker.port, resolver)
    if reason:
        return BrokerCheck("unsafe", reason)
    answer: dict[str, object] = {}
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="", clean_session=True)
    client.connect_timeout = timeout
    if broker.username:
        client.username_pw_set(broker.username, broker.password or None)
    if broker.tls:
        try:
            context = ssl.create_default_context(cadata=broker.ca_certificate or None)
        except (ssl.SSLError, ValueError) as exc:
            return BrokerCheck("tls", f"CA: {exc}")
        client.tls_set_context(context)

    def on_connect(
        client: mqtt.Client, userdata: object, flags: object, rc: object, props: object
    ) -> None:
        answer["code"] = rc

    def on_disconnect(
        client: mqtt.Client, userdata: object, flags: object, rc: object, props: object
    ) -> None:
        answer.setdefault("closed", rc)

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    # One deadline for the TCP and TLS handshakes and the broker's answer together.
    deadline = time.monotonic() + timeout
    try:
        client.connect(broker.host, broker.port, keepalive=max(5, int(timeout) * 2))
    except ssl.SSLError as exc:
        return BrokerCheck("tls", getattr(exc, "verify_message", "") or str(exc))
    except TimeoutError as exc:
        return BrokerCheck("timeout", str(exc) or "timeout")
    except (OSError, ValueError) as exc:
        return BrokerCheck("unreachable", str(exc))
    try:
        while "code" not in answer and "closed" not in answer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return BrokerCheck("timeout", "no CONNACK")
            if client.loop(min(remaining, 0.5)) != mqtt.MQTT_ERR_SUCCESS and "code" not in answer:
                # The broker closed the connection without answering: most often a TLS listener
                # spoken to in clear, or the reverse.
                return BrokerCheck("refused", "connection closed before the broker answered")
        code = answer.get("code")
        if code is None:
            return BrokerCheck("refused", str(answer.get("closed", "")))
        if getattr(code, "is_failure", False):
            return BrokerCheck(refusal_reason(code), str(code))
        return BrokerCheck("connected", str(code))
    finally:
        client.disconnect()
        client.loop(0.1)  # sends the DISCONNECT and closes the socket
