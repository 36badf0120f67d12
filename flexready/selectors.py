"""Flex Ready reads for the portal and the site view, always scoped by organisation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Count, Prefetch, Q, QuerySet

from flexready.models import AllowedPeriod, Asset, Bacs, FlexRequest, RequestStatus
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
class AssetKey:
    """An asset as the operator API names it, in the caller's organisation."""

    organisation: Organisation
    bacs_id: str
    asset_id: str


# The operator API's two hot reads, on PostgreSQL, are SQL written once per process: each is
# one statement (the asset with its BACS and allowed periods, and the request with them), and
# building them through the ORM cost more CPU per call than the whole ping.


@cache
def _statements() -> tuple[Columns[FlexRequest], Columns[Asset], Columns[Bacs], str, str, str]:
    qn = connection.ops.quote_name
    r = Columns(FlexRequest, "r", using=DEFAULT_DB_ALIAS)
    a = Columns(Asset, "a", using=DEFAULT_DB_ALIAS)
    b = Columns(Bacs, "b", using=DEFAULT_DB_ALIAS)
    periods = (
        "LEFT JOIN LATERAL (SELECT array_agg(p.id ORDER BY p.start, p.id) AS ids, "
        "array_agg(p.start ORDER BY p.start, p.id) AS starts, "
        'array_agg(p."end" ORDER BY p.start, p.id) AS ends '
        f"FROM {qn(AllowedPeriod._meta.db_table)} p WHERE p.asset_id = a.id) AS periods ON true"
    )
    joined = f"{qn(Asset._meta.db_table)} a JOIN {qn(Bacs._meta.db_table)} b ON b.id = a.bacs_id"
    named = "b.organisation_id = %s AND b.bacs_id = %s AND a.asset_id = %s"
    requests = qn(FlexRequest._meta.db_table)
    locked_asset = (
        f"SELECT {a.sql}, {b.sql}, periods.ids, periods.starts, periods.ends FROM {joined} "
        f"{periods} WHERE {named} FOR NO KEY UPDATE OF a"
    )
    request = (
        f"SELECT {a.sql}, {b.sql}, periods.ids, periods.starts, periods.ends, {r.sql}, "
        f"(SELECT count(*) FROM {requests} o WHERE o.asset_id = r.asset_id AND o.id <> r.id "
        "AND o.status = ANY(%s) AND o.start >= %s AND o.start < %s) "
        f"FROM {requests} r JOIN {joined} ON a.id = r.asset_id {periods} "
        f"WHERE {named} AND r.request_id = %s"
    )
    # Each through its own index, (asset, start) and (asset, request_id): a count over all the
    # asset's requests grew with its history.
    day_counts = (
        f"SELECT (SELECT count(*) FROM {requests} WHERE asset_id = %s AND status = ANY(%s) "
        "AND start >= %s AND start < %s), "
        f"EXISTS (SELECT FROM {requests} WHERE asset_id = %s AND request_id = %s)"
    )
    return r, a, b, locked_asset, request, day_counts


def _asset_from(row: Sequence[Any], organisation: Organisation) -> tuple[Asset, int]:
    """The asset, its BACS (in ``organisation``) and its periods from a row; and the offset of
    the columns after them."""
    _, a, b, *_ = _statements()
    asset, bacs = a.build(row, 0), b.build(row, a.width)
    bacs.organisation = organisation
    asset.bacs = bacs
    at = a.width + b.width
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


def locked_asset(key: AssetKey) -> Asset:
    """The asset with its BACS and allowed periods, its row locked (FOR NO KEY UPDATE, the
    asset's row alone) to the end of the caller's transaction; ``Asset.DoesNotExist``."""
    if connection.vendor != "postgresql":
        return (
            Asset.objects.select_for_update(no_key=True, of=("self",))
            .select_related("bacs__organisation")
            .prefetch_related("periods")
            .get(
                bacs__organisation=key.organisation,
                bacs__bacs_id=key.bacs_id,
                asset_id=key.asset_id,
            )
        )
    with connection.cursor() as cursor:
        cursor.execute(_statements()[3], [key.organisation.pk, key.bacs_id, key.asset_id])
        row = cursor.fetchone()
    if row is None:
        raise Asset.DoesNotExist
    return _asset_from(row, key.organisation)[0]


def request_to_confirm(
    *, key: AssetKey, request_id: str, day_of: dt.datetime
) -> tuple[FlexRequest, int]:
    """The request with its asset (BACS, allowed periods) and the asset's other live requests
    on the local day of ``day_of``, in one statement; ``FlexRequest.DoesNotExist``."""
    if connection.vendor != "postgresql":
        found = (
            FlexRequest.objects.select_related("asset__bacs__organisation")
            .prefetch_related("asset__periods")
            .get(
                asset__bacs__organisation=key.organisation,
                asset__bacs__bacs_id=key.bacs_id,
                asset__asset_id=key.asset_id,
                request_id=request_id,
            )
        )
        others = FlexRequest.objects.filter(live_that_day(day_of), asset=found.asset_id)
        return found, others.exclude(pk=found.pk).count()
    day_start, day_end = day_bounds(day_of)
    with connection.cursor() as cursor:
        cursor.execute(
            _statements()[4],
            [
                [str(s) for s in LIVE],
                day_start,
                day_end,
                key.organisation.pk,
                key.bacs_id,
                key.asset_id,
                request_id,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        raise FlexRequest.DoesNotExist
    r = _statements()[0]
    asset, at = _asset_from(row, key.organisation)
    request = r.build(row, at)
    request.asset = asset
    return request, int(row[at + r.width])


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
    with connection.cursor() as cursor:
        cursor.execute(
            _statements()[5],
            [asset.pk, [str(s) for s in LIVE], day_start, day_end, asset.pk, request_id],
        )
        live, taken = cursor.fetchone()
    return int(live), bool(taken)
