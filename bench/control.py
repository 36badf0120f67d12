"""Control latency: a PREAVIS frame on the wire to the Modbus write acknowledged, all the way.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub REDIS_URL=redis://127.0.0.1:6379/0 \
        python bench/control.py [--loads 500] [--events 1000]

A simulated PME-PMI meter (``tic.simulator``) sends, for each event, the frame in which PREAVIS
appears; the clock runs from those bytes handed to the decoder to the shed load's coil found off
on a real pymodbus TCP server: decode, use cases, the ingestor's flush (meter state written at
once on an event, as in ``tic_read``), the evaluation request queued on commit
(``hub.control.tasks.evaluate_site`` through the Redis broker), a Celery worker process picking
it up, the site's evaluation (every registered controller, arbitration over 500 loads, the
command, its read-back and its audit event). Between events the meter falls back under the
threshold and the worker, asked again by the end of PREAVIS, restores the load, off the clock
(the shed dated a day back first: the servo restores a load only Td after its shed).

Not included: ``tic_read``'s flush interval (``--flush-interval``, 0.5 s: a frame waits up to
that long in memory before its batch is written); the bench flushes after each frame.

Baseline in the same run: one bare pymodbus write + read-back of a coil on the same server (the
floor any control path pays). Target: median < 1 s, p99 < 2 s; the TIC line itself sends a frame
about every 1 to 2 s (PME-PMI, 9600 Bd), so the hub answers within the next frame or two.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable

# A Redis prefix of its own: no message of another run (or of a test) reaches its worker.
os.environ["HUB_TEST_REDIS_PREFIX"] = f"hub-bench-control-{uuid.uuid4().hex[:8]}"

from _django import ROOT, child_env, setup, throwaway_database

setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import F  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loads", type=int, default=500)
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database.")
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        raise SystemExit("Set REDIS_URL: the evaluation goes through the broker to a worker.")
    # A database of its own: never the test suite's (tests/test_bench_control.py runs this).
    with throwaway_database(f"test_hub_bench_control_{os.getpid()}"):
        worker = _start_worker()
        try:
            run(args)
        finally:
            worker.terminate()
            worker.wait(30)
            from tests.cache import delete_prefixed

            delete_prefixed(settings.REDIS_URL, settings.TEST_REDIS_PREFIX)


def _start_worker() -> subprocess.Popen[bytes]:
    """A Celery worker on the bench's test database and broker prefix (tests.settings)."""
    command = [sys.executable, "-m", "celery", "-A", "hub", "worker", "--pool", "solo"]
    command += ["--queues", ",".join(settings.HUB_QUEUES), "--without-mingle", "--without-gossip"]
    command += ["-l", "WARNING"]
    return subprocess.Popen(command, cwd=ROOT, env=child_env())


def _wait(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.001)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(args: argparse.Namespace) -> None:
    from pymodbus.client import ModbusTcpClient

    from hub.control.models import (
        ActuatorChannel,
        Command,
        CommandStatus,
        ControllableLoad,
        SiteControl,
    )
    from hub.control.simulator import ModbusBuilding, Output
    from hub.models import MeteringPoint, Organisation, Site
    from tic.ingest import Ingestor, Received
    from tic.models import TicPort
    from tic.protocol import TicStreamDecoder
    from tic.simulator import SimulatedPmePmi

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
        ingestor.flush(now=at)  # committed: the evaluation request goes to the broker

    low, high = 0.5 * meter.ps_kva * 1000, 0.95 * meter.ps_kva * 1000

    def as_if_td_passed() -> None:
        # The servo restores a shed load only once the power's mean over Td no longer holds
        # minutes from before the shed (tic.controllers.PowerServo): Td minutes after it. The
        # events here are seconds apart, so the shed is dated a day back, off the clock.
        ControllableLoad.objects.filter(site=site, changed_at__isnull=False).update(
            changed_at=F("changed_at") - dt.timedelta(days=1)
        )

    for _ in range(5):
        send(low)  # the meter exists, its series too
    first = ControllableLoad.objects.order_by("priority", "pk").first()
    assert first is not None
    address = int(first.address)
    # Warm-up, off the clock: the worker's first evaluation reads the 500 loads back once.
    send(high)
    _wait(lambda: sim.get("coil", address) == 0, "the warm-up shed")
    as_if_td_passed()
    send(low)
    _wait(lambda: sim.get("coil", address) == 1, "the warm-up restore")
    _wait(lambda: Command.objects.count() == 2, "the warm-up's records")

    latencies = []
    for event in range(args.events):
        done = Command.objects.count()
        began = time.perf_counter()
        send(high)
        _wait(lambda: sim.get("coil", address) == 0, f"event {event}: the shed")
        latencies.append(time.perf_counter() - began)
        # Off the clock: PREAVIS ends, the worker brings the load back and records it.
        _wait(
            lambda done=done: Command.objects.count() >= done + 1,
            f"event {event}: the shed's record",
        )
        shed = Command.objects.order_by("-pk").first()
        if shed is None or shed.status != CommandStatus.ACKNOWLEDGED or shed.load_id != first.pk:
            raise SystemExit(f"event {event}: no acknowledged shed of the first load: {shed}")
        as_if_td_passed()
        send(low)
        _wait(
            lambda done=done: Command.objects.count() >= done + 2,
            f"event {event}: the restore's record",
        )
        if sim.get("coil", address) != 1:
            raise SystemExit(f"event {event}: the load was not restored")

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
    print(f"loads {args.loads}, events {args.events}, load average {os.getloadavg()}")
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
