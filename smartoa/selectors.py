"""Smart OA reads: which contracts a caller sees, a day's versions, the set-point now."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from hub.clock import local_day_of
from hub.models import ApiToken, Organisation
from smartoa.models import Contract, ControllerAccess, ScheduleVersion, StopEpisode
from smartoa.schedule import Episode, Period, merge_touching, value_at


def visible_contracts(
    *, organisation: Organisation, token: ApiToken | None = None
) -> QuerySet[Contract]:
    """The organisation's contracts; a token with ControllerAccess rows sees only those."""
    contracts = Contract.objects.filter(organisation=organisation)
    if token is not None and ControllerAccess.objects.filter(token=token).exists():
        contracts = contracts.filter(controller_access__token=token)
    return contracts.select_related("site", "metering_point").order_by("contract_id")


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
