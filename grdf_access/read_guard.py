"""The consent gate for reads through ``hub``'s generic series API.

GRDF series are readable through ``/api/v1/series/{id}/points/`` like any other series; the same
consent rule as this app's own pages and API applies there (seed 000: data only inside consent
dates, data range and types granted, right active). Registered with ``hub.series_access`` in
``AppConfig.ready``.
"""

from __future__ import annotations

import datetime as dt

from grdf_access import consent
from grdf_access.models import Pce
from grdf_access.sync import SERIES, SERIES_TYPE
from hub.clock import gas_day_of, local_day_of
from hub.models import Series

# Series quantity -> the data type whose consent governs it.
TYPE_OF_QUANTITY = {spec.quantity: SERIES_TYPE[key] for key, spec in SERIES.items()}


def refusal(series: Series, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> str | None:
    data_type = TYPE_OF_QUANTITY.get(series.quantity)
    if data_type is None:
        return "série GRDF sans type de données connu : lecture refusée"
    pce = (
        Pce.objects.filter(metering_point_id=series.metering_point_id)
        .prefetch_related("rights")
        .first()
    )
    if pce is None:
        return "aucun PCE suivi pour ce point de comptage"
    if end <= start:
        return None  # an empty range reveals nothing
    # Gas days touched by [start, end): the day of start up to the day of the last instant.
    first = gas_day_of(start)
    last = gas_day_of(end - dt.timedelta(microseconds=1)) + dt.timedelta(days=1)
    decision = consent.check_range(
        rights=pce.rights.all(),
        data_type=data_type,
        start=first,
        end=last,
        today=local_day_of(now),
    )
    return None if decision.allowed else decision.reason
