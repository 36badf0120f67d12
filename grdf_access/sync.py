"""Fetching consumption, contractual and technical data inside the consent, and storing it.

Three steps, so that the network part can run in threads while the database stays in one:

1. ``plan``: for each PCE and data type that is due, the days the consent allows
   (``grdf_access.consent``); nothing outside them is ever planned, so never asked for;
2. ``fetch``: the calls, concurrently (a pool of threads sharing the client and its rate
   limiter); no database access;
3. ``store``: every point of the whole run in one series write (COPY on PostgreSQL), snapshots
   when they changed, quality warnings on the poll run and as alerts, thresholds checked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Coalesce, Least

from grdf_access import client as adict
from grdf_access import consent, quality
from grdf_access.adict_gateway import AdictGateway, GatewayError
from grdf_access.models import (
    AccessRight,
    DataType,
    FetchBackoff,
    Frequency,
    Pce,
    Revision,
    Snapshot,
    SnapshotKind,
)
from hub import quantities
from hub.actors import Actor
from hub.clock import gas_day_bounds, gas_day_of, local_day_of
from hub.models import (
    Organisation,
    Point,
    PollOutcome,
    Quality,
    Series,
    SeriesKind,
    Severity,
)
from hub.services import audit
from hub.services.notifications import notify
from hub.services.polling import poll_run
from hub.services.series import Row, upsert_rows

SOURCE = "grdf"
DAY = 86_400


@dataclass(frozen=True)
class SeriesSpec:
    quantity: str
    unit: str
    kind: str
    step: int | None

    @classmethod
    def of(cls, quantity: quantities.Quantity) -> SeriesSpec:
        return cls(quantity.name, quantity.unit, SeriesKind(quantity.kind.value), quantity.step)


SERIES = {
    "daily_energy": SeriesSpec.of(quantities.GAS_ENERGY_DAILY),
    "daily_volume": SeriesSpec.of(quantities.GAS_VOLUME_DAILY),
    "daily_index": SeriesSpec.of(quantities.GAS_INDEX_DAILY),
    "published_energy": SeriesSpec.of(quantities.GAS_ENERGY_PUBLISHED),
    "published_volume": SeriesSpec.of(quantities.GAS_VOLUME_PUBLISHED),
    "published_index": SeriesSpec.of(quantities.GAS_INDEX_PUBLISHED),
    "hourly_energy": SeriesSpec.of(quantities.GAS_ENERGY_HOURLY),
}
# Which series each data type feeds (energy always first).
FEEDS: dict[str, tuple[str, ...]] = {
    DataType.INFORMATIVE_DAILY: ("daily_energy", "daily_volume", "daily_index"),
    DataType.PUBLISHED: ("published_energy", "published_volume", "published_index"),
    DataType.INFORMATIVE_HOURLY: ("hourly_energy",),
}
SERIES_TYPE = {key: data_type for data_type, keys in FEEDS.items() for key in keys}
CONSUMPTION_TYPES = tuple(FEEDS)
SNAPSHOT_TYPES = (DataType.CONTRACTUAL, DataType.TECHNICAL)
# Data only RSF serves (ADICT v2 has no hourly endpoint, reference §3.4): asked only with it.
RSF_TYPES = frozenset({DataType.INFORMATIVE_HOURLY})

# How far back each poll asks again: definitive values replace provisional ones within it
# (informative M-1 becomes definitive after publication, reference §1.8).
LOOKBACK_DAYS: dict[str, int] = {
    DataType.INFORMATIVE_DAILY: 35,
    DataType.PUBLISHED: 70,
    DataType.INFORMATIVE_HOURLY: 7,
}


@dataclass(frozen=True)
class Task:
    pce_id: int
    pce: str
    data_type: str
    start: dt.date | None = None  # None for undated (snapshot) types
    end: dt.date | None = None


@dataclass
class Outcome:
    task: Task
    batch: adict.Records[adict.ConsumptionRecord] | None = None
    snapshot: dict[str, Any] | None = None
    error: str = ""
    refused: bool = False  # GRDF answered with a refusal (vs. a failure to answer)


@dataclass
class SyncReport:
    tasks: int = 0
    failed: int = 0
    points: int = 0
    pces: int = 0
    snapshots_changed: int = 0
    deferred: int = 0  # due calls not made: GRDF refused or failed them recently
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


# Statuses of a refusal: GRDF answered about the right or the call (functional 200, 400, 403,
# 404, 409). Anything else (401, 429 and 5xx left after retries, no answer) is a failure.
REFUSAL_STATUSES = frozenset({200, 400, 403, 404, 409})
BACKOFF_FIRST: dict[bool, dt.timedelta] = {
    True: dt.timedelta(days=1),  # refused: the right must change first; rights sync clears it
    False: dt.timedelta(hours=2),  # failed: GRDF or the network may be back soon
}
BACKOFF_MAX = dt.timedelta(days=7)


def backoff_delay(*, failures: int, refused: bool) -> dt.timedelta:
    """How long a call that failed ``failures`` times in a row waits: doubling, capped."""
    delay: dt.timedelta = BACKOFF_FIRST[refused] * 2 ** max(failures - 1, 0)
    return min(delay, BACKOFF_MAX)


POLLED_FIELDS: dict[str, str] = {
    DataType.INFORMATIVE_DAILY: "informative_polled_at",
    DataType.INFORMATIVE_HOURLY: "informative_polled_at",
    DataType.PUBLISHED: "published_polled_at",
    DataType.CONTRACTUAL: "snapshots_polled_at",
    DataType.TECHNICAL: "snapshots_polled_at",
}
FETCHED_FROM_FIELDS: dict[str, str] = {
    DataType.INFORMATIVE_DAILY: "informative_fetched_from",
    DataType.INFORMATIVE_HOURLY: "hourly_fetched_from",
    DataType.PUBLISHED: "published_fetched_from",
}
# One call covers at most this many days; a longer range is asked chunk by chunk (the calls
# go through the credential's rate limiter). Published periods (a month, six months) must not
# be cut by a chunk boundary: their whole history (5 years) is one call.
CHUNK_DAYS: dict[str, int] = {
    DataType.INFORMATIVE_DAILY: 366,
    DataType.INFORMATIVE_HOURLY: 31,
    DataType.PUBLISHED: 5 * 366 + 1,
}


def chunks(start: dt.date, end: dt.date, days: int) -> list[tuple[dt.date, dt.date]]:
    """``[start, end)`` cut into consecutive pieces of at most ``days`` days."""
    pieces = []
    while start < end:
        stop = min(end, start + dt.timedelta(days=days))
        pieces.append((start, stop))
        start = stop
    return pieces


def due_types(pce: Pce, *, now: dt.datetime, today: dt.date) -> set[str]:
    """What is worth asking for now, given the meter's frequency (reference §1.8 cadence).

    Daily informative data come every day for every communicating meter (1M, MM, JJ);
    published data come daily for JJ, monthly for 1M/MM (asked daily over the first ten days
    of the month, when M-1 is published, weekly otherwise), half-yearly for 6M (weekly).
    """
    due: set[str] = set()

    def older_than(polled: dt.datetime | None, days: int) -> bool:
        return polled is None or (now - polled) >= dt.timedelta(days=days) - dt.timedelta(hours=1)

    if older_than(pce.informative_polled_at, 1):
        due |= {DataType.INFORMATIVE_DAILY, DataType.INFORMATIVE_HOURLY}
    if pce.frequency == Frequency.DAILY or (
        pce.frequency in (Frequency.MONTHLY_1M, Frequency.MONTHLY_MM) and today.day <= 10
    ):
        published_every = 1
    else:
        published_every = 7
    if older_than(pce.published_polled_at, published_every):
        due.add(DataType.PUBLISHED)
    if older_than(pce.snapshots_polled_at, 7):
        due |= set(SNAPSHOT_TYPES)
    return due


@dataclass(frozen=True, slots=True)
class PceRights:
    """A PCE with its rights and back-offs: what planning its calls reads."""

    pce: Pce
    rights: list[AccessRight]
    backoffs: list[FetchBackoff]


def pces_with_rights(
    *, organisation: Organisation, identifiers: Sequence[str] = ()
) -> list[PceRights]:
    """The organisation's PCEs (those named in ``identifiers``, when given), by id, each with its
    rights (newest first) and back-offs; each right's ``pce`` is the PCE itself.

    Three queries filtered by the organisation. Django's ``prefetch_related`` would bind every
    PCE id into the next two and build two querysets per PCE: two thirds of the load's time
    at 100,000 PCEs (``bench/scale.py``).
    """
    pces = Pce.objects.filter(organisation=organisation).select_related("metering_point")
    rights = AccessRight.objects.filter(pce__organisation=organisation)
    backoffs = FetchBackoff.objects.filter(pce__organisation=organisation)
    if identifiers:
        pces = pces.filter(metering_point__identifier__in=identifiers)
        rights = rights.filter(pce__metering_point__identifier__in=identifiers)
        backoffs = backoffs.filter(pce__metering_point__identifier__in=identifiers)
    loaded = {pce.pk: PceRights(pce, [], []) for pce in pces.order_by("pk")}
    # A PCE added between the queries has rows here but was not loaded: it waits for the
    # next sync.
    for right in rights:
        if (item := loaded.get(right.pce_id)) is not None:
            right.pce = item.pce
            item.rights.append(right)
    for backoff in backoffs.order_by():
        if (item := loaded.get(backoff.pce_id)) is not None:
            item.backoffs.append(backoff)
    return list(loaded.values())


def plan(
    pces: Iterable[PceRights],
    *,
    now: dt.datetime,
    today: dt.date,
    types: set[str] | None = None,
    force: bool = False,
    deferred: list[tuple[str, str]] | None = None,
    backfill: bool = False,
    backfill_since: dt.date | None = None,
) -> list[Task]:
    """The calls the consent allows among those due (all of them with ``force``).

    A call GRDF refused or failed recently waits for its back-off, even with ``force``; it is
    added to ``deferred`` when given. With ``backfill`` every dated type is asked over the
    whole range the consent allows (from ``backfill_since`` when given); otherwise the gas days
    missing before the look-back are asked too (:func:`hole_tasks`).
    """
    tasks: list[Task] = []
    searched_ranges: dict[tuple[Pce, str], tuple[dt.date, dt.date]] = {}
    data_types = DataType.values  # a new list at each access: once, not once per PCE
    for item in pces:
        pce, rights = item.pce, item.rights
        wanted = set(types) if types is not None else None
        if wanted is None:
            wanted = set(data_types) if force else due_types(pce, now=now, today=today)
        waiting = {b.data_type for b in item.backoffs if b.next_attempt_at > now}
        for data_type in data_types:
            if data_type not in wanted or (data_type in RSF_TYPES and not settings.GRDF_RSF):
                continue
            if data_type in waiting:
                if deferred is not None:
                    deferred.append((pce.identifier, data_type))
                continue
            decision = consent.decide_any(rights=rights, data_type=data_type, today=today)
            if not decision.allowed or decision.window is None:
                continue
            if data_type in SNAPSHOT_TYPES:
                tasks.append(Task(pce.pk, pce.identifier, data_type))
                continue
            assert decision.right is not None
            bounds = consent.request_bounds(
                data_type=data_type,
                data_start=decision.window.start,
                data_end=decision.right.data_end,
                today=today,
            )
            if bounds is None:
                continue
            first, end = bounds
            start = first if backfill else _routine_start(pce, data_type, first, today=today)
            if backfill_since is not None:
                start = max(start, backfill_since)
            if start < end:
                tasks.append(Task(pce.pk, pce.identifier, data_type, start, end))
            fetched_from = getattr(pce, FETCHED_FROM_FIELDS[data_type])
            if not backfill and data_type in HOLE_SERIES and fetched_from is not None:
                # Fetched before but not asked again now: where its gaps are looked for.
                searched = (max(first, fetched_from), min(start, end))
                if searched[0] < searched[1]:
                    searched_ranges[(pce, data_type)] = searched
    tasks.extend(hole_tasks(searched_ranges))
    return tasks


# The series whose points say a gas day was received: one point per gas day or per hour.
# Published periods have no fixed length, hence no expected point to miss.
HOLE_SERIES: dict[str, str] = {
    DataType.INFORMATIVE_DAILY: "daily_energy",
    DataType.INFORMATIVE_HOURLY: "hourly_energy",
}
_HOLE_QUERY_BATCH = 500


def hole_tasks(searched: dict[tuple[Pce, str], tuple[dt.date, dt.date]]) -> list[Task]:
    """Calls for the gas days missing from each series inside its searched ``[start, end)``.

    After an outage, or a call that returned fewer days than asked, a series has gaps the
    routine look-back no longer covers. One count per series first (a grouped query), then
    the points of the series that fall short only, to name their missing days.
    """
    if not searched:
        return []
    by_target = {
        (mp_id, quantity): sid
        for sid, quantity, mp_id in Series.objects.filter(
            source=SOURCE,
            metering_point_id__in={pce.metering_point_id for pce, _ in searched},
            quantity__in={SERIES[key].quantity for key in HOLE_SERIES.values()},
        ).values_list("pk", "quantity", "metering_point_id")
    }
    wanted: list[tuple[Pce, str, int, dt.datetime, dt.datetime, int]] = []
    for (pce, data_type), (start, end) in searched.items():
        spec = SERIES[HOLE_SERIES[data_type]]
        assert spec.step is not None
        first, last = gas_day_bounds(start)[0], gas_day_bounds(end)[0]
        sid = by_target.get((pce.metering_point_id, spec.quantity))
        # No series at all: GRDF sent nothing for the whole range, not a hole to chase daily.
        if sid is not None:
            wanted.append((pce, data_type, sid, first, last, spec.step))
    counts: dict[int, int] = {}
    for i in range(0, len(wanted), _HOLE_QUERY_BATCH):
        condition = Q()
        for _, _, sid, first, last, _ in wanted[i : i + _HOLE_QUERY_BATCH]:
            condition |= Q(series_id=sid, ts__gte=first, ts__lt=last)
        counts.update(
            Point.objects.filter(condition)
            .values_list("series_id")
            .annotate(n=Count("ts"))
            .values_list("series_id", "n")
        )
    tasks: list[Task] = []
    for pce, data_type, sid, first, last, step in wanted:
        if counts.get(sid, 0) >= (last - first).total_seconds() // step:
            continue
        stamps = Point.objects.filter(series_id=sid, ts__gte=first, ts__lt=last)
        present = Counter(gas_day_of(ts) for ts in stamps.values_list("ts", flat=True))
        missing = []
        day, end = gas_day_of(first), gas_day_of(last)
        while day < end:
            day_start, day_end = gas_day_bounds(day)
            if present[day] < (day_end - day_start).total_seconds() // step:
                missing.append(day)
            day += dt.timedelta(days=1)
        for run_start, run_end in _runs(missing):
            tasks.append(Task(pce.pk, pce.identifier, data_type, run_start, run_end))
    return tasks


def _runs(days: Sequence[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Sorted days grouped into ``[start, end)`` runs of consecutive days."""
    runs: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + dt.timedelta(days=1))
        else:
            runs.append((day, day + dt.timedelta(days=1)))
    return runs


def _routine_start(pce: Pce, data_type: str, first: dt.date, *, today: dt.date) -> dt.date:
    """Where a routine call starts, ``first`` being the earliest day the consent allows.

    The whole consented history when it was never fetched, or when the range now starts
    earlier than what was fetched (a widened range); else the look-back before the last
    successful poll, so that an outage longer than the look-back leaves no hole.
    """
    polled: dt.datetime | None = getattr(pce, POLLED_FIELDS[data_type])
    fetched_from: dt.date | None = getattr(pce, FETCHED_FROM_FIELDS[data_type])
    if polled is None or fetched_from is None or first < fetched_from:
        return first
    last = min(local_day_of(polled), today)
    return max(first, last - dt.timedelta(days=LOOKBACK_DAYS[data_type]))


FETCHERS: dict[str, str] = {
    DataType.INFORMATIVE_DAILY: "informative_daily",
    DataType.PUBLISHED: "published",
    DataType.INFORMATIVE_HOURLY: "informative_hourly",
}


def _fetch_one(gateway: AdictGateway, task: Task) -> Outcome:
    try:
        if task.data_type == DataType.CONTRACTUAL:
            return Outcome(task, snapshot=gateway.contractual(pce=task.pce))
        if task.data_type == DataType.TECHNICAL:
            return Outcome(task, snapshot=gateway.technical(pce=task.pce))
        assert task.start is not None and task.end is not None
        fetch = getattr(gateway, FETCHERS[task.data_type])
        records: list[adict.ConsumptionRecord] = []
        problems: list[Any] = []
        # Chunk after chunk: one failed chunk fails the task (and nothing is marked fetched).
        for start, end in chunks(task.start, task.end, CHUNK_DAYS[task.data_type]):
            part = fetch(pce=task.pce, start=start, end=end)
            records.extend(part.items)
            problems.extend(part.problems)
        return Outcome(task, batch=adict.Records(tuple(records), tuple(problems)))
    except GatewayError as exc:
        return Outcome(task, error=exc.reason, refused=exc.status in REFUSAL_STATUSES)


def fetch(tasks: Sequence[Task], *, gateway: AdictGateway, workers: int = 1) -> Iterator[Outcome]:
    """Run the calls, yielding outcomes in order; a failed call is an outcome, not an exception.

    With several workers the calls run ahead in threads while the caller stores what came
    back, so network and database overlap.
    """
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield _fetch_one(gateway, task)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grdf-fetch") as pool:
        yield from pool.map(lambda t: _fetch_one(gateway, t), tasks)


def _chunks(outcomes: Iterable[Outcome], size: int) -> Iterator[list[Outcome]]:
    batch: list[Outcome] = []
    for outcome in outcomes:
        batch.append(outcome)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def series_ids(
    pce_ids: Iterable[int], keys: Iterable[str], *, only: set[tuple[int, str]] | None = None
) -> dict[tuple[int, str], int]:
    """The series of (PCE, key) pairs, created in bulk when missing (only the ``only`` pairs
    when given: a series exists only for a type the PCE's consent let us fetch)."""
    pces = {p.pk: p.metering_point_id for p in Pce.objects.filter(pk__in=set(pce_ids))}
    keys = set(keys)
    by_quantity = {SERIES[k].quantity: k for k in keys}

    def existing() -> dict[tuple[int, str], int]:
        point_to_pce = {mp: pk for pk, mp in pces.items()}
        found = Series.objects.filter(
            metering_point_id__in=pces.values(), source=SOURCE, quantity__in=by_quantity
        ).values_list("pk", "metering_point_id", "quantity")
        return {(point_to_pce[mp], by_quantity[q]): pk for pk, mp, q in found}

    ids = existing()
    missing = [
        (pce, key)
        for pce in pces
        for key in keys
        if (pce, key) not in ids and (only is None or (pce, key) in only)
    ]
    if missing:
        Series.objects.bulk_create(
            [
                Series(
                    metering_point_id=pces[pce],
                    quantity=SERIES[key].quantity,
                    unit=SERIES[key].unit,
                    kind=SERIES[key].kind,
                    step_seconds=SERIES[key].step,
                    source=SOURCE,
                )
                for pce, key in missing
            ],
            ignore_conflicts=True,  # another worker may create the same series meanwhile
        )
        ids = existing()
    return ids


def _quality(estimated: bool, value: float | None) -> int:
    if value is None:
        return Quality.MISSING
    return Quality.ESTIMATED if estimated else Quality.MEASURED


# What a record of GRDF's client stores: the one mapping from a consumption record to points.


def estimated(record: adict.ConsumptionRecord) -> bool:
    """Estimated when GRDF qualifies the consumption so, or the reading that closes it."""
    end_reading = record.end_reading
    return record.is_estimated or bool(
        end_reading and end_reading.quality.lower().startswith("estim")
    )


def provisional(record: adict.ConsumptionRecord) -> bool:
    return bool(record.status) and not record.is_definitive


def end_index(record: adict.ConsumptionRecord) -> float | None:
    return record.end_reading.raw_index if record.end_reading else None


def notes_of(records: adict.Records[Any]) -> list[str]:
    """GRDF's notes on a call (e.g. "no data" for a period), and the lines it could not read."""
    return [p.reason if hasattr(p, "reason") else str(p) for p in records.problems]


def rows_of(outcome: Outcome, ids: dict[tuple[int, str], int]) -> list[Row]:
    """Series rows of one outcome: each record at the start of its gas day, hour or period."""
    assert outcome.batch is not None
    task = outcome.task
    rows: list[Row] = []
    keys = FEEDS[task.data_type]
    for r in outcome.batch:
        values = {
            "daily_energy": (r.start, r.energy_kwh),
            "hourly_energy": (r.start, r.energy_kwh),
            "published_energy": (r.start, r.energy_kwh),
            "daily_volume": (r.start, r.raw_volume_m3),
            "published_volume": (r.start, r.raw_volume_m3),
            # An index is read at the end of the period.
            "daily_index": (r.end, end_index(r)),
            "published_index": (r.end, end_index(r)),
        }
        for key in keys:
            ts, value = values[key]
            if value is None and key != keys[0]:
                continue  # only the energy records a missing point; volumes are optional
            rows.append(
                (ids[(task.pce_id, key)], ts, value, _quality(estimated(r), value), provisional(r))
            )
    return rows


def _digest(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        flat: dict[str, Any] = {}
        for key, value in data.items():
            flat.update(_flatten(value, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): data}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    old, new = _flatten(before), _flatten(after)
    return {
        k: [old.get(k), new.get(k)] for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)
    }


@transaction.atomic
def store_snapshot(
    *, pce: Pce, kind: str, data: dict[str, Any], now: dt.datetime
) -> Snapshot | None:
    """Keep ``data`` if it differs from the last snapshot of its kind; returns the new row."""
    digest = _digest(data)
    last = Snapshot.objects.filter(pce=pce, kind=kind).order_by("-fetched_at").first()
    if last is not None and last.digest == digest:
        return None
    snapshot, created = Snapshot.objects.get_or_create(
        pce=pce,
        kind=kind,
        digest=digest,
        defaults={
            "fetched_at": now,
            "data": data,
            "changes": diff(last.data, data) if last is not None else {},
        },
    )
    if not created:  # back to an older content: record it as current again
        snapshot.fetched_at = now
        snapshot.changes = diff(last.data, data) if last is not None else {}
        snapshot.save(update_fields=["fetched_at", "changes"])
    _learn_from_snapshot(pce, kind, data)
    audit.record(
        action="grdf.snapshot.changed",
        actor=Actor.system("GRDF"),
        organisation=pce.organisation,
        target=pce,
        after={"kind": kind, "changes": snapshot.changes},
        at=now,
    )
    return snapshot


def _learn_from_snapshot(pce: Pce, kind: str, data: dict[str, Any]) -> None:
    """The meter frequency and commissioning date steer polling and bound the data range."""
    changed = []
    if kind == SnapshotKind.TECHNICAL:
        frequency = str(data.get("frequency") or "")
        if frequency in Frequency.values and frequency != pce.frequency:
            pce.frequency = frequency
            changed.append("frequency")
    if kind == SnapshotKind.CONTRACTUAL and data.get("commissioning_date"):
        try:
            mes = dt.date.fromisoformat(str(data["commissioning_date"]))
        except ValueError:
            mes = None
        if mes and mes != pce.mes_date:
            pce.mes_date = mes
            changed.append("mes_date")
    if changed:
        pce.save(update_fields=changed)


def store(
    outcomes: Sequence[Outcome],
    *,
    organisation: Organisation,
    now: dt.datetime,
    today: dt.date,
    report: SyncReport,
) -> None:
    """Write every outcome: points in one batch, snapshots, warnings, poll dates."""
    # Only outcomes with records: a series is made for what the consent let us fetch and
    # GRDF sent, never for a type of another PCE of the same run.
    consumption = [o for o in outcomes if o.batch is not None and len(o.batch)]
    pairs = {(o.task.pce_id, k) for o in consumption for k in FEEDS[o.task.data_type]}
    ids = (
        series_ids({pce for pce, _ in pairs}, {key for _, key in pairs}, only=pairs)
        if pairs
        else {}
    )
    rows: list[Row] = []
    warnings_by_pce: dict[str, list[str]] = defaultdict(list)
    for outcome in consumption:
        rows.extend(rows_of(outcome, ids))
    for outcome in outcomes:
        if outcome.batch is not None:
            warnings_by_pce[outcome.task.pce].extend(_check(outcome, today=today))
    pces = {
        p.pk: p
        for p in Pce.objects.filter(pk__in={o.task.pce_id for o in outcomes}).select_related(
            "organisation", "metering_point"
        )
    }
    with transaction.atomic():
        # Read what a correction replaces before writing it.
        Revision.objects.bulk_create(_revisions(rows, ids=ids, now=now))
        report.points += upsert_rows(rows=rows)
        for outcome in outcomes:
            if outcome.snapshot is not None and store_snapshot(
                pce=pces[outcome.task.pce_id],
                kind=outcome.task.data_type,
                data=outcome.snapshot,
                now=now,
            ):
                report.snapshots_changed += 1
        _mark_polled(outcomes, now=now)
    for outcome in outcomes:
        if outcome.error:
            report.failed += 1
            report.errors.append(f"{outcome.task.pce} {outcome.task.data_type}: {outcome.error}")
    for pce, warnings in warnings_by_pce.items():
        if warnings:
            report.warnings.extend(f"{pce} : {w}" for w in warnings)
            notify(
                organisation=organisation,
                source=SOURCE,
                kind="data_quality",
                title=f"GRDF : données incomplètes pour le PCE {pce}",
                body="\n".join(warnings),
                severity=Severity.WARNING,
                dedupe_key=f"quality:{pce}",
                link=f"/grdf/pce/{pce}/",
                now=now,
            )


def _revisions(
    rows: Sequence[Row], *, ids: dict[tuple[int, str], int], now: dt.datetime
) -> list[Revision]:
    """The definitive stored values these definitive rows change (GRDF's corrected data).

    A provisional value replaced by the definitive one is the normal course, not a
    correction; a provisional row never replaces a definitive point (``hub.services.series``).
    """
    definitive = [row for row in rows if not row[4]]
    if not definitive:
        return []
    pce_of = {series_id: pce_id for (pce_id, _key), series_id in ids.items()}
    stored = {
        (series_id, ts): (value, quality)
        for series_id, ts, value, quality in Point.objects.filter(
            series_id__in={row[0] for row in definitive},
            ts__gte=min(row[1] for row in definitive),
            ts__lte=max(row[1] for row in definitive),
            provisional=False,
        ).values_list("series_id", "ts", "value", "quality")
    }
    revisions = []
    for series_id, ts, value, new_quality, _provisional in definitive:
        before = stored.get((series_id, ts))
        if before is not None and before[0] != value:
            revisions.append(
                Revision(
                    pce_id=pce_of[series_id],
                    series_id=series_id,
                    ts=ts,
                    previous_value=before[0],
                    previous_quality=before[1],
                    value=value,
                    quality=new_quality,
                    replaced_at=now,
                )
            )
    return revisions


def _check(outcome: Outcome, *, today: dt.date) -> list[str]:
    assert outcome.batch is not None
    task, batch = outcome.task, outcome.batch
    warnings = [f"GRDF : {note}" for note in notes_of(batch)]
    if task.data_type == DataType.INFORMATIVE_DAILY:
        assert task.start is not None and task.end is not None
        warnings += quality.check_daily(list(batch), start=task.start, end=task.end, today=today)
    elif task.data_type == DataType.INFORMATIVE_HOURLY:
        warnings += quality.check_hourly(list(batch))
    return warnings


def _mark_polled(outcomes: Sequence[Outcome], *, now: dt.datetime) -> None:
    """Poll dates of what succeeded (their back-offs cleared); back-offs for what did not."""
    fields = POLLED_FIELDS
    by_field: dict[str, set[int]] = defaultdict(set)
    succeeded: dict[str, set[int]] = defaultdict(set)
    failed = [o for o in outcomes if o.error]
    for outcome in outcomes:
        if not outcome.error:
            by_field[fields[outcome.task.data_type]].add(outcome.task.pce_id)
            succeeded[outcome.task.data_type].add(outcome.task.pce_id)
    for name, pce_ids in by_field.items():
        Pce.objects.filter(pk__in=pce_ids).update(**{name: now})
    # How far back each type is now fetched without a gap.
    starts: dict[tuple[str, dt.date], set[int]] = defaultdict(set)
    for outcome in outcomes:
        task = outcome.task
        if not outcome.error and task.start is not None:
            starts[(FETCHED_FROM_FIELDS[task.data_type], task.start)].add(task.pce_id)
    for (name, start), pce_ids in starts.items():
        Pce.objects.filter(pk__in=pce_ids).update(
            **{name: Least(Coalesce(F(name), Value(start)), Value(start))}
        )
    for data_type, pce_ids in succeeded.items():
        FetchBackoff.objects.filter(data_type=data_type, pce_id__in=pce_ids).delete()
    if not failed:
        return
    known = {
        (b.pce_id, b.data_type): b
        for b in FetchBackoff.objects.filter(
            pce_id__in={o.task.pce_id for o in failed},
            data_type__in={o.task.data_type for o in failed},
        )
    }
    for outcome in failed:
        key = (outcome.task.pce_id, outcome.task.data_type)
        backoff = known.get(key) or FetchBackoff(pce_id=key[0], data_type=key[1])
        backoff.failures += 1
        backoff.refused = outcome.refused
        backoff.last_error = outcome.error[:300]
        backoff.next_attempt_at = now + backoff_delay(
            failures=backoff.failures, refused=outcome.refused
        )
        backoff.save()
        known[key] = backoff


def sync_data(
    *,
    organisation: Organisation,
    gateway: AdictGateway,
    now: dt.datetime,
    today: dt.date,
    pces: Sequence[str] = (),
    types: set[str] | None = None,
    force: bool = False,
    workers: int | None = None,
    chunk: int = 500,
    backfill: bool = False,
    backfill_since: dt.date | None = None,
) -> SyncReport:
    """Fetch what is due (everything with ``force``) for the organisation's PCEs and store it.

    One poll run records the whole sync; warnings make it "partial" and raise an alert. With
    ``backfill``, the whole range each consent allows (from ``backfill_since``) is asked again.
    """
    from grdf_access.thresholds import evaluate  # thresholds read the series this writes

    workers = workers or int(getattr(settings, "GRDF_SYNC_WORKERS", 4))
    report = SyncReport()
    target = ",".join(pces) if pces else "données"
    with poll_run(source=SOURCE, target=target[:200], organisation=organisation, now=now) as run:
        selected = pces_with_rights(organisation=organisation, identifiers=pces)
        report.pces = len(selected)
        deferred: list[tuple[str, str]] = []
        tasks = plan(
            selected,
            now=now,
            today=today,
            types=types,
            force=force or backfill,
            deferred=deferred,
            backfill=backfill,
            backfill_since=backfill_since,
        )
        report.tasks = len(tasks)
        report.deferred = len(deferred)
        # Each chunk is one series write, made while the next calls are still running.
        for outcomes in _chunks(fetch(tasks, gateway=gateway, workers=workers), chunk):
            run.items_received += sum(
                len(o.batch) if o.batch else int(o.snapshot is not None) for o in outcomes
            )
            store(outcomes, organisation=organisation, now=now, today=today, report=report)
        run.items_stored = report.points + report.snapshots_changed
        if report.warnings or report.errors:
            run.outcome = PollOutcome.PARTIAL
            run.error = "\n".join(
                [f"Avertissement : {w}" for w in report.warnings]
                + [f"Erreur : {e}" for e in report.errors]
            )[:5000]
        evaluate(
            organisation=organisation,
            pce_ids={t.pce_id for t in tasks if t.data_type in CONSUMPTION_TYPES},
            now=now,
            today=today,
        )
    return report


@dataclass
class FullSyncReport:
    rights_seen: int
    rights_changed: int
    data: SyncReport


def full_sync(
    *,
    organisation: Organisation,
    gateway: AdictGateway,
    now: dt.datetime,
    today: dt.date,
    pces: Sequence[str] = (),
    force: bool = False,
    workers: int | None = None,
) -> FullSyncReport:
    """Rights first (a revoked right must stop the data calls of the same run), then data."""
    from grdf_access.services import sync_rights

    with poll_run(source=SOURCE, target="droits", organisation=organisation, now=now) as run:
        rights = sync_rights(organisation=organisation, gateway=gateway, now=now, pces=pces)
        run.items_received = rights.seen
        run.items_stored = rights.changed
    data = sync_data(
        organisation=organisation,
        gateway=gateway,
        now=now,
        today=today,
        pces=pces,
        force=force,
        workers=workers,
    )
    return FullSyncReport(rights.seen, rights.changed, data)
