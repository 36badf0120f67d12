"""Storing frames: series, meter state, events, notifications, webhooks, daily energy."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hub import quantities
from hub.models import MeteringPoint, Notification, Point, Series
from tests.conftest import Tenant
from tic.ingest import Ingestor, LineCounts, PortStatus, Received
from tic.models import (
    DailyEnergy,
    DeliveryStatus,
    TicEvent,
    TicMeter,
    TicPort,
    TicWebhook,
    TicWebhookDelivery,
)
from tic.protocol import TicStreamDecoder, decode_bytes, encode_frame
from tic.simulator import SimulatedPmePmi

from .conftest import feed

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 10, 9, 0, 3, tzinfo=dt.UTC)
ADS = "041436028024"


def _run(ingestor, port, meter, *, start, seconds, power, period="HPE"):  # type: ignore[no-untyped-def]
    for second in range(0, seconds, 10):
        at = start + dt.timedelta(seconds=second)
        feed(ingestor, port, meter.frame(at=at, power_va=power, period=period), at)


def test_frames_become_series_state_and_counters(tenant: Tenant, tic_port: TicPort) -> None:
    ingestor = Ingestor()
    _run(ingestor, tic_port, SimulatedPmePmi(ads=ADS), start=T0, seconds=120, power=21_000)
    stats = ingestor.flush(now=T0 + dt.timedelta(minutes=2))
    assert stats.frames == 12 and stats.rows > 12 * 5
    meter = TicMeter.objects.get()
    # The port had no metering point: one is made from the meter's address.
    point = MeteringPoint.objects.get(kind="tic_meter", identifier=ADS)
    assert meter.metering_point == point and point.organisation == tenant.organisation
    assert (meter.frames, meter.valid, meter.invalid) == (12, 12, 0)
    assert meter.last_values["PTCOUR1"] == "HPE"
    assert meter.tariff_periods == {"distributeur": "HPE", "fournisseur": "HPE"}
    assert meter.subscribed_power == 42_000 and meter.power_unit == "VA"
    assert abs(meter.power_share - 50) < 2
    assert len(meter.recent_frames) == 3
    # In the frame's order, as the meter sent it (a JSON object would be reordered by JSONB).
    labels = [label for label, _raw in meter.recent_frames[0]["groups"]]
    assert labels[:3] == ["ADS", "MESURES1", "DATE"]
    index = Series.objects.get(metering_point=point, quantity=quantities.index_for("EAP_s").name)
    assert index.kind == "index" and index.unit == "Wh"
    assert Point.objects.filter(series=index).count() == 12
    port = TicPort.objects.get()
    assert (port.frames, port.valid) == (12, 12) and port.last_frame_at is not None


def test_invalid_and_interrupted_frames_are_counted(tic_port: TicPort) -> None:
    """One definition of each counter, the decoder's (``tic.protocol.Counters``): a frame is
    valid, invalid or interrupted (02E §1.5.2: EOT « interruption »), never two of them."""
    ingestor = Ingestor()
    meter = SimulatedPmePmi(ads=ADS)
    good = meter.frame(at=T0, power_va=1000)
    broken = good.replace(b"PTCOUR1 HPE", b"PTCOUR1 HPX")  # the checksum no longer matches
    cut = good[:80] + b"\x04"  # EOT: emission interrupted (02E §1.5.2)
    decoded = feed(ingestor, tic_port, good + broken + cut + good, T0)
    ingestor.flush(now=T0)
    row = TicMeter.objects.get()
    assert (row.frames, row.valid, row.invalid, row.interrupted) == (4, 2, 1, 1)
    assert row.bad_groups == 1
    port = TicPort.objects.get()
    assert (port.frames, port.invalid, port.interrupted, port.bad_groups) == (4, 1, 1, 1)
    decoder = TicStreamDecoder()
    assert decoder.feed(good + broken + cut + good) == decoded
    assert {k: v for k, v in decoder.counters.as_dict().items() if k in port.counters()} == {
        k: v for k, v in port.counters().items() if k in decoder.counters.as_dict()
    }


def test_preavis_notifies_and_queues_signed_webhooks(
    tenant: Tenant, tic_port: TicPort, django_capture_on_commit_callbacks, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    queued: list[int] = []
    monkeypatch.setattr(
        "hub.services.webhooks.queue_now",
        lambda *, channel, delivery_pks: queued.extend(delivery_pks),
    )
    TicWebhook.objects.create(
        organisation=tenant.organisation, url="https://plant.example/tic", secret="s3cret"
    )
    ingestor = Ingestor()
    meter = SimulatedPmePmi(ads=ADS)
    _run(ingestor, tic_port, meter, start=T0, seconds=60, power=10_000)
    ingestor.flush(now=T0)
    with django_capture_on_commit_callbacks(execute=True):
        _run(
            ingestor, tic_port, meter, start=T0 + dt.timedelta(minutes=1), seconds=30, power=40_000
        )
        ingestor.flush(now=T0 + dt.timedelta(minutes=2))
    event = TicEvent.objects.get(kind="preavis_start")
    row = TicMeter.objects.get()
    assert row.preavis_active and row.preavis_since == event.at
    notification = Notification.objects.get(source="tic", kind="preavis")
    assert notification.severity == "critical" and notification.resolved_at is None
    delivery = TicWebhookDelivery.objects.get()
    assert delivery.event == event and delivery.status == DeliveryStatus.PENDING
    assert delivery.payload["event"] == "tic.preavis_start" and delivery.payload["meter"] == ADS
    assert queued == [delivery.pk]
    with django_capture_on_commit_callbacks(execute=True):
        _run(ingestor, tic_port, meter, start=T0 + dt.timedelta(minutes=3), seconds=20, power=5_000)
        ingestor.flush(now=T0 + dt.timedelta(minutes=4))
    assert TicEvent.objects.filter(kind="preavis_end").count() == 1
    notification.refresh_from_db()
    assert notification.resolved_at is not None
    assert not TicMeter.objects.get().preavis_active


def test_drift_alert(tenant: Tenant, tic_port: TicPort, settings) -> None:  # type: ignore[no-untyped-def]
    ingestor = Ingestor(drift_threshold=60)
    _run(
        ingestor,
        tic_port,
        SimulatedPmePmi(ads=ADS, drift=dt.timedelta(minutes=-3)),
        start=T0,
        seconds=20,
        power=0,
    )
    ingestor.flush(now=T0)
    assert TicEvent.objects.get().kind == "drift_alert"
    assert Notification.objects.get(source="tic").kind == "clock_drift"
    drift = Series.objects.get(quantity=quantities.CLOCK_DRIFT.name)
    assert all(-181 < p.value < -179 for p in Point.objects.filter(series=drift))


def test_energy_per_period_per_day_adds_up_across_flushes(tic_port: TicPort) -> None:
    ingestor = Ingestor()
    meter = SimulatedPmePmi(ads=ADS)
    # 2026-10-25 has 25 hours in Paris: it ends at 23:00 UTC (UTC+1 since 01:00 UTC).
    start = dt.datetime(2026, 10, 25, 22, 55, tzinfo=dt.UTC)
    _run(ingestor, tic_port, meter, start=start, seconds=300, power=36_000, period="HPH")
    ingestor.flush(now=start)
    _run(
        ingestor,
        tic_port,
        meter,
        start=start + dt.timedelta(minutes=5),
        seconds=600,
        power=36_000,
        period="HCH",
    )
    ingestor.flush(now=start)
    rows = {
        (r.day, r.calendar, r.period): r.energy_wh
        for r in DailyEnergy.objects.filter(calendar="distributeur")
    }
    assert set(rows) == {
        (dt.date(2026, 10, 25), "distributeur", "HPH"),
        (dt.date(2026, 10, 26), "distributeur", "HCH"),
    }
    assert abs(sum(rows.values()) - 32_400 * (890 / 3600)) < 40


def test_port_status_is_stored(tic_port: TicPort) -> None:
    ingestor = Ingestor()
    ingestor.handle(PortStatus(tic_port.pk, "down", T0, 9600, "SerialException: gone"))
    ingestor.flush(now=T0)
    tic_port.refresh_from_db()
    assert (tic_port.state, tic_port.current_baud, tic_port.state_since) == ("down", 9600, T0)
    assert "gone" in tic_port.last_error


def test_pmepmi_capture_with_its_corrupted_frame(tic_port: TicPort, tic_fixtures: Path) -> None:
    ingestor = Ingestor()
    data = (tic_fixtures / "liberasys_pmepmi_stream.bin").read_bytes()
    frames = feed(ingestor, tic_port, data, T0)
    ingestor.flush(now=T0)
    row = TicMeter.objects.get()
    assert row.identifier == ADS and row.valid == sum(f.valid for f in frames)
    # The stray 0x04 inside PTCOUR1 is EOT: that frame ends there, counted as interrupted.
    assert row.invalid == 0 and row.interrupted == 1
    assert row.last_values["MESURES1"] == "BT 4 SUP36"


def test_refused_index_is_stored_flagged_counted_and_warned_once(tic_port: TicPort) -> None:
    """An index going backwards is no measurement: its point keeps the value received with
    quality 3 (« manquante »), the meter counts it, one warning is raised for the run."""
    from hub.models import Quality

    ingestor = Ingestor()
    meter = SimulatedPmePmi(ads=ADS)
    _run(ingestor, tic_port, meter, start=T0, seconds=30, power=10_000)
    at = T0 + dt.timedelta(seconds=30)
    good = meter.frame(at=at, power_va=10_000)
    (decoded,) = TicStreamDecoder().feed(good)
    backwards = encode_frame(
        [
            (g.raw_label, "9000kWh" if label == "EAP_s" else g.raw)
            for label, g in decoded.groups.items()
        ]
    )
    for _ in range(2):  # twice in a row: one run, one warning
        ingestor.handle(Received(tic_port.pk, decode_bytes(backwards)[0], at, 9600))
        at += dt.timedelta(seconds=10)
    _run(ingestor, tic_port, meter, start=at, seconds=20, power=10_000)
    ingestor.flush(now=at)
    row = TicMeter.objects.get()
    assert row.implausible == 2 and row.counters()["implausible"] == 2
    series = Series.objects.get(quantity=quantities.index_for("EAP_s").name)
    flagged = Point.objects.filter(series=series, quality=Quality.MISSING)
    assert [p.value for p in flagged] == [9_000_000, 9_000_000]
    assert Point.objects.filter(series=series, quality=Quality.MEASURED).count() == 5
    assert TicEvent.objects.filter(kind="implausible").count() == 1
    notification = Notification.objects.get(source="tic", kind="implausible")
    assert notification.severity == "warning"


def test_restart_rebuilds_power_over_td_from_the_stored_series(tic_port: TicPort) -> None:
    """A new reading process (a restart) shows the power over Td from its first frame."""
    meter = SimulatedPmePmi(ads=ADS)
    first = Ingestor()
    _run(first, tic_port, meter, start=T0, seconds=300, power=21_000)
    first.flush(now=T0 + dt.timedelta(minutes=5))
    restarted = Ingestor()
    at = T0 + dt.timedelta(seconds=310)
    feed(restarted, tic_port, meter.frame(at=at, power_va=21_000), at)
    restarted.flush(now=at)
    row = TicMeter.objects.get()
    assert row.power is not None and abs(row.power - 21_000) < 300
    assert abs(row.power_share - 50) < 1


def test_bytes_outside_frames_and_parity_errors_are_stored_on_the_port(
    tic_port: TicPort,
) -> None:
    """« octets hors trame »: what the port's decoder counted outside STX…ETX, and the bytes
    whose parity bit was wrong (02E §1.5.3.1 step A), stored and shown with the counters."""
    ingestor = Ingestor()
    ingestor.handle(LineCounts(tic_port.pk, noise_bytes=17, parity_errors=3))
    ingestor.handle(LineCounts(tic_port.pk, noise_bytes=5, parity_errors=0))
    ingestor.flush(now=T0)
    tic_port.refresh_from_db()
    assert (tic_port.noise_bytes, tic_port.parity_errors) == (22, 3)
    assert tic_port.counters()["noise_bytes"] == 22
    # A restart carries on from the stored totals.
    again = Ingestor()
    again.handle(LineCounts(tic_port.pk, noise_bytes=1, parity_errors=1))
    again.flush(now=T0)
    tic_port.refresh_from_db()
    assert (tic_port.noise_bytes, tic_port.parity_errors) == (23, 4)
