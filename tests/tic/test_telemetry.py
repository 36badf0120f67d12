"""What the ingest shows outside: TIC metrics on /metrics, meter states and PREAVIS on MQTT."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from hub import mqtt
from hub.models import MqttBroker
from hub.mqtt.publisher import Publisher, load_configs
from tests.hub.mqtt_support import Subscriber, check_discovery, mosquitto
from tests.hub.test_metrics import TOKEN, scrape, value
from tic.ingest import Ingestor, LineCounts, PortStatus
from tic.models import TicMeter, TicPort
from tic.simulator import SimulatedPmePmi

from .conftest import feed

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 10, 9, 0, 3, tzinfo=dt.UTC)
ADS = "041436028024"


@pytest.fixture
def publisher() -> Iterator[Publisher]:
    pub = Publisher(node="test", loader=load_configs, refresh_seconds=0)
    previous = mqtt.set_publisher(pub)
    yield pub
    pub.stop(timeout=60)
    mqtt.set_publisher(previous)


def test_frames_bytes_port_state_drift_and_share_on_metrics(tic_port: TicPort, settings) -> None:  # type: ignore[no-untyped-def]
    """frames = valid + invalid + interrupted (the decoder's definitions), per port."""
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS = TOKEN, []
    port = str(tic_port.pk)
    before = scrape(Client())
    ingestor = Ingestor()
    meter = SimulatedPmePmi(ads=ADS)
    good = meter.frame(at=T0, power_va=21_000)
    broken = good.replace(b"PTCOUR1 HPE", b"PTCOUR1 HPX")
    cut = good[:80] + b"\x04"
    ingestor.handle(PortStatus(tic_port.pk, "reading", T0, 9600))
    frames = feed(ingestor, tic_port, good + broken + cut + good, T0)
    ingestor.handle(LineCounts(tic_port.pk, noise_bytes=5, parity_errors=0))
    after = scrape(Client())
    for result, count in (("valid", 2), ("invalid", 1), ("interrupted", 1)):
        labels = {"port": port, "result": result}
        delta = value(after, "hub_tic_frames_total", **labels) - value(
            before, "hub_tic_frames_total", **labels
        )
        assert delta == count, result
    received = value(after, "hub_tic_bytes_total", port=port) - value(
        before, "hub_tic_bytes_total", port=port
    )
    # Each frame's content between its STX and its ETX (or EOT), and the bytes outside frames.
    assert received == len(good + broken + good) - 3 * 2 + 79 + 5
    assert received == sum(len(f.raw) for f in frames) + 5
    assert value(after, "hub_tic_port_up", port=port) == 1
    for second in range(10, 70, 10):
        at = T0 + dt.timedelta(seconds=second)
        feed(ingestor, tic_port, meter.frame(at=at, power_va=21_000), at)
    later = scrape(Client())
    meter_id = str(TicMeter.objects.get().pk)
    assert 40 < value(later, "hub_tic_power_share_percent", meter=meter_id) < 60  # 21 of 42 kVA
    assert ("hub_tic_clock_drift_seconds", (("meter", meter_id),)) in later
    ingestor.handle(PortStatus(tic_port.pk, "down", T0, None, "unplugged"))
    assert value(scrape(Client()), "hub_tic_port_up", port=port) == 0


def test_meter_on_home_assistant_with_indexes_for_the_energy_dashboard_and_preavis(
    tenant, tic_port: TicPort, publisher: Publisher, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """HA's energy dashboard takes sensors of device class ``energy`` with state class
    ``total_increasing`` (https://developers.home-assistant.io/blog/2021/08/16/state_class_total:
    « a monotonically increasing total, e.g. … electricity meters »): every Wh index of the
    meter is announced so, its state retained; PREAVIS is a binary sensor and an event entity
    whose start goes out at once, whatever the per-meter interval."""
    with mosquitto(tmp_path) as broker:
        MqttBroker.objects.create(
            organisation=tenant.organisation,
            host="127.0.0.1",
            port=broker.port,
            min_interval_seconds=3600,
        )
        watcher = Subscriber(broker.port)
        try:
            ingestor = Ingestor()
            meter = SimulatedPmePmi(ads=ADS)
            for second in range(0, 60, 10):
                at = T0 + dt.timedelta(seconds=second)
                feed(ingestor, tic_port, meter.frame(at=at, power_va=10_000), at)
            for second in range(60, 100, 10):
                at = T0 + dt.timedelta(seconds=second)
                feed(ingestor, tic_port, meter.frame(at=at, power_va=40_000), at)
            row = TicMeter.objects.get()
            device = f"tic_meter_{row.pk}"
            messages = watcher.wait(
                lambda ms: any(m.topic == f"hub/{device}/preavis_event" for m in ms)
            )
        finally:
            watcher.close()
    configs = {m.topic: m.json() for m in messages if m.topic.endswith("/config")}
    assert configs
    for topic, payload in configs.items():
        check_discovery(topic, payload)
    indexes = {t: p for t, p in configs.items() if "/energy_index_" in t}
    assert indexes
    for payload in indexes.values():
        assert payload["device_class"] == "energy"
        assert payload["state_class"] == "total_increasing"
        assert payload["unit_of_measurement"] == "Wh"
    assert all(p["device"]["name"] == f"Compteur {ADS}" for p in configs.values())
    states = {m.topic: m.payload for m in messages if not m.topic.endswith("/config")}
    for payload in indexes.values():
        assert float(states[payload["state_topic"]]) > 0
    preavis = [m.payload for m in messages if m.topic == f"hub/{device}/preavis"]
    assert preavis[0] == "OFF" and preavis[-1] == "ON"  # the first frame, then forced at start
    event = next(m for m in messages if m.topic == f"hub/{device}/preavis_event").json()
    assert event["event_type"] == "preavis_start"
    # Rate limit: one regular publication in the hour, plus the forced one at PREAVIS start.
    assert len(preavis) == 2
