"""End to end over a pty pair: a meter writes 7E1 frames, ``tic_read``'s service stores them.

The reader opens the line 8N1 so that the even-parity bit of each character (02E §1.5.1)
arrives as bit 7 and is checked (02E §1.5.3.1 step A): a frame whose one byte has a wrong
parity bit, invisible to the checksum, is refused and counted.

The "meter" owns the master side of a pty and publishes the slave under a fixed path (a
symlink, as udev does for USB adapters); the port configured in the database points at that
path. A pty has no real line rate, so the meter plays the part of the wire: it reads the rate
the reader set on the slave (``termios.tcgetattr``) and sends its frames only when that rate is
its own, line noise otherwise. So the reader's probing code really has to find 9600 Bd.
"""

from __future__ import annotations

import datetime as dt
import os
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connections
from rest_framework.test import APIClient

from hub import quantities
from hub.services.tokens import create_token
from tests.conftest import Tenant
from tests.processes import wait_until
from tic.ingest import Ingestor
from tic.models import TicMeter, TicPort
from tic.reader import Timing
from tic.runner import ReaderService
from tic.simulator import linky_standard_frame

ADSC = "061961361253"
RATE = 9600
SPEEDS = {termios.B1200: 1200, termios.B9600: 9600, termios.B19200: 19200}


def seven_e1(data: bytes) -> bytes:
    """Each byte with its even-parity bit in bit 7, as an 8-bit view of a 7E1 line shows it."""
    return bytes(b | 0x80 if bin(b).count("1") % 2 else b for b in data)


def bad_parity(data: bytes) -> bytes:
    """One character of the EAST group with its parity bit wrong; the checksum cannot see it."""
    line = bytearray(seven_e1(data))
    line[data.index(b"EAST") + 6] ^= 0x80
    return bytes(line)


class PtyMeter:
    def __init__(self, link: Path, rate: int = RATE) -> None:
        self.link = link
        self.rate = rate
        self.master = self.slave = -1
        self.noise_sent = 0

    def plug(self) -> None:
        self.master, self.slave = os.openpty()
        tmp = self.link.with_suffix(".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(self.slave))
        tmp.replace(self.link)

    def unplug(self) -> None:
        self.link.unlink(missing_ok=True)
        os.close(self.master)
        os.close(self.slave)

    def reader_rate(self) -> int | None:
        return SPEEDS.get(termios.tcgetattr(self.slave)[5])

    def reader_reads_8n1(self) -> bool:
        cflag = termios.tcgetattr(self.slave)[2]
        return cflag & termios.CSIZE == termios.CS8 and not cflag & termios.PARENB

    def send(self, data: bytes, *, stop_after: int | None = None, damaged: bool = False) -> bool:
        """Send ``data`` at the line's pace; whether it went out at the reader's rate."""
        matched = self.reader_rate() == self.rate
        line = bad_parity(data) if damaged else seven_e1(data)
        payload = line if matched else bytes((b * 37 + 11) & 0xFF for b in data)
        if stop_after is not None:
            payload = payload[:stop_after]
        for start in range(0, len(payload), 96):
            os.write(self.master, payload[start : start + 96])
            time.sleep(96 * 10 / self.rate)  # 10 bits per character on the wire
        if not matched:
            self.noise_sent += len(payload)
        return matched

    def wait_for_reader(self, deadline: float) -> None:
        while self.reader_rate() != self.rate:
            assert time.monotonic() < deadline, "the reader never came to the meter's rate"
            time.sleep(0.05)
        time.sleep(0.5)  # pyserial empties the input buffer right after setting the rate


@pytest.mark.django_db(transaction=True)
def test_pty_meter_probing_unplug_and_recovery(tmp_path: Path, tenant: Tenant) -> None:
    meter = PtyMeter(tmp_path / "ttyTIC0")
    meter.plug()
    TicPort.objects.create(
        organisation=tenant.organisation, name="TGBT", url=str(meter.link), family="auto"
    )
    token = create_token(organisation=tenant.organisation, name="e2e").plaintext
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    deadline = time.monotonic() + 60
    start = dt.datetime.now(dt.UTC)
    service_fixture = _start_service()
    try:
        sent: list[int] = []
        east = 1_000_000
        # The reader starts at 1200 Bd ("auto" probes 1200 first): noise until it tries 9600.
        while len(sent) < 4:
            assert time.monotonic() < deadline, "the reader never locked on 9600 Bd"
            east += 7
            frame = linky_standard_frame(adsc=ADSC, at=dt.datetime.now(dt.UTC), east=east)
            if meter.send(frame):
                sent.append(east)
            else:
                east -= 7  # not received: the meter sends that reading again
        assert meter.noise_sent > 0, "the probe never ran at a wrong rate"
        assert meter.reader_reads_8n1()
        wait_until(lambda: _meter_valid(ADSC) >= 4, deadline, "four stored frames")

        # A character whose parity bit is wrong: the frame is refused, the error counted.
        east += 7
        spoiled = east
        assert meter.send(
            linky_standard_frame(adsc=ADSC, at=dt.datetime.now(dt.UTC), east=spoiled),
            damaged=True,
        )
        wait_until(lambda: _port().parity_errors >= 1, deadline, "the parity error counted")

        # Unplugged in the middle of a frame: that frame is lost, and only that one.
        east += 7
        cut = east
        meter.send(
            linky_standard_frame(adsc=ADSC, at=dt.datetime.now(dt.UTC), east=cut), stop_after=60
        )
        meter.unplug()
        wait_until(lambda: _port().state == "down", deadline, "the port reported down")
        time.sleep(0.5)
        meter.plug()
        meter.wait_for_reader(deadline)
        for _ in range(4):
            east += 7
            assert meter.send(
                linky_standard_frame(adsc=ADSC, at=dt.datetime.now(dt.UTC), east=east)
            )
            sent.append(east)
        wait_until(lambda: _meter_valid(ADSC) >= 8, deadline, "eight stored frames")
    finally:
        service_fixture()
        meter.unplug()

    tic_meter = TicMeter.objects.get(identifier=ADSC)
    state = client.get(f"/api/v1/tic/meters/{tic_meter.pk}/state")
    assert state.status_code == 200
    body = state.json()
    assert body["values"]["EAST"] == f"{sent[-1]:09d}"
    assert body["counters"]["valid"] == 8
    assert body["counters"]["interrupted"] == 1
    assert body["port"]["baud"] == 9600 or body["port"]["state"] == "stopped"
    assert body["port"]["counters"]["interrupted"] == 1
    series_id = body["series"][quantities.index_for("EAST").name]
    points = client.get(
        f"/api/v1/series/{series_id}/points/",
        {
            "start": start.isoformat(),
            "end": (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).isoformat(),
        },
    )
    assert points.status_code == 200, points.content
    stored = [row["value"] for row in points.json()["points"]]
    assert stored == sent  # every frame but the cut one, in order, none twice
    assert cut not in stored and spoiled not in stored
    assert body["counters"]["invalid"] == 1  # the frame with the parity error
    assert body["port"]["counters"]["parity_errors"] == 1


def _start_service() -> Callable[[], None]:
    service = ReaderService(
        ingestor=Ingestor(state_interval=0.0),
        timing=Timing(silence=3.0, probe_window=lambda _rate: 0.8, backoff_start=0.2),
        flush_interval=0.2,
        reload_interval=0.5,
    )
    stop = threading.Event()

    def run() -> None:
        try:
            service.run(stop)
        finally:
            connections.close_all()  # this thread's session, not left to the garbage collector

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def finish() -> None:
        stop.set()
        thread.join(timeout=10)
        assert not thread.is_alive()

    return finish


def _meter_valid(identifier: str) -> int:
    meter = TicMeter.objects.filter(identifier=identifier).first()
    return meter.valid if meter else 0


def _port() -> TicPort:
    return TicPort.objects.get()
