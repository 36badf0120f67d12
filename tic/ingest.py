"""Storing what the readers receive: series in batches, meter state, events, counters.

Readers (one thread per port, ``tic.reader``) hand ``Received`` frames and ``PortStatus``
changes to one ``Ingestor``, which keeps everything in memory and writes it every
``flush_interval`` seconds in one transaction: all series points of the batch through
``hub.services.series.upsert_rows`` (binary COPY on PostgreSQL), the events, the energy per
tariff period per day (incremented in the database), the meters' state (at most every
``state_interval`` seconds per meter, at once when an event happened) and the ports' state.

Items come in chunks (``handle_many``): the meters, metering points and series a chunk sees
first are looked up and created together, a few statements whatever their number.

Counters are written as increments. With port leases (``tic.leases``, set by ``tic_read``'s
runner through ``lease``), a batch carries the fencing token of each port it holds, and its
transaction first checks them: the part of a port whose lease was lost is refused (not stored,
counted, logged) and the reader stops reading that port.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import operator
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial, reduce
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import Case, DateTimeField, F, Max, Q, Value, When

from hub import quantities
from hub.control.models import ControllableLoad
from hub.models import MeteringPoint, MeteringPointKind, Point, Quality, Series, SeriesKind
from hub.services.series import Row, SeriesWriteError, ensure_many_series, upsert_rows
from tic import alerts, leases, telemetry
from tic.controllers import servo_thresholds
from tic.models import EventKind, PortState, TicEvent, TicMeter, TicPort
from tic.protocol import Frame
from tic.usecases import TD_QUANTITY, MeterRuntime, Outcome, identifier_of, process, summary

logger = logging.getLogger(__name__)

SOURCE = "tic"
# A value stored on change only is still stored this often, so charts need not look far back.
KEEPALIVE = dt.timedelta(minutes=5)
CONTROL_EVENTS = {EventKind.PREAVIS_START.value, EventKind.PREAVIS_END.value}
# Rows kept across failed flushes (database away) before the oldest are dropped.
MAX_PENDING_ROWS = 500_000

# The 5-minute load curves (Smart OA bills on 5-minute steps; Flex Ready reads mean power):
# the active energy of each step, from the increments of the frame's first register below
# (label, restarts from 0 at each Td top). Labels per family, 02E §2.9.3 (PME-PMI: EA_s, EA_i
# in Wh since the Td top; EAP_i in kWh for the current period), §2.10.3 (SAPHIR: EAS, EAI),
# 54E §6.2 (Linky standard: EAST, EAIT totals), §6.1 (historique: the option's indexes).
CURVE_STEP = dt.timedelta(minutes=5)
CURVE_REGISTERS = {
    "import": (("EA_s", True), ("EAS", True), ("EAST", False)),
    "export": (("EA_i", True), ("EAI", True), ("EAIT", False), ("EAP_i", False)),
}
HISTORIQUE_INDEXES = (
    "BASE", "HCHC", "HCHP", "EJPHN", "EJPHPM",
    "BBRHCJB", "BBRHPJB", "BBRHCJW", "BBRHPJW", "BBRHCJR", "BBRHPJR",
)  # fmt: skip
# Frames come every 1-10 s (a PME-PMI frame takes 7 s at 1200 Bd); a longer silence is an
# outage, across which a Td counter may have restarted unseen: the curve starts afresh.
CURVE_MAX_GAP = dt.timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class Received:
    port_id: int
    frame: Frame
    at: dt.datetime  # UTC, when the frame's ETX (or its interruption) was read
    baud: int | None = None


@dataclass(frozen=True, slots=True)
class LineCounts:
    """Bytes outside frames and parity errors a port's decoder counted since its last report."""

    port_id: int
    noise_bytes: int
    parity_errors: int


@dataclass(frozen=True, slots=True)
class PortStatus:
    port_id: int
    state: str
    at: dt.datetime
    baud: int | None = None
    error: str = ""


@dataclass(slots=True)
class _Counters:
    """The decoder's counters (``tic.protocol.Counters``), same definitions, kept per port and
    per meter: frames = valid + invalid + interrupted. They hold what was counted since the last
    write (``take``), which adds them to the stored totals: readers that took a port over from
    one another never overwrite each other's counts, and a batch is counted once, in the
    transaction that stores it."""

    frames: int = 0
    valid: int = 0
    invalid: int = 0
    interrupted: int = 0
    bad_groups: int = 0
    last_frame_at: dt.datetime | None = None
    noise_bytes: int = 0  # ports only
    parity_errors: int = 0  # ports only
    implausible: int = 0  # meters only

    def count(self, frame: Frame, at: dt.datetime) -> None:
        self.frames += 1
        if frame.interrupted:
            self.interrupted += 1
        elif frame.valid:
            self.valid += 1
            self.last_frame_at = at
        else:
            self.invalid += 1
        self.bad_groups += frame.bad_groups

    def take(self) -> dict[str, Any]:
        """The increments to store, and a fresh start."""
        values = {name: getattr(self, name) for name in _ADDED}
        values["last_frame_at"] = self.last_frame_at
        self.frames = self.valid = self.invalid = self.interrupted = self.bad_groups = 0
        self.noise_bytes = self.parity_errors = self.implausible = 0
        self.last_frame_at = None
        return values


# Counter columns written as increments (``col = col + delta``); ``last_frame_at`` as a maximum.
_ADDED = (
    "frames",
    "valid",
    "invalid",
    "interrupted",
    "bad_groups",
    "noise_bytes",
    "parity_errors",
    "implausible",
)


@dataclass(slots=True)
class _Port:
    row: TicPort
    counters: _Counters
    meter: _Meter | None = None
    dirty: bool = False
    urgent: bool = False
    saved_at: float = -1e9


@dataclass(slots=True)
class _Curve:
    """Active energy per 5-minute step of one direction, from one register's increments.

    The energy between two frames is spread evenly over the time between them. A step is given
    out once a frame has passed its end, and only when one unbroken run of frames covers it
    from its start: a step the reader saw only part of is left to the other sources (the
    selector's per-step fallback), never booked short. A run breaks on a gap longer than
    ``CURVE_MAX_GAP``, a register going backwards (an index; a Td counter restarts), a refused
    register or a change of register. A Td counter that restarts loses what was drawn between
    the last frame before the top and the top (one frame period, a few seconds of Td).
    """

    label: str = ""
    value: float = 0.0
    at: dt.datetime | None = None
    since: dt.datetime | None = None
    open: dict[dt.datetime, float] = field(default_factory=dict)

    def stop(self) -> None:
        self.at = self.since = None
        self.open = {}

    def feed(
        self, label: str, value: float, *, resets: bool, at: dt.datetime, restarted: bool = False
    ) -> list[tuple[dt.datetime, float]]:
        """Take a reading (``restarted``: a Td top passed since the last one, on the meter's
        clock); return the steps it closed, (start, Wh), oldest first."""
        previous, then = self.value, self.at
        fresh = then is None or label != self.label or at - then > CURVE_MAX_GAP
        if not fresh and value < previous and not resets:
            fresh = True
        self.label, self.value = label, value
        if fresh or then is None:
            self.at = self.since = at
            self.open = {}
            return []
        delta = value if (resets and restarted) or value < previous else value - previous
        if at <= then:
            # Two frames read in one go carry one reception time: the step of the first.
            start = _step_of(then)
            self.open[start] = self.open.get(start, 0.0) + delta
            return []
        self.at = at
        _spread(self.open, then, at, delta)
        closed = sorted(b for b in self.open if b + CURVE_STEP <= at)
        found = []
        for start in closed:
            wh = self.open.pop(start)
            if self.since is not None and self.since <= start:
                found.append((start, wh))
        return found


def _step_of(instant: dt.datetime) -> dt.datetime:
    epoch, step = int(instant.timestamp()), int(CURVE_STEP.total_seconds())
    return dt.datetime.fromtimestamp(epoch - epoch % step, tz=dt.UTC)


def _spread(
    buckets: dict[dt.datetime, float], start: dt.datetime, end: dt.datetime, wh: float
) -> None:
    span = (end - start).total_seconds()
    cursor = _step_of(start)
    while cursor < end:
        following = cursor + CURVE_STEP
        overlap = (min(end, following) - max(start, cursor)).total_seconds()
        if overlap > 0:
            buckets[cursor] = buckets.get(cursor, 0.0) + wh * overlap / span
        cursor = following


def curve_reading(frame: Frame, direction: str) -> tuple[str, float, bool, list[str]] | None:
    """The register a frame gives for a direction's load curve: (label, Wh, restarts at the Td
    top, the series quantities it is stored under, for their plausibility)."""
    for label, resets in CURVE_REGISTERS[direction]:
        group = frame.groups.get(label)
        if group is None or not isinstance(group.value, int):
            continue
        factor = 1000.0 if group.raw.endswith("kWh") else 1.0
        register = TD_QUANTITY.get(label) or quantities.index_for(label).name
        return label, group.value * factor, resets, [register]
    if direction != "import":
        return None
    found = [(label, frame.value(label)) for label in HISTORIQUE_INDEXES]
    values = [(label, v) for label, v in found if isinstance(v, int)]
    if not values:
        return None
    stored = [quantities.index_for(label).name for label, _v in values]
    return "+".join(label for label, _v in values), float(sum(v for _l, v in values)), False, stored


@dataclass(slots=True)
class _Meter:
    row: TicMeter
    counters: _Counters
    runtime: MeterRuntime
    series: dict[str, int] = field(default_factory=dict)
    # Step-like quantities: last value stored and when (see Measure.on_change).
    stored: dict[str, tuple[float, dt.datetime]] = field(default_factory=dict)
    dirty: bool = False
    frames_dirty: bool = False
    urgent: bool = False
    saved_at: float = -1e9
    frames_saved_at: float = -1e9
    # Where the power share stands against the servo's thresholds (0 below release, 1 between,
    # 2 at or over shed); a change asks the control layer for an evaluation at once.
    zone: int | None = None
    control_due: bool = False
    curves: dict[str, _Curve] = field(
        default_factory=lambda: {direction: _Curve() for direction in CURVE_REGISTERS}
    )


@dataclass(slots=True)
class FlushStats:
    rows: int = 0
    frames: int = 0
    events: int = 0
    meters: int = 0
    # Refused because the port's lease was lost: points not stored, and the ports, each with
    # the generation the refused batch carried.
    refused_rows: int = 0
    lost: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Fence:
    """The leases a reader holds when a batch is collected: its holder name and, per port, the
    lease's generation (``tic.leases``). A port without one is not written."""

    holder: str
    generations: dict[int, int]


class Ingestor:
    def __init__(
        self,
        *,
        drift_threshold: float = 60.0,
        state_interval: float = 5.0,
        frames_interval: float = 10.0,
        energy_interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.drift_threshold = drift_threshold
        self.state_interval = state_interval
        # The values and last frames of a frame are most of a meter's row (JSON, ~1-4 KB): they
        # are rewritten less often than the use cases' columns (power, PS, drift, PREAVIS…).
        self.frames_interval = max(frames_interval, state_interval)
        # Energy per period per day is a daily figure: summed in memory a little longer.
        self.energy_interval = energy_interval
        self._energy_due = 0.0
        self._clock = clock
        self._ports: dict[int, _Port] = {}
        self._meters: dict[tuple[int, str], _Meter] = {}
        self._rows: dict[int, list[Row]] = defaultdict(list)  # per port
        self._events: list[tuple[_Meter, TicEvent]] = []
        self._energy: dict[tuple[int, dt.date, str, str], float] = defaultdict(float)
        self._frames: dict[int, int] = defaultdict(int)
        self._retry: list[Batch] = []
        self._fence: Fence | None = None
        # Series first needed by the items in hand: placeholder id → (meter, quantity, unit,
        # kind, step).
        self._wanted_series: dict[int, tuple[_Meter, str, str, SeriesKind, int | None]] = {}

    # -- leases --

    def lease(self, *, holder: str, generations: dict[int, int]) -> None:
        """Write only the ports of these leases from now on, each batch checked against them
        (from the thread that handles frames)."""
        self._fence = Fence(holder, dict(generations))

    def lost(self, port_id: int, generation: int) -> bool:
        """A batch of this port at this generation was refused: forget the port (what is
        pending and what its meters keep in memory; a later lease restores them from the
        database) and handle nothing more of it. False when the lease was taken again since."""
        fence = self._fence
        if fence is None or fence.generations.get(port_id) != generation:
            return False
        generations = {pk: g for pk, g in fence.generations.items() if pk != port_id}
        self._fence = Fence(fence.holder, generations)
        self.forget(port_id)
        return True

    def forget(self, port_id: int) -> None:
        """Drop what is kept of a port and its meters (from the thread that handles frames)."""
        self._ports.pop(port_id, None)
        meters = {k: m for k, m in self._meters.items() if k[0] == port_id}
        for key in meters:
            del self._meters[key]
        ids = {m.row.pk for m in meters.values()}
        self._rows.pop(port_id, None)
        self._frames.pop(port_id, None)
        self._events = [(m, e) for m, e in self._events if m.row.port_id != port_id]
        for day_key in [k for k in self._energy if k[0] in ids]:
            del self._energy[day_key]

    # -- receiving (no database access but the first sight of a port, meter or series) --

    def handle(self, item: Received | PortStatus | LineCounts) -> None:
        self.handle_many([item])

    def handle_many(self, items: Iterable[Received | PortStatus | LineCounts]) -> None:
        """Handle items in their order. The ports and meters first seen among them are read,
        or created, in a few statements whatever their number, and so are the series they
        first need: one by one, 5,000 new meters took minutes before anything was stored."""
        fence = self._fence
        kept = [i for i in items if fence is None or i.port_id in fence.generations]
        if not kept:
            return
        self._load(kept)
        try:
            for item in kept:
                self._handle(item)
        finally:
            self._resolve_series()

    def _handle(self, item: Received | PortStatus | LineCounts) -> None:
        if self._fence is not None and item.port_id not in self._fence.generations:
            return  # a port whose lease this reader lost or gave back
        if isinstance(item, PortStatus):
            self._status(item)
        elif isinstance(item, LineCounts):
            self._line_counts(item)
        else:
            self._received(item)

    def _line_counts(self, counts: LineCounts) -> None:
        port = self._port(counts.port_id)
        if port is None:
            return
        port.counters.noise_bytes += counts.noise_bytes
        telemetry.noise(counts.port_id, counts.noise_bytes)
        port.counters.parity_errors += counts.parity_errors
        port.dirty = True

    def _status(self, status: PortStatus) -> None:
        port = self._port(status.port_id)
        if port is None:
            return
        row = port.row
        if row.state != status.state:
            row.state_since = status.at
        row.state = status.state
        telemetry.port_state(status.port_id, status.state)
        row.current_baud = status.baud
        if status.error or status.state == PortState.READING:
            row.last_error = status.error[:300]
        port.dirty = port.urgent = True

    def _received(self, item: Received) -> None:
        port = self._port(item.port_id)
        if port is None:
            return
        frame, at = item.frame, item.at
        self._frames[item.port_id] += 1
        port.counters.count(frame, at)
        telemetry.frame(item.port_id, frame)
        port.dirty = True
        identifier = identifier_of(frame) if frame.valid else None
        meter = self._meter(port, identifier, frame, at) if identifier else port.meter
        if meter is None:
            return
        port.meter = meter
        meter.counters.count(frame, at)
        meter.dirty = meter.frames_dirty = True
        if not frame.valid:
            meter.runtime.recent.appendleft(summary(frame, at))
            return
        outcome = process(meter.runtime, frame, at=at, baud=item.baud)
        meter.counters.implausible += outcome.implausible
        self._watch_share(meter)
        telemetry.meter(meter.row, meter.runtime, outcome.events)
        for measure in outcome.measures:
            if measure.on_change:
                last = meter.stored.get(measure.quantity)
                if last is not None and last[0] == measure.value and at - last[1] < KEEPALIVE:
                    continue
                meter.stored[measure.quantity] = (measure.value, at)
            series_id = meter.series.get(measure.quantity)
            if series_id is None:
                series_id = self._series(meter, measure.quantity, measure.unit, measure.kind)
            # A refused register keeps its value for inspection, flagged: no measurement.
            quality = Quality.MEASURED if measure.plausible else Quality.MISSING
            self._rows[item.port_id].append((series_id, at, measure.value, quality, False))
        self._curves(meter, frame, outcome, at)
        for event in outcome.events:
            meter.urgent = True
            if event.kind in CONTROL_EVENTS:
                meter.control_due = True
            if event.kind == "implausible":
                logger.warning(
                    "tic: meter %s: impossible value of %s refused (%s)",
                    meter.row.identifier,
                    event.current,
                    event.value,
                )
            self._events.append(
                (
                    meter,
                    TicEvent(
                        organisation_id=meter.row.organisation_id,
                        meter_id=meter.row.pk,
                        kind=event.kind,
                        at=event.at,
                        calendar=event.calendar,
                        previous=event.previous,
                        current=event.current,
                        value=event.value,
                    ),
                )
            )
        for (day, calendar, period), wh in outcome.energy.items():
            self._energy[(meter.row.pk, day, calendar, period)] += wh

    def _curves(self, meter: _Meter, frame: Frame, outcome: Outcome, at: dt.datetime) -> None:
        """The 5-minute energy curves of both directions, and for a meter whose power over Td
        is apparent (PS in kVA, Linky's VA) the mean active power of each step, which Flex
        Ready's realisation needs."""
        refused = {m.quantity for m in outcome.measures if not m.plausible}
        for direction, curve in meter.curves.items():
            reading = curve_reading(frame, direction)
            if reading is None:
                continue
            label, wh, resets, stored = reading
            if refused.intersection(stored):
                curve.stop()
                continue
            closed = curve.feed(label, wh, resets=resets, at=at, restarted=outcome.td_restarted)
            if not closed:
                continue
            energy = (
                quantities.ACTIVE_ENERGY_IMPORT
                if direction == "import"
                else quantities.ACTIVE_ENERGY_EXPORT
            )
            energy_id = self._step_series(meter, energy)
            apparent = direction == "import" and meter.runtime.power_unit.endswith("VA")
            power_id = self._step_series(meter, quantities.ACTIVE_POWER_IMPORT) if apparent else 0
            seconds = CURVE_STEP.total_seconds()
            rows = self._rows[meter.row.port_id]
            for start, step_wh in closed:
                rows.append((energy_id, start, round(step_wh, 3), Quality.MEASURED, False))
                if power_id:
                    watts = round(step_wh * 3600 / seconds, 3)
                    rows.append((power_id, start, watts, Quality.MEASURED, False))

    def _step_series(self, meter: _Meter, quantity: quantities.Quantity) -> int:
        series_id = meter.series.get(quantity.name)
        if series_id is None:
            kind = SeriesKind(quantity.kind.value)
            step = int(CURVE_STEP.total_seconds())
            series_id = self._series(meter, quantity.name, quantity.unit, kind, step=step)
        return series_id

    @staticmethod
    def _watch_share(meter: _Meter) -> None:
        share = meter.runtime.power_share
        if share is None:
            return
        shed, release = servo_thresholds(meter.runtime.last_values)
        zone = 2 if share >= shed else 0 if share <= release else 1
        previous, meter.zone = meter.zone, zone
        # A first reading only matters when it is already over the shed threshold (a restart
        # in the middle of an overrun); the state goes out in this batch, not at its pace.
        if zone != previous and (previous is not None or zone == 2):
            meter.control_due = meter.urgent = True

    def _port(self, port_id: int) -> _Port | None:
        port = self._ports.get(port_id)
        if port is None:
            self._load_ports({port_id})
            port = self._ports.get(port_id)
        return port

    def _load_ports(self, port_ids: set[int]) -> None:
        rows = TicPort.objects.select_related("metering_point").filter(pk__in=port_ids)
        for row in rows:
            self._ports[row.pk] = _Port(row, _Counters())

    def _meter(self, port: _Port, identifier: str, frame: Frame, at: dt.datetime) -> _Meter:
        key = (port.row.pk, identifier)
        meter = self._meters.get(key)
        if meter is None:
            self._load_meters({key: (frame, at)})
            meter = self._meters[key]
        return meter

    def _load(self, items: list[Received | PortStatus | LineCounts]) -> None:
        """Read the ports and meters these items are the first of, and create the meters (and
        their metering points) not stored yet: a bounded number of statements."""
        new_ports = {i.port_id for i in items if i.port_id not in self._ports}
        if new_ports:
            self._load_ports(new_ports)
        wanted: dict[tuple[int, str], tuple[Frame, dt.datetime]] = {}
        for item in items:
            if not isinstance(item, Received) or item.port_id not in self._ports:
                continue
            if not item.frame.valid:
                continue
            identifier = identifier_of(item.frame)
            key = (item.port_id, identifier or "")
            if identifier and key not in self._meters and key not in wanted:
                wanted[key] = (item.frame, item.at)
        if wanted:
            self._load_meters(wanted)

    def _load_meters(self, wanted: dict[tuple[int, str], tuple[Frame, dt.datetime]]) -> None:
        rows = self._select_meters(wanted)
        missing = [key for key in wanted if key not in rows]
        if missing:
            points = self._points([self._ports[port_id] for port_id, _ident in missing], missing)
            # Another reader (a takeover) may create the same meter meanwhile: the unique
            # constraint keeps one, and the select after the insert finds it either way.
            TicMeter.objects.bulk_create(
                [
                    TicMeter(
                        organisation_id=self._ports[port_id].row.organisation_id,
                        port=self._ports[port_id].row,
                        metering_point_id=points[(port_id, identifier)],
                        identifier=identifier,
                        family=wanted[(port_id, identifier)][0].meter.value,
                        mode=wanted[(port_id, identifier)][0].mode,
                    )
                    for port_id, identifier in missing
                ],
                ignore_conflicts=True,
            )
            rows.update(self._select_meters(dict.fromkeys(missing)))
        # One query for the meters' series, instead of one get_or_create per quantity.
        series: dict[int, dict[str, int]] = defaultdict(dict)
        point_ids = {row.metering_point_id for row in rows.values()}
        known = Series.objects.filter(metering_point_id__in=point_ids, source=SOURCE)
        for point_id, quantity, pk in known.values_list("metering_point_id", "quantity", "pk"):
            series[point_id][quantity] = pk
        created = set(missing)
        known_meters: list[tuple[_Meter, dt.datetime]] = []
        for key, row in rows.items():
            port = self._ports[key[0]]
            meter = self._meters[key] = self._new_meter(port, row)
            meter.series.update(series.get(row.metering_point_id, {}))
            if key not in created and meter.series:
                known_meters.append((meter, wanted[key][1]))
        if known_meters:
            _restore(known_meters)

    @staticmethod
    def _select_meters(keys: dict[tuple[int, str], Any]) -> dict[tuple[int, str], TicMeter]:
        found = TicMeter.objects.select_related("metering_point").filter(
            port_id__in={port_id for port_id, _ident in keys},
            identifier__in={identifier for _port, identifier in keys},
        )
        return {
            (row.port_id, row.identifier): row
            for row in found
            if (row.port_id, row.identifier) in keys
        }

    @staticmethod
    def _points(ports: list[_Port], keys: list[tuple[int, str]]) -> dict[tuple[int, str], int]:
        """The metering point of each new meter: its port's, or one made from its address in
        the port's organisation."""
        points: dict[tuple[int, str], int] = {}
        wanted: dict[tuple[int, str], list[tuple[int, str]]] = defaultdict(list)
        for port, key in zip(ports, keys, strict=True):
            if port.row.metering_point_id is not None:
                points[key] = port.row.metering_point_id
            else:
                wanted[(port.row.organisation_id, key[1])].append(key)
        if not wanted:
            return points

        def select() -> dict[tuple[int, str], int]:
            found = MeteringPoint.objects.filter(
                organisation_id__in={org for org, _ident in wanted},
                kind=MeteringPointKind.TIC_METER,
                identifier__in={ident for _org, ident in wanted},
            ).values_list("organisation_id", "identifier", "pk")
            return {(org, ident): pk for org, ident, pk in found if (org, ident) in wanted}

        known = select()
        if len(known) < len(wanted):
            MeteringPoint.objects.bulk_create(
                [
                    MeteringPoint(
                        organisation_id=org, kind=MeteringPointKind.TIC_METER, identifier=ident
                    )
                    for org, ident in wanted
                    if (org, ident) not in known
                ],
                ignore_conflicts=True,
            )
            known = select()
        for owner, keys_of in wanted.items():
            for key in keys_of:
                points[key] = known[owner]
        return points

    def _new_meter(self, port: _Port, row: TicMeter) -> _Meter:
        runtime = MeterRuntime(
            td_minutes=port.row.integration_minutes,
            drift_threshold=self.drift_threshold,
            tariff_periods=dict(row.tariff_periods),
            preavis=row.preavis_active,
            preavis_since=row.preavis_since,
            drift_alert=(
                row.clock_drift_seconds is not None
                and abs(row.clock_drift_seconds) > self.drift_threshold
            ),
        )
        runtime.last_values.update(row.last_values)
        if port.row.max_power_kva:
            runtime.max_power = port.row.max_power_kva * 1000.0
        return _Meter(row, _Counters(), runtime)

    def _series(
        self, meter: _Meter, quantity: str, unit: str, kind: str, *, step: int | None = None
    ) -> int:
        """A placeholder id for a series not known yet, replaced by the series' own once the
        items in hand are handled (``_resolve_series``: all of them in a few statements)."""
        placeholder = -(len(self._wanted_series) + 1)
        self._wanted_series[placeholder] = (meter, quantity, unit, SeriesKind(kind), step)
        meter.series[quantity] = placeholder
        return placeholder

    def _resolve_series(self) -> None:
        wanted, self._wanted_series = self._wanted_series, {}
        if not wanted:
            return
        resolved: dict[int, int] = {}
        try:
            resolved = ensure_many_series(
                wanted={
                    placeholder: (meter.row.metering_point_id, quantity, unit, kind, step)
                    for placeholder, (meter, quantity, unit, kind, step) in wanted.items()
                },
                source=SOURCE,
            )
        finally:
            # Rows of a series that could not be made are dropped with it (database away).
            for placeholder, (meter, quantity, _u, _k, _s) in wanted.items():
                if placeholder in resolved:
                    meter.series[quantity] = resolved[placeholder]
                elif meter.series.get(quantity) == placeholder:
                    del meter.series[quantity]
            ports = {meter.row.port_id for meter, *_rest in wanted.values()}
            for port_id in ports:
                rows = self._rows.get(port_id)
                if not rows:
                    continue
                fixed = []
                for row in rows:
                    if row[0] >= 0:
                        fixed.append(row)
                    elif row[0] in resolved:
                        fixed.append((resolved[row[0]], *row[1:]))
                self._rows[port_id] = fixed

    # -- writing --

    @property
    def pending_rows(self) -> int:
        return sum(len(rows) for rows in self._rows.values())

    def flush(self, *, now: dt.datetime) -> FlushStats:
        """Write what was received since the last flush (``collect`` then ``write``)."""
        stats = self.write(self.collect(now=now, final=True))
        for port_id, generation in stats.lost.items():
            self.lost(port_id, generation)
        return stats

    def collect(self, *, now: dt.datetime, final: bool = False) -> Batch:
        """Take what is due out of memory, in the thread that handles frames; no database."""
        meters, with_frames = self._due_meters(force=final)
        clock = self._clock()
        energy: dict[tuple[int, dt.date, str, str], float] = {}
        if clock >= self._energy_due or final:
            energy, self._energy = dict(self._energy), defaultdict(float)
            self._energy_due = clock + self.energy_interval
        control = {(m.row.port_id, m.row.metering_point_id) for m in meters if m.control_due}
        for m in meters:
            m.control_due = False
        batch = Batch(
            now=now,
            rows=dict(self._rows),
            events=self._events,
            energy=energy,
            frames=dict(self._frames),
            meters=[_meter_values(m, now=now, with_frames=m.row.pk in with_frames) for m in meters],
            ports=self._due_ports(force=final),
            control=control,
            meter_ports={m.row.pk: port_id for (port_id, _id), m in self._meters.items()},
            fence=self._fence,
        )
        self._rows, self._events, self._frames = defaultdict(list), [], defaultdict(int)
        return batch

    def write(self, batch: Batch) -> FlushStats:
        """Store a batch in one transaction; from any one thread (``tic_read``'s writer).

        When the database is away the batch is kept and written before the next one, so a
        restart of PostgreSQL loses nothing that was received meanwhile (up to a bound). The
        part of a port whose lease was lost since the batch was collected is refused: its
        ports are in ``stats.lost``, for the caller to stop reading them (``lost``).
        """
        stats = FlushStats()
        queue = [*self._retry, batch]
        for index, pending in enumerate(queue):
            try:
                with transaction.atomic():
                    lost = _fenced_out(pending)
                    written = pending.without(lost) if lost else pending
                    _write(written)
            except SeriesWriteError:
                logger.exception("tic: batch refused, dropped (%d rows)", pending.row_count)
                continue
            except DatabaseError:
                logger.exception("tic: database unavailable, batch kept for the next flush")
                if connection.connection is not None and not connection.is_usable():
                    connection.close()
                self._retry = self._keep(queue[index:])
                return stats
            if lost:
                _refused(pending, lost, stats)
            stats.rows += written.row_count
            stats.frames += sum(written.frames.values())
            stats.events += len(written.events)
            stats.meters += len(written.meters)
        self._retry = []
        return stats

    @staticmethod
    def _keep(batches: list[Batch]) -> list[Batch]:
        # Bound the memory held while the database is away: the newest rows are kept.
        while len(batches) > 1 and sum(b.row_count for b in batches) > MAX_PENDING_ROWS:
            batches.pop(0)
        return batches

    def _due_meters(self, *, force: bool = False) -> tuple[list[_Meter], set[int]]:
        """Meters whose state is due, and the ids of those whose values and frames are due."""
        clock = self._clock()
        due, with_frames = [], set()
        for meter in self._meters.values():
            now_due = force or meter.urgent
            state = meter.dirty and (now_due or clock - meter.saved_at >= self.state_interval)
            frames = meter.frames_dirty and (
                now_due or clock - meter.frames_saved_at >= self.frames_interval
            )
            if not (state or frames):
                continue
            due.append(meter)
            if frames:
                with_frames.add(meter.row.pk)
                meter.frames_saved_at = clock
                meter.frames_dirty = False
            meter.dirty = meter.urgent = False
            meter.saved_at = clock
        return due, with_frames

    def _due_ports(self, *, force: bool = False) -> list[dict[str, Any]]:
        # Counters at the state's pace; a change of state (down, probing…) at once.
        clock = self._clock()
        found = []
        for port in self._ports.values():
            due = force or port.urgent or clock - port.saved_at >= self.state_interval
            if not port.dirty or not due:
                continue
            port.dirty = port.urgent = False
            port.saved_at = clock
            row, counters = port.row, port.counters.take()
            del counters["implausible"]  # meters only
            found.append(
                {
                    "id": row.pk,
                    **counters,
                    "state": row.state,
                    "state_since": row.state_since,
                    "current_baud": row.current_baud,
                    "last_error": row.last_error,
                }
            )
        return found


_TD_QUANTITIES = set(TD_QUANTITY.values())


def _restore(meters: list[tuple[_Meter, dt.datetime]]) -> None:
    """Rebuild known meters' in-memory history from their stored series (after a restart),
    each as of the reception time of its first frame: the Td counters over the last Td
    minutes for the power over Td, and each energy register's last measured value for the
    plausibility check. Two statements whatever the number of meters: one by one, a reader
    restarted on thousands of meters spent its first minutes here."""
    # (meter's position, series id, since, until): the Td points each meter needs.
    windows: list[tuple[int, int, dt.datetime, dt.datetime]] = []
    # (meter's position, series id, until): the registers whose last value each meter needs.
    registers: list[tuple[int, int, dt.datetime]] = []
    for position, (meter, at) in enumerate(meters):
        since = at - dt.timedelta(minutes=meter.runtime.td_minutes + 1)
        for quantity, series_id in meter.series.items():
            if quantity in _TD_QUANTITIES:
                windows.append((position, series_id, since, at))
            if quantity in _TD_QUANTITIES or quantities.is_index(quantity):
                registers.append((position, series_id, at))
    td_points = _td_points(windows)
    last = _last_measured(registers)
    for position, (meter, _at) in enumerate(meters):
        runtime, row = meter.runtime, meter.row
        names = {series_id: quantity for quantity, series_id in meter.series.items()}
        points: dict[str, list[tuple[dt.datetime, float]]] = defaultdict(list)
        for series_id, ts, value in td_points.get(position, ()):
            points[names[series_id]].append((ts, value))
        runtime.restore(
            td_points=dict(points),
            last_values={
                names[series_id]: found for series_id, found in last.get(position, {}).items()
            },
            subscribed_power=row.subscribed_power,
            power_unit=row.power_unit,
        )


def _td_points(
    windows: list[tuple[int, int, dt.datetime, dt.datetime]],
) -> dict[int, list[tuple[int, dt.datetime, float]]]:
    """Measured points of each (meter, series) in its window, oldest first, per meter."""
    found: dict[int, list[tuple[int, dt.datetime, float]]] = defaultdict(list)
    if not windows:
        return found
    if connection.vendor == "postgresql":
        # One join on arrays: a statement whose size does not grow with the number of meters.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT v.idx, v.sid, p.ts, p.value "
                "FROM unnest(%s::int[], %s::bigint[], %s::timestamptz[], %s::timestamptz[]) "
                f"AS v(idx, sid, lo, hi) JOIN {_points_table()} AS p ON p.series_id = v.sid "
                "AND p.ts >= v.lo AND p.ts <= v.hi AND p.quality = %s ORDER BY v.idx, p.ts",
                [*(list(column) for column in zip(*windows, strict=True)), Quality.MEASURED],
            )
            rows = cursor.fetchall()
        for position, series_id, ts, value in rows:
            if value is not None:
                found[position].append((series_id, ts, value))
        return found
    # Elsewhere: the points of all the windows' span, each kept for the windows it falls in.
    wanted: dict[int, list[tuple[int, dt.datetime, dt.datetime]]] = defaultdict(list)
    for position, series_id, since, until in windows:
        wanted[series_id].append((position, since, until))
    points = (
        Point.objects.filter(
            series_id__in=wanted,
            ts__gte=min(w[2] for w in windows),
            ts__lte=max(w[3] for w in windows),
            quality=Quality.MEASURED,
        )
        .order_by("ts")
        .values_list("series_id", "ts", "value")
    )
    for series_id, ts, value in points:
        if value is None:
            continue
        for position, since, until in wanted[series_id]:
            if since <= ts <= until:
                found[position].append((series_id, ts, value))
    return found


def _last_measured(
    registers: list[tuple[int, int, dt.datetime]],
) -> dict[int, dict[int, tuple[float, dt.datetime]]]:
    """The last measured point of each (meter, series) up to its instant: series → (value,
    time), per meter. A last point without a value gives nothing."""
    found: dict[int, dict[int, tuple[float, dt.datetime]]] = defaultdict(dict)
    if not registers:
        return found
    if connection.vendor == "postgresql":
        # One backward step along the primary key per (meter, series).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT v.idx, v.sid, p.ts, p.value "
                "FROM unnest(%s::int[], %s::bigint[], %s::timestamptz[]) AS v(idx, sid, hi) "
                f"CROSS JOIN LATERAL (SELECT ts, value FROM {_points_table()} "
                "WHERE series_id = v.sid AND ts <= v.hi AND quality = %s "
                "ORDER BY ts DESC LIMIT 1) AS p",
                [*(list(column) for column in zip(*registers, strict=True)), Quality.MEASURED],
            )
            rows = cursor.fetchall()
        for position, series_id, ts, value in rows:
            if value is not None:
                found[position][series_id] = (value, ts)
        return found
    # Elsewhere: two statements per distinct instant (a chunk's frames mostly share a few).
    by_instant: dict[dt.datetime, list[tuple[int, int]]] = defaultdict(list)
    for position, series_id, until in registers:
        by_instant[until].append((position, series_id))
    for until, keys in by_instant.items():
        measured = Point.objects.filter(
            series_id__in={series_id for _position, series_id in keys},
            ts__lte=until,
            quality=Quality.MEASURED,
        )
        latest = measured.values("series_id").annotate(last=Max("ts"))
        pairs = [Q(series_id=row["series_id"], ts=row["last"]) for row in latest]
        values: dict[int, tuple[float, dt.datetime]] = {}
        if pairs:
            rows = measured.filter(reduce(operator.or_, pairs))
            for series_id, ts, value in rows.values_list("series_id", "ts", "value"):
                if value is not None:
                    values[series_id] = (value, ts)
        for position, series_id in keys:
            if series_id in values:
                found[position][series_id] = values[series_id]
    return found


def _points_table() -> str:
    return connection.ops.quote_name(Point._meta.db_table)


@dataclass(slots=True)
class Batch:
    now: dt.datetime
    rows: dict[int, list[Row]]  # per port
    events: list[tuple[_Meter, TicEvent]]
    energy: dict[tuple[int, dt.date, str, str], float]
    frames: dict[int, int]  # per port
    meters: list[dict[str, Any]]
    ports: list[dict[str, Any]]
    # (port, metering point) whose PREAVIS changed or whose share crossed a servo threshold.
    control: set[tuple[int, int]] = field(default_factory=set)
    meter_ports: dict[int, int] = field(default_factory=dict)  # meter id → port id
    fence: Fence | None = None  # None: written without checking leases (no runner)

    @property
    def row_count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    def port_ids(self) -> set[int]:
        """Every port this batch writes something of."""
        found = {pk for pk, rows in self.rows.items() if rows}
        found.update(pk for pk, count in self.frames.items() if count)
        found.update(port["id"] for port in self.ports)
        found.update(self.meter_ports[meter["id"]] for meter in self.meters)
        found.update(meter.row.port_id for meter, _event in self.events)
        found.update(self.meter_ports[key[0]] for key in self.energy)
        found.update(port_id for port_id, _point in self.control)
        return found

    def without(self, port_ids: set[int]) -> Batch:
        """This batch less everything of these ports."""
        kept = self.meter_ports
        return Batch(
            now=self.now,
            rows={pk: rows for pk, rows in self.rows.items() if pk not in port_ids},
            events=[(m, e) for m, e in self.events if m.row.port_id not in port_ids],
            energy={k: wh for k, wh in self.energy.items() if kept[k[0]] not in port_ids},
            frames={pk: n for pk, n in self.frames.items() if pk not in port_ids},
            meters=[m for m in self.meters if kept[m["id"]] not in port_ids],
            ports=[p for p in self.ports if p["id"] not in port_ids],
            control={(pk, point) for pk, point in self.control if pk not in port_ids},
            meter_ports=kept,
            fence=self.fence,
        )


def _fenced_out(batch: Batch) -> set[int]:
    """The ports of the batch this reader no longer holds at the generation it carries: one
    statement, first in the batch's transaction (``tic.leases.still_held``)."""
    fence = batch.fence
    if fence is None:
        return set()
    ports = batch.port_ids()
    tokens = {pk: fence.generations[pk] for pk in ports if pk in fence.generations}
    held = leases.still_held(holder=fence.holder, generations=tokens) if tokens else set()
    return ports - held


def _refused(batch: Batch, lost: set[int], stats: FlushStats) -> None:
    generations = batch.fence.generations if batch.fence is not None else {}
    for port_id in sorted(lost):
        rows = len(batch.rows.get(port_id, ()))
        stats.refused_rows += rows
        stats.lost[port_id] = generations.get(port_id, -1)
        telemetry.lease_lost(port_id)
        logger.warning(
            "tic: port %s: lease lost, batch refused (%d points, %d frames not stored); "
            "reading of the port stops",
            port_id,
            rows,
            batch.frames.get(port_id, 0),
        )


def _meter_values(meter: _Meter, *, now: dt.datetime, with_frames: bool) -> dict[str, Any]:
    runtime, row = meter.runtime, meter.row
    # The row object follows too: alerts and webhooks read it when an event is written.
    row.family = runtime.family or row.family
    row.mode = runtime.mode or row.mode
    row.tariff_periods = dict(runtime.tariff_periods)
    row.preavis_active = runtime.preavis
    row.preavis_since = runtime.preavis_since
    row.clock_drift_seconds = runtime.drift
    row.subscribed_power = runtime.subscribed_power
    row.power_unit = runtime.power_unit
    row.power = runtime.power
    row.power_share = runtime.power_share
    counters = meter.counters.take()
    del counters["noise_bytes"], counters["parity_errors"]  # ports only
    values = {
        "id": row.pk,
        **counters,
        "family": row.family,
        "mode": row.mode,
        "tariff_periods": row.tariff_periods,
        "preavis_active": row.preavis_active,
        "preavis_since": row.preavis_since,
        "clock_drift_seconds": row.clock_drift_seconds,
        "subscribed_power": row.subscribed_power,
        "power_unit": row.power_unit,
        "power": row.power,
        "power_share": row.power_share,
        "updated_at": now,
    }
    if with_frames:
        values["recent_frames"] = list(runtime.recent)
        values["last_values"] = dict(runtime.last_values)
    return values


def _write(batch: Batch) -> None:
    if batch.row_count:
        upsert_rows(rows=[row for rows in batch.rows.values() for row in rows])
    if batch.events:
        TicEvent.objects.bulk_create([event for _meter, event in batch.events])
    if batch.energy:
        _add_energy(batch.energy)
    framed = [m for m in batch.meters if "recent_frames" in m]
    if framed:
        _bulk_set(TicMeter, framed, [*METER_FIELDS, "recent_frames", "last_values"])
    rest = [m for m in batch.meters if "recent_frames" not in m]
    if rest:
        _bulk_set(TicMeter, rest, METER_FIELDS)
    if batch.ports:
        _bulk_set(TicPort, batch.ports, PORT_FIELDS)
    for meter, event in batch.events:
        alerts.raise_event(event=event, meter=meter.row, now=batch.now)
    if batch.control:
        _request_control({point for _port, point in batch.control})


def _request_control(points: set[int]) -> None:
    """Ask for an evaluation of the controlled sites with loads behind these points, once the
    meters' new state is committed (the servo reads it), instead of at the next periodic one."""
    site_ids = sorted(
        set(
            ControllableLoad.objects.filter(
                metering_point_id__in=points, site__control__enabled=True
            ).values_list("site_id", flat=True)
        )
    )
    if site_ids:
        transaction.on_commit(partial(enqueue_evaluations, site_ids=site_ids))


def enqueue_evaluations(*, site_ids: list[int]) -> None:
    from hub.control.tasks import evaluate_site

    for site_id in site_ids:
        try:
            # No publish retries: the periodic evaluation is the fallback, and a reader's
            # writer thread must not wait on a broker that is away.
            evaluate_site.apply_async(args=(site_id,), retry=False)
        except Exception:
            logger.warning(
                "tic: evaluation of sites %s not queued; the periodic one will follow", site_ids
            )
            return


METER_FIELDS = [
    "frames",
    "valid",
    "invalid",
    "interrupted",
    "bad_groups",
    "last_frame_at",
    "implausible",
    "family",
    "mode",
    "tariff_periods",
    "preavis_active",
    "preavis_since",
    "clock_drift_seconds",
    "subscribed_power",
    "power_unit",
    "power",
    "power_share",
    "updated_at",
]
PORT_FIELDS = [
    "frames",
    "valid",
    "invalid",
    "interrupted",
    "bad_groups",
    "last_frame_at",
    "noise_bytes",
    "parity_errors",
    "state",
    "state_since",
    "current_baud",
    "last_error",
]


def _bulk_set(
    model: type[TicMeter] | type[TicPort], rows: list[dict[str, Any]], names: list[str]
) -> None:
    """Write ``names`` of many rows at once.

    On PostgreSQL: one ``UPDATE … FROM unnest(arrays)``, a statement whose size does not grow
    with the number of rows (Django's ``bulk_update`` builds a CASE per field and row, which
    for 2,000 meters costs more in Python than the whole batch of points). Elsewhere, one
    UPDATE per row. Counters (``_ADDED``) are added to the stored ones, ``last_frame_at`` kept
    at the latest.
    """
    if connection.vendor != "postgresql":
        for row in rows:
            updates: dict[str, Any] = {}
            for name in names:
                if name in _ADDED:
                    updates[name] = F(name) + row[name]
                elif name == "last_frame_at":
                    if row[name] is not None:  # the latest wins, as GREATEST below
                        later = Q(last_frame_at__isnull=True) | Q(last_frame_at__lt=row[name])
                        updates[name] = Case(
                            When(later, then=Value(row[name], output_field=DateTimeField())),
                            default=F(name),
                        )
                else:
                    updates[name] = row[name]
            model.objects.filter(pk=row["id"]).update(**updates)
        return
    fields: list[Any] = [model._meta.get_field(name) for name in names]
    columns, arrays, casts, sets = ["id"], [[row["id"] for row in rows]], ["bigint[]"], []
    for model_field in fields:
        column = model_field.column
        values = [row[model_field.attname] for row in rows]
        if model_field.get_internal_type() == "JSONField":
            arrays.append([json.dumps(v) for v in values])
            casts.append("text[]")
            sets.append(f'"{column}" = v."{column}"::jsonb')
        else:
            arrays.append(values)
            casts.append(f"{model_field.db_type(connection)}[]")
            if model_field.name in _ADDED:
                sets.append(f'"{column}" = t."{column}" + v."{column}"')
            elif model_field.name == "last_frame_at":  # GREATEST skips NULLs
                sets.append(f'"{column}" = GREATEST(t."{column}", v."{column}")')
            else:
                sets.append(f'"{column}" = v."{column}"')
    unnest = ", ".join(f"%s::{cast}" for cast in casts)
    names_sql = ", ".join(f'"{c}"' for c in columns + [f.column for f in fields])
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" AS t SET {", ".join(sets)} '
            f"FROM unnest({unnest}) AS v({names_sql}) WHERE t.id = v.id",
            arrays,
        )


def _add_energy(energy: dict[tuple[int, dt.date, str, str], float]) -> None:
    """Add to each day's energy per period (one statement; SQLite and PostgreSQL alike)."""
    from tic.models import DailyEnergy

    table = DailyEnergy._meta.db_table
    rows = [(m, d, c, p, wh) for (m, d, c, p), wh in energy.items()]
    conflict = (
        "ON CONFLICT (meter_id, day, calendar, period) "
        f"DO UPDATE SET energy_wh = {table}.energy_wh + EXCLUDED.energy_wh"
    )
    columns = "(meter_id, day, calendar, period, energy_wh)"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} {columns} SELECT * FROM unnest(%s::bigint[], %s::date[], "
                f"%s::varchar[], %s::varchar[], %s::float8[]) {conflict}",
                [list(column) for column in zip(*rows, strict=True)],
            )
        else:
            cursor.executemany(
                f"INSERT INTO {table} {columns} VALUES (%s, %s, %s, %s, %s) {conflict}", rows
            )
