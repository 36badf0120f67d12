"""Meters first seen in numbers: made in a few statements, once; a drain bounded by the flush."""

from __future__ import annotations

import datetime as dt
import queue
import threading
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hub import quantities
from hub.models import MeteringPoint, MeteringPointKind, Quality, Series
from tests.conftest import Tenant, require
from tic import runner
from tic.ingest import FlushStats, Ingestor, Received
from tic.models import TicMeter, TicPort
from tic.protocol import TicStreamDecoder
from tic.runner import ReaderService
from tic.simulator import SimulatedPmePmi
from tic.usecases import TD_QUANTITY, MeterRuntime

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 10, 9, 0, 3, tzinfo=dt.UTC)


def _frames(port: TicPort, count: int, *, first: int = 0) -> list[Received]:
    items = []
    for n in range(first, first + count):
        data = SimulatedPmePmi(ads=f"0414{n:08d}").frame(at=T0, power_va=21_000)
        items += [Received(port.pk, f, T0, 9600) for f in TicStreamDecoder().feed(data)]
    return items


def _port(tenant: Tenant, name: str) -> TicPort:
    return TicPort.objects.create(
        organisation=tenant.organisation, name=name, url="loop://", family="pmepmi"
    )


def test_new_meters_are_made_in_statements_independent_of_their_number(tenant: Tenant) -> None:
    # The rule (tic.ingest.Ingestor.handle_many): the ports and meters first seen among the
    # items are read or created in a few statements whatever their number, and so are the
    # series they first need.
    ingestor = Ingestor()
    ingestor.handle_many(_frames(_port(tenant, "W"), 1, first=999))  # one-time reads (telemetry)
    few, many = _frames(_port(tenant, "A"), 20), _frames(_port(tenant, "B"), 200, first=20)
    with CaptureQueriesContext(connection) as small:
        ingestor.handle_many(few)
    with CaptureQueriesContext(connection) as large:
        ingestor.handle_many(many)
    if connection.vendor == "postgresql":
        assert len(large.captured_queries) == len(small.captured_queries) <= 12
    else:  # SQLite splits an insert by its limit on parameters
        assert len(large.captured_queries) < 50
    assert TicMeter.objects.count() == 221
    assert MeteringPoint.objects.filter(kind=MeteringPointKind.TIC_METER).count() == 221
    per_meter = Series.objects.filter(metering_point__identifier="041400000021").count()
    assert per_meter > 3
    assert Series.objects.count() == 221 * per_meter
    # What was received is stored, under the series made for it.
    stats = ingestor.flush(now=T0)
    assert stats.frames == 221 and stats.rows >= 221 * (per_meter - 1)
    meter = TicMeter.objects.get(identifier="041400000021")
    assert meter.frames == 1 and meter.organisation_id == tenant.organisation.pk


def test_a_meter_made_by_another_reader_meanwhile_is_found_not_duplicated(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rule (tic.ingest): another reader (a takeover) may create the same meter meanwhile:
    # the unique constraint keeps one, and the select after the insert finds it either way.
    port = _port(tenant, "A")
    select = Ingestor._select_meters
    other: list[TicMeter] = []

    def racing(keys: dict[tuple[int, str], Any]) -> dict[tuple[int, str], TicMeter]:
        found = select(keys)
        if not other:  # between our lookup and our insert, the other reader makes it
            point = MeteringPoint.objects.create(
                organisation=tenant.organisation,
                kind=MeteringPointKind.TIC_METER,
                identifier="041400000007",
            )
            other.append(
                TicMeter.objects.create(
                    organisation=tenant.organisation,
                    port=port,
                    metering_point=point,
                    identifier="041400000007",
                )
            )
        return found

    monkeypatch.setattr(Ingestor, "_select_meters", staticmethod(racing))
    ingestor = Ingestor()
    ingestor.handle_many(_frames(port, 1, first=7))
    assert other and not ingestor.flush(now=T0).lost
    assert list(TicMeter.objects.values_list("pk", flat=True)) == [other[0].pk]
    assert MeteringPoint.objects.filter(identifier="041400000007").count() == 1
    assert TicMeter.objects.get().frames == 1


class _Chunks:
    def __init__(self) -> None:
        self.chunks: list[int] = []

    def handle_many(self, items: list[Any]) -> None:
        self.chunks.append(len(items))


def test_a_long_queue_is_drained_in_chunks_up_to_the_flush(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The rule (tic.runner.ReaderService._drain): until the queue is empty or the flush is
    # due, so a long queue does not hold the next batch back.
    monkeypatch.setattr(runner, "DRAIN_CHUNK", 3)
    sink = _Chunks()
    service = ReaderService(ingestor=sink)  # type: ignore[arg-type]
    for n in range(8):
        service.queue.put(n)  # type: ignore[arg-type]
    service._drain(timeout=0, until=0.0)  # the flush is already due: one chunk, then the batch
    assert sink.chunks == [3]
    service._drain(timeout=0)  # the last drain takes everything
    assert sink.chunks == [3, 3, 2] and service.queue.empty()


def _known(port: TicPort, count: int, *, first: int) -> dict[str, SimulatedPmePmi]:
    """Meters stored by a first reader: 40 s of frames each, at a power of its own."""
    sims = {
        f"0414{n:08d}": SimulatedPmePmi(ads=f"0414{n:08d}") for n in range(first, first + count)
    }
    ingestor = Ingestor()
    for second in (0, 20, 40):
        at = T0 + dt.timedelta(seconds=second)
        items = []
        for n, sim in enumerate(sims.values(), start=first):
            data = sim.frame(at=at, power_va=10_000 + 100 * n)
            items += [Received(port.pk, f, at, 9600) for f in TicStreamDecoder().feed(data)]
        ingestor.handle_many(items)
    ingestor.flush(now=T0)
    return sims


def _next(port: TicPort, sims: dict[str, SimulatedPmePmi], *, first: int) -> list[Received]:
    at = T0 + dt.timedelta(seconds=60)
    items = []
    for n, sim in enumerate(sims.values(), start=first):
        data = sim.frame(at=at, power_va=10_000 + 100 * n)
        items += [Received(port.pk, f, at, 9600) for f in TicStreamDecoder().feed(data)]
    return items


def test_known_meters_are_restored_in_statements_independent_of_their_number(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rule (tic.ingest._restore): a restarted reader rebuilds its known meters' history
    # (power over Td, last register values) in a few statements whatever their number, each
    # meter from its own series.
    warm, few, many = _port(tenant, "W"), _port(tenant, "A"), _port(tenant, "B")
    known = {
        warm: _known(warm, 1, first=999),
        few: _known(few, 20, first=0),
        many: _known(many, 200, first=20),
    }
    restore = MeterRuntime.restore
    restored: dict[int, dict[str, tuple[float, dt.datetime]]] = {}

    def spy(runtime: MeterRuntime, **kwargs: Any) -> None:
        restored[id(runtime)] = kwargs["last_values"]
        restore(runtime, **kwargs)

    monkeypatch.setattr(MeterRuntime, "restore", spy)
    restarted = Ingestor()
    restarted.handle_many(_next(warm, known[warm], first=999))  # one-time reads (telemetry)
    with CaptureQueriesContext(connection) as small:
        restarted.handle_many(_next(few, known[few], first=0))
    with CaptureQueriesContext(connection) as large:
        restarted.handle_many(_next(many, known[many], first=20))
    if connection.vendor == "postgresql":
        assert len(large.captured_queries) == len(small.captured_queries) <= 8
    else:  # SQLite splits a query by its limit on parameters
        assert len(large.captured_queries) < 50
    assert TicMeter.objects.count() == 221
    for port, first in ((few, 0), (many, 20)):
        for n, ads in enumerate(known[port], start=first):
            runtime = restarted._meters[(port.pk, ads)].runtime
            # The power over Td from the first frame on: only the stored history gives it.
            assert runtime.power is not None and abs(runtime.power - (10_000 + 100 * n)) < 300
            # Each register's last measured value, of this meter's series.
            stored = {
                series.quantity: (point.value, point.ts)
                for series in Series.objects.filter(metering_point__identifier=ads)
                for point in series.points.filter(quality=Quality.MEASURED).order_by("-ts")[:1]
                if quantities.is_index(series.quantity) or series.quantity in TD_QUANTITY.values()
            }
            assert restored[id(runtime)] == stored and len(stored) >= 3


class _WritesThroughTheDatabase:
    def __init__(self) -> None:
        self.batches = 0

    def write(self, batch: Any) -> FlushStats:
        self.batches += 1
        TicPort.objects.exists()  # the writer thread's own connection, as a real batch opens
        return FlushStats()


@pytest.mark.django_db(transaction=True)
def test_the_writer_thread_closes_its_connection_when_it_ends() -> None:
    # With CONN_MAX_AGE a healthy connection outlives close_old_connections(); a thread's
    # connection left open stays a PostgreSQL session until the garbage collector finds it.
    require(
        connection.vendor == "postgresql",
        "PostgreSQL (SQLite's in-memory test database ignores close)",
    )
    sink = _WritesThroughTheDatabase()
    service = ReaderService(ingestor=sink)  # type: ignore[arg-type]
    batches: queue.Queue[Any] = queue.Queue()
    batches.put(object())
    batches.put(None)
    seen: dict[str, bool] = {}

    def writer() -> None:
        service._write(batches)
        seen["open"] = connection.connection is not None

    thread = threading.Thread(target=writer)
    thread.start()
    thread.join()
    assert sink.batches == 1
    assert seen == {"open": False}
