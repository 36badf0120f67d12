"""Flex Ready reads for the portal and the site view, always scoped by organisation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Count, Prefetch, Q, QuerySet

from flexready.models import (
    AllowedPeriod,
    Asset,
    Bacs,
    FlexRequest,
    OperatorIdentity,
    RequestStatus,
)
from hub import prepared
from hub.clock import local_day_bounds, local_day_of
from hub.models import AuditEvent, MeteringPoint, Organisation
from hub.rows import Columns

RECENT_REQUESTS = 50
# A request still to be carried out or running: the operator may yet act on it.
OPEN_STATUSES = (
    RequestStatus.RECEIVED,
    RequestStatus.ACCEPTED,
    RequestStatus.CONFIRMED,
    RequestStatus.ACTIVE,
)


def bacs_of(*, organisation: Organisation) -> QuerySet[Bacs]:
    return (
        Bacs.objects.filter(organisation=organisation)
        .select_related("metering_point")
        .prefetch_related("assets__periods")
    )


def recent_requests(
    *, organisation: Organisation, limit: int = RECENT_REQUESTS
) -> QuerySet[FlexRequest]:
    return (
        FlexRequest.objects.filter(asset__bacs__organisation=organisation)
        .select_related("asset__bacs")
        .order_by("-received_at")[:limit]
    )


def asset(*, organisation: Organisation, pk: int) -> Asset:
    """Raises ``Asset.DoesNotExist`` for a foreign asset's id, like for a missing one."""
    return Asset.objects.select_related("bacs").get(pk=pk, bacs__organisation=organisation)


def request(*, organisation: Organisation, pk: int) -> FlexRequest:
    """Raises ``FlexRequest.DoesNotExist`` for a foreign request's id, like for a missing one."""
    return FlexRequest.objects.select_related("asset__bacs").get(
        pk=pk, asset__bacs__organisation=organisation
    )


def request_timeline(*, organisation: Organisation, flex: FlexRequest) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        organisation=organisation,
        object_type=FlexRequest._meta.label,
        object_id=str(flex.pk),
    ).order_by("at", "id")


def bacs_of_points(
    *, organisation: Organisation, points: Sequence[MeteringPoint], now: dt.datetime
) -> list[tuple[Bacs, list[FlexRequest]]]:
    """The BACS measured by ``points``, each with its assets and its open requests not ended."""
    open_requests = FlexRequest.objects.filter(
        status__in=OPEN_STATUSES, end__gt=now, session=None
    ).order_by("start")
    bacs = (
        Bacs.objects.filter(organisation=organisation, metering_point__in=points)
        .prefetch_related("assets", Prefetch("assets__requests", queryset=open_requests))
        .order_by("name", "pk")
    )
    return [(b, [r for a in b.assets.all() for r in a.requests.all()]) for b in bacs]


# A request that takes one of its asset's activations of the day.
LIVE = (
    RequestStatus.ACCEPTED,
    RequestStatus.CONFIRMED,
    RequestStatus.ACTIVE,
    RequestStatus.REALISED,
)


def day_bounds(start: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The local (Paris) day of ``start``, whose live requests count against the potential."""
    return local_day_bounds(local_day_of(start))


def live_that_day(start: dt.datetime) -> Q:
    day_start, day_end = day_bounds(start)
    return Q(status__in=LIVE, start__gte=day_start, start__lt=day_end)


@dataclass(frozen=True)
class Operator:
    """A JWT's issuer and subject whose organisation is not looked up yet: the statement that
    reads what the call names resolves it (``OperatorIdentity``: the exact subject first, then
    the issuer-wide row), so the call makes no round trip for it alone."""

    issuer: str
    subject: str


@dataclass(frozen=True)
class AssetKey:
    """An asset as the operator API names it, in the caller's organisation (or in the
    organisation an ``Operator`` is mapped to)."""

    organisation: Organisation | Operator
    bacs_id: str
    asset_id: str


# The operator API's two hot reads, on PostgreSQL, are SQL written once per process: each is
# one statement (the asset with its BACS, organisation, allowed periods and the day's counts,
# and the request with them), and building them through the ORM cost more CPU per call than
# the whole ping. Each comes in two forms: for a known organisation, and for an operator's
# JWT, whose organisation the statement resolves (one round trip less per call).


@dataclass(frozen=True)
class _Statements:
    request: Columns[FlexRequest]
    asset: Columns[Asset]
    bacs: Columns[Bacs]
    organisation: Columns[Organisation]
    # (by organisation id, by operator): the asset locked; its day's counts.
    locked_asset: tuple[str, str]
    asset_counts: tuple[str, str]
    # (by organisation id, by operator): the request with its asset and the day's count.
    request_to_confirm: tuple[str, str]
    day_counts: str


@cache
def _statements() -> _Statements:
    qn = connection.ops.quote_name
    r = Columns(FlexRequest, "r", using=DEFAULT_DB_ALIAS)
    a = Columns(Asset, "a", using=DEFAULT_DB_ALIAS)
    b = Columns(Bacs, "b", using=DEFAULT_DB_ALIAS)
    o = Columns(Organisation, "o", using=DEFAULT_DB_ALIAS)
    periods = (
        "LEFT JOIN LATERAL (SELECT array_agg(p.id ORDER BY p.start, p.id) AS ids, "
        "array_agg(p.start ORDER BY p.start, p.id) AS starts, "
        'array_agg(p."end" ORDER BY p.start, p.id) AS ends '
        f"FROM {qn(AllowedPeriod._meta.db_table)} p WHERE p.asset_id = a.id) AS periods ON true"
    )
    joined = (
        f"{qn(Asset._meta.db_table)} a JOIN {qn(Bacs._meta.db_table)} b ON b.id = a.bacs_id "
        f"JOIN {qn(Organisation._meta.db_table)} o ON o.id = b.organisation_id"
    )
    # The exact subject's row wins over the issuer-wide one (blank subject), as in
    # ``operator_organisation``.
    by_operator = (
        f"(SELECT i.organisation_id FROM {qn(OperatorIdentity._meta.db_table)} i "
        "WHERE i.issuer = %s AND i.subject IN (%s, '') ORDER BY i.subject = '' LIMIT 1)"
    )
    named = "b.organisation_id = {owner} AND b.bacs_id = %s AND a.asset_id = %s"
    requests = qn(FlexRequest._meta.db_table)
    read = f"{o.sql}, {a.sql}, {b.sql}, periods.ids, periods.starts, periods.ends"
    # The day's count and whether the requestID is taken, each through its own index,
    # (asset, start) and (asset, request_id): a count over all the asset's requests grew with
    # its history.
    counts = (
        f"(SELECT count(*) FROM {requests} c WHERE c.asset_id = a.id AND c.status = ANY(%s) "
        "AND c.start >= %s AND c.start < %s), "
        f"EXISTS (SELECT FROM {requests} t WHERE t.asset_id = a.id AND t.request_id = %s)"
    )
    locked_asset = f"SELECT {read} FROM {joined} {periods} WHERE {named} FOR NO KEY UPDATE OF a"
    # Its own statement, after the lock's: a statement that waited for the lock still reads
    # with the snapshot it started with, blind to the request its predecessor committed.
    asset_counts = f"SELECT {counts} FROM {joined} WHERE {named}"
    request = (
        f"SELECT {read}, {r.sql}, "
        f"(SELECT count(*) FROM {requests} c WHERE c.asset_id = r.asset_id AND c.id <> r.id "
        "AND c.status = ANY(%s) AND c.start >= %s AND c.start < %s) "
        f"FROM {requests} r JOIN {joined} ON a.id = r.asset_id {periods} "
        f"WHERE {named} AND r.request_id = %s"
    )
    day_counts = (
        f"SELECT (SELECT count(*) FROM {requests} WHERE asset_id = %s AND status = ANY(%s) "
        "AND start >= %s AND start < %s), "
        f"EXISTS (SELECT FROM {requests} WHERE asset_id = %s AND request_id = %s)"
    )

    def both(sql: str) -> tuple[str, str]:
        return sql.replace("{owner}", "%s"), sql.replace("{owner}", by_operator)

    return _Statements(
        r, a, b, o, both(locked_asset), both(asset_counts), both(request), day_counts
    )


def _owner(key: AssetKey) -> tuple[int, list[Any]]:
    """Which form of a statement ``key`` takes, and its parameters for the owner."""
    if isinstance(key.organisation, Operator):
        return 1, [key.organisation.issuer, key.organisation.subject]
    return 0, [key.organisation.pk]


def operator_organisation(issuer: str, subject: str) -> Organisation | None:
    """The organisation a JWT's issuer and subject are mapped to: the exact subject's row
    first, then the issuer-wide one (blank subject); None when neither exists."""
    rows = OperatorIdentity.objects.filter(issuer=issuer, subject__in=[subject, ""]).select_related(
        "organisation"
    )
    row = min(rows, key=lambda r: r.subject == "", default=None)
    return None if row is None else row.organisation


def _orm_organisation(owner: Organisation | Operator) -> Organisation | None:
    if not isinstance(owner, Operator):
        return owner
    return operator_organisation(owner.issuer, owner.subject)


def _asset_from(row: Sequence[Any], owner: Organisation | Operator) -> tuple[Asset, int]:
    """The asset, its BACS and organisation and its periods from a row; and the offset of the
    columns after them. A known organisation is kept as the caller's object."""
    st = _statements()
    organisation = owner if isinstance(owner, Organisation) else st.organisation.build(row, 0)
    at = st.organisation.width
    asset, bacs = st.asset.build(row, at), st.bacs.build(row, at + st.asset.width)
    bacs.organisation = organisation
    asset.bacs = bacs
    at += st.asset.width + st.bacs.width
    ids, starts, ends = row[at : at + 3]
    periods = [
        AllowedPeriod(id=i, asset=asset, start=start, end=end)
        for i, start, end in zip(ids or [], starts or [], ends or [], strict=True)
    ]
    # Where ``asset.periods.all()`` finds them, as a prefetch leaves them.
    cached: Any = asset.periods.get_queryset()  # the manager's own, filtered lazily
    cached._result_cache = periods
    cached._prefetch_done = True
    asset._prefetched_objects_cache = {"periods": cached}  # type: ignore[attr-defined]
    return asset, at + 3


@dataclass(frozen=True)
class LockedAsset:
    asset: Asset
    live_that_day: int
    request_id_taken: bool


def locked_asset(key: AssetKey, *, day_of: dt.datetime, request_id: str) -> LockedAsset:
    """The asset with its BACS (and organisation) and allowed periods, its row locked (FOR NO
    KEY UPDATE, the asset's row alone) to the end of the caller's transaction; then its live
    requests on the local day of ``day_of`` and whether ``request_id`` is taken, under the
    lock; both statements in one round trip. ``Asset.DoesNotExist`` (also for an ``Operator``
    mapped to no organisation)."""
    if connection.vendor != "postgresql":
        organisation = _orm_organisation(key.organisation)
        if organisation is None:
            raise Asset.DoesNotExist
        asset = (
            Asset.objects.select_for_update(no_key=True, of=("self",))
            .select_related("bacs__organisation")
            .prefetch_related("periods")
            .get(bacs__organisation=organisation, bacs__bacs_id=key.bacs_id, asset_id=key.asset_id)
        )
        live, taken = day_counts(asset=asset, start=day_of, request_id=request_id)
        return LockedAsset(asset, live, taken)
    form, owner = _owner(key)
    day_start, day_end = day_bounds(day_of)
    statements, names = _statements(), [*owner, key.bacs_id, key.asset_id]
    locking, counting = prepared.cursor(), prepared.cursor()
    try:
        # Two statements, one round trip (with the transaction's BEGIN): the counts run once
        # the lock is held, in a snapshot of their own.
        with connection.wrap_database_errors, connection.pipeline():  # type: ignore[attr-defined]
            locking.execute(statements.locked_asset[form], names)
            counting.execute(
                statements.asset_counts[form],
                [[str(s) for s in LIVE], day_start, day_end, request_id, *names],
            )
        row, counts = locking.fetchone(), counting.fetchone()
    finally:
        locking.close()
        counting.close()
    if row is None or counts is None:
        raise Asset.DoesNotExist
    asset, _ = _asset_from(row, key.organisation)
    return LockedAsset(asset, int(counts[0]), bool(counts[1]))


def request_to_confirm(
    *, key: AssetKey, request_id: str, day_of: dt.datetime
) -> tuple[FlexRequest, int]:
    """The request with its asset (BACS and organisation, allowed periods) and the asset's
    other live requests on the local day of ``day_of``, in one statement;
    ``FlexRequest.DoesNotExist`` (also for an ``Operator`` mapped to no organisation)."""
    if connection.vendor != "postgresql":
        organisation = _orm_organisation(key.organisation)
        if organisation is None:
            raise FlexRequest.DoesNotExist
        found = (
            FlexRequest.objects.select_related("asset__bacs__organisation")
            .prefetch_related("asset__periods")
            .get(
                asset__bacs__organisation=organisation,
                asset__bacs__bacs_id=key.bacs_id,
                asset__asset_id=key.asset_id,
                request_id=request_id,
            )
        )
        others = FlexRequest.objects.filter(live_that_day(day_of), asset=found.asset_id)
        return found, others.exclude(pk=found.pk).count()
    form, owner = _owner(key)
    day_start, day_end = day_bounds(day_of)
    with prepared.cursor() as cursor:
        cursor.execute(
            _statements().request_to_confirm[form],
            [
                [str(s) for s in LIVE],
                day_start,
                day_end,
                *owner,
                key.bacs_id,
                key.asset_id,
                request_id,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        raise FlexRequest.DoesNotExist
    st = _statements()
    asset, at = _asset_from(row, key.organisation)
    request = st.request.build(row, at)
    request.asset = asset
    return request, int(row[at + st.request.width])


def day_counts(*, asset: Asset, start: dt.datetime, request_id: str) -> tuple[int, bool]:
    """The asset's live requests on the local day of ``start``, and whether ``request_id`` is
    taken, in one query."""
    if connection.vendor != "postgresql":
        counts = FlexRequest.objects.filter(asset=asset).aggregate(
            live=Count("pk", filter=live_that_day(start)),
            taken=Count("pk", filter=Q(request_id=request_id)),
        )
        return counts["live"], bool(counts["taken"])
    day_start, day_end = day_bounds(start)
    with prepared.cursor() as cursor:
        cursor.execute(
            _statements().day_counts,
            [asset.pk, [str(s) for s in LIVE], day_start, day_end, asset.pk, request_id],
        )
        live, taken = cursor.fetchone()
    return int(live), bool(taken)
