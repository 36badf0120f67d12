"""What a request delivered, measured on the building's meter against a baseline.

Baseline ("mean of similar days"): for each step of the request, the mean power the meter saw
at the same offset from the same local wall-clock start time on the ``FLEXREADY_BASELINE_DAYS``
most recent similar days before it (Monday-Friday for a weekday, Saturday-Sunday for a weekend
day), looking back at most ``FLEXREADY_BASELINE_LOOKBACK_DAYS``, skipping days with another
request of the same asset and days whose data do not cover the window. Windows are placed in
Paris wall time, so a 12:00 request after a clock change is compared with 12:00 (not 11:00 or
13:00) on the days before it.

Measured (and the baseline days' data): the building's metering point read through hub's
best-source selector (``hub.selectors.sources``): each step from the best-ranked source that
covers it (a TIC meter on the PRM first, then a provider's data, then an upload), as mean power
from the step's energy (``active_energy_import``) or the meter's power.

Delivered flexibility = baseline - measured, per step and in total (energies in Wh).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings

from hub import quantities
from hub.clock import PARIS, local_day_bounds, local_day_of
from hub.models import MeteringPoint, Series
from hub.selectors.series import FIXED_SECONDS, Step
from hub.selectors.sources import ENERGY_OF, STEP_OF_SECONDS, best_series, read_best

if TYPE_CHECKING:
    from flexready.models import FlexRequest

# The building meter's drawn power, through hub's best-source selector: energy per step (a load
# curve, a TIC meter's 5-minute curve) or power, from the best-ranked source covering each step.
METER_QUANTITY = quantities.ACTIVE_POWER_IMPORT
IRREGULAR_STEP = 600  # irregular series (TIC frames) are averaged over 10-minute buckets
HOUR = Decimal(3600)


class NoMeter(Exception):
    """The BACS has no metering point, or the point has no usable series."""


def meter_series(point: MeteringPoint | None) -> Series:
    """The series the meter's reads start from (its step is the realisation's step)."""
    if point is None:
        raise NoMeter("the BACS has no building metering point")
    series = best_series(metering_point=point, quantity=METER_QUANTITY)
    if series is None:
        names = [METER_QUANTITY.name, ENERGY_OF[METER_QUANTITY.name]]
        raise NoMeter(f"no series {names} on {point}")
    return series


def meter_step(series: Series) -> Step:
    """The series' own step when the selector has it, else 10 minutes (irregular series)."""
    return STEP_OF_SECONDS.get(series.step_seconds or 0, STEP_OF_SECONDS[IRREGULAR_STEP])


def power_profile(
    *, point: MeteringPoint | None, start: dt.datetime, end: dt.datetime
) -> tuple[int, dict[dt.datetime, Decimal], Series]:
    """Mean power (W) of each meter step overlapping ``[start, end)``, by step start (UTC),
    each from the best source covering it (``hub.selectors.sources``)."""
    series = meter_series(point)
    assert point is not None  # meter_series refused a missing point
    step = meter_step(series)
    read = read_best(metering_point=point, quantity=METER_QUANTITY, start=start, end=end, step=step)
    profile = {
        r.start: Decimal(str(round(r.value, 6))) for r in read.readings if r.value is not None
    }
    return FIXED_SECONDS[step], profile, series


def _floor(instant: dt.datetime, step: int) -> dt.datetime:
    epoch = int(instant.timestamp())
    return dt.datetime.fromtimestamp(epoch - epoch % step, tz=dt.UTC)


def similar(day: dt.date, other: dt.date) -> bool:
    return (day.weekday() >= 5) == (other.weekday() >= 5)


def same_wall_time(instant: dt.datetime, day: dt.date) -> dt.datetime:
    local = instant.astimezone(PARIS)
    return dt.datetime.combine(day, local.time(), tzinfo=PARIS).astimezone(dt.UTC)


@dataclass(frozen=True)
class Cell:
    start: dt.datetime
    end: dt.datetime
    requested_w: Decimal
    measured_w: Decimal | None
    baseline_w: Decimal | None

    @property
    def hours(self) -> Decimal:
        return Decimal(str((self.end - self.start).total_seconds())) / HOUR

    @property
    def delivered_w(self) -> Decimal | None:
        if self.measured_w is None or self.baseline_w is None:
            return None
        return self.baseline_w - self.measured_w


@dataclass(frozen=True)
class Realisation:
    cells: list[Cell]
    baseline_days: list[dt.date]
    step_seconds: int
    series_id: int | None
    complete: bool
    note: str = ""
    totals: dict[str, Decimal] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """``complete``, ``pending`` (measurements not all in), ``no_baseline`` or ``no_meter``."""
        if self.series_id is None:
            return "no_meter"
        if self.complete:
            return "complete"
        if any(c.measured_w is None for c in self.cells) or not self.cells:
            return "pending"
        return "no_baseline"

    @property
    def requested_wh(self) -> Decimal:
        return self.totals.get("requested", Decimal(0))

    @property
    def delivered_wh(self) -> Decimal:
        return self.totals.get("delivered", Decimal(0))

    def as_json(self) -> dict[str, Any]:
        def power(w: Decimal | None) -> dict[str, Any] | None:
            return None if w is None else {"unit": "W", "multiplier": "k", "value": _k(w)}

        def energy(wh: Decimal | None) -> dict[str, Any] | None:
            return None if wh is None else {"unit": "Wh", "multiplier": "k", "value": _k(wh)}

        # A total is only stated once every cell of it is known: a partial sum would read as
        # a measured 0 (or a tiny delivery) while the meter's data are still on their way.
        measured_known = bool(self.cells) and all(c.measured_w is not None for c in self.cells)
        baseline_known = bool(self.cells) and all(c.baseline_w is not None for c in self.cells)
        known = {
            "requested": True,
            "measured": measured_known,
            "baseline": baseline_known,
            "delivered": measured_known and baseline_known,
        }
        return {
            "complete": self.complete,
            "measurementStatus": self.status,
            "note": self.note,
            "seriesID": self.series_id,
            "stepSeconds": self.step_seconds,
            "baseline": {
                "method": "mean of the same local window on similar previous days",
                "days": [d.isoformat() for d in self.baseline_days],
            },
            "steps": [
                {
                    "start": c.start.astimezone(PARIS).isoformat(timespec="seconds"),
                    "end": c.end.astimezone(PARIS).isoformat(timespec="seconds"),
                    "requested": power(c.requested_w),
                    "measured": power(c.measured_w),
                    "baseline": power(c.baseline_w),
                    "delivered": power(c.delivered_w),
                }
                for c in self.cells
            ],
            "total": {
                name: energy(value if known.get(name, True) else None)
                for name, value in self.totals.items()
            },
        }


def _k(value: Decimal) -> float:
    return round(float(value / 1000), 6)


def _requested(program: Sequence[dict[str, Any]], start: dt.datetime, end: dt.datetime) -> Decimal:
    """Mean requested power over ``[start, end)`` from the program's steps."""
    total = Decimal(0)
    for step in program:
        s_start = dt.datetime.fromisoformat(step["start"])
        s_end = dt.datetime.fromisoformat(step["end"])
        overlap = (min(end, s_end) - max(start, s_start)).total_seconds()
        if overlap > 0:
            total += Decimal(step["power_w"]) * Decimal(str(overlap))
    return total / Decimal(str((end - start).total_seconds()))


def _reference_days(
    *, request: FlexRequest, lookback: int, excluded: set[dt.date]
) -> list[dt.date]:
    day = local_day_of(request.start)
    candidates = [day - dt.timedelta(days=i) for i in range(1, lookback + 1)]
    return [d for d in candidates if similar(d, day) and d not in excluded]


def realise(*, request: FlexRequest, now: dt.datetime) -> Realisation:
    """Measured, baseline and delivered power for each meter step of the request's window."""
    from flexready.models import FlexRequest as Model
    from flexready.models import RequestStatus

    point = request.asset.bacs.metering_point
    try:
        series = meter_series(point)
    except NoMeter as exc:
        return Realisation([], [], 0, None, complete=False, note=str(exc))
    lookback = settings.FLEXREADY_BASELINE_LOOKBACK_DAYS
    wanted = settings.FLEXREADY_BASELINE_DAYS
    first_day = local_day_of(request.start) - dt.timedelta(days=lookback)
    busy_since, _ = local_day_bounds(first_day)
    excluded = {
        local_day_of(start)
        for start in Model.objects.filter(
            asset=request.asset,
            start__gte=busy_since,
            status__in=[
                RequestStatus.CONFIRMED,
                RequestStatus.ACTIVE,
                RequestStatus.REALISED,
                RequestStatus.FAILED,
            ],
        )
        .exclude(pk=request.pk)
        .values_list("start", flat=True)
    }
    days = _reference_days(request=request, lookback=lookback, excluded=excluded)
    window_end = min(request.end, now)
    step, profile, series = power_profile(point=point, start=busy_since, end=request.end)
    cells_bounds = []
    cursor = request.start
    while cursor < request.end:
        cell_end = min(_floor(cursor, step) + dt.timedelta(seconds=step), request.end)
        cells_bounds.append((cursor, cell_end))
        cursor = cell_end

    def at(instant: dt.datetime) -> Decimal | None:
        return profile.get(_floor(instant, step))

    used: list[dt.date] = []
    baseline_sums = [Decimal(0)] * len(cells_bounds)
    for day in days:
        if len(used) == wanted:
            break
        origin = same_wall_time(request.start, day)
        values = [at(origin + (c_start - request.start)) for c_start, _ in cells_bounds]
        if any(v is None for v in values):
            continue
        used.append(day)
        baseline_sums = [
            acc + v for acc, v in zip(baseline_sums, values, strict=True) if v is not None
        ]
    cells = []
    for (c_start, c_end), b_sum in zip(cells_bounds, baseline_sums, strict=True):
        measured = at(c_start) if c_start < window_end else None
        cells.append(
            Cell(
                c_start,
                c_end,
                _requested(request.program, c_start, c_end),
                measured,
                b_sum / len(used) if used else None,
            )
        )
    complete = bool(used) and all(c.measured_w is not None for c in cells)
    totals: dict[str, Decimal] = {
        "requested": sum((c.requested_w * c.hours for c in cells), Decimal(0)),
        "measured": sum(
            (c.measured_w * c.hours for c in cells if c.measured_w is not None), Decimal(0)
        ),
        "baseline": sum(
            (c.baseline_w * c.hours for c in cells if c.baseline_w is not None), Decimal(0)
        ),
        "delivered": sum(
            (c.delivered_w * c.hours for c in cells if c.delivered_w is not None), Decimal(0)
        ),
    }
    note = "" if complete else ("no similar day with data" if not used else "measurements pending")
    return Realisation(cells, used, step, series.pk, complete, note, totals)
