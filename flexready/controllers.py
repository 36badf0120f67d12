"""Flex Ready's controllers for ``hub.control``: Ecowatt (§2.5) and confirmed requests (Annex 1).

§2.5: Ecowatt lets a certified system « ajuster automatiquement les consommations »; a confirmed
request is the building's promise to reduce its power over the request's window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from flexready.market.models import EcowattHour
from flexready.models import FlexRequest, RequestStatus
from hub.control.models import ControllableLoad, LoadKind
from hub.control.registry import Planned, Priority, Want, register
from hub.models import Site

ECOWATT = "flexready.ecowatt"
REQUEST = "flexready.request"
SHEDDABLE = (LoadKind.SHEDDABLE, LoadKind.SHIFTABLE)
LEVELS = {2: "orange", 3: "rouge"}
HOUR = dt.timedelta(hours=1)


class Ecowatt:
    """P3: during the stored Ecowatt hours at or above a load's ``min_level``, its ``value``.

    Policy: ``{"min_level": 2, "value": 0}`` (2 orange, 3 red, as RTE's ``hvalue``).
    """

    name = ECOWATT
    priority = Priority.ECOWATT

    def _hours(self, start: dt.datetime, end: dt.datetime) -> list[EcowattHour]:
        return list(EcowattHour.objects.filter(start__gt=start - HOUR, start__lt=end, level__gte=2))

    def wants(
        self, *, site: Site, loads: Sequence[ControllableLoad], now: dt.datetime
    ) -> list[Want]:
        policed = [x for x in loads if x.policies.get(ECOWATT)]
        if not policed:
            return []
        hour = next((h for h in self._hours(now, now) if h.start <= now < h.start + HOUR), None)
        if hour is None:
            return []
        wants = []
        for load in policed:
            policy = load.policies[ECOWATT]
            if hour.level >= int(policy.get("min_level", 2)):
                value = float(policy.get("value", 0.0))
                wants.append(Want(load.pk, value, f"Ecowatt {LEVELS[hour.level]}"))
        return wants

    def planned(
        self, *, site: Site, loads: Sequence[ControllableLoad], now: dt.datetime
    ) -> list[Planned]:
        policed = [x for x in loads if x.policies.get(ECOWATT)]
        if not policed:
            return []
        planned = []
        for hour in self._hours(now, now + dt.timedelta(days=2)):
            for load in policed:
                policy = load.policies[ECOWATT]
                if hour.level >= int(policy.get("min_level", 2)) and hour.start + HOUR > now:
                    planned.append(
                        Planned(
                            load.pk,
                            float(policy.get("value", 0.0)),
                            hour.start,
                            hour.start + HOUR,
                            f"Ecowatt {LEVELS[hour.level]}",
                        )
                    )
        return planned


def _step_power(request: FlexRequest, now: dt.datetime) -> float:
    for step in request.program:
        start = dt.datetime.fromisoformat(str(step["start"]).replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(str(step["end"]).replace("Z", "+00:00"))
        if start <= now < end:
            return float(step["power_w"])
    return 0.0


class ConfirmedRequests:
    """P4: from start to end of a confirmed request, shed the building's loads (by priority,
    then the largest first) until their nominal powers reach the step's confirmed reduction."""

    name = REQUEST
    priority = Priority.FLEXREADY_REQUEST

    def _requests(self, site: Site, loads: Sequence[ControllableLoad]) -> list[FlexRequest]:
        points = {x.metering_point_id for x in loads if x.metering_point_id}
        return list(
            FlexRequest.objects.filter(
                asset__bacs__organisation_id=site.organisation_id,
                asset__bacs__metering_point_id__in=points,
                status__in=[RequestStatus.CONFIRMED, RequestStatus.ACTIVE],
            ).select_related("asset__bacs")
        )

    def wants(
        self, *, site: Site, loads: Sequence[ControllableLoad], now: dt.datetime
    ) -> list[Want]:
        wants: list[Want] = []
        taken: set[int] = set()
        for request in self._requests(site, loads):
            if not request.start <= now < request.end:
                continue
            needed = _step_power(request, now)
            eligible = sorted(
                (
                    x
                    for x in loads
                    if x.metering_point_id == request.asset.bacs.metering_point_id
                    and x.kind in SHEDDABLE
                    and x.pk not in taken
                ),
                key=lambda x: (x.priority, -x.nominal_power_w, x.pk),
            )
            covered = 0.0
            for load in eligible:
                if covered >= needed:
                    break
                taken.add(load.pk)
                covered += load.nominal_power_w
                reason = f"demande Flex Ready {request.request_id} ({needed:g} W)"
                wants.append(Want(load.pk, 0.0, reason))
        return wants

    def planned(
        self, *, site: Site, loads: Sequence[ControllableLoad], now: dt.datetime
    ) -> list[Planned]:
        return []


def register_all() -> None:
    register(Ecowatt())
    register(ConfirmedRequests())
