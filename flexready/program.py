"""A flexibility program (the annex's ``power`` list) parsed, and checked against a potential.

Parsing errors (a missing field, a date that is no date, a unit that is no power) are the
caller's mistake: ``ProgramError`` -> 400, nothing stored. Rule violations (too much power, too
long, too early, outside the allowed periods …) are a refusal: every one is collected in a
``Reason`` so the operator sees them all at once (OpenADR 3 answers one problem per call; a
certification run is quicker when the BACS says everything that is wrong).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _

from hub.clock import local_day_of
from hub.units import MULTIPLIERS, UnitError, multiplier_factor, parse_triplet

POWER_UNIT = "W"
MAX_STEPS = 1000
# A terawatt: beyond, a value is a mistake, and would not survive the float of a JSON answer.
MAX_WATTS = Decimal(10) ** 12


class ProgramError(ValueError):
    """Malformed input: ``field`` names where, ``reason`` says what."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Reason:
    field: str
    code: str
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class ProgramStep:
    start: dt.datetime  # aware UTC
    end: dt.datetime
    power_w: Decimal
    multiplier: str = "k"  # as the operator wrote it, to answer in the same terms

    @property
    def kw(self) -> Decimal:
        return self.power_w / 1000

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "power_w": str(self.power_w),
            "multiplier": self.multiplier,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProgramStep:
        return cls(
            dt.datetime.fromisoformat(data["start"]),
            dt.datetime.fromisoformat(data["end"]),
            Decimal(data["power_w"]),
            data.get("multiplier", "k"),
        )


@dataclass(frozen=True, slots=True)
class Potential:
    """What an asset can do: the limits a request is checked against."""

    flex_product: str
    power_w: Decimal
    mobilisation_delay: dt.timedelta
    max_duration: dt.timedelta
    activations_per_day: int
    periods: Sequence[tuple[dt.datetime, dt.datetime]]  # empty: no restriction


def naive_timezone() -> ZoneInfo:
    return ZoneInfo(getattr(settings, "FLEXREADY_NAIVE_TIMEZONE", "Europe/Paris"))


def parse_instant(raw: Any, *, field: str) -> dt.datetime:
    """ISO 8601; the annex writes local times without offset, read in FLEXREADY_NAIVE_TIMEZONE.

    A naive time in the hour that does not exist (spring forward) or that exists twice (fall
    back) is refused: the operator must then give the offset.
    """
    if not isinstance(raw, str):
        raise ProgramError(field, _("expected an ISO 8601 date-time string"))
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ProgramError(field, _("not an ISO 8601 date-time: %(raw)r") % {"raw": raw}) from None
    if value.tzinfo is None:
        zone = naive_timezone()
        early = value.replace(tzinfo=zone, fold=0)
        late = value.replace(tzinfo=zone, fold=1)
        if early.utcoffset() != late.utcoffset():
            raise ProgramError(
                field,
                _("%(raw)r is ambiguous or absent in %(key)s: add an offset")
                % {"raw": raw, "key": zone.key},
            )
        value = early
    return value.astimezone(dt.UTC)


def parse_power(raw: Any, *, field: str) -> tuple[Decimal, str]:
    """A power triplet to watts, with the multiplier it was written with."""
    try:
        quantity = parse_triplet(raw)
    except UnitError as exc:
        raise ProgramError(f"{field}.{exc.field}", exc.reason) from None
    if quantity.unit != POWER_UNIT:
        raise ProgramError(
            f"{field}.unit", _("a power is needed (W), got %(unit)s") % {"unit": quantity.unit}
        )
    if abs(quantity.value) > MAX_WATTS:
        raise ProgramError(
            f"{field}.value",
            _("out of range (at most %(MAX_WATTS)s W)") % {"MAX_WATTS": format(MAX_WATTS, ".0e")},
        )
    multiplier = raw.get("multiplier") or ""
    return quantity.value, multiplier if multiplier in MULTIPLIERS else ""


def parse_program(raw: Any) -> list[ProgramStep]:
    if not isinstance(raw, list) or not raw:
        raise ProgramError("power", _("expected a non-empty list of {power, start, end}"))
    if len(raw) > MAX_STEPS:
        raise ProgramError("power", _("at most %(MAX_STEPS)s steps") % {"MAX_STEPS": MAX_STEPS})
    steps = []
    for i, item in enumerate(raw):
        field = f"power[{i}]"
        if not isinstance(item, Mapping):
            raise ProgramError(field, _("expected an object {power, start, end}"))
        for key in ("power", "start", "end"):
            if key not in item:
                raise ProgramError(f"{field}.{key}", "missing")
        watts, multiplier = parse_power(item["power"], field=f"{field}.power")
        start = parse_instant(item["start"], field=f"{field}.start")
        end = parse_instant(item["end"], field=f"{field}.end")
        if end <= start:
            raise ProgramError(f"{field}.end", _("must be after start"))
        steps.append(ProgramStep(start, end, watts, multiplier))
    steps.sort(key=lambda s: s.start)
    for previous, step in pairwise(steps):
        if step.start < previous.end:
            raise ProgramError(
                "power", _("steps overlap at %(value)s") % {"value": step.start.isoformat()}
            )
    return steps


def format_power(watts: Decimal, multiplier: str = "k") -> dict[str, Any]:
    return {
        "unit": POWER_UNIT,
        "multiplier": multiplier,
        "value": float(watts / multiplier_factor(multiplier)),
    }


def check(
    *,
    potential: Potential,
    flex_product: str,
    steps: Sequence[ProgramStep],
    now: dt.datetime,
    activations_that_day: int,
) -> list[Reason]:
    """Every rule of the potential the program breaks; an empty list accepts it.

    ``activations_that_day``: other live requests of the asset starting on the same local day.
    """
    reasons: list[Reason] = []
    if flex_product != potential.flex_product:
        reasons.append(
            Reason(
                "flexProduct",
                "product_mismatch",
                f"the asset offers {potential.flex_product}, not {flex_product}",
            )
        )
    for i, step in enumerate(steps):
        if step.power_w <= 0:
            reasons.append(
                Reason(f"power[{i}].power.value", "power_not_positive", "must be above zero")
            )
        elif step.power_w > potential.power_w:
            reasons.append(
                Reason(
                    f"power[{i}].power.value",
                    "power_above_potential",
                    f"{step.power_w} W asked, {potential.power_w} W available",
                )
            )
    start, end = steps[0].start, steps[-1].end
    if end - start > potential.max_duration:
        reasons.append(
            Reason(
                "power",
                "duration_above_maximum",
                f"{int((end - start).total_seconds())} s asked, at most "
                f"{int(potential.max_duration.total_seconds())} s",
            )
        )
    earliest = now + potential.mobilisation_delay
    if start < earliest:
        reasons.append(
            Reason(
                "power[0].start",
                "mobilisation_delay",
                f"starts before {earliest.isoformat()} (mobilisation delay "
                f"{int(potential.mobilisation_delay.total_seconds())} s)",
            )
        )
    if potential.periods:
        for i, step in enumerate(steps):
            if not any(
                p_start <= step.start and step.end <= p_end for p_start, p_end in potential.periods
            ):
                reasons.append(
                    Reason(
                        f"power[{i}]",
                        "outside_allowed_periods",
                        f"[{step.start.isoformat()}, {step.end.isoformat()}) is not inside an "
                        "allowed period",
                    )
                )
    if activations_that_day >= potential.activations_per_day:
        reasons.append(
            Reason(
                "power[0].start",
                "activations_per_day",
                f"{activations_that_day} activation(s) already on {local_day_of(start)}, at most "
                f"{potential.activations_per_day} a day",
            )
        )
    return reasons
