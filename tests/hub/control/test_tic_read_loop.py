"""The closed loop through the real ``tic_read`` process: a PME-PMI meter on a pty pair whose
power follows the loads left on in the Modbus building, ``manage.py tic_read`` reading it into the
test database, a Celery worker evaluating the site when the ingest asks for it (and at a 1-second
periodic evaluation standing in for beat's), the servo shedding and restoring over Modbus TCP."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker

from hub.celery import app
from hub.control import tasks
from hub.control.models import Command, CommandStatus
from hub.control.simulator import ModbusBuilding
from tests.conftest import Tenant
from tests.hub.control.conftest import Building, make_building
from tests.processes import child_env, stop_all, wait_until
from tic.models import TicEvent, TicPort
from tic.protocol import with_parity
from tic.simulator import SimulatedPmePmi

ROOT = Path(__file__).resolve().parents[3]
RATE = 9600
PS_KVA = 60
POWERS = (6_000, 8_000, 4_000, 10_000)  # the four loads, by shedding order


class PtyPmePmi:
    """The meter: owns the master side of a pty, publishes the slave under a fixed path, and
    sends a frame after another at the line's pace, drawing ``base`` plus the loads left on."""

    def __init__(self, link: Path, building: Building, sim: ModbusBuilding) -> None:
        self.link, self.building, self.sim = link, building, sim
        self.meter = SimulatedPmePmi(ads=building.point.identifier, ps_kva=PS_KVA)
        self.base = 10_000.0
        self.master, self.slave = os.openpty()
        link.symlink_to(os.ttyname(self.slave))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pty-meter", daemon=True)

    def drawn(self) -> float:
        total = self.base
        for load in self.building.loads:
            raw = self.sim.get(load.register, int(load.address))
            total += load.nominal_power_w * raw / (1 if load.register == "coil" else 100)
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            frame = with_parity(self.meter.frame(at=dt.datetime.now(dt.UTC), power_va=self.drawn()))
            try:
                os.write(self.master, frame)
            except OSError:
                return  # unplugged at the end of the test
            self._stop.wait(len(frame) * 10 / RATE)  # 10 bits per character on the wire

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.link.unlink(missing_ok=True)
        os.close(self.master)
        self._thread.join(timeout=10)
        os.close(self.slave)


@pytest.fixture
def tic_read() -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        env = child_env()
        command = [sys.executable, "manage.py", "tic_read", "--flush-interval", "0.2"]
        process = subprocess.Popen(
            [*command, "--reload-interval", "0.5", "--silence", "3"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        return process

    yield start
    stop_all(started)


class Beat:
    """``evaluate_all`` queued every second, as beat does every ``CONTROL_EVALUATE_SECONDS``."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="beat", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            tasks.evaluate_all.apply_async()

    def __enter__(self) -> Beat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_tic_read_preavis_sheds_over_modbus_and_its_end_restores(
    tmp_path: Path,
    tenant: Tenant,
    building: ModbusBuilding,
    tic_read: Callable[[], subprocess.Popen[bytes]],
    settings,
) -> None:
    """02E PME-PMI: « [PREAVIS] : émis que lorsque la puissance atteinte mesurée 1 mn est
    supérieure au seuil de 90% de la puissance souscrite »; the servo (P1) sheds by shedding order
    while PREAVIS lasts and restores in reverse order once it has ended."""
    settings.CONTROL_SERVO_SETTLE_SECONDS = 0  # one more load at each evaluation under PREAVIS
    b = make_building(tenant, building)
    for load, watts in zip(b.loads, POWERS, strict=True):
        load.nominal_power_w = watts
        load.save(update_fields=["nominal_power_w"])
    meter = PtyPmePmi(tmp_path / "ttyTIC0", b, building)
    TicPort.objects.create(
        organisation=tenant.organisation,
        name="TGBT",
        url=str(meter.link),
        family="pmepmi",
        baud="9600",
        metering_point=b.point,
        # Td of one minute: the servo restores once the mean over Td has seen the building
        # since the last shed (tic.controllers.PowerServo), so a 10-minute Td would mean a
        # 10-minute test.
        integration_minutes=1,
    )
    deadline = time.monotonic() + 180

    def on(index: int) -> bool:
        load = b.loads[index]
        return bool(building.get(load.register, int(load.address)))

    def preavis_events(kind: str) -> int:
        return TicEvent.objects.filter(kind=kind).count()

    with start_worker(
        app,
        pool="solo",
        perform_ping_check=False,
        queues=list(settings.HUB_QUEUES),
        shutdown_timeout=10,
    ):
        meter.start()
        try:
            # Inside: a reader that cannot start (no PostgreSQL: skipped) still stops the meter,
            # whose thread would otherwise outlive the Modbus building it reads.
            tic_read()
            # 38 kVA of 60: the meter is read and stored, nothing moves.
            wait_until(lambda: b.point.tic_meters.filter(valid__gte=2).exists(), deadline, "frames")
            assert Command.objects.count() == 0

            # The base rises to 60 kVA: 88 with every load on, PREAVIS. The first shed comes
            # from the ingest's request alone (no periodic evaluation runs yet).
            meter.base = 60_000.0
            wait_until(lambda: not on(0), deadline, "the first shed, asked by the ingest")
            assert preavis_events("preavis_start") == 1
            with Beat():
                # PREAVIS lasts (60 kVA with every load off): one more load at each evaluation.
                wait_until(lambda: not any(on(i) for i in range(4)), deadline, "every shed")

                # The base falls to 5 kVA: PREAVIS ends, the loads come back, the last first.
                meter.base = 5_000.0
                wait_until(lambda: all(on(i) for i in range(4)), deadline, "every restore")
                wait_until(lambda: Command.objects.count() == 8, deadline, "the records")
        finally:
            meter.stop()

    commands = list(Command.objects.order_by("pk"))
    ids = [x.pk for x in b.loads]
    assert [(c.load_id, c.value) for c in commands[:4]] == [(i, 0.0) for i in ids]
    assert [c.load_id for c in commands[4:]] == list(reversed(ids))
    assert all(c.value > 0 for c in commands[4:])
    assert {c.status for c in commands} == {CommandStatus.ACKNOWLEDGED}
    assert preavis_events("preavis_start") == preavis_events("preavis_end") == 1
