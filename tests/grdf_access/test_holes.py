"""Holes in the fetched series: found per series after an outage and fetched inside the consent."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from grdf_access import simulator
from grdf_access.models import Pce
from grdf_access.sync import SERIES, pces_with_rights, plan, sync_data
from hub.clock import PARIS, gas_day_bounds, gas_day_of
from hub.models import Point, Series
from hub.services.series import delete_points
from tests.conftest import Tenant
from tests.grdf_access.conftest import NOW, PCE_ID, active_right, counters

pytestmark = pytest.mark.django_db

LATER = NOW + dt.timedelta(days=1)
HOLE = (dt.date(2026, 5, 10), dt.date(2026, 5, 13))  # [start, end): three gas days


def run(tenant: Tenant, gateway: Any, *, now: dt.datetime, **kwargs: Any):
    simulator.set_now(now)
    today = now.astimezone(PARIS).date()
    return sync_data(
        organisation=tenant.organisation, gateway=gateway, now=now, today=today, **kwargs
    )


def series(key: str) -> Series:
    return Series.objects.get(
        metering_point__identifier=PCE_ID, quantity=SERIES[key].quantity, source="grdf"
    )


def punch_hole(key: str, start: dt.date, end: dt.date) -> int:
    first, last = gas_day_bounds(start)[0], gas_day_bounds(end)[0]
    return delete_points(series_ids=[series(key).pk], start=first, end=last)


def gas_days(key: str) -> set[dt.date]:
    return {
        gas_day_of(ts)
        for ts in Point.objects.filter(series=series(key)).values_list("ts", flat=True)
    }


def routine_plan(tenant: Tenant, *, now: dt.datetime, types: set[str]):
    return plan(
        pces_with_rights(organisation=tenant.organisation),
        now=now,
        today=now.astimezone(PARIS).date(),
        types=types,
    )


def test_missing_gas_days_are_found_and_fetched(tenant, gateway) -> None:
    """ "After an outage longer than the routine look-back the hub finds the holes in each
    series and fetches them", each call inside the range the consent allows (reference
    grdf-adict.md §1.3: "date_debut < date_fin; date_fin ≤ today")."""
    active_right(tenant)
    run(tenant, gateway, now=NOW, types={"informatives_journalieres"})
    assert punch_hole("daily_energy", *HOLE) == 3
    daily = "informatives_journalieres"
    tasks = routine_plan(tenant, now=LATER, types={daily})
    # The routine call (look-back) and one call for the hole, nothing else.
    assert [(t.start, t.end) for t in tasks] == [
        (dt.date(2026, 9, 28), dt.date(2026, 11, 3)),
        HOLE,
    ]
    report = run(tenant, gateway, now=LATER, types={daily})
    assert report.tasks == 2 and report.failed == 0
    assert {dt.date(2026, 5, 10), dt.date(2026, 5, 11), dt.date(2026, 5, 12)} <= gas_days(
        "daily_energy"
    )
    assert counters()["outside_consent"] == 0, counters()["outside_consent_log"]
    # Filled: the next sync asks the look-back only.
    assert len(routine_plan(tenant, now=LATER + dt.timedelta(days=1), types={daily})) == 1


def test_a_complete_series_adds_no_call(tenant, gateway) -> None:
    """Holes are gas days without their point: a full series (DST days included, 23 and 25
    hours but one daily point each) asks nothing more than the routine look-back."""
    active_right(tenant)
    run(tenant, gateway, now=NOW, types={"informatives_journalieres"})
    assert len(routine_plan(tenant, now=LATER, types={"informatives_journalieres"})) == 1


def test_hourly_hole_on_the_autumn_change(tenant, gateway, settings) -> None:
    """The gas day of 24 October 2026 holds 25 hours: one hour missing is a hole (hourly data
    come only with RSF, reference §3.4)."""
    settings.GRDF_RSF = True
    active_right(tenant, hourly=True, data_start=dt.date(2026, 10, 1))
    hourly = "informatives_horaires"
    run(tenant, gateway, now=NOW, types={hourly})
    first, _ = gas_day_bounds(dt.date(2026, 10, 24))
    at = first + dt.timedelta(hours=24)
    delete_points(
        series_ids=[series("hourly_energy").pk], start=at, end=at + dt.timedelta(seconds=1)
    )
    tasks = routine_plan(tenant, now=LATER, types={hourly})
    assert [(t.start, t.end) for t in tasks][1:] == [(dt.date(2026, 10, 24), dt.date(2026, 10, 25))]
    run(tenant, gateway, now=LATER, types={hourly})
    per_day = [
        p
        for p in Point.objects.filter(series=series("hourly_energy"))
        if gas_day_of(p.ts) == dt.date(2026, 10, 24)
    ]
    assert len(per_day) == 25


def test_holes_outside_the_consent_are_not_asked(tenant, gateway) -> None:
    """The right's data range bounds every call (reference grdf-adict.md §1.4): a hole left
    before a range that now starts later is not asked for."""
    right = active_right(tenant)
    run(tenant, gateway, now=NOW, types={"informatives_journalieres"})
    punch_hole("daily_energy", *HOLE)
    punch_hole("daily_energy", dt.date(2026, 7, 1), dt.date(2026, 7, 2))
    right.data_start = dt.date(2026, 6, 1)
    right.save()
    tasks = routine_plan(tenant, now=LATER, types={"informatives_journalieres"})
    assert [(t.start, t.end) for t in tasks][1:] == [(dt.date(2026, 7, 1), dt.date(2026, 7, 2))]


def test_backfill_plans_no_separate_hole_calls(tenant, gateway) -> None:
    """A backfill asks the whole range already: no call is added for its holes."""
    active_right(tenant)
    run(tenant, gateway, now=NOW, types={"informatives_journalieres"})
    punch_hole("daily_energy", *HOLE)
    tasks = plan(
        pces_with_rights(organisation=tenant.organisation),
        now=LATER,
        today=LATER.astimezone(PARIS).date(),
        types={"informatives_journalieres"},
        backfill=True,
    )
    assert [(t.start, t.end) for t in tasks] == [(dt.date(2026, 1, 1), dt.date(2026, 11, 3))]
    assert Pce.objects.get().informative_fetched_from == dt.date(2026, 1, 1)
