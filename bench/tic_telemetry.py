"""Cost of the ingest's telemetry (metrics, MQTT states) on the frame-handling path.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub python bench/tic_telemetry.py \
        [--meters 200] [--seconds 20]

Frames of simulated PME-PMI meters (one port each) are decoded first; the timed part is
``Ingestor.handle`` for every frame (use cases, series rows, counters; no flush), three ways in
turn, best of 3 each: ``tic.telemetry`` replaced by no-ops (the baseline), as shipped with no
MQTT broker configured, and with a broker configured at interval 0 (every frame builds the
meter's states and queues them; the publisher thread is not started, so this is the callers'
cost alone). The first simulated second of each pass (meters and series created) is not timed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time

from _django import setup, throwaway_database

setup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    # Its own database: never the test database of a suite running meanwhile.
    with throwaway_database(f"test_hub_bench_tic_telemetry_{os.getpid()}"):
        run(args)


def run(args: argparse.Namespace) -> None:
    from hub import mqtt
    from hub.models import MqttBroker, Organisation
    from hub.mqtt.publisher import Publisher
    from tic import telemetry
    from tic.ingest import Ingestor, Received
    from tic.models import TicPort
    from tic.protocol import TicStreamDecoder
    from tic.simulator import SimulatedPmePmi

    organisation = Organisation.objects.create(slug="bench", name="Bench")
    ports = TicPort.objects.bulk_create(
        TicPort(organisation=organisation, name=f"port {i}", url="loop://")
        for i in range(args.meters)
    )
    start = dt.datetime(2026, 1, 12, 8, 0, tzinfo=dt.UTC)
    meters = [SimulatedPmePmi(ads=f"04{i:010d}") for i in range(args.meters)]
    seconds = []
    for s in range(args.seconds):
        at = start + dt.timedelta(seconds=s)
        seconds.append(
            [
                Received(port.pk, frame, at, 9600)
                for port, meter in zip(ports, meters, strict=True)
                for frame in TicStreamDecoder().feed(meter.frame(at=at, power_va=21_000))
            ]
        )
    timed = sum(len(items) for items in seconds[1:])

    class Stalled(Publisher):
        def _start(self) -> None:  # callers' side only
            pass

    shipped = {name: getattr(telemetry, name) for name in ("frame", "noise", "port_state", "meter")}

    def no_telemetry() -> None:
        for name in shipped:
            setattr(telemetry, name, lambda *a, **k: None)

    def with_telemetry() -> None:
        for name, function in shipped.items():
            setattr(telemetry, name, function)

    def one_pass() -> float:
        ingestor = Ingestor()
        for item in seconds[0]:
            ingestor.handle(item)
        began = time.perf_counter()
        for items in seconds[1:]:
            for item in items:
                ingestor.handle(item)
        return time.perf_counter() - began

    broker = MqttBroker(organisation=organisation, host="127.0.0.1", min_interval_seconds=0)
    best: dict[str, float] = {}
    for _round in range(3):
        for mode in ("baseline", "no broker", "broker"):
            MqttBroker.objects.all().delete()
            mqtt.set_publisher(Stalled(maxsize=10**7, refresh_seconds=3600))
            if mode == "baseline":
                no_telemetry()
            else:
                with_telemetry()
            if mode == "broker":
                broker.pk = None
                broker.save()
            elapsed = one_pass()
            best[mode] = min(best.get(mode, elapsed), elapsed)
    with_telemetry()
    base = timed / best["baseline"]
    print(f"{timed:,} frames handled per pass, best of 3 (load: see uptime)")
    print(f"telemetry off (baseline): {base:,.0f} frames/s")
    for mode in ("no broker", "broker"):
        rate = timed / best[mode]
        print(f"telemetry, {mode}: {rate:,.0f} frames/s, ratio {rate / base:.2f}")


if __name__ == "__main__":
    main()
