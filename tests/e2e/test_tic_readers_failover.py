"""Two real ``tic_read`` processes share four pty meters through port leases; one is killed
with SIGKILL, the other takes its ports over: every port keeps being read, nothing is counted
twice (tic/README.md, « Readers on many hosts »).

Each meter owns the master side of a pty and writes Linky standard frames (54E §5.3.6, 9600 Bd,
7E1 seen 8N1) without blocking: a frame the line cannot take while nobody reads is not sent, so
``sent`` counts exactly the frames that entered the line, and no port may count more valid frames
than that, nor store more energy points. The counters are sampled all along: stored as
increments, they never go back (totals written by two readers would).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
import tty
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection

from hub import quantities
from hub.models import Point
from tests.conftest import Tenant, require
from tests.processes import child_env, stop_all, wait_until
from tic.models import TicMeter, TicPort, TicPortLease
from tic.protocol import with_parity
from tic.simulator import linky_standard_frame

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 3.0


class PtyLinky:
    def __init__(self, link: Path, adsc: str) -> None:
        self.link, self.adsc = link, adsc
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # no line discipline before a reader sets it
        os.set_blocking(self.master, False)
        link.symlink_to(os.ttyname(self.slave))
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"meter-{adsc}", daemon=True)

    def _run(self) -> None:
        east = 1_000_000
        while not self._stop.is_set():
            east += 3
            frame = with_parity(
                linky_standard_frame(adsc=self.adsc, at=dt.datetime.now(dt.UTC), east=east)
            )
            try:
                written = os.write(self.master, frame)
            except BlockingIOError:
                written = 0
            except OSError:
                return
            if written == len(frame):
                self.sent += 1
            elif written:  # the rest of a cut frame would not fit either: end it with EOT
                with contextlib.suppress(OSError):
                    os.write(self.master, b"\x04")
            self._stop.wait(len(frame) * 10 / 9600)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.link.unlink(missing_ok=True)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def tic_read() -> Iterator[Callable[[int], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(capacity: int) -> subprocess.Popen[bytes]:
        env = child_env()
        command = [sys.executable, "manage.py", "tic_read", "--flush-interval", "0.2"]
        command += ["--reload-interval", "0.5", "--lease-seconds", str(LEASE_SECONDS)]
        process = subprocess.Popen(
            [*command, "--capacity", str(capacity)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        return process

    yield start
    stop_all(started)


@pytest.mark.django_db(transaction=True)
def test_a_killed_readers_ports_are_taken_over_and_nothing_is_counted_twice(
    tmp_path: Path, tenant: Tenant, tic_read: Callable[[int], subprocess.Popen[bytes]]
) -> None:
    require(connection.vendor == "postgresql", "PostgreSQL (the readers are other processes)")
    meters = [PtyLinky(tmp_path / f"ttyTIC{n}", f"06196136125{n}") for n in range(4)]
    port_ids = [
        TicPort.objects.create(
            organisation=tenant.organisation,
            name=f"TGBT {n}",
            url=str(meter.link),
            family="linky-standard",
            baud="9600",
        ).pk
        for n, meter in enumerate(meters)
    ]
    samples: dict[int, list[int]] = {pk: [] for pk in port_ids}

    def valid(pk: int) -> int:
        value = TicPort.objects.get(pk=pk).valid
        samples[pk].append(value)
        return value

    def holders() -> dict[int, str]:
        return dict(TicPortLease.objects.exclude(holder="").values_list("port_id", "holder"))

    deadline = time.monotonic() + 120
    for meter in meters:
        meter.start()
    try:
        first = tic_read(2)
        wait_until(lambda: len(holders()) == 2, deadline, "the first reader's two leases")
        second = tic_read(4)
        wait_until(lambda: len(set(holders().values())) == 2, deadline, "both readers reading")
        wait_until(lambda: all(valid(pk) >= 3 for pk in port_ids), deadline, "every port read")
        killed_holder = next(h for h in holders().values() if f":{first.pid}:" in h)
        orphans = [pk for pk, holder in holders().items() if holder == killed_holder]
        assert len(orphans) == 2
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = time.monotonic()
        before = {pk: valid(pk) for pk in port_ids}
        wait_until(
            lambda: set(holders()) == set(port_ids) and killed_holder not in holders().values(),
            deadline,
            "the killed reader's ports taken over",
        )
        assert time.monotonic() - killed_at < 30
        wait_until(
            lambda: all(valid(pk) >= before[pk] + 5 for pk in port_ids),
            deadline,
            "every port read again",
        )
        assert second.poll() is None
    finally:
        for meter in meters:
            meter.stop()

    for pk, meter in zip(port_ids, meters, strict=True):
        assert samples[pk] == sorted(samples[pk])  # never went back
        port = TicPort.objects.get(pk=pk)
        assert port.frames == port.valid + port.invalid + port.interrupted
        assert 0 < port.valid <= meter.sent
        tic_meter = TicMeter.objects.get(port_id=pk)
        assert tic_meter.valid <= meter.sent
        index = tic_meter.metering_point.series.get(quantity=quantities.index_for("EAST").name)
        assert Point.objects.filter(series=index).count() <= meter.sent
