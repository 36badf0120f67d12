"""Port leases: each TIC port is read by one ``tic_read`` process at a time, on any host.

A reader renews the leases it holds (a heartbeat) and takes free or expired ones up to its
capacity, every ``interval`` seconds; a lease whose heartbeat is older than ``ttl`` is expired,
so the ports of a reader that died are taken over within ``ttl + interval`` (20 + 5 s by
default). Taking a lease is a compare-and-set on the holder and heartbeat the taker read, so two
readers racing for one port cannot both win, on PostgreSQL and SQLite alike. Heartbeats carry the
reader host's clock: hosts keep their clocks in sync (NTP) to well under ``ttl``.

Each taking adds one to the lease's ``generation``, the fencing token: a reader writes a port's
data only in a transaction that first finds the lease still its own at the generation it took
(``still_held``, which locks the row until commit). A reader that lost its lease without
knowing it (cut off from the database, paused past ``ttl``) therefore stores nothing once
another has taken the port, and the taker's compare-and-set waits for a write in progress.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Iterable, Mapping

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet

from tic.models import TicPort, TicPortLease

DEFAULT_TTL = dt.timedelta(seconds=20)
DEFAULT_INTERVAL = 5.0  # seconds between two passes: heartbeat, claims, port list reload


def reader_id() -> str:
    """Names a reader process: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def renew_and_claim(
    *,
    holder: str,
    capacity: int,
    now: dt.datetime,
    ttl: dt.timedelta = DEFAULT_TTL,
    port_ids: Iterable[int] | None = None,
) -> dict[int, int]:
    """Renew ``holder``'s leases, give back those it must not read, take free or expired ones
    up to ``capacity``; the enabled ports it holds afterwards, each with its lease's
    generation (the fencing token its writes carry)."""
    wanted = TicPort.objects.filter(enabled=True)
    if port_ids is not None:
        wanted = wanted.filter(pk__in=list(port_ids))
    # Renewed under lock: a lease renewed cannot expire before the next pass, and one another
    # reader took meanwhile no longer names this holder.
    with transaction.atomic():
        mine = dict(_locked(holder).values_list("port_id", "generation"))
        TicPortLease.objects.filter(port_id__in=list(mine)).update(heartbeat_at=now)
    allowed = set(wanted.values_list("pk", flat=True))
    dropped = mine.keys() - allowed
    if dropped:
        release(holder=holder, port_ids=dropped)
    held = {pk: generation for pk, generation in mine.items() if pk in allowed}
    room = capacity - len(held)
    if room > 0:
        held |= _claim(holder=holder, room=room, now=now, ttl=ttl, allowed=allowed - held.keys())
    elif room < 0:  # capacity lowered: give back the newest
        extra = sorted(held)[capacity:]
        release(holder=holder, port_ids=extra)
        for pk in extra:
            del held[pk]
    return held


def _claim(
    *, holder: str, room: int, now: dt.datetime, ttl: dt.timedelta, allowed: set[int]
) -> dict[int, int]:
    if not allowed:
        return {}
    missing = allowed - set(
        TicPortLease.objects.filter(port_id__in=allowed).values_list("port_id", flat=True)
    )
    if missing:
        TicPortLease.objects.bulk_create(
            [TicPortLease(port_id=pk) for pk in sorted(missing)], ignore_conflicts=True
        )
    free = (
        TicPortLease.objects.filter(port_id__in=allowed)
        .filter(Q(holder="") | Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - ttl))
        .order_by("port_id")
        .values_list("port_id", "holder", "heartbeat_at", "generation")
    )
    taken: dict[int, int] = {}
    for port_id, seen_holder, seen_heartbeat, seen_generation in free:
        if len(taken) >= room:
            break
        won = TicPortLease.objects.filter(
            port_id=port_id,
            holder=seen_holder,
            heartbeat_at=seen_heartbeat,
            generation=seen_generation,
        ).update(holder=holder, heartbeat_at=now, acquired_at=now, generation=F("generation") + 1)
        if won:  # the row was as seen, so its generation is now the next one
            taken[port_id] = seen_generation + 1
    return taken


def release(*, holder: str, port_ids: Iterable[int] | None = None) -> None:
    """Give back ``holder``'s leases (all of them by default): another reader takes them at
    its next pass instead of waiting for them to expire."""
    with transaction.atomic():
        mine = list(_locked(holder, port_ids).values_list("port_id", flat=True))
        TicPortLease.objects.filter(port_id__in=mine).update(holder="", heartbeat_at=None)


def _locked(holder: str, port_ids: Iterable[int] | None = None) -> QuerySet[TicPortLease]:
    """``holder``'s lease rows, locked in the order of their ports, as ``still_held`` locks
    them: a renewal and the reader's own write, each locking many rows, never deadlock."""
    leases = TicPortLease.objects.filter(holder=holder)
    if port_ids is not None:
        leases = leases.filter(port_id__in=list(port_ids))
    return leases.select_for_update(no_key=True).order_by("port_id")


def still_held(*, holder: str, generations: Mapping[int, int]) -> set[int]:
    """The ports of ``generations`` whose lease ``holder`` still holds at that generation.

    Called first in the transaction that writes these ports' data: one statement for a whole
    batch. On PostgreSQL the lease rows are locked ``FOR SHARE``, in the order of their ports
    as renewals lock them (no deadlock between the two), until the transaction ends, so
    a reader taking one over (an UPDATE) waits for the write, and a write that starts after the
    taking finds the new holder: the two readers' writes never interleave. SQLite runs one write
    transaction at a time, which gives the same order.
    """
    if not generations:
        return set()
    leases = TicPortLease.objects.filter(holder=holder, port_id__in=list(generations))
    rows = leases.order_by("port_id").values_list("port_id", "generation")
    sql, params = rows.query.sql_with_params()
    if connection.vendor == "postgresql":
        sql += " FOR SHARE"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {pk for pk, generation in cursor.fetchall() if generations[pk] == generation}
