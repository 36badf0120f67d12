"""Port leases: each TIC port is read by one ``tic_read`` process at a time, on any host.

A reader renews the leases it holds (a heartbeat) and takes free or expired ones up to its
capacity, every ``interval`` seconds; a lease whose heartbeat is older than ``ttl`` is expired,
so the ports of a reader that died are taken over within ``ttl + interval`` (20 + 5 s by
default). Taking a lease is a compare-and-set on the holder and heartbeat the taker read, so two
readers racing for one port cannot both win, on PostgreSQL and SQLite alike. Heartbeats carry the
reader host's clock: hosts keep their clocks in sync (NTP) to well under ``ttl``.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Iterable

from django.db.models import Q

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
) -> set[int]:
    """Renew ``holder``'s leases, give back those it must not read, take free or expired ones
    up to ``capacity``; the ids of the enabled ports it holds afterwards."""
    wanted = TicPort.objects.filter(enabled=True)
    if port_ids is not None:
        wanted = wanted.filter(pk__in=list(port_ids))
    # Renew first, then read back: a lease renewed cannot expire before the next pass, and one
    # another reader took meanwhile no longer names this holder.
    TicPortLease.objects.filter(holder=holder).update(heartbeat_at=now)
    mine = set(TicPortLease.objects.filter(holder=holder).values_list("port_id", flat=True))
    allowed = set(wanted.values_list("pk", flat=True))
    dropped = mine - allowed
    if dropped:
        release(holder=holder, port_ids=dropped)
    held = mine & allowed
    room = capacity - len(held)
    if room > 0:
        held |= _claim(holder=holder, room=room, now=now, ttl=ttl, allowed=allowed - held)
    elif room < 0:  # capacity lowered: give back the newest
        extra = sorted(held)[capacity:]
        release(holder=holder, port_ids=extra)
        held -= set(extra)
    return held


def _claim(
    *, holder: str, room: int, now: dt.datetime, ttl: dt.timedelta, allowed: set[int]
) -> set[int]:
    if not allowed:
        return set()
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
        .values_list("port_id", "holder", "heartbeat_at")
    )
    taken: set[int] = set()
    for port_id, seen_holder, seen_heartbeat in free:
        if len(taken) >= room:
            break
        won = TicPortLease.objects.filter(
            port_id=port_id, holder=seen_holder, heartbeat_at=seen_heartbeat
        ).update(holder=holder, heartbeat_at=now, acquired_at=now)
        if won:
            taken.add(port_id)
    return taken


def release(*, holder: str, port_ids: Iterable[int] | None = None) -> None:
    """Give back ``holder``'s leases (all of them by default): another reader takes them at
    its next pass instead of waiting for them to expire."""
    leases = TicPortLease.objects.filter(holder=holder)
    if port_ids is not None:
        leases = leases.filter(port_id__in=list(port_ids))
    leases.update(holder="", heartbeat_at=None)
