"""Portal pages: the organisation's TIC meters and one meter's live page (htmx + Chart.js)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from hub import quantities
from hub.models import MeteringPoint, Role, Series, Site
from hub.portal.access import membership_of, role_required
from hub.selectors.series import read_points
from tic import selectors
from tic.models import TicMeter

CHART_WINDOW = dt.timedelta(minutes=30)
LAST_EVENTS = 20


def _meter(request: HttpRequest, pk: int) -> TicMeter:
    # Scoped by organisation: a foreign meter's id answers 404, exactly like a missing one.
    organisation = membership_of(request).organisation
    return get_object_or_404(selectors.meters(organisation=organisation), pk=pk)


@role_required(Role.VIEWER)
def meter_list(request: HttpRequest) -> HttpResponse:
    organisation = membership_of(request).organisation
    return render(
        request,
        "tic/meter_list.html",
        {
            "meters": selectors.meters(organisation=organisation),
            "ports": selectors.ports(organisation=organisation),
        },
    )


def _context(meter: TicMeter) -> dict[str, object]:
    return {
        "meter": meter,
        "port": meter.port,
        "state": selectors.state(meter=meter),
        "events": list(selectors.events(meter=meter)[:LAST_EVENTS]),
        "now": timezone.now(),
    }


@role_required(Role.VIEWER)
def meter_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meter = _meter(request, pk)
    # The chart covers the last 30 minutes: with no frame in them it would be an empty frame,
    # so the page says why instead (meter.js shows or hides the same note on each refresh).
    since = timezone.now() - CHART_WINDOW
    recent = meter.last_frame_at is not None and meter.last_frame_at >= since
    return render(request, "tic/meter_detail.html", {**_context(meter), "chart_empty": not recent})


@role_required(Role.VIEWER)
def meter_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The part of the meter page that htmx refreshes every 2 seconds."""
    return render(request, "tic/_live.html", _context(_meter(request, pk)))


@role_required(Role.VIEWER)
def meter_chart(request: HttpRequest, pk: int) -> JsonResponse:
    """Power over Td and the subscribed power over the last 30 minutes, for Chart.js."""
    meter = _meter(request, pk)
    end = timezone.now()
    start = end - CHART_WINDOW
    data: dict[str, list[dict[str, object]]] = {}
    # Active power in W/kW, apparent in VA/kVA: the one the meter's subscribed power is in.
    power = quantities.power_for(meter.power_unit or "W").name
    series = Series.objects.filter(
        metering_point_id=meter.metering_point_id,
        source="tic",
        quantity__in=[power, quantities.SUBSCRIBED_POWER.name],
    )
    for row in series:
        points = read_points(series=row, start=start, end=end)
        data[row.quantity] = [{"x": p.ts.isoformat(), "y": p.value} for p in points]
    subscribed = data.get(quantities.SUBSCRIBED_POWER.name, [])
    if subscribed and meter.subscribed_power is not None:
        # PS is stored when it changes: carry the step on to now.
        subscribed.append({"x": end.isoformat(), "y": meter.subscribed_power})
    return JsonResponse(
        {
            "unit": meter.power_unit or "W",
            "power": data.get(power, []),
            "subscribed": subscribed,
        }
    )


def site_panel(
    *, site: Site, points: Sequence[MeteringPoint], now: dt.datetime
) -> dict[str, object] | None:
    """The site view's TIC panel: each meter's state and its power against the subscribed one."""
    meters = list(selectors.meters_of_points(organisation=site.organisation, points=points))
    return {"meters": meters} if meters else None
