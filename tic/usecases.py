"""What one decoded frame means for the Flex Ready TIC use cases (seed 003 §2.4.3, critère 2).

Pure Python over ``tic.protocol``: a ``MeterRuntime`` per meter keeps, in memory, what the
derived values need (energy since the Td top of the previous frame, a short history for the
power over the last Td minutes, the subscribed power from SAPHIR long frames, the current tariff
periods, PREAVIS and drift flags), so that storing a frame never reads anything back.

* Clock synchronisation: meter ``DATE`` minus the time the DATE group left the meter
  (reception time less the wire time of the bytes after it), in seconds; alert past a
  threshold.
* Subscribed-power servo: power averaged over the last Td minutes from ``EA_s``/``EAPP_s``
  (PME-PMI; apparent energy when PS is in kVA, 02E §2.9.3) or ``EAS`` (SAPHIR), as a share of
  ``PS``/``PSpx``; ``PREAVIS`` start and end as events.
* Tariff piloting: current period per calendar (``PTCOUR1/2``, ``PTCOURD/F``, ``LTARF``,
  ``PTEC``) and its changes.
* Consumption tracking: active energy drawn per tariff period per Paris local day.
* Plausibility: an energy register (index or Td counter) that goes backwards, or forward
  faster than the meter's power allows, is not used; its value is stored flagged, counted,
  and the first of a run raises one ``implausible`` event. The next plausible value resumes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from dataclasses import dataclass, field

from hub import quantities
from hub.clock import PARIS, local_day_of
from tic.protocol import Frame, MeterFamily
from tic.protocol import saphir as saphir_layout

IDENTIFIER_LABELS = ("ADS", "ADSC", "ADCO")

# Energy since the last Td top (reset at each top): label → unit.
TD_ENERGY = {"EA_s": "Wh", "EAPP_s": "VAh", "EA_i": "Wh", "EAS": "Wh", "EAI": "Wh"}
# ... and the quantity its series holds (PME-PMI and SAPHIR name the same register apart).
TD_QUANTITY = {
    "EA_s": quantities.TD_ACTIVE_ENERGY_IMPORT.name,
    "EAS": quantities.TD_ACTIVE_ENERGY_IMPORT.name,
    "EA_i": quantities.TD_ACTIVE_ENERGY_EXPORT.name,
    "EAI": quantities.TD_ACTIVE_ENERGY_EXPORT.name,
    "EAPP_s": quantities.TD_APPARENT_ENERGY_IMPORT.name,
}
# Calendars whose current period the frame names: label → calendar.
TARIFF_LABELS = {
    "PTCOUR1": "distributeur",
    "PTCOURD": "distributeur",
    "PTCOUR2": "fournisseur",
    "PTCOURF": "fournisseur",
    "LTARF": "fournisseur",
    "PTEC": "fournisseur",
}
PREAVIS_LABELS = ("PREAVIS", "ADPS")
# Tariff periods as numbers, so a series can carry them (02E §2.9.3 (N), §2.10.3 (M);
# 01/54E PTEC). The portal and the API show the text; the series is for charts and joins.
PERIOD_CODES = {
    "P": 1, "PM": 2, "HH": 3, "HP": 4, "HC": 5, "HPH": 6, "HCH": 7, "HPE": 8, "HCE": 9,
    "HPD": 10, "HCD": 11, "JA": 12, "TH..": 20, "HC..": 21, "HP..": 22, "HN..": 23, "PM..": 24,
    "HCJB": 30, "HPJB": 31, "HCJW": 32, "HPJW": 33, "HCJR": 34, "HPJR": 35, "BASE": 40,
}  # fmt: skip
# Previous-period (P-1) values are fixed for a month: not worth a series.
_PREVIOUS_PERIOD = re.compile(r"-1|(SD|SF|ID)1$")
# Keep one point of the power history every few seconds: enough for a 5-10 minute window.
HISTORY_STEP = dt.timedelta(seconds=5)
# Below this, "the last Td minutes" are too short to give a meaningful mean power.
MIN_WINDOW = dt.timedelta(seconds=30)
RECENT_FRAMES = 3
# How fast an energy register may advance: twice the subscribed power (PS, PSpx, PREF,
# ISOUSC x 200 VA; a PME-PMI may overrun PS, 02E §2.9.3 (K), but not to twice its size on a
# connection sized for it; our choice), or the port's configured maximum. The slack covers
# frames read late from buffers (timestamps are reception times); one unit of the register
# (1 kWh for ``…kWh`` indexes) covers a register that ticks between two close frames.
PLAUSIBLE_POWER_FACTOR = 2.0
PLAUSIBLE_SLACK = dt.timedelta(seconds=5)
# Consecutive refused values that agree with one another become the new reference: a meter
# whose register really jumped (replaced, reset by Enedis) is not refused for ever.
ANCHOR_AFTER = 3


@dataclass(frozen=True, slots=True)
class Measure:
    quantity: str
    unit: str
    kind: str  # hub SeriesKind value: "index", "interval" or "instant"
    value: float
    # A step-like value (PS, tariff period): stored when it changes, and now and then.
    on_change: bool = False
    # False: an energy register refused as impossible; stored with a bad-quality flag.
    plausible: bool = True


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # tic.models.EventKind value
    at: dt.datetime
    calendar: str = ""
    previous: str = ""
    current: str = ""
    value: float | None = None


@dataclass(slots=True)
class Outcome:
    measures: list[Measure] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    # (Paris day, calendar, period) → Wh drawn since the previous frame.
    energy: dict[tuple[dt.date, str, str], float] = field(default_factory=dict)
    implausible: int = 0  # energy registers refused in this frame
    # A Td top passed on the meter's clock since the previous frame: the Td counters restarted.
    td_restarted: bool = False


@dataclass(slots=True)
class MeterRuntime:
    """In-memory state of one meter between frames."""

    td_minutes: int = 10
    drift_threshold: float = 60.0
    last_values: dict[str, str] = field(default_factory=dict)
    typed: dict[str, object] = field(default_factory=dict)
    tariff_periods: dict[str, str] = field(default_factory=dict)
    preavis: bool = False
    preavis_since: dt.datetime | None = None
    drift_alert: bool = False
    drift: float | None = None
    subscribed_power: float | None = None
    power_unit: str = ""
    power: float | None = None
    power_share: float | None = None
    family: str = ""
    mode: str = ""
    recent: deque[dict[str, object]] = field(default_factory=lambda: deque(maxlen=RECENT_FRAMES))
    _td_energy: float | None = None
    _td_top: dt.datetime | None = None  # the Td period (meter's local time) of the last frame
    _apparent: int | None = None  # last EAPP_s
    _total_energy: float | None = None  # Linky/blue: sum of the indexes, for daily energy
    _cumulative: float = 0.0  # energy summed over frames (the servo's time base)
    _history: deque[tuple[dt.datetime, float]] = field(default_factory=deque)
    max_power: float | None = None  # configured on the port (VA), bounds register increase
    implausible_alert: bool = False  # a run of refused values is under way
    # Series quantity (``energy_index_east``…) → last accepted (value, reception time).
    accepted: dict[str, tuple[float, dt.datetime]] = field(default_factory=dict)
    _suspects: dict[str, list[tuple[float, dt.datetime]]] = field(default_factory=dict)

    def restore(
        self,
        *,
        td_points: dict[str, list[tuple[dt.datetime, float]]],
        last_values: dict[str, tuple[float, dt.datetime]],
        subscribed_power: float | None,
        power_unit: str,
    ) -> None:
        """Take up after a restart from stored series, so the power over Td needs no warm-up.

        ``td_points``: the ``td-…`` series' measured points over the last Td minutes, oldest
        first; ``last_values``: each energy register's last measured value.
        """
        self.accepted.update(last_values)
        self.subscribed_power, self.power_unit = subscribed_power, power_unit
        apparent = td_points.get(quantities.TD_APPARENT_ENERGY_IMPORT.name)
        active = td_points.get(quantities.TD_ACTIVE_ENERGY_IMPORT.name)
        if active:
            self._td_energy = active[-1][1]
        if apparent:
            self._apparent = int(apparent[-1][1])
        replay = apparent if power_unit == "VA" and apparent else active
        if not replay:
            return
        previous: float | None = None
        for at, value in replay:
            if previous is not None:
                self._cumulative += value - previous if value >= previous else value
            previous = value
            if not self._history or at - self._history[-1][0] >= HISTORY_STEP:
                self._history.append((at, self._cumulative))


def identifier_of(frame: Frame) -> str | None:
    for label in IDENTIFIER_LABELS:
        value = frame.value(label)
        if isinstance(value, str) and value:
            return value
    return None


def summary(frame: Frame, at: dt.datetime) -> dict[str, object]:
    """A frame as the portal lists it: labels and raw data, never the bytes."""
    return {
        "at": at.isoformat(),
        "valid": frame.valid,
        "interrupted": frame.interrupted,
        "bad_groups": frame.bad_groups,
        "errors": frame.errors[:5],
        # Pairs, not an object: a JSONB object would not keep the frame's order.
        "groups": [[label, group.raw] for label, group in frame.groups.items()],
    }


def process(
    runtime: MeterRuntime, frame: Frame, *, at: dt.datetime, baud: int | None = None
) -> Outcome:
    """Update ``runtime`` with a valid ``frame`` received at ``at`` (UTC); return what to store."""
    outcome = Outcome()
    runtime.recent.appendleft(summary(frame, at))
    runtime.family = frame.meter.value
    runtime.mode = frame.mode
    # SAPHIR long-frame labels stay known between long frames (02E §2.10.1).
    runtime.last_values.update({label: g.raw for label, g in frame.groups.items()})
    runtime.typed.update({label: g.value for label, g in frame.groups.items()})
    if isinstance(td := frame.value("TD"), int) and td > 0:
        runtime.td_minutes = td
    refused = _plausibility(runtime, frame, outcome, at=at)
    _indexes(frame, outcome, refused)
    _clock(runtime, frame, outcome, at=at, baud=baud)
    outcome.td_restarted = _td_restarted(runtime, frame)
    drawn = _drawn_energy(runtime, frame, outcome, refused)
    _servo(runtime, frame, outcome, at=at, drawn=drawn, refused=refused)
    _tariffs(runtime, frame, outcome, at=at)
    if drawn:
        day = local_day_of(at)
        periods = runtime.tariff_periods or {"total": "total"}
        for calendar, period in periods.items():
            key = (day, calendar, period)
            outcome.energy[key] = outcome.energy.get(key, 0.0) + drawn
    return outcome


def _registers(frame: Frame) -> list[tuple[str, str, int, bool]]:
    """Energy registers of the frame: (label, series quantity, value, resets at each Td top)."""
    found = []
    for label, group in frame.groups.items():
        if not isinstance(group.value, int) or group.unit not in ("Wh", "VAh"):
            continue
        if label in TD_ENERGY:
            found.append((label, TD_QUANTITY[label], group.value, True))
        elif group.unit == "Wh" and not _PREVIOUS_PERIOD.search(label):
            found.append((label, quantities.index_for(label).name, group.value, False))
    return found


def _power_limit(runtime: MeterRuntime, frame: Frame) -> float | None:
    """Most power (W or VA) the meter can draw, or ``None`` when nothing tells it."""
    if runtime.max_power:
        return runtime.max_power
    ps, _unit = _subscribed_power(runtime, frame)
    if not ps:
        return None
    if "IINST3" in frame.groups and "ISOUSC" in frame.groups:
        ps *= 3  # three-phase blue meter: ISOUSC is per phase (54E §6.1)
    return ps * PLAUSIBLE_POWER_FACTOR


def _follows(
    previous: tuple[float, dt.datetime], value: float, at: dt.datetime, *, resets: bool,
    limit: float | None, unit: float,
) -> bool:  # fmt: skip
    """Whether ``value`` at ``at`` can follow ``previous`` on the same register."""
    before, then = previous
    hours = (max(at - then, dt.timedelta(0)) + PLAUSIBLE_SLACK).total_seconds() / 3600
    allowance = float("inf") if limit is None else limit * hours + unit
    if value >= before:
        return value - before <= allowance
    # A Td counter restarts from 0 at each top (02E §2.9.3): what it holds is recent.
    return resets and value <= allowance


def _plausibility(
    runtime: MeterRuntime, frame: Frame, outcome: Outcome, *, at: dt.datetime
) -> set[str]:
    """Labels of the energy registers refused in this frame (and the bookkeeping of it)."""
    registers = _registers(frame)
    if not registers:
        return set()
    limit = _power_limit(runtime, frame)
    refused: set[str] = set()
    for label, quantity, value, resets in registers:
        unit = 1000.0 if frame.groups[label].raw.endswith("kWh") else 1.0
        previous = runtime.accepted.get(quantity)
        reading = (float(value), at)
        if previous is None or _follows(previous, value, at, resets=resets, limit=limit, unit=unit):
            runtime.accepted[quantity] = reading
            runtime._suspects.pop(quantity, None)
            continue
        refused.add(label)
        run = runtime._suspects.setdefault(quantity, [])
        if run and not _follows(run[-1], value, at, resets=resets, limit=limit, unit=unit):
            run.clear()
        run.append(reading)
        if len(run) >= ANCHOR_AFTER:  # the register did move: take it from here, book nothing
            runtime.accepted[quantity] = reading
            run.clear()
            _forget(runtime, label)
    outcome.implausible = len(refused)
    if refused and not runtime.implausible_alert:
        first = next(value for label, _q, value, _r in registers if label in refused)
        outcome.events.append(
            Event("implausible", at, current=", ".join(sorted(refused)), value=float(first))
        )
    runtime.implausible_alert = bool(refused)
    return refused


def _forget(runtime: MeterRuntime, label: str) -> None:
    """Drop what energy is derived from, for a register taken up at a new value."""
    if label in ("EA_s", "EAS"):
        runtime._td_energy = None
    elif label == "EAPP_s":
        runtime._apparent = None
    elif label not in TD_ENERGY:
        runtime._total_energy = None


def _indexes(frame: Frame, outcome: Outcome, refused: set[str]) -> None:
    for label, group in frame.groups.items():
        if group.unit != "Wh" or label in TD_ENERGY or _PREVIOUS_PERIOD.search(label):
            continue
        if isinstance(group.value, int):
            outcome.measures.append(
                Measure(
                    quantities.index_for(label).name, "Wh", "index", group.value,
                    plausible=label not in refused,
                )
            )  # fmt: skip


def _clock(
    runtime: MeterRuntime, frame: Frame, outcome: Outcome, *, at: dt.datetime, baud: int | None
) -> None:
    meter_time = frame.value("DATE")
    if not isinstance(meter_time, dt.datetime):
        return
    sent = at
    if baud and frame.raw:
        # The DATE group left the meter before the rest of the frame: at 1200 Bd a PME-PMI
        # frame takes 7 s on the wire (10 bits per character, 02E §1.5.1).
        position = frame.raw.find(b"\nDATE")
        if position >= 0:
            sent = at - dt.timedelta(seconds=(len(frame.raw) - position) * 10 / baud)
    drift = (meter_time - sent).total_seconds()
    if frame.groups["DATE"].ambiguous:
        # PME-PMI and SAPHIR dates carry no season (02E §2.9.3, §2.10.3): on the repeated
        # October hour the decoder took the first pass; the second is one hour later. The
        # reading closer to our clock is the one the meter meant.
        second_pass = drift + 3600
        drift = second_pass if abs(second_pass) < abs(drift) else drift
    runtime.drift = round(drift, 3)
    outcome.measures.append(Measure(quantities.CLOCK_DRIFT.name, "s", "instant", runtime.drift))
    beyond = abs(drift) > runtime.drift_threshold
    if beyond != runtime.drift_alert:
        runtime.drift_alert = beyond
        kind = "drift_alert" if beyond else "drift_cleared"
        outcome.events.append(Event(kind, at, value=runtime.drift))


def _td_restarted(runtime: MeterRuntime, frame: Frame) -> bool:
    """Whether a Td top passed on the meter's clock (``DATE``) since the previous frame.

    The Td counters restart from 0 at each top (02E §2.9.3). A value below the previous one
    says so too, but not always: a load that starts just before a top gives a first value
    after it no lower than the last one before it, and taking the difference then books
    nothing for that interval. Without a date only the values tell.
    """
    meter_time = frame.value("DATE")
    if not isinstance(meter_time, dt.datetime):
        runtime._td_top = None
        return False
    local = meter_time.astimezone(PARIS).replace(tzinfo=None)
    minutes = local.hour * 60 + local.minute
    top = local.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(
        minutes=minutes - minutes % runtime.td_minutes
    )
    previous, runtime._td_top = runtime._td_top, top
    return previous is not None and top != previous


def _since_previous(value: float, previous: float, *, restarted: bool) -> float:
    """Energy counted by a Td counter since its previous value."""
    # The counter restarts at each Td top: what was drawn since is the new value.
    return value if restarted or value < previous else value - previous


def _drawn_energy(
    runtime: MeterRuntime, frame: Frame, outcome: Outcome, refused: set[str]
) -> float:
    """Active energy drawn since the previous frame (Wh), from the Td counter or the indexes."""
    td_label = next((label for label in ("EA_s", "EAS") if label in frame.groups), None)
    for label, unit in TD_ENERGY.items():
        value = frame.value(label)
        if isinstance(value, int):
            outcome.measures.append(
                Measure(TD_QUANTITY[label], unit, "instant", value, plausible=label not in refused)
            )
    if td_label is not None:
        value = frame.value(td_label)
        if not isinstance(value, int) or td_label in refused:
            return 0.0
        previous, runtime._td_energy = runtime._td_energy, float(value)
        if previous is None:
            return 0.0
        return _since_previous(float(value), previous, restarted=outcome.td_restarted)
    if any(m.kind == "index" and not m.plausible for m in outcome.measures):
        return 0.0  # the reference stays the last plausible total
    if isinstance(total := frame.value("EAST"), int):
        current = float(total)
    else:
        indexes = [m.value for m in outcome.measures if m.kind == "index"]
        if not indexes:
            return 0.0
        current = float(sum(indexes))
    previous, runtime._total_energy = runtime._total_energy, current
    if previous is None or current < previous:
        return 0.0
    return current - previous


def _subscribed_power(runtime: MeterRuntime, frame: Frame) -> tuple[float | None, str]:
    if isinstance(ps := frame.value("PS"), int):  # PME-PMI: kVA (BT > 36 kVA) or kW (HTA)
        return float(ps), frame.groups["PS"].unit or ""
    if frame.meter is MeterFamily.SAPHIR:
        period = runtime.tariff_periods.get("distributeur") or frame.value("PTCOURD")
        if isinstance(period, str):
            number = saphir_layout.period_number(period, runtime.typed)
            value = runtime.typed.get(f"PSp{number}") if number else None
            if isinstance(value, int):
                return float(value), "W"
        return runtime.subscribed_power, runtime.power_unit
    if isinstance(pref := frame.value("PREF"), int):  # Linky standard, VA
        return float(pref), "VA"
    if isinstance(isousc := frame.value("ISOUSC"), int):  # historique: 200 VA per ampere
        return float(isousc * 200), "VA"
    return None, ""


def _servo(
    runtime: MeterRuntime,
    frame: Frame,
    outcome: Outcome,
    *,
    at: dt.datetime,
    drawn: float,
    refused: set[str],
) -> None:
    ps, unit = _subscribed_power(runtime, frame)
    runtime.subscribed_power, runtime.power_unit = ps, unit
    if ps is not None:
        outcome.measures.append(
            Measure(quantities.SUBSCRIBED_POWER.name, unit, "instant", ps, on_change=True)
        )
    power = _power_over_td(
        runtime,
        frame,
        at=at,
        drawn=drawn,
        unit=unit,
        refused=refused,
        restarted=outcome.td_restarted,
    )
    if power is None:
        for label in ("SINSTS", "PAPP"):  # Linky and blue meters give the power directly
            if isinstance(value := frame.value(label), int):
                power = float(value)
                break
    runtime.power = power
    if power is not None:
        power_unit = unit or "W"
        name = quantities.power_for(power_unit).name
        outcome.measures.append(Measure(name, power_unit, "instant", round(power, 3)))
    runtime.power_share = round(100 * power / ps, 2) if power is not None and ps else None
    if runtime.power_share is not None:
        share = quantities.SUBSCRIBED_POWER_SHARE.name
        outcome.measures.append(Measure(share, "%", "instant", runtime.power_share))
    active = any(label in frame.groups for label in PREAVIS_LABELS)
    if active != runtime.preavis:
        runtime.preavis = active
        runtime.preavis_since = at if active else None
        kind = "preavis_start" if active else "preavis_end"
        outcome.events.append(Event(kind, at, value=runtime.power_share))


def _power_over_td(
    runtime: MeterRuntime,
    frame: Frame,
    *,
    at: dt.datetime,
    drawn: float,
    unit: str,
    refused: set[str],
    restarted: bool,
) -> float | None:
    """Mean power over the last Td minutes (or since the first frame, if shorter)."""
    # With PS in kVA the overrun is on apparent power (02E §2.9.3 (I)): follow EAPP_s then.
    label = "EAPP_s" if unit == "VA" and "EAPP_s" in frame.groups else None
    if label is None and not any(name in frame.groups for name in ("EA_s", "EAS")):
        return None
    if label is not None:
        value = frame.value(label)
        if not isinstance(value, int):
            return None
        if label in refused:
            drawn = 0.0  # the reference stays the last plausible EAPP_s
        else:
            previous, runtime._apparent = runtime._apparent, value
            drawn = (
                0.0
                if previous is None
                else _since_previous(float(value), float(previous), restarted=restarted)
            )
    runtime._cumulative += drawn
    history = runtime._history
    if not history or at - history[-1][0] >= HISTORY_STEP:
        history.append((at, runtime._cumulative))
    window = dt.timedelta(minutes=runtime.td_minutes)
    while len(history) > 1 and at - history[1][0] >= window:
        history.popleft()
    start, energy_then = history[0]
    span = at - start
    if span < MIN_WINDOW:
        return None
    return (runtime._cumulative - energy_then) * 3600 / span.total_seconds()


def _tariffs(runtime: MeterRuntime, frame: Frame, outcome: Outcome, *, at: dt.datetime) -> None:
    for label, calendar in TARIFF_LABELS.items():
        value = frame.value(label)
        if not isinstance(value, str) or not value.strip():
            continue
        period = value.strip()
        code = PERIOD_CODES.get(period)
        if code is not None:
            outcome.measures.append(
                Measure(
                    quantities.tariff_period_for(calendar).name,
                    "",
                    "instant",
                    code,
                    on_change=True,
                )
            )
        previous = runtime.tariff_periods.get(calendar)
        if previous != period:
            runtime.tariff_periods[calendar] = period
            if previous is not None:
                outcome.events.append(Event("tariff_change", at, calendar, previous, period))
