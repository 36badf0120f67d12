"""Smart OA billing from the plant's own TIC meter, end to end, on the 25-hour day of 2026-10-25.

Issue "one hub" §5: « A producer's PME-PMI or SAPHIR meter on the contract's site (export energy
EA_i/EAP_i …) feeds the 5-minute load curve of the billing day, aligned on the Paris clock (DST
days: 276 and 300 steps); the CSV upload stays as a fallback source. » The seed's billing rule
(smartoa/README.md): « During a stop the first and the last five minutes are neutralised, so the
plant can ramp down and back up; energy produced in the other stop steps is non-compliant »; the
seed: « Le producteur doit être à pleine puissance à partir de 18h » (back at full power at the
stop's end).

Two tests. The day's figures are checked on frames handed to the TIC ingest with the instant
each was received, so every boundary falls where the rule puts it. The wiring is checked end to
end: a simulated producer PME-PMI writes frames to a pty pair and the real ``manage.py tic_read``
reads them with its wall clock running 300 times faster (``tests.fastclock``) across the night's
clock change; as the reader books energy at reception time and a loaded machine delays
reception, that test asserts only what no delay can change. In both, the operator also
uploaded the plant logger's curve (the fallback).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from hub import quantities
from hub.actors import Actor
from hub.clock import PARIS, local_day_bounds
from hub.selectors.series import Step
from hub.selectors.sources import read_best
from hub.services.series import PointIn
from smartoa import loadcurve
from smartoa.billing import bill_contract_day
from smartoa.models import Contract
from tests.conftest import Tenant
from tests.fastclock import FastClock, SteppedClock
from tests.processes import child_env, stop_all
from tests.smartoa.test_billing import _store
from tic import services as tic_services
from tic.ingest import Ingestor, Received
from tic.models import TicPort
from tic.protocol import TicStreamDecoder, with_parity
from tic.simulator import SimulatedPmePmi

ROOT = Path(__file__).resolve().parents[2]
DAY = dt.date(2026, 10, 25)
SPEED = 300.0
FRAME_EVERY = 0.01  # real seconds: 3 s of the fast clock


def local(hour: int, minute: int, second: int = 0) -> dt.datetime:
    # After 03:00 CEST the day is in CET (+01:00): every instant used here is past the change.
    return dt.datetime(2026, 10, 25, hour, minute, second, tzinfo=PARIS).astimezone(dt.UTC)


STOP = (local(12, 0), local(14, 0))
FULL_W = 120_000.0


def produced_w(at: dt.datetime) -> float:
    """The plant: at half power from 11:45, still ramping down in the stop's first minutes, a
    restart by mistake for two minutes in the middle, back at full power two and a half
    minutes before the end. The power is the same on both sides of every step boundary of the
    stop's edges, so that booking energy at reception time (a few fast-clock seconds late)
    moves none across them."""
    if local(11, 45) <= at < local(12, 2, 30):
        return 60_000.0
    if local(13, 1, 30) <= at < local(13, 3, 30):
        return 30_000.0
    if local(12, 2, 30) <= at < local(13, 57, 30):
        return 0.0
    return FULL_W


def energy_wh(start: dt.datetime, end: dt.datetime) -> float:
    """Energy produced over ``[start, end)``, in second-long slices (the last one partial)."""
    total, cursor, second = 0.0, start, dt.timedelta(seconds=1)
    while cursor < end:
        following = min(end, cursor + second)
        total += produced_w(cursor) * (following - cursor).total_seconds()
        cursor = following
    return total / 3600


class PtyProducer:
    """The plant's meter on the master side of a pty, published under a fixed path."""

    def __init__(self, link: Path, clock: FastClock, until: dt.datetime) -> None:
        self.link, self.clock, self.until = link, clock, until
        self.meter = SimulatedPmePmi(ads="041436028031", ps_kva=250, producer=True)
        self.master, self.slave = os.openpty()
        link.symlink_to(os.ttyname(self.slave))
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pty-producer", daemon=True)

    def _run(self) -> None:
        last = self.clock.now()
        while not self.done.is_set():
            at = self.clock.now()
            if at >= self.until:
                self.done.set()
                return
            export = energy_wh(last, at) * 3600 / max((at - last).total_seconds(), 1e-9)
            frame = self.meter.frame(at=at, power_va=400.0, export_w=export if at > last else 0.0)
            last = at
            try:
                os.write(self.master, with_parity(frame))
            except OSError:
                return
            time.sleep(FRAME_EVERY)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.done.set()
        self._thread.join(timeout=10)
        self.link.unlink(missing_ok=True)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def fast_tic_read() -> Iterator[Callable[[FastClock | SteppedClock], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(clock: FastClock | SteppedClock) -> subprocess.Popen[bytes]:
        env = child_env(**clock.env())
        command = [sys.executable, "-m", "tests.fastclock", "tic_read", "--flush-interval", "0.2"]
        process = subprocess.Popen(
            [*command, "--reload-interval", "0.5"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        return process

    yield start
    stop_all(started)


def _wait(check: Callable[[], bool], deadline: float, what: str) -> None:
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _upload_fallback(contract: Contract, steps: list[dt.datetime]) -> None:
    # The plant logger's curve the operator uploaded (kWh per step).
    assert contract.metering_point is not None
    loadcurve.store(
        metering_point=contract.metering_point,
        points=[
            PointIn(s, round(energy_wh(s, s + dt.timedelta(minutes=5)) / 1000, 3)) for s in steps
        ],
    )


def _add_port(tenant: Tenant, point: Any, url: str) -> TicPort:
    return tic_services.add_port(
        organisation=tenant.organisation, url=url, family="pmepmi", baud="9600",
        metering_point=point, actor=Actor.system("test"), now=timezone.now(),
    )  # fmt: skip


@pytest.mark.django_db
def test_billing_of_the_dst_day_from_the_plants_meter_frames(
    tenant: Tenant, contract: Contract
) -> None:
    point = contract.metering_point
    assert point is not None
    start, end = local_day_bounds(DAY)
    steps = [start + i * dt.timedelta(minutes=5) for i in range(300)]
    _store(contract, DAY, [(STOP[0].astimezone(PARIS), STOP[1].astimezone(PARIS))])
    _upload_fallback(contract, steps)
    port = _add_port(tenant, point, "loop://")
    meter = SimulatedPmePmi(ads="041436028031", ps_kva=250, producer=True)
    ingestor, every = Ingestor(), dt.timedelta(seconds=10)
    at, last = start - dt.timedelta(minutes=1), start - dt.timedelta(minutes=1)
    while at <= end + dt.timedelta(minutes=1):
        export = energy_wh(last, at) * 3600 / every.total_seconds() if at > last else 0.0
        for frame in TicStreamDecoder().feed(meter.frame(at=at, power_va=400.0, export_w=export)):
            ingestor.handle(Received(port.pk, frame, at, 9600))
        last, at = at, at + every
        if at.minute == 0 and at.second == 0:
            ingestor.flush(now=at)
    ingestor.flush(now=at)

    read = read_best(
        metering_point=point, quantity=quantities.ACTIVE_ENERGY_EXPORT, start=start, end=end,
        step=Step.MIN5,
    )  # fmt: skip
    assert len(read.readings) == 300 and read.complete
    # Issue "one hub" §5: the meter is preferred over the upload wherever it covers a step.
    assert {r.source for r in read.readings} == {"tic"}
    for reading in read.readings:
        assert reading.value == pytest.approx(energy_wh(reading.start, reading.end), abs=1.0)

    result = bill_contract_day(contract=contract, day=DAY)
    assert len(result.steps) == 300 and result.missing_steps == 0
    assert result.unit == "Wh"  # the meter's series comes first
    assert (result.neutralised_steps, result.stop_steps) == (2, 22)
    # 30 kW for two minutes in the 13:00 stop step: non-compliant; the 2.5 minutes at 60 kW of
    # the 12:00 step and at full power of the 13:55 step are neutralised.
    assert result.non_compliant_energy == pytest.approx(1_000, abs=2)
    assert result.neutralised_energy == pytest.approx(2_500 + 5_000, abs=2)
    assert result.back_at_full_power and not result.compliant


@pytest.mark.django_db(transaction=True)
def test_tic_read_feeds_the_contracts_curve_across_the_clock_change(
    tmp_path: Path,
    tenant: Tenant,
    contract: Contract,
    fast_tic_read: Callable[[FastClock], subprocess.Popen[bytes]],
) -> None:
    """From 23:50 to 04:00, the repeated hour included, through the real reader."""
    point = contract.metering_point
    assert point is not None
    start, end = local_day_bounds(DAY)
    steps = [start + i * dt.timedelta(minutes=5) for i in range(300)]
    _store(contract, DAY, [(STOP[0].astimezone(PARIS), STOP[1].astimezone(PARIS))])
    _upload_fallback(contract, steps)
    window_end = local(4, 0)
    clock = FastClock(start - dt.timedelta(minutes=10), SPEED, tmp_path / "clock")
    producer = PtyProducer(tmp_path / "ttyTIC0", clock, window_end)
    port = _add_port(tenant, point, str(producer.link))
    process = fast_tic_read(clock)
    deadline = time.monotonic() + 600
    _wait(lambda: TicPort.objects.get(pk=port.pk).state != "stopped", deadline, "the reader")
    clock.start()
    producer.start()
    try:
        _wait(producer.done.is_set, deadline, "04:00")
    finally:
        producer.stop()
        process.terminate()  # tic_read stops on SIGTERM and writes what it holds
        process.wait(timeout=30)

    read = read_best(
        metering_point=point, quantity=quantities.ACTIVE_ENERGY_EXPORT, start=start, end=end,
        step=Step.MIN5,
    )  # fmt: skip
    # The 25-hour day has 300 five-minute steps, each served whole by one source.
    assert len(read.readings) == 300 and read.complete
    assert {r.source for r in read.readings} == {"tic", "smartoa-csv"}
    from_tic = [r for r in read.readings if r.source == "tic"]
    # The meter spoke until 04:00 and the reader was stopped then: the rest of the day is the
    # upload's. (Frames a busy reader took late are booked late, a few fast-clock minutes at
    # most; the reader is stopped long before 06:00 could be reached.)
    assert all(r.start < local(6, 0) for r in from_tic)
    assert any(r.start >= window_end for r in read.readings if r.source == "smartoa-csv")
    assert any(r.start < local(2, 0) for r in from_tic)  # 03:00 CEST, before the change
    assert any(r.start >= local(3, 0) for r in from_tic)  # after it, in CET
    result = bill_contract_day(contract=contract, day=DAY)
    assert len(result.steps) == 300 and result.missing_steps == 0
    assert (result.neutralised_steps, result.stop_steps) == (2, 22)
