"""A metering point's quantity from its best available source, bucket by bucket, on the Paris clock.

A metering point may hold the same quantity from several sources (series are keyed by point,
quantity and source): a TIC meter read live, a load curve uploaded by an operator, a provider's
data. Apps register the rank of the sources they write (``register_source``, from their
``AppConfig.ready``; hub imports no app) and read through ``read_best``.

**The rule.** The range is cut into buckets of the asked step on the Paris clock (5, 10, 15,
30 minutes and hours are fixed lengths of UTC time, which Paris wall clocks share since its
offsets are whole hours; days and months follow Paris wall time, so a local day is 23 or 25
hours on DST days). Each bucket is taken whole from the best-ranked source (lowest rank; an
unregistered source ranks after every registered one, ties by name) whose series *covers* it:

* an interval-energy or fixed-step series covers a bucket when every one of its steps inside the
  bucket has a point and none is flagged missing (``Quality.MISSING``); a series coarser than the
  bucket cannot cover it (an hourly energy is not split into 5-minute ones);
* an irregular series (TIC values stored at reception time) covers a bucket when it has at least
  one point there and none flagged missing.

Coverage is judged **per bucket, not per range**: sources fail independently and partially (a
TIC port unplugged for an hour, an upload that only covers the day of a stop), and a per-range
choice would either drop a whole day of live data for one gap or leave the gap empty when
another source has it. A bucket never mixes two sources: a partial bucket of the best source is
not completed with another's points (that would double count or undercount energy); it is taken
whole from the next source that covers it, or left empty (``value`` ``None``, ``source`` ``""``).

A power quantity can also be read from its interval energy (``active_power_import`` from
``active_energy_import``): the mean power of a bucket is its energy over its length. Within one
source the energy comes first: it is the exact mean over the bucket, where a meter's own power
(TIC's power over Td) is a sliding mean that lags.

Values are in the quantity's base unit (``W``, ``Wh``…): a series held in ``kWh`` is converted.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from hub import quantities
from hub.clock import PARIS
from hub.models import MeteringPoint, Quality, Series, SeriesKind
from hub.selectors.series import FIXED_SECONDS, Step, read_points
from hub.units import UnitError, prefixed_unit


class SourceRank(enum.IntEnum):
    """Documented priority of sources (lowest first)."""

    # The hub's own live reading of the meter: there the same day, at seconds, on our clock.
    METER = 10
    # A provider's data (the distributor's or the buyer's platform, fetched by the hub).
    PROVIDER = 30
    # A load curve an operator uploaded: the fallback when nothing measured the bucket.
    UPLOAD = 50
    # Demonstration data, below anything real.
    DEMO = 90


UNRANKED = 1000


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    rank: int
    label: str  # French, for the portal


class SourceConflict(Exception):
    """One source name registered twice with different ranks."""


class SourceReadError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


_SOURCES: dict[str, Source] = {}


def register_source(name: str, *, rank: int, label: str) -> None:
    existing = _SOURCES.get(name)
    if existing is not None and existing.rank != rank:
        raise SourceConflict(f"{name}: rank {existing.rank} then {rank}")
    _SOURCES[name] = Source(name, int(rank), label)


def unregister_source(name: str) -> None:
    _SOURCES.pop(name, None)


def registered_sources() -> list[Source]:
    return sorted(_SOURCES.values(), key=lambda s: (s.rank, s.name))


def rank_of(name: str) -> int:
    found = _SOURCES.get(name)
    return found.rank if found is not None else UNRANKED


register_source("demo", rank=SourceRank.DEMO, label="Données de démonstration")

STEPS = (Step.MIN5, Step.MIN10, Step.MIN15, Step.MIN30, Step.HOUR, Step.DAY, Step.MONTH)


@dataclass(frozen=True, slots=True)
class Reading:
    start: dt.datetime  # UTC
    end: dt.datetime  # UTC
    value: float | None  # in the quantity's base unit; None: no source covers the bucket
    source: str = ""
    series_id: int | None = None


@dataclass(frozen=True)
class BestRead:
    quantity: str
    unit: str  # base unit of every value
    step: Step
    readings: list[Reading] = field(default_factory=list)

    @property
    def sources(self) -> list[str]:
        """Sources used, best-ranked first."""
        used = {r.source for r in self.readings if r.source}
        return sorted(used, key=lambda s: (rank_of(s), s))

    @property
    def complete(self) -> bool:
        return bool(self.readings) and all(r.value is not None for r in self.readings)

    @property
    def series_ids(self) -> list[int]:
        return sorted({r.series_id for r in self.readings if r.series_id is not None})


def bucket_start(instant: dt.datetime, step: Step) -> dt.datetime:
    """Start (UTC) of the bucket of ``step`` holding ``instant``, on the Paris clock."""
    if step in FIXED_SECONDS:
        seconds = FIXED_SECONDS[step]
        epoch = int(instant.timestamp())
        return dt.datetime.fromtimestamp(epoch - epoch % seconds, tz=dt.UTC)
    local = instant.astimezone(PARIS)
    if step is Step.DAY:
        day = dt.datetime.combine(local.date(), dt.time(0), tzinfo=PARIS)
        return day.astimezone(dt.UTC)
    if step is Step.MONTH:
        first = dt.datetime.combine(local.date().replace(day=1), dt.time(0), tzinfo=PARIS)
        return first.astimezone(dt.UTC)
    raise SourceReadError(
        "step", _("one of %(value)s") % {"value": ", ".join(s.value for s in STEPS)}
    )


def bucket_end(start: dt.datetime, step: Step) -> dt.datetime:
    if step in FIXED_SECONDS:
        return start + dt.timedelta(seconds=FIXED_SECONDS[step])
    local = start.astimezone(PARIS)
    if step is Step.DAY:
        following = local.date() + dt.timedelta(days=1)
    elif step is Step.MONTH:
        year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
        following = dt.date(year, month, 1)
    else:
        raise SourceReadError(
            "step", _("one of %(value)s") % {"value": ", ".join(s.value for s in STEPS)}
        )
    return dt.datetime.combine(following, dt.time(0), tzinfo=PARIS).astimezone(dt.UTC)


def buckets(
    start: dt.datetime, end: dt.datetime, step: Step
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Buckets of ``step``, from the one holding ``start`` to the last starting before ``end``."""
    found = []
    cursor = bucket_start(start, step)
    while cursor < end:
        following = bucket_end(cursor, step)
        found.append((cursor, following))
        cursor = following
    return found


# A power read from its interval energy: power quantity → energy quantity.
ENERGY_OF = {
    quantities.ACTIVE_POWER_IMPORT.name: quantities.ACTIVE_ENERGY_IMPORT.name,
    quantities.ACTIVE_POWER_EXPORT.name: quantities.ACTIVE_ENERGY_EXPORT.name,
}


@dataclass(frozen=True, slots=True)
class _Candidate:
    series: Series
    factor: float  # series unit → base unit
    per_hour: bool  # an energy read as a mean power


def _candidates(point: MeteringPoint, quantity: quantities.Quantity) -> list[_Candidate]:
    energy = ENERGY_OF.get(quantity.name)
    names = [quantity.name, *([energy] if energy else [])]
    found = []
    for series in Series.objects.filter(metering_point=point, quantity__in=names):
        try:
            base, factor = prefixed_unit(series.unit)
        except UnitError:
            base, factor = series.unit, 1  # type: ignore[assignment]
        per_hour = series.quantity == energy
        if per_hour and (base != f"{quantity.unit}h" or series.kind != SeriesKind.INTERVAL):
            continue
        if not per_hour and base != quantity.unit:
            continue  # apparent power is not active power, whatever the name
        found.append(_Candidate(series, float(factor), per_hour))
    # Source rank, then (in one source) energy before power, then name for a stable order.
    found.sort(key=lambda c: (rank_of(c.series.source), not c.per_hour, c.series.source))
    return found


def _quantity(quantity: quantities.Quantity | str) -> quantities.Quantity:
    wanted = quantities.get(quantity) if isinstance(quantity, str) else quantity
    if wanted is None:
        raise SourceReadError(
            "quantity", _("unknown quantity %(quantity)r") % {"quantity": quantity}
        )
    return wanted


def best_series(
    *, metering_point: MeteringPoint, quantity: quantities.Quantity | str
) -> Series | None:
    """The series a read of ``quantity`` tries first (its step is the natural step to read at)."""
    found = _candidates(metering_point, _quantity(quantity))
    return found[0].series if found else None


STEP_OF_SECONDS = {seconds: step for step, seconds in FIXED_SECONDS.items()}


def _covers(series: Series, count: int, quality: int, seconds: float) -> bool:
    if quality == Quality.MISSING or count == 0:
        return False
    if not series.step_seconds:
        return True
    if series.step_seconds > seconds:
        return False
    return count >= int(seconds // series.step_seconds)


def read_best(
    *,
    metering_point: MeteringPoint,
    quantity: quantities.Quantity | str,
    start: dt.datetime,
    end: dt.datetime,
    step: Step,
) -> BestRead:
    """``quantity`` of ``metering_point`` over ``[start, end)`` in buckets of ``step``, each from
    the best source that covers it (the rule is in the module docstring)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise SourceReadError("start", _("timestamps need a time zone"))
    if end <= start:
        raise SourceReadError("end", _("end must be after start"))
    if step not in STEPS:
        raise SourceReadError(
            "step", _("one of %(value)s") % {"value": ", ".join(s.value for s in STEPS)}
        )
    wanted = _quantity(quantity)
    grid = buckets(start, end, step)
    chosen: dict[dt.datetime, Reading] = {}
    for candidate in _candidates(metering_point, wanted):
        if len(chosen) == len(grid):
            break
        series = candidate.series
        rows = read_points(
            series=series,
            start=grid[0][0],
            end=grid[-1][1],
            step=step,
            aggregate=series.default_aggregate,
        )
        by_start = {row.ts.astimezone(dt.UTC): row for row in rows}
        for b_start, b_end in grid:
            row = by_start.get(b_start)
            if b_start in chosen or row is None or row.value is None:
                continue
            seconds = (b_end - b_start).total_seconds()
            if not _covers(series, row.count, row.quality, seconds):
                continue
            value = row.value * candidate.factor
            if candidate.per_hour:
                value = value * 3600 / seconds
            chosen[b_start] = Reading(b_start, b_end, value, series.source, series.pk)
    readings = [chosen.get(s) or Reading(s, e, None) for s, e in grid]
    return BestRead(wanted.name, wanted.unit, step, readings)
