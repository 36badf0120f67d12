"""The 5-minute billing curve of a stop day, and the compliance figures drawn from it.

EDF OA bills on 5-minute mean energies labelled by their start (convention « commençante »).
During a stop the first and the last five minutes are neutralised, so the plant can ramp down
and back up; energy produced in the other stop steps is non-compliant. The rule for stops whose
edges do not fall on a 5-minute boundary is in ``smartoa/README.md``:

    a step is *neutralised* when it overlaps the first five minutes ``[s, s+5 min)`` or the last
    five minutes ``[e-5 min, e)`` of a stop ``[s, e)``; otherwise it is a *stop* step when it
    overlaps the stop; otherwise it is *normal*.

After a stop the plant must be back at full power (seed: « Le producteur doit être à pleine
puissance à partir de 18h » for a stop ending at 18:00). That is checked from the same curve
(``check_return``, rule in ``smartoa/README.md``): the first step starting at or after the stop's
end must produce at least ``FULL_POWER_SHARE`` of the best of the ``RETURN_WINDOW_STEPS`` normal
steps after it; a plant still ramping up (or still off) then produces visibly less.

The pure functions come first (``classify``, ``bill``); ``bill_contract_day`` reads the stored
schedules and the production through hub's best-source selector: each 5-minute step from the
plant's TIC meter when it measured the step whole, else from the uploaded load curve.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hub import quantities
from hub.clock import local_day_bounds
from hub.models import MeteringPoint, Series
from hub.selectors.series import Step
from hub.selectors.sources import best_series, read_best
from hub.units import prefixed_unit
from smartoa.models import Contract
from smartoa.schedule import Episode
from smartoa.selectors import episodes_in_force

STEP = dt.timedelta(minutes=5)
NEUTRALISED_SPAN = dt.timedelta(minutes=5)
# The production meter's energy per step, as the metering apps write it.
PRODUCTION_QUANTITY = quantities.ACTIVE_ENERGY_EXPORT.name
# "Full power" is not a figure of the seed: a plant is back at full power when its first step
# after the stop reaches this share of the best of the next steps (its own full power then).
FULL_POWER_SHARE = 0.9
RETURN_WINDOW_STEPS = 3  # 15 minutes: short enough that the sun or the wind barely change


class ReturnStatus(enum.StrEnum):
    OK = "ok"  # back at full power from the stop's end
    LATE = "late"  # producing less than full power in the first step after the stop
    UNKNOWN = "unknown"  # the curve cannot tell (missing steps, no production at all)


@dataclass(frozen=True, slots=True)
class ReturnCheck:
    """Whether the plant was back at full power right after one stop."""

    stop_end: dt.datetime  # UTC
    step: dt.datetime  # the first step starting at or after the stop's end (UTC)
    energy: float | None
    reference: float | None  # the best of the normal steps that follow
    status: ReturnStatus
    reason: str  # French, for the portal and the command


class StepState(enum.StrEnum):
    NORMAL = "normal"
    STOP = "stop"
    NEUTRALISED = "neutralised"


@dataclass(frozen=True, slots=True)
class BilledStep:
    start: dt.datetime  # UTC
    state: StepState
    energy: float | None  # None: no measurement for this step


@dataclass(frozen=True)
class BillingDay:
    day: dt.date
    steps: tuple[BilledStep, ...]
    episodes: tuple[Episode, ...]  # the stops that touch the day, unclipped
    unit: str = ""
    returns: tuple[ReturnCheck, ...] = ()  # one per stop ending in the day

    @property
    def stop_duration(self) -> dt.timedelta:
        """Time of the local day under a stop instruction (clipped to the day)."""
        start, end = local_day_bounds(self.day)
        clipped = [e.clipped(start, end) for e in self.episodes]
        return sum((e.duration for e in clipped if e is not None), dt.timedelta(0))

    def _energy(self, state: StepState) -> float:
        return sum(s.energy or 0.0 for s in self.steps if s.state is state)

    def _count(self, state: StepState) -> int:
        return sum(1 for s in self.steps if s.state is state)

    @property
    def non_compliant_energy(self) -> float:
        """Energy produced in stop steps that are not neutralised."""
        return self._energy(StepState.STOP)

    @property
    def neutralised_energy(self) -> float:
        return self._energy(StepState.NEUTRALISED)

    @property
    def stop_steps(self) -> int:
        return self._count(StepState.STOP)

    @property
    def neutralised_steps(self) -> int:
        return self._count(StepState.NEUTRALISED)

    @property
    def missing_steps(self) -> int:
        return sum(1 for s in self.steps if s.energy is None)

    @property
    def back_at_full_power(self) -> bool:
        """No stop of the day was followed by a step below full power."""
        return all(r.status is not ReturnStatus.LATE for r in self.returns)

    @property
    def unmeasured_stop_steps(self) -> int:
        """Stop steps without a measurement: their compliance cannot be told either way."""
        return sum(1 for s in self.steps if s.state is StepState.STOP and s.energy is None)

    @property
    def has_measurements(self) -> bool:
        return any(s.energy is not None for s in self.steps)

    @property
    def compliant(self) -> bool:
        """No energy measured in any stop step (missing measurements do not count as compliant),
        and back at full power after each stop."""
        stop = [s for s in self.steps if s.state is StepState.STOP]
        energy_ok = all(s.energy is not None and s.energy <= 0 for s in stop)
        return energy_ok and self.back_at_full_power


def day_steps(day: dt.date) -> list[dt.datetime]:
    """Starts (UTC) of the local day's 5-minute steps: 288, or 276 / 300 on DST days."""
    start, end = local_day_bounds(day)
    count = (end - start) // STEP
    return [start + i * STEP for i in range(count)]


def classify(*, steps: Sequence[dt.datetime], episodes: Sequence[Episode]) -> list[StepState]:
    """Each step's state under the stops ``episodes`` (see the module docstring for the rule)."""
    neutral: list[tuple[dt.datetime, dt.datetime]] = []
    for episode in episodes:
        neutral.append((episode.start, min(episode.end, episode.start + NEUTRALISED_SPAN)))
        neutral.append((max(episode.start, episode.end - NEUTRALISED_SPAN), episode.end))
    states = []
    for start in steps:
        end = start + STEP
        if any(n_start < end and start < n_end for n_start, n_end in neutral):
            states.append(StepState.NEUTRALISED)
        elif any(e.start < end and start < e.end for e in episodes):
            states.append(StepState.STOP)
        else:
            states.append(StepState.NORMAL)
    return states


def bill(
    *,
    day: dt.date,
    episodes: Sequence[Episode],
    energies: Mapping[dt.datetime, float | None],
    unit: str = "",
) -> BillingDay:
    """The day's billing curve from energies keyed by step start (UTC, aware)."""
    steps = day_steps(day)
    start, end = local_day_bounds(day)
    relevant = tuple(e for e in episodes if e.clipped(start, end) is not None)
    billed = tuple(
        BilledStep(step, state, energies.get(step))
        for step, state in zip(steps, classify(steps=steps, episodes=relevant), strict=True)
    )
    # A stop ending at the next midnight is checked with the next day, whose steps follow it.
    returns = tuple(
        check_return(stop_end=e.end, steps=billed) for e in episodes if start <= e.end < end
    )
    return BillingDay(day, billed, relevant, unit, returns)


def check_return(*, stop_end: dt.datetime, steps: Sequence[BilledStep]) -> ReturnCheck:
    """Back at full power after a stop ending at ``stop_end``? (rule in the module docstring)."""
    index = next((i for i, s in enumerate(steps) if s.start >= stop_end), None)
    if index is None:
        return ReturnCheck(stop_end, stop_end, None, None, ReturnStatus.UNKNOWN, "fin de journée")
    first = steps[index]
    if first.state is not StepState.NORMAL:
        reason = "un autre arrêt suit aussitôt"
        return ReturnCheck(stop_end, first.start, first.energy, None, ReturnStatus.UNKNOWN, reason)
    window = steps[index + 1 : index + 1 + RETURN_WINDOW_STEPS]
    following = [s.energy for s in window if s.state is StepState.NORMAL and s.energy is not None]
    reference = max(following) if following else None
    if first.energy is None or reference is None:
        reason = "mesures manquantes après l'arrêt"
        return ReturnCheck(
            stop_end, first.start, first.energy, reference, ReturnStatus.UNKNOWN, reason
        )
    if reference <= 0 and first.energy <= 0:
        reason = "aucune production après l'arrêt : rien à comparer (nuit, vent nul, panne ?)"
        return ReturnCheck(
            stop_end, first.start, first.energy, reference, ReturnStatus.UNKNOWN, reason
        )
    if first.energy >= FULL_POWER_SHARE * reference:
        reason = "à pleine puissance dès la fin de l'arrêt"
        return ReturnCheck(stop_end, first.start, first.energy, reference, ReturnStatus.OK, reason)
    share = first.energy / reference * 100
    reason = (
        f"{share:.0f} % de la production des {RETURN_WINDOW_STEPS * 5} minutes suivantes "
        f"(au moins {FULL_POWER_SHARE * 100:.0f} % attendus)"
    )
    return ReturnCheck(stop_end, first.start, first.energy, reference, ReturnStatus.LATE, reason)


# --- Service: the stored schedules and the production series of one contract -------------------


class BillingError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def production_series(*, metering_point_id: int | None) -> Series | None:
    """The series the production is read from first (its unit is the billing's unit)."""
    if metering_point_id is None:
        return None
    point = MeteringPoint.objects.get(pk=metering_point_id)
    return best_series(metering_point=point, quantity=PRODUCTION_QUANTITY)


def production_energies(
    *, metering_point_id: int | None, day: dt.date
) -> tuple[dict[dt.datetime, float | None], str]:
    """The day's 5-minute production and its unit, each step from the best source covering it
    (``hub.selectors.sources``: the plant's TIC meter first, the uploaded CSV as the fallback)."""
    series = production_series(metering_point_id=metering_point_id)
    if series is None:
        return {}, ""
    start, end = local_day_bounds(day)
    read = read_best(
        metering_point=series.metering_point,
        quantity=PRODUCTION_QUANTITY,
        start=start,
        end=end,
        step=Step.MIN5,
    )
    # Shown in the unit of the first source (kWh for an upload, Wh for a meter).
    _base, factor = prefixed_unit(series.unit)
    energies = {
        r.start: None if r.value is None else r.value / float(factor) for r in read.readings
    }
    return energies, series.unit


def bill_contract_day(*, contract: Contract, day: dt.date) -> BillingDay:
    """Billing of ``contract`` (a smartoa Contract) for the local day ``day``.

    The stops are those of the latest version of the day and of its neighbours, merged, so a
    stop crossing midnight is neutralised only at its true start and end.
    """
    episodes = episodes_in_force(
        contract=contract, days=[day + dt.timedelta(days=offset) for offset in (-1, 0, 1)]
    )
    energies, unit = production_energies(metering_point_id=contract.metering_point_id, day=day)
    return bill(day=day, episodes=episodes, energies=energies, unit=unit)
