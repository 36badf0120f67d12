"""Control latency: a PREAVIS frame on the wire to the Modbus write acknowledged.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub python bench/control.py \
        [--loads 500] [--events 1000]

A simulated PME-PMI meter (``tic.simulate``) sends, for each event, the frame in which PREAVIS
appears; the clock runs from those bytes handed to the decoder to the shed load's write
acknowledged by a real pymodbus TCP server: decode, use cases, the ingestor's event flush (meter
state written at once on an event, as in ``tic_read``), the site's evaluation (every registered
controller, arbitration over 500 loads, the command, its read-back and its audit event). Between
events the meter falls back under the threshold and the building is reset, off the clock.

Baseline in the same run: one bare pymodbus write + read-back of a coil on the same server (the
floor any control path pays). Target: median < 1 s, p99 < 2 s; the TIC line itself sends a frame
about every 1 to 2 s (PME-PMI, 9600 Bd), so the hub answers within the next frame or two. Not
measured here: the wait for the evaluation task's turn (``CONTROL_EVALUATE_SECONDS``, 5 s, when no
one triggers ``hub.control.tasks.evaluate_site`` on the PREAVIS event).
"""

from __future__ import annotations

import argparse
import datetime as dt
import socket
import statistics
import time

from _django import setup

setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loads", type=int, default=500)
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database.")
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(args: argparse.Namespace) -> None:
    from pymodbus.client import ModbusTcpClient

    from hub.control import services
    from hub.control.models import (
        ActuatorChannel,
        CommandStatus,
        ControllableLoad,
        SiteControl,
    )
    from hub.control.simulator import ModbusBuilding, Output
    from hub.models import MeteringPoint, Organisation, Site
    from tic.ingest import Ingestor, Received
    from tic.models import TicPort
    from tic.protocol import TicStreamDecoder
    from tic.simulate import SimulatedPmePmi

    organisation = Organisation.objects.create(slug="bench", name="Bench")
    site = Site.objects.create(organisation=organisation, name="Bench")
    SiteControl.objects.create(organisation=organisation, site=site, dry_run=False)
    point = MeteringPoint.objects.create(
        organisation=organisation, site=site, kind="tic_meter", identifier="041436028024"
    )
    port = TicPort.objects.create(
        organisation=organisation, name="tic", url="loop://", metering_point=point
    )
    sim = ModbusBuilding(
        port=_free_port(),
        outputs=[Output("coil", i, 1) for i in range(args.loads)],
        heartbeat_register=args.loads + 10,
        watchdog=dt.timedelta(minutes=5),
    ).start()
    channel = ActuatorChannel.objects.create(
        organisation=organisation,
        site=site,
        name="automate",
        kind="modbus",
        host="127.0.0.1",
        port=sim.port,
        timeout_seconds=3,
    )
    ControllableLoad.objects.bulk_create(
        ControllableLoad(
            organisation=organisation,
            site=site,
            channel=channel,
            metering_point=point,
            name=f"charge {i:03d}",
            kind="sheddable",
            nominal_power_w=500,
            priority=i,
            register="coil",
            address=str(i),
        )
        for i in range(args.loads)
    )
    meter = SimulatedPmePmi(ads=point.identifier)
    decoder = TicStreamDecoder()
    ingestor = Ingestor(state_interval=5.0)
    at = dt.datetime(2026, 1, 12, 8, 0, tzinfo=dt.UTC)

    def send(power_va: float) -> None:
        nonlocal at
        at += dt.timedelta(seconds=1)
        for decoded in decoder.feed(meter.frame(at=at, power_va=power_va)):
            ingestor.handle(Received(port.pk, decoded, at, 9600))
        ingestor.flush(now=at)

    low, high = 0.5 * meter.ps_kva * 1000, 0.95 * meter.ps_kva * 1000
    for _ in range(5):
        send(low)  # the meter exists, its series too
    services.evaluate_site(site=site, now=at)  # the first read-back of 500 loads, once

    latencies = []
    for _ in range(args.events):
        began = time.perf_counter()
        send(high)
        commands = services.evaluate_site(site=site, now=at)
        elapsed = time.perf_counter() - began
        if not commands or commands[0].status != CommandStatus.ACKNOWLEDGED:
            raise SystemExit(f"no acknowledged shed: {commands}")
        latencies.append(elapsed)
        # Off the clock: PREAVIS ends, the building comes back.
        send(low)
        ids = [c.load_id for c in commands]
        for load in ControllableLoad.objects.filter(pk__in=ids):
            sim.set("coil", int(load.address), 1)
        ControllableLoad.objects.filter(pk__in=ids).update(value=1.0, held_by="", held_reason="")
        ControllableLoad.objects.update(changed_at=None)

    client = ModbusTcpClient("127.0.0.1", port=sim.port)
    client.connect()
    bare = []
    for i in range(args.events):
        began = time.perf_counter()
        client.write_coil(i % args.loads, False)
        client.read_coils(i % args.loads, count=1)
        bare.append(time.perf_counter() - began)
    client.close()
    sim.stop()

    def p99(values: list[float]) -> float:
        return sorted(values)[max(0, int(len(values) * 0.99) - 1)]

    median, worst = statistics.median(latencies), p99(latencies)
    print(f"loads {args.loads}, events {args.events}")
    print(
        f"PREAVIS frame → write acked   median {median * 1000:8.1f} ms   p99 {worst * 1000:8.1f} ms"
    )
    print(
        f"bare Modbus write + read-back median {statistics.median(bare) * 1000:8.1f} ms   "
        f"p99 {p99(bare) * 1000:8.1f} ms"
    )
    print(f"target median < 1 s, p99 < 2 s: {'met' if median < 1 and worst < 2 else 'NOT met'}")


if __name__ == "__main__":
    main()
