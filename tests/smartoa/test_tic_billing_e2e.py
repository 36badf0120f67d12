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
reads them across the night's clock change, its clock stepped by the test frame by frame
(``tests.steppedclock``: moved to a frame's instant, the frame written, the next one once the
reader's ingest has handled it), so each frame is booked at the instant it was sent for and the
steps the reader stores are exact, whatever the machine's load. In both, the operator also
uploaded the plant logger's curve (the fallback).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
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
from tests.processes import child_env, database_url, stop_all, wait_until
from tests.smartoa.test_billing import _store
from tests.steppedclock import SteppedClock
from tic import services as tic_services
from tic.ingest import Ingestor, Received
from tic.models import TicPort
from tic.protocol import TicStreamDecoder, with_parity
from tic.simulator import SimulatedPmePmi

ROOT = Path(__file__).resolve().parents[2]
DAY = dt.date(2026, 10, 25)
FRAME_EVERY = dt.timedelta(minutes=1)  # of the meter's time, under the curve's 2-minute gap


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

    def __init__(self, link: Path) -> None:
        self.link = link
        self.meter = SimulatedPmePmi(ads="041436028031", ps_kva=250, producer=True)
        self.master, self.slave = os.openpty()
        link.symlink_to(os.ttyname(self.slave))
        self.last: dt.datetime | None = None

    def send(self, at: dt.datetime) -> None:
        """The frame sent at ``at``, after producing what ``produced_w`` says since the last."""
        last = self.last or at
        seconds = (at - last).total_seconds()
        export = energy_wh(last, at) * 3600 / seconds if seconds else 0.0
        os.write(self.master, with_parity(self.meter.frame(at=at, power_va=400.0, export_w=export)))
        self.last = at

    def close(self) -> None:
        self.link.unlink(missing_ok=True)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def stepped_tic_read() -> Iterator[Callable[[SteppedClock], subprocess.Popen[bytes]]]:
    database_url()  # skips before the test starts anything where the child cannot share it
    started: list[subprocess.Popen[bytes]] = []

    def start(clock: SteppedClock) -> subprocess.Popen[bytes]:
        env = child_env(**clock.env())
        command = [
            sys.executable,
            "-m",
            "tests.steppedclock",
            "tic_read",
            "--flush-interval",
            "0.2",
        ]
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
    stepped_tic_read: Callable[[SteppedClock], subprocess.Popen[bytes]],
) -> None:
    """From 23:50 to 04:00, the repeated hour included, through the real reader."""
    point = contract.metering_point
    assert point is not None
    start, end = local_day_bounds(DAY)
    steps = [start + i * dt.timedelta(minutes=5) for i in range(300)]
    _store(contract, DAY, [(STOP[0].astimezone(PARIS), STOP[1].astimezone(PARIS))])
    _upload_fallback(contract, steps)
    window_end = local(4, 0)
    first = start - dt.timedelta(minutes=10)
    clock = SteppedClock(first, tmp_path / "clock")
    producer = PtyProducer(tmp_path / "ttyTIC0")
    port = _add_port(tenant, point, str(producer.link))
    process = stepped_tic_read(clock)
    deadline = time.monotonic() + 240
    wait_until(lambda: TicPort.objects.get(pk=port.pk).state != "stopped", deadline, "the reader")
    try:
        at = first
        while at <= window_end:  # UTC steps: the repeated hour is read twice on the wall clock
            clock.move(at)
            producer.send(at)
            assert clock.handled() == ("valid", at)  # booked at the instant it was sent for
            at += FRAME_EVERY
    finally:
        process.terminate()  # tic_read stops on SIGTERM and writes what it holds
        process.wait(timeout=30)
        clock.close()
        producer.close()

    read = read_best(
        metering_point=point, quantity=quantities.ACTIVE_ENERGY_EXPORT, start=start, end=end,
        step=Step.MIN5,
    )  # fmt: skip
    # The 25-hour day has 300 five-minute steps, each served whole by one source: the meter's
    # from 00:00 to 04:00 (five hours: 02:00-03:00 twice), the upload's for the rest (issue
    # "one hub" §5: « the CSV upload stays as a fallback source »).
    assert len(read.readings) == 300 and read.complete
    from_tic = [r.start for r in read.readings if r.source == "tic"]
    assert from_tic == steps[:60] and steps[60] == window_end
    assert {r.source for r in read.readings[60:]} == {"smartoa-csv"}
    # Full power all night: 10 kWh a step, to the meter's rounding (EA_i in whole Wh).
    for reading in read.readings[:60]:
        assert reading.value == pytest.approx(energy_wh(reading.start, reading.end), abs=1.0)
    result = bill_contract_day(contract=contract, day=DAY)
    assert len(result.steps) == 300 and result.missing_steps == 0
    assert (result.neutralised_steps, result.stop_steps) == (2, 22)
