"""Smart OA reads: which contracts a caller sees, a day's versions, the set-point now."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from hub.clock import (
    PARIS,
    format_local,
    has_clock_change,
    local_day_bounds,
    local_day_of,
    utc_offset_label,
)
from hub.models import ApiToken, MeteringPoint, Organisation, PollRun, Site
from smartoa.models import Contract, ControllerAccess, ScheduleVersion, StopEpisode
from smartoa.schedule import Episode, Period, merge_touching, value_at
from smartoa.services import POLL_SOURCE


def visible_contracts(
    *, organisation: Organisation, token: ApiToken | None = None
) -> QuerySet[Contract]:
    """The organisation's contracts; a token with ControllerAccess rows sees only those."""
    contracts = Contract.objects.filter(organisation=organisation)
    if token is not None and ControllerAccess.objects.filter(token=token).exists():
        contracts = contracts.filter(controller_access__token=token)
    return contracts.select_related("site", "metering_point").order_by("contract_id")


def contracts_of_site(
    *, organisation: Organisation, site: Site, points: Sequence[MeteringPoint]
) -> QuerySet[Contract]:
    """The contracts of ``site``: declared on it, or on one of its metering points."""
    return (
        Contract.objects.filter(organisation=organisation)
        .filter(Q(site=site) | Q(metering_point__in=points))
        .distinct()
        .select_related("metering_point")
        .order_by("contract_id")
    )


def versions_of_day(*, contract: Contract, day: dt.date) -> QuerySet[ScheduleVersion]:
    """Every version of ``day``'s schedule, oldest first, with their stop episodes."""
    return (
        ScheduleVersion.objects.filter(contract=contract, application_date=day)
        .order_by("update_date")
        .prefetch_related(Prefetch("episodes", queryset=StopEpisode.objects.order_by("start")))
    )


def latest_version(*, contract: Contract, day: dt.date) -> ScheduleVersion | None:
    """The version in force for ``day``: the one with the latest update date."""
    return (
        ScheduleVersion.objects.filter(contract=contract, application_date=day)
        .order_by("-update_date")
        .prefetch_related("episodes")
        .first()
    )


def episodes_in_force(*, contract: Contract, days: list[dt.date]) -> list[Episode]:
    """The stops of the latest version of each of ``days``, merged across midnight."""
    episodes: list[Episode] = []
    for day in days:
        version = latest_version(contract=contract, day=day)
        if version is not None:
            episodes.extend(Episode(e.start, e.end) for e in version.episodes.all())
    return merge_touching(episodes)


@dataclass(frozen=True)
class Setpoint:
    at: dt.datetime
    value: float | None  # None: no schedule known for now
    current: Episode | None
    next: Episode | None
    version: ScheduleVersion | None


def setpoint(*, contract: Contract, now: dt.datetime) -> Setpoint:
    """What the plant must do now, the stop in progress and the next one known."""
    today = local_day_of(now)
    version = latest_version(contract=contract, day=today)
    value = None
    if version is not None:
        value = value_at((Period.from_json(p) for p in version.periods), now)
    # Yesterday too: a stop running across midnight started then.
    days = [today + dt.timedelta(days=offset) for offset in (-1, 0, 1)]
    episodes = episodes_in_force(contract=contract, days=days)
    current = next((e for e in episodes if e.contains(now)), None)
    upcoming = next((e for e in episodes if e.start > now), None)
    return Setpoint(now, value, current, upcoming, version)


# --- Portal ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractState:
    """A contract as the portal lists it: what the plant must do now, the next stop, last poll."""

    contract: Contract
    value: float | None
    current: Episode | None
    next: Episode | None


def with_last_poll(contracts: QuerySet[Contract]) -> QuerySet[Contract]:
    """Annotates ``last_run_at``, ``last_run_outcome``, ``last_run_error`` (one query in all)."""
    runs = PollRun.objects.filter(
        source=POLL_SOURCE,
        organisation_id=OuterRef("organisation_id"),
        target=OuterRef("contract_id"),
    ).order_by("-started_at", "-pk")
    return contracts.annotate(
        last_run_at=Subquery(runs.values("started_at")[:1]),
        last_run_outcome=Subquery(runs.values("outcome")[:1]),
        last_run_error=Subquery(runs.values("error")[:1]),
    )


def states(*, contracts: Sequence[Contract], now: dt.datetime) -> list[ContractState]:
    """The state of each contract now, from the versions in force yesterday, today, tomorrow.

    Two queries whatever the number of contracts (versions, then their episodes).
    """
    today = local_day_of(now)
    days = [today + dt.timedelta(days=offset) for offset in (-1, 0, 1)]
    latest: dict[tuple[int, dt.date], ScheduleVersion] = {}
    versions = (
        ScheduleVersion.objects.filter(contract__in=[c.pk for c in contracts])
        .filter(application_date__in=days)
        .order_by("update_date")
        .prefetch_related(Prefetch("episodes", queryset=StopEpisode.objects.order_by("start")))
    )
    for version in versions:
        latest[(version.contract_id, version.application_date)] = version  # last one wins
    result = []
    for contract in contracts:
        episodes: list[Episode] = []
        for day in days:
            of_day = latest.get((contract.pk, day))
            if of_day is not None:
                episodes.extend(Episode(e.start, e.end) for e in of_day.episodes.all())
        merged = merge_touching(episodes)
        in_force = latest.get((contract.pk, today))
        value = None
        if in_force is not None:
            value = value_at((Period.from_json(p) for p in in_force.periods), now)
        result.append(
            ContractState(
                contract=contract,
                value=value,
                current=next((e for e in merged if e.contains(now)), None),
                next=next((e for e in merged if e.start > now), None),
            )
        )
    return result


@dataclass(frozen=True)
class Segment:
    """A stop drawn on a day's timeline: offsets in percent of the day's length."""

    episode: Episode
    left: float
    width: float


@dataclass(frozen=True)
class Tick:
    """An hour of the day on its timeline: position in percent, and a label or none."""

    left: float
    label: str
    title: str  # the hour's wall time and offset, for a reader's tooltip


@dataclass(frozen=True)
class Timeline:
    day: dt.date
    version: ScheduleVersion | None
    segments: list[Segment]
    ticks: list[Tick]  # one per hour of the day (23, 24 or 25)
    hours: int
    clock_change: bool

    @property
    def labelled(self) -> list[Tick]:
        return [t for t in self.ticks if t.label]


def timeline(*, contract: Contract, day: dt.date) -> Timeline:
    """The day's stops as segments of its length (23, 24 or 25 hours), drawn in elapsed time.

    Every hour gets a tick. Labels fall every three hours of wall time and, on the days the
    clocks change, on the hours either side of the change with their offset: on the 25-hour
    day « 02 h UTC+2 » and « 02 h UTC+1 » both appear, an hour apart.
    """
    start, end = local_day_bounds(day)
    length = (end - start).total_seconds()
    version = latest_version(contract=contract, day=day)
    segments = []
    if version is not None:
        for stop in version.episodes.all():
            clipped = Episode(stop.start, stop.end).clipped(start, end)
            if clipped is None:
                continue
            left = (clipped.start - start).total_seconds() / length * 100
            width = clipped.duration.total_seconds() / length * 100
            segments.append(Segment(Episode(stop.start, stop.end), left, width))
    hours = int(length // 3600)
    instants = [start + dt.timedelta(hours=h) for h in range(hours)]
    offsets = [i.astimezone(PARIS).utcoffset() for i in instants]
    ticks = []
    for index, instant in enumerate(instants):
        local = instant.astimezone(PARIS)
        around_change = (index > 0 and offsets[index - 1] != offsets[index]) or (
            index + 1 < hours and offsets[index + 1] != offsets[index]
        )
        label = ""
        if around_change:
            label = f"{local:%H} h {utc_offset_label(instant)}"
        elif local.minute == 0 and local.hour % 3 == 0:
            label = f"{local:%H} h"
        left = (instant - start).total_seconds() / length * 100
        ticks.append(Tick(left, label, format_local(instant, "%H:%M", offset=True)))
    return Timeline(day, version, segments, ticks, hours, has_clock_change(day))


def history(*, contract: Contract, limit: int = 30) -> QuerySet[ScheduleVersion]:
    """The latest published versions, newest first, with their episodes."""
    return (
        ScheduleVersion.objects.filter(contract=contract)
        .order_by("-update_date", "-application_date")
        .prefetch_related(Prefetch("episodes", queryset=StopEpisode.objects.order_by("start")))[
            :limit
        ]
    )
