"""Publishing to MQTT with Home Assistant discovery, against a mosquitto started by the tests."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from hub import cache, metrics, mqtt
from hub.models import AuditEvent, MqttBroker
from hub.mqtt import Device, Entity, status
from hub.mqtt.publisher import Message, Publisher, load_configs
from hub.services.mqtt_brokers import save_broker
from tests.conftest import Tenant
from tests.hub.control.conftest import free_port
from tests.hub.mqtt_support import Subscriber, check_discovery, mosquitto

pytestmark = pytest.mark.django_db

METER = Device(key="tic_meter_1", name="Compteur 041436028024", manufacturer="Enedis")
INDEX = Entity(
    "energy_index_east", "Index EAST", unit="Wh", device_class="energy",
    state_class="total_increasing",
)  # fmt: skip
POWER = Entity("power", "Puissance", unit="W", device_class="power", state_class="measurement")
ALARM = Entity("alarm", "Alerte", component="event", event_types=("start", "end"))


@pytest.fixture
def publisher() -> Iterator[Publisher]:
    # Brokers read at every call (the tests change them); stopped at the end.
    pub = Publisher(node="test", loader=load_configs, refresh_seconds=0)
    previous = mqtt.set_publisher(pub)
    yield pub
    pub.stop(timeout=60)
    mqtt.set_publisher(previous)


def _broker(tenant: Tenant, port: int, **fields: object) -> MqttBroker:
    broker = MqttBroker(organisation=tenant.organisation, host="127.0.0.1", port=port)
    for name, value in fields.items():
        setattr(broker, name, value)
    password = fields.pop("password", None)
    return save_broker(broker=broker, password=password)  # type: ignore[arg-type]


def _counter(outcome: str) -> float:
    return metrics.MQTT_MESSAGES.labels(outcome)._value.get()


def test_states_and_discovery_are_retained_and_match_home_assistant_schema(
    tenant: Tenant, publisher: Publisher, tmp_path: Path
) -> None:
    """The discovery payloads follow HA's documented schema (see ``check_discovery``: topic
    format, ``unique_id``, ``device.identifiers``, availability, units per device class,
    ``total_increasing`` for the energy index so HA's energy dashboard takes it); configs and
    states are retained, so a Home Assistant that starts later still gets them."""
    with mosquitto(tmp_path) as broker:
        _broker(tenant, broker.port, topic_prefix="maison/hub")
        assert mqtt.publish_states(
            organisation_id=tenant.organisation.pk,
            device=METER,
            values=[(INDEX, 123456789.0), (POWER, 2150.5), (Entity("none", "Rien"), None)],
        )
        publisher.stop(timeout=60)  # drains the queue, then says offline (retained)
        late = Subscriber(broker.port)  # a Home Assistant that starts afterwards
        try:
            messages = late.wait(lambda ms: len(ms) >= 5)
        finally:
            late.close()
    by_topic = {m.topic: m for m in messages}
    assert all(m.retain for m in messages)
    index_config = by_topic["homeassistant/sensor/tic_meter_1/energy_index_east/config"].json()
    power_config = by_topic["homeassistant/sensor/tic_meter_1/power/config"].json()
    for topic in ("homeassistant/sensor/tic_meter_1/energy_index_east/config",
                  "homeassistant/sensor/tic_meter_1/power/config"):  # fmt: skip
        assert check_discovery(topic, by_topic[topic].json()) == "sensor"
    assert index_config["state_class"] == "total_increasing"
    assert index_config["device_class"] == "energy" and index_config["unit_of_measurement"] == "Wh"
    assert index_config["device"]["identifiers"] == power_config["device"]["identifiers"]
    assert index_config["unique_id"] != power_config["unique_id"]
    assert by_topic[index_config["state_topic"]].payload == "123456789"
    assert by_topic[power_config["state_topic"]].payload == "2150.5"
    assert index_config["state_topic"].startswith("maison/hub/")
    assert index_config["availability_topic"] == "maison/hub/status"
    assert by_topic["maison/hub/status"].payload == "offline"
    assert not [t for t in by_topic if t.endswith("/none") or "/none/" in t]


def test_availability_online_while_connected(
    tenant: Tenant, publisher: Publisher, tmp_path: Path
) -> None:
    with mosquitto(tmp_path) as broker:
        _broker(tenant, broker.port)
        watcher = Subscriber(broker.port)
        try:
            mqtt.publish_states(
                organisation_id=tenant.organisation.pk, device=METER, values=[(POWER, 1.0)]
            )
            watcher.wait(lambda ms: any(m.topic == "hub/status" for m in ms))
            assert watcher.on("hub/status")[0].payload == "online"
            publisher.stop(timeout=60)
            watcher.wait(
                lambda ms: [m.payload for m in ms if m.topic == "hub/status"][-1:] == ["offline"]
            )
        finally:
            watcher.close()


def test_events_are_event_entities_not_retained(
    tenant: Tenant, publisher: Publisher, tmp_path: Path
) -> None:
    """HA's MQTT event entity: ``event_types`` in the discovery payload, a JSON state with
    ``event_type`` (https://www.home-assistant.io/integrations/event.mqtt); an event is a
    moment, so it is not retained."""
    with mosquitto(tmp_path) as broker:
        _broker(tenant, broker.port)
        watcher = Subscriber(broker.port)
        try:
            assert mqtt.publish_event(
                organisation_id=tenant.organisation.pk,
                entity=ALARM,
                event_type="start",
                attributes={"share": 97.5},
            )
            messages = watcher.wait(lambda ms: any(m.topic == "hub/hub/alarm" for m in ms))
        finally:
            watcher.close()
        publisher.stop(timeout=60)
        late = Subscriber(broker.port)
        try:
            retained = late.wait(lambda ms: any(m.topic == "hub/status" for m in ms))
        finally:
            late.close()
    config_topic = "homeassistant/event/hub/alarm/config"
    config = next(m for m in messages if m.topic == config_topic).json()
    assert check_discovery(config_topic, config) == "event"
    assert config["event_types"] == ["start", "end"]
    event = next(m for m in messages if m.topic == "hub/hub/alarm").json()
    assert event == {"event_type": "start", "share": 97.5}
    assert "hub/hub/alarm" not in {m.topic for m in retained}


def test_rate_limit_per_device(tenant: Tenant, publisher: Publisher, tmp_path: Path) -> None:
    """At most one publication per device per ``min_interval_seconds``; another device is
    not held back by the first, and ``force`` (PREAVIS) goes through at once."""
    with mosquitto(tmp_path) as broker:
        _broker(tenant, broker.port, min_interval_seconds=3600)
        org = tenant.organisation.pk
        sent = [
            mqtt.publish_states(organisation_id=org, device=METER, values=[(POWER, float(i))])
            for i in range(5)
        ]
        other = Device(key="tic_meter_2", name="Autre")
        assert mqtt.publish_states(organisation_id=org, device=other, values=[(POWER, 7.0)])
        assert mqtt.publish_states(
            organisation_id=org, device=METER, values=[(POWER, 99.0)], force=True
        )
        publisher.stop(timeout=60)
        late = Subscriber(broker.port)
        try:
            messages = late.wait(lambda ms: any(m.topic == "hub/tic_meter_2/power" for m in ms))
            late.wait(lambda ms: any(m.topic == "hub/tic_meter_1/power" for m in ms))
        finally:
            late.close()
    assert sent == [True, False, False, False, False]
    assert [m.payload for m in messages if m.topic == "hub/tic_meter_1/power"] == ["99"]


def test_no_broker_configured_nothing_queued(tenant: Tenant, publisher: Publisher) -> None:
    assert not mqtt.publish_states(
        organisation_id=tenant.organisation.pk, device=METER, values=[(POWER, 1.0)]
    )
    assert publisher.queue.empty()


def test_broker_down_is_counted_and_logged_never_raised(
    tenant: Tenant, publisher: Publisher, caplog: pytest.LogCaptureFixture
) -> None:
    publisher.connect_wait_seconds = 0.2  # the first connection's grace, spent in its thread
    _broker(tenant, free_port())  # nothing listens there
    failed = _counter("failed")
    for i in range(3):
        assert mqtt.publish_states(
            organisation_id=tenant.organisation.pk,
            device=Device(key=f"m{i}", name="m"),
            values=[(POWER, 1.0)],
        )
    publisher.stop(timeout=60)  # the thread has handled the three messages
    assert _counter("failed") - failed == 3
    assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1


def test_full_queue_drops_and_counts_without_waiting(tenant: Tenant) -> None:
    class Stalled(Publisher):
        def _start(self) -> None:  # no thread: nothing drains the queue
            pass

    recorder = status.StatusRecorder(background=False)
    pub = Stalled(node="test", maxsize=2, loader=lambda: {}, recorder=recorder)
    dropped = _counter("dropped")
    message = Message(tenant.organisation.pk, METER, ((POWER, 1.0),))
    assert [pub.submit(message) for _ in range(4)] == [True, True, False, False]
    assert _counter("dropped") - dropped == 2
    recorder.close(now=time.time())
    state = _own_state(tenant)
    assert (state.dropped, state.last_failure_reason) == (2, "queue_full")


def test_credentials_and_tls(tenant: Tenant, publisher: Publisher, tmp_path: Path) -> None:
    """A broker that asks for a user and speaks TLS only, with the hub trusting its CA."""
    with mosquitto(tmp_path, users={"hub": "s3cret-pass"}, tls=True) as broker:
        _broker(
            tenant, broker.port, tls=True, ca_certificate=broker.ca_pem, username="hub",
            password="s3cret-pass",
        )  # fmt: skip
        failed = _counter("failed")
        assert mqtt.publish_states(
            organisation_id=tenant.organisation.pk, device=METER, values=[(POWER, 5.0)]
        )
        publisher.stop(timeout=60)
        # Read back through TLS with the same user: the retained state arrived.
        import ssl

        import paho.mqtt.client as paho

        reader = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="reader")
        reader.username_pw_set("hub", "s3cret-pass")
        reader.tls_set_context(ssl.create_default_context(cadata=broker.ca_pem))
        got: list[str] = []
        import threading

        done = threading.Event()

        def on_message(client, userdata, message):  # type: ignore[no-untyped-def]
            got.append(message.payload.decode())
            done.set()

        reader.on_message = on_message
        reader.on_connect = lambda client, *a: client.subscribe("hub/tic_meter_1/power", qos=1)
        reader.connect("127.0.0.1", broker.port)
        reader.loop_start()
        try:
            assert done.wait(10)
        finally:
            reader.loop_stop()
            reader.disconnect()
    assert got == ["5"] and _counter("failed") == failed


def test_password_encrypted_at_rest_and_changes_audited(tenant: Tenant) -> None:
    broker = _broker(tenant, 1883, username="hub", password="clear-text-pw")
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM hub_mqttbroker WHERE id = %s", [broker.pk])
        stored = cursor.fetchone()[0]
    assert "clear-text-pw" not in stored
    assert MqttBroker.objects.get(pk=broker.pk).password == "clear-text-pw"
    broker.port = 8883
    save_broker(broker=broker, password=None)
    events = list(AuditEvent.objects.filter(action__startswith="mqtt.broker").order_by("pk"))
    assert [e.action for e in events] == ["mqtt.broker_created", "mqtt.broker_updated"]
    assert "clear-text-pw" not in str([(e.before, e.after) for e in events])
    assert events[1].before["port"] == 1883 and events[1].after["port"] == 8883
    assert MqttBroker.objects.get(pk=broker.pk).password == "clear-text-pw"


def _own_state(tenant: Tenant) -> status.ProcessState:
    """This process's recorded state for the tenant, as the broker page reads it."""
    [state] = [
        s
        for s in status.read(tenant.organisation.pk, now=time.time())
        if (s.host, s.pid) == (socket.gethostname(), os.getpid())
    ]
    return state


@pytest.mark.parametrize("refusal", ["credentials", "tls", "unreachable"])
def test_a_refused_connection_is_recorded_with_its_reason(
    tenant: Tenant, publisher: Publisher, tmp_path: Path, refusal: str
) -> None:
    """Rule: the broker page says why the process's connection failed (credentials refused,
    TLS, unreachable), and counts the messages that failed for it."""
    with mosquitto(
        tmp_path, users={"hub": "s3cret-pass"} if refusal == "credentials" else None,
        tls=refusal == "tls",
    ) as broker:  # fmt: skip
        if refusal == "credentials":
            _broker(tenant, broker.port, username="hub", password="not-the-pass")
        elif refusal == "tls":
            _broker(tenant, broker.port, tls=True)  # the test CA is in no trust store
        else:
            _broker(tenant, free_port())
        assert mqtt.publish_states(
            organisation_id=tenant.organisation.pk, device=METER, values=[(POWER, 1.0)]
        )
        publisher.stop(timeout=60)  # handled, and the last state written
    state = _own_state(tenant)
    assert state.last_failure_reason == refusal
    assert (state.connected, state.published, state.failed, state.dropped) == (False, 0, 1, 0)
    assert state.last_message_at is None


def test_published_messages_are_recorded_without_their_payload(
    tenant: Tenant, publisher: Publisher, tmp_path: Path
) -> None:
    with mosquitto(tmp_path) as broker:
        _broker(tenant, broker.port)
        for kind in ("state", "event"):
            if kind == "state":
                mqtt.publish_states(
                    organisation_id=tenant.organisation.pk, device=METER, values=[(POWER, 4242.5)]
                )
            else:
                mqtt.publish_event(
                    organisation_id=tenant.organisation.pk, entity=ALARM, event_type="start"
                )
        publisher.stop(timeout=60)
    state = _own_state(tenant)
    assert (state.published, state.failed, state.last_message_kind) == (2, 0, "event")
    assert state.since is not None and state.last_message_at is not None
    # Field by field: a timestamp's digits may hold the payload's (seen: 1796652092.5594242).
    records = [
        json.loads(value)
        for value in cache.alive(status.index_key(tenant.organisation.pk), now=time.time()).values()
    ]
    assert len(records) == 1
    assert not {"payload", "topic", "value", "values"} & set(records[0])
    for field, value in records[0].items():
        assert value != 4242.5, field
        if isinstance(value, str) and field != "host":
            assert "4242" not in value and "homeassistant" not in value, field


def test_publishing_goes_on_when_the_state_cannot_be_written(
    tenant: Tenant, publisher: Publisher, tmp_path: Path, settings
) -> None:
    """Rule: a down Redis never holds the publisher; the failed writes are counted."""
    with mosquitto(tmp_path) as broker:
        _broker(tenant, broker.port)
        settings.CACHES = {
            **settings.CACHES,
            "default": {
                "BACKEND": "hub.cache.FailoverRedisCache",
                "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
                "OPTIONS": {"retry_seconds": 0},
            },
        }
        watcher = Subscriber(broker.port)
        try:
            assert mqtt.publish_states(
                organisation_id=tenant.organisation.pk, device=METER, values=[(POWER, 3.0)]
            )
            watcher.wait(lambda ms: any(m.topic == "hub/tic_meter_1/power" for m in ms))
        finally:
            watcher.close()
        publisher.stop(timeout=60)
    assert publisher.recorder.write_failures >= 1
