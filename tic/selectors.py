"""TIC reads for the API and the portal, always scoped by organisation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import Q, QuerySet

from hub.models import MeteringPoint, Organisation, Series
from tic.models import DailyEnergy, TicEvent, TicMeter, TicPort


def meters(*, organisation: Organisation) -> QuerySet[TicMeter]:
    return (
        TicMeter.objects.filter(organisation=organisation)
        .select_related("port", "metering_point")
        .order_by("identifier", "pk")
    )


def ports(*, organisation: Organisation) -> QuerySet[TicPort]:
    return TicPort.objects.filter(organisation=organisation).order_by("name")


def series_of(*, meter: TicMeter) -> dict[str, int]:
    """Quantity → series id, to read the points through hub's series endpoints."""
    rows = Series.objects.filter(metering_point_id=meter.metering_point_id, source="tic")
    return dict(rows.order_by("quantity").values_list("quantity", "pk"))


def events(
    *,
    meter: TicMeter,
    kinds: list[str] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> QuerySet[TicEvent]:
    """The meter's events in ``[start, end)``, newest first."""
    found = TicEvent.objects.filter(meter=meter).select_related("meter")
    if kinds:
        found = found.filter(kind__in=kinds)
    if start is not None:
        found = found.filter(at__gte=start)
    if end is not None:
        found = found.filter(at__lt=end)
    return found.order_by("-at", "-pk")


def daily_energy(*, meter: TicMeter, start: dt.date, end: dt.date) -> QuerySet[DailyEnergy]:
    """Energy per tariff period per Paris local day, for days in ``[start, end)``."""
    return DailyEnergy.objects.filter(meter=meter, day__gte=start, day__lt=end).order_by(
        "day", "calendar", "period"
    )


def state(*, meter: TicMeter) -> dict[str, object]:
    """What the state API and the portal's live panel show."""
    port = meter.port
    return {
        "id": meter.pk,
        "identifier": meter.identifier,
        "family": meter.family,
        "mode": meter.mode,
        "metering_point_id": meter.metering_point_id,
        "last_frame_at": meter.last_frame_at.isoformat() if meter.last_frame_at else None,
        "updated_at": meter.updated_at.isoformat() if meter.updated_at else None,
        "values": meter.last_values,
        "tariff_periods": meter.tariff_periods,
        "preavis": {
            "active": meter.preavis_active,
            "since": meter.preavis_since.isoformat() if meter.preavis_since else None,
        },
        "clock_drift_seconds": meter.clock_drift_seconds,
        "power": {
            "value": meter.power,
            "subscribed": meter.subscribed_power,
            "unit": meter.power_unit,
            "share_percent": meter.power_share,
        },
        "counters": meter.counters(),
        "port": {
            "id": port.pk,
            "name": port.name,
            "state": port.state,
            "state_since": port.state_since.isoformat() if port.state_since else None,
            "baud": port.current_baud,
            "last_error": port.last_error,
            "counters": port.counters(),
        },
    }


def meters_of_points(
    *, organisation: Organisation, points: Sequence[MeteringPoint]
) -> QuerySet[TicMeter]:
    """The meters measuring ``points``: attached themselves, or read on a port attached there."""
    return (
        meters(organisation=organisation)
        .filter(Q(metering_point__in=points) | Q(port__metering_point__in=points))
        .distinct()
    )
