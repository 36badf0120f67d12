"""Flex Ready reads for the portal and the site view, always scoped by organisation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import Prefetch, QuerySet

from flexready.models import Asset, Bacs, FlexRequest, RequestStatus
from hub.models import AuditEvent, MeteringPoint, Organisation

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
