"""Reads of the market signals: a delivery point's stored signal, the CEMS check, Ecowatt days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from flexready.market.client.supplier import SignalPoint, signal_json
from flexready.market.models import EcowattDay, EcowattState, SupplierFeed
from flexready.market.services.supplier import CO2, POWER, PRICE, SERIES_SOURCE
from hub.clock import PARIS, local_day_of, local_midnight
from hub.models import MeteringPoint, Organisation, Point, Series

ORANGE = 2


def _iso(instant: dt.datetime | None) -> str | None:
    """Whole seconds with the Paris offset, as every Flex Ready answer writes times."""
    return None if instant is None else instant.astimezone(PARIS).isoformat(timespec="seconds")


def feeds_of(organisation: Organisation) -> QuerySet[SupplierFeed]:
    return SupplierFeed.objects.filter(organisation=organisation).select_related("metering_point")


@dataclass(frozen=True)
class HeldSignal:
    points: list[SignalPoint]
    incomplete: list[dt.datetime] = field(default_factory=list)  # instants lacking a quantity


def held_signal(*, point: MeteringPoint, start: dt.datetime, end: dt.datetime) -> HeldSignal:
    """The supplier values the hub holds for ``point`` in ``[start, end)``, aligned by instant."""
    series = {
        s.quantity: s.pk
        for s in Series.objects.filter(
            metering_point=point, source=SERIES_SOURCE, quantity__in=[PRICE, CO2, POWER]
        )
    }
    by_instant: dict[dt.datetime, dict[str, float]] = {}
    names = {pk: quantity for quantity, pk in series.items()}
    rows = Point.objects.filter(series_id__in=list(names), ts__gte=start, ts__lt=end).values_list(
        "series_id", "ts", "value"
    )
    for series_id, ts, value in rows:
        if value is not None:
            by_instant.setdefault(ts, {})[names[series_id]] = value
    points: list[SignalPoint] = []
    incomplete: list[dt.datetime] = []
    for ts in sorted(by_instant):
        values = by_instant[ts]
        if len(values) < 3:
            incomplete.append(ts)
            continue
        points.append(SignalPoint(len(points) + 1, ts, values[POWER], values[PRICE], values[CO2]))
    return HeldSignal(points, incomplete)


def cems_check(
    *, feed: SupplierFeed, start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> dict[str, Any]:
    """What the hub holds for the window, in the annex's format, and whether it is usable.

    ``status``: ``valid`` (values for every instant held, all three quantities each),
    ``incomplete`` (some instant lacks a quantity) or ``missing`` (nothing held). ``last_poll``
    says how the latest call to the supplier went, as a stale signal is still served.
    """
    held = held_signal(point=feed.metering_point, start=start, end=end)
    errors = [
        {"field": "horodate", "reason": f"{_iso(ts)} lacks a quantity"} for ts in held.incomplete
    ]
    if not held.points and not held.incomplete:
        status = "missing"
        errors.append({"field": "delivery_point", "reason": "no signal held for this window"})
    else:
        status = "incomplete" if held.incomplete else "valid"
    return {
        "delivery_point": feed.metering_point.identifier,
        "start_date": _iso(start),
        "end_date": _iso(end),
        "checked_at": _iso(now),
        "status": status,
        "errors": errors,
        "last_poll": {
            "status": feed.last_status,
            "polled_at": _iso(feed.last_polled_at),
            "succeeded_at": _iso(feed.last_success_at),
            "error": feed.last_error,
        },
        "signal": signal_json(held.points),
    }


def ecowatt_days(*, first: dt.date, count: int) -> list[EcowattDay]:
    return list(
        EcowattDay.objects.filter(
            day__gte=first, day__lt=first + dt.timedelta(days=count)
        ).prefetch_related("hours")
    )


def ecowatt_state() -> EcowattState | None:
    return EcowattState.objects.filter(singleton=1).first()


@dataclass(frozen=True)
class EcowattAlert:
    day: dt.date
    level: int  # 2 orange, 3 red: the worst of the day and its hours
    message: str
    hours: list[dt.datetime]  # starts (UTC) of the hours at that level


def ecowatt_alert(*, days: list[EcowattDay]) -> EcowattAlert | None:
    """The first of ``days`` (from ``ecowatt_days``) with an orange or red day or hour, if any."""
    for day in days:
        hours = list(day.hours.all())
        worst = max([day.level, *(h.level for h in hours)])
        if worst >= ORANGE:
            tense = [h.start for h in hours if h.level == worst]
            return EcowattAlert(day.day, worst, day.message, tense)
    return None


def ecowatt_payload(*, now: dt.datetime) -> dict[str, Any]:
    """The stored days from today on, in RTE's shape, ordered, with when they were fetched."""
    state = ecowatt_state()
    return {
        "fetched_at": _iso(state.last_success_at) if state else None,
        "next_call_at": _iso(state.next_call_at) if state else None,
        "signals": [
            {
                "jour": local_midnight(d.day).astimezone(PARIS).isoformat(),
                "GenerationFichier": d.generated_at.isoformat() if d.generated_at else None,
                "dvalue": d.level,
                "message": d.message,
                "values": [{"pas": h.pas, "hvalue": h.level} for h in d.hours.all()],
            }
            for d in ecowatt_days(first=local_day_of(now), count=4)
        ],
    }
