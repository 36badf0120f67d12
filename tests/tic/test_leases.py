"""Port leases (``tic.leases``) and counters stored as increments (``tic.ingest``).

Rules (tic/README.md, « Readers on many hosts »): a reader renews its leases and takes free or
expired ports up to its capacity; a lease not renewed for ``ttl`` is taken over; taking is a
compare-and-set, so two readers never hold one port; counters are added to the stored ones, so
two readers of one port (one after the other) never overwrite or double each other's counts;
« each taking adds one to the lease's generation, the fencing token: a reader writes a port's
data only in a transaction that first finds the lease still its own at the generation it
took », so a reader that lost its lease without knowing it stores nothing once another has
taken the port, and stops reading it.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import OperationalError, connection, transaction
from prometheus_client import REGISTRY

from hub.models import Point, Series
from tests.conftest import Tenant
from tic import leases
from tic.ingest import Ingestor, LineCounts, Received
from tic.models import DailyEnergy, TicEvent, TicMeter, TicPort, TicPortLease
from tic.protocol import decode_bytes
from tic.runner import ReaderService
from tic.simulator import linky_standard_frame

T0 = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
TTL = dt.timedelta(seconds=20)


def ports(tenant: Tenant, count: int) -> list[int]:
    return [
        TicPort.objects.create(
            organisation=tenant.organisation, name=f"P{n}", url="loop://", family="linky-standard"
        ).pk
        for n in range(count)
    ]


def claim(holder: str, capacity: int, at: dt.datetime, **kwargs: object) -> set[int]:
    return set(tokens(holder, capacity, at, **kwargs))


def tokens(holder: str, capacity: int, at: dt.datetime, **kwargs: object) -> dict[int, int]:
    return leases.renew_and_claim(holder=holder, capacity=capacity, now=at, ttl=TTL, **kwargs)  # type: ignore[arg-type]


@pytest.mark.django_db
def test_readers_share_ports_up_to_their_capacity(tenant: Tenant) -> None:
    ids = ports(tenant, 5)
    a = claim("a", 3, T0)
    b = claim("b", 3, T0)
    assert len(a) == 3 and len(b) == 2 and not a & b and a | b == set(ids)
    # Renewed, nothing moves; a third reader finds nothing free.
    assert claim("a", 3, T0 + dt.timedelta(seconds=5)) == a
    assert claim("c", 3, T0 + dt.timedelta(seconds=5)) == set()


@pytest.mark.django_db
def test_a_dead_readers_ports_are_taken_over_once_expired(tenant: Tenant) -> None:
    ports(tenant, 4)
    a = claim("a", 2, T0)
    b = claim("b", 4, T0)
    assert len(a) == 2 and len(b) == 2
    # "a" stops renewing; "b" renews every 5 s and takes a's ports once 20 s have passed.
    at = T0
    while at < T0 + TTL:
        at += dt.timedelta(seconds=5)
        held = claim("b", 4, at)
        assert held == b or at > T0 + TTL
    at += dt.timedelta(seconds=5)
    assert claim("b", 4, at) == a | b  # within ttl + one pass, under 30 s
    assert at - T0 <= dt.timedelta(seconds=30)
    # "a" comes back: it holds nothing and finds nothing free.
    assert claim("a", 2, at) == set()


@pytest.mark.django_db
def test_a_stale_view_cannot_take_a_renewed_lease(tenant: Tenant) -> None:
    (port,) = ports(tenant, 1)
    claim("a", 1, T0)
    seen = TicPortLease.objects.get(port_id=port)
    # "a" renews after "b" read the row: b's compare-and-set on what it saw fails.
    claim("a", 1, T0 + TTL + dt.timedelta(seconds=1))
    won = TicPortLease.objects.filter(
        port_id=port, holder=seen.holder, heartbeat_at=seen.heartbeat_at
    ).update(holder="b")
    assert won == 0
    assert claim("b", 1, T0 + TTL + dt.timedelta(seconds=2)) == set()


@pytest.mark.django_db
def test_released_and_disabled_ports(tenant: Tenant) -> None:
    first, second = ports(tenant, 2)
    assert claim("a", 2, T0) == {first, second}
    leases.release(holder="a", port_ids=[first])
    assert claim("b", 2, T0) == {first}  # at once, no expiry to wait for
    TicPort.objects.filter(pk=second).update(enabled=False)
    assert claim("a", 2, T0) == set()
    assert TicPortLease.objects.get(port_id=second).holder == ""
    # --port limits what a reader takes.
    TicPort.objects.filter(pk=second).update(enabled=True)
    assert claim("c", 2, T0, port_ids=[second]) == {second}


def _frames(east: int, count: int) -> list[Received]:
    data = b"".join(
        linky_standard_frame(adsc="061961361253", at=T0 + dt.timedelta(seconds=n), east=east + n)
        for n in range(count)
    )
    return [
        Received(port_id=0, frame=frame, at=T0 + dt.timedelta(seconds=n))
        for n, frame in enumerate(decode_bytes(data))
    ]


@pytest.mark.django_db
def test_counters_are_added_by_each_reader_never_overwritten(tenant: Tenant) -> None:
    """One reader counts 3 frames, another (which took the port over) 2: the port says 5,
    and a batch written twice would say more."""
    (port_id,) = ports(tenant, 1)
    for count, east in ((3, 1_000), (2, 2_000)):
        ingestor = Ingestor(state_interval=0.0)
        for item in _frames(east, count):
            ingestor.handle(
                Received(port_id=port_id, frame=item.frame, at=item.at + dt.timedelta(hours=1))
            )
        ingestor.handle(LineCounts(port_id=port_id, noise_bytes=7, parity_errors=1))
        ingestor.flush(now=T0 + dt.timedelta(hours=2))
        ingestor.flush(now=T0 + dt.timedelta(hours=2))  # nothing new: adds nothing
    port = TicPort.objects.get(pk=port_id)
    assert (port.frames, port.valid, port.noise_bytes, port.parity_errors) == (5, 5, 14, 2)
    assert port.last_frame_at == T0 + dt.timedelta(hours=1, seconds=2)  # the latest of both
    meter = port.meters.get()
    assert (meter.frames, meter.valid) == (5, 5)


# -- fencing: a write checks, in its own transaction, that the lease is still the writer's --

SECOND = dt.timedelta(seconds=1)


def _meter_frames(port_id: int, start: dt.datetime, seconds: int) -> list[Received]:
    """One Linky standard meter drawing 3.6 kW: one frame a second, EAST one Wh up each."""
    found = []
    for n in range(seconds):
        at = start + n * SECOND
        east = 1_000_000 + int((at - T0).total_seconds())
        (frame,) = decode_bytes(linky_standard_frame(adsc="061961361253", at=at, east=east))
        found.append(Received(port_id=port_id, frame=frame, at=at))
    return found


def _refused_batches(port_id: int) -> float:
    found = REGISTRY.get_sample_value("hub_tic_lease_refused_batches_total", {"port": str(port_id)})
    return found or 0.0


def _stored_points() -> int:
    return Point.objects.filter(series_id__in=Series.objects.values("pk")).count()


@pytest.mark.django_db
def test_each_taking_of_a_lease_has_a_greater_generation(tenant: Tenant) -> None:
    (port,) = ports(tenant, 1)
    assert tokens("a", 1, T0) == {port: 1}
    assert tokens("a", 1, T0 + 5 * SECOND) == {port: 1}  # renewed: the same token
    assert tokens("b", 1, T0 + 5 * SECOND + TTL + SECOND) == {port: 2}  # taken over
    leases.release(holder="b")
    assert tokens("a", 1, T0 + 60 * SECOND) == {port: 3}  # taken again after a release
    assert leases.still_held(holder="a", generations={port: 3}) == {port}
    assert leases.still_held(holder="a", generations={port: 1}) == set()
    assert leases.still_held(holder="b", generations={port: 3}) == set()


@pytest.mark.django_db
def test_a_reader_holding_its_lease_writes(tenant: Tenant) -> None:
    (port,) = ports(tenant, 1)
    ingestor = Ingestor(state_interval=0.0)
    ingestor.lease(holder="a", generations=tokens("a", 1, T0))
    for item in _meter_frames(port, T0, 3):
        ingestor.handle(item)
    stats = ingestor.flush(now=T0 + 3 * SECOND)
    assert stats.lost == {} and stats.refused_rows == 0
    assert stats.rows > 0 and _stored_points() == stats.rows
    assert TicPort.objects.get(pk=port).frames == 3


@pytest.mark.django_db
def test_a_reader_whose_lease_was_taken_over_stores_nothing_and_stops(tenant: Tenant) -> None:
    (port,) = ports(tenant, 1)
    ingestor = Ingestor(state_interval=0.0)
    ingestor.lease(holder="a", generations=tokens("a", 1, T0))
    for item in _meter_frames(port, T0, 3):
        ingestor.handle(item)
    ingestor.handle(LineCounts(port_id=port, noise_bytes=7, parity_errors=1))
    # "a" has not renewed for longer than the ttl: "b" takes the port (generation 2).
    assert tokens("b", 1, T0 + TTL + SECOND) == {port: 2}
    refused_before = _refused_batches(port)
    stats = ingestor.flush(now=T0 + TTL + SECOND)
    assert stats.lost == {port: 1} and stats.rows == 0 and stats.refused_rows > 0
    assert _refused_batches(port) == refused_before + 1
    assert _stored_points() == 0
    stored = TicPort.objects.get(pk=port)
    assert (stored.frames, stored.noise_bytes, stored.last_frame_at) == (0, 0, None)
    assert TicMeter.objects.get(port_id=port).frames == 0
    # It reads no more of the port: what its line still delivers is not even kept.
    for item in _meter_frames(port, T0 + 3 * SECOND, 3):
        ingestor.handle(item)
    assert ingestor.pending_rows == 0
    assert ingestor.flush(now=T0 + TTL + 2 * SECOND).rows == 0
    assert TicPort.objects.get(pk=port).frames == 0


@pytest.mark.django_db
def test_a_reader_paused_past_its_lease_does_not_overlap_the_one_that_took_over(
    tenant: Tenant,
) -> None:
    """Reader "a" stores 10 s of one meter, then its writes stop (cut off from the database,
    or the process paused) while its line goes on delivering frames. Its lease expires, "b"
    takes the port over and stores from then on. "a" comes back with 30 s of frames in hand: the
    batch is refused as a whole, so each instant of the meter is stored by one reader only,
    and the counters and the energy per day add up to what the meter sent once."""
    (port,) = ports(tenant, 1)
    a, b = Ingestor(state_interval=0.0), Ingestor(state_interval=0.0)
    a.lease(holder="a", generations=tokens("a", 1, T0))
    for item in _meter_frames(port, T0, 10):
        a.handle(item)
    a.flush(now=T0 + 10 * SECOND)
    assert tokens("a", 1, T0 + 5 * SECOND) == {port: 1}  # its last renewal
    # Paused: "a" receives 30 s more but neither renews nor writes.
    for item in _meter_frames(port, T0 + 10 * SECOND, 30):
        a.handle(item)
    taken_at = T0 + 5 * SECOND + TTL + SECOND
    assert tokens("b", 1, taken_at - 2 * SECOND) == {}  # not expired yet
    b.lease(holder="b", generations=tokens("b", 1, taken_at))
    assert b._fence is not None and b._fence.generations == {port: 2}
    for item in _meter_frames(port, taken_at, 40 - 26):
        b.handle(item)
    b.flush(now=T0 + 40 * SECOND)
    # "a" resumes: its batch is refused, its renewal finds the port gone.
    stats = a.flush(now=T0 + 41 * SECOND)
    assert stats.lost == {port: 1} and stats.rows == 0
    assert tokens("a", 1, T0 + 41 * SECOND) == {}

    stored_port = TicPort.objects.get(pk=port)
    # Frames counted once each: 10 by "a" (stored before its pause), 14 by "b".
    assert stored_port.frames == 10 + 14
    meter = TicMeter.objects.get(port_id=port)
    assert meter.frames == 10 + 14
    # Energy: each reader books the increments between the frames it stored, 9 Wh and 13 Wh;
    # "a"'s 30 s (30 Wh, of which 14 s also seen by "b") are not booked at all.
    assert sum(DailyEnergy.objects.values_list("energy_wh", flat=True)) == 9 + 13
    # The EAST index series: one point per instant, "a"'s before its pause, "b"'s after it.
    east = Series.objects.get(quantity="energy_index_east")
    instants = list(Point.objects.filter(series_id=east.pk).values_list("ts", flat=True))
    expected = [T0 + n * SECOND for n in range(10)] + [
        taken_at + n * SECOND for n in range(40 - 26)
    ]
    assert sorted(instants) == expected
    assert not TicEvent.objects.filter(at__gte=T0 + 10 * SECOND, at__lt=taken_at).exists()


@pytest.mark.django_db(transaction=True)
def test_a_taking_waits_for_a_write_in_progress(tenant: Tenant) -> None:
    """« FOR SHARE makes a taker's compare-and-set wait for a write in progress, and a write
    that starts after the taking finds the new holder » (tic/README.md, Fencing)."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite runs one write transaction at a time)")
    (port,) = ports(tenant, 1)
    held = tokens("a", 1, T0)
    checked: list[set[int]] = []
    locked, finish = threading.Event(), threading.Event()

    def write() -> None:  # "a"'s writer, in the middle of a batch
        try:
            with transaction.atomic():
                checked.append(leases.still_held(holder="a", generations=held))
                locked.set()
                finish.wait(30)
        finally:
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert locked.wait(30)
        # "a"'s lease has expired, but "b" cannot take it while the write is under way.
        with pytest.raises(OperationalError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '200ms'")
            tokens("b", 1, T0 + TTL + SECOND)
    finally:
        finish.set()
        writer.join(30)
    assert checked == [{port}]
    assert tokens("b", 1, T0 + TTL + SECOND) == {port: 2}
    assert leases.still_held(holder="a", generations=held) == set()


class _SilentLine:
    """A port that stays open and delivers nothing (the test drives the runner by hand)."""

    baudrate = 9600

    def read(self, size: int = 1) -> bytes:
        threading.Event().wait(0.01)
        return b""

    def close(self) -> None:
        pass


@pytest.mark.django_db(transaction=True)
def test_the_runner_stops_reading_a_port_whose_batch_was_refused(tenant: Tenant) -> None:
    (port,) = ports(tenant, 1)
    clock = [T0]
    service = ReaderService(
        ingestor=Ingestor(state_interval=0.0),
        opener=lambda _url, _baud: _SilentLine(),
        now=lambda: clock[0],
        holder="a",
        lease_ttl=TTL,
    )
    try:
        service._reload()
        assert service.generations == {port: 1} and set(service.running) == {port}
        for item in _meter_frames(port, T0, 3):
            service.queue.put(item)
        service._drain(timeout=0)
        batch = service.ingestor.collect(now=T0 + 3 * SECOND)
        # Paused past the ttl: "b" takes the port, then "a"'s writer writes the batch.
        assert tokens("b", 1, T0 + TTL + SECOND) == {port: 2}
        stats = service.ingestor.write(batch)
        assert stats.lost == {port: 1}
        service._lost.put((port, 1))
        service._drop_lost()
        assert service.running == {} and service.generations == {}
        # Its next pass finds the port held by "b": it does not read it again.
        clock[0] = T0 + TTL + 2 * SECOND
        service._reload()
        assert service.running == {} and service.generations == {}
    finally:
        service._stop_all()
    assert TicPort.objects.get(pk=port).frames == 0
