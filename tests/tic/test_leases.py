"""Port leases (``tic.leases``) and counters stored as increments (``tic.ingest``).

Rules (tic/README.md, « Readers on many hosts »): a reader renews its leases and takes free or
expired ports up to its capacity; a lease not renewed for ``ttl`` is taken over; taking is a
compare-and-set, so two readers never hold one port; counters are added to the stored ones, so
two readers of one port (one after the other) never overwrite or double each other's counts.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import Tenant
from tic import leases
from tic.ingest import Ingestor, LineCounts, Received
from tic.models import TicPort, TicPortLease
from tic.protocol import decode_bytes
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
