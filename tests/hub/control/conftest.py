"""Control fixtures: a real pymodbus TCP server as the building's controller, a mosquitto broker
started by the tests on a free port, and a site with loads behind a meter."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub.control import drivers
from hub.control.models import ActuatorChannel, ControllableLoad, SiteControl
from hub.control.simulator import ModbusBuilding, Output
from hub.models import MeteringPoint, Site
from tests.conftest import Tenant

MOSQUITTO = "/usr/sbin/mosquitto"
HEARTBEAT_REGISTER = 500
WATCHDOG = dt.timedelta(seconds=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def _fresh_driver_pool() -> Iterator[None]:
    drivers.close_all()
    yield
    drivers.close_all()


@pytest.fixture
def building() -> Iterator[ModbusBuilding]:
    # Four loads: coils 0..2 (safe: on) and a heat pump setpoint in holding register 10.
    outputs = [Output("coil", i, 1) for i in range(3)] + [Output("holding", 10, 100)]
    sim = ModbusBuilding(
        port=free_port(), outputs=outputs, heartbeat_register=HEARTBEAT_REGISTER, watchdog=WATCHDOG
    ).start()
    yield sim
    sim.stop()


@pytest.fixture(scope="session")
def mosquitto() -> Iterator[int]:
    """A broker of our own on a free port; CI installs Debian's mosquitto (.ci/run)."""
    from tests.conftest import require

    require(Path(MOSQUITTO).exists() or shutil.which("mosquitto") is not None, "mosquitto")
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="mosquitto-"))
    conf = workdir / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    process = subprocess.Popen(
        [MOSQUITTO if Path(MOSQUITTO).exists() else "mosquitto", "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(10)


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    # Polls the listener the broker opens; a broker that exits fails at once.
    for _ in range(200):
        if process.poll() is not None:
            raise RuntimeError("mosquitto exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.05).close()
            return
        except OSError:
            try:
                process.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                continue
    raise RuntimeError("mosquitto did not listen")


@dataclass
class Building:
    site: Site
    point: MeteringPoint
    channel: ActuatorChannel
    loads: list[ControllableLoad]  # by shedding order


def make_building(
    tenant: Tenant, sim: ModbusBuilding | None, *, dry_run: bool = False, name: str = "Bureaux"
) -> Building:
    organisation = tenant.organisation
    site = Site.objects.create(organisation=organisation, name=name)
    SiteControl.objects.create(organisation=organisation, site=site, dry_run=dry_run)
    point = MeteringPoint.objects.create(
        organisation=organisation,
        site=site,
        kind="tic_meter",
        identifier=f"0414360{abs(hash(name)) % 10**5:05d}",
    )
    channel = ActuatorChannel.objects.create(
        organisation=organisation,
        site=site,
        name="automate",
        kind="modbus",
        host="127.0.0.1",
        port=sim.port if sim else 1,
        heartbeat_register=HEARTBEAT_REGISTER,
        watchdog_seconds=int(WATCHDOG.total_seconds()),
        timeout_seconds=2,
    )
    specs = [
        ("Chauffe-eau", "shiftable", 20_000, 10, "coil", "0", 1.0),
        ("Climatisation", "sheddable", 30_000, 20, "coil", "1", 1.0),
        ("Ventilation", "sheddable", 10_000, 30, "coil", "2", 1.0),
        ("Pompe à chaleur", "sheddable", 40_000, 40, "holding", "10", 100.0),
    ]
    loads = [
        ControllableLoad.objects.create(
            organisation=organisation,
            site=site,
            channel=channel,
            metering_point=point,
            name=label,
            kind=kind,
            nominal_power_w=power,
            priority=priority,
            register=register,
            address=address,
            full_value=full,
            safe_value=full,
        )
        for label, kind, power, priority, register, address, full in specs
    ]
    return Building(site, point, channel, loads)
