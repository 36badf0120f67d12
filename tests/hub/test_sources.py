"""The best source per read (``hub.selectors.sources``).

Issue "one hub" §3: « A hub selector returns a metering point's quantity over a time range from
the best available source (TIC live, an uploaded load curve, a provider's data), by a documented
priority and coverage, resampled on the Paris clock (5 min, 10 min, hour, day). » The rule
(module docstring): « Each bucket is taken whole from the best-ranked source … whose series
covers it »; « Coverage is judged per bucket, not per range »; « A bucket never mixes two
sources ».
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from hub import quantities
from hub.clock import PARIS, local_day_bounds
from hub.models import Quality, SeriesKind
from hub.selectors.series import Step
from hub.selectors.sources import (
    SourceConflict,
    SourceRank,
    SourceReadError,
    bucket_start,
    rank_of,
    read_best,
    register_source,
    unregister_source,
)
from hub.services.series import PointIn, ensure_series, upsert_points
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

ENERGY = quantities.ACTIVE_ENERGY_EXPORT
FIVE = dt.timedelta(minutes=5)
LIVE, UPLOAD = "tic", "smartoa-csv"  # registered by their apps: meter, then upload


def _curve(tenant: Tenant, source: str, start: dt.datetime, end: dt.datetime, wh: float,
           *, unit: str = "Wh", skip: tuple[dt.datetime, dt.datetime] | None = None,
           step: int = 300) -> None:  # fmt: skip
    series = ensure_series(
        metering_point=tenant.point, quantity=ENERGY.name, unit=unit, source=source,
        kind=SeriesKind.INTERVAL, step_seconds=step,
    )  # fmt: skip
    points, cursor = [], start
    while cursor < end:
        if skip is None or not skip[0] <= cursor < skip[1]:
            points.append(PointIn(cursor, wh))
        cursor += dt.timedelta(seconds=step)
    upsert_points(series=series, points=points)


def test_the_ranks_of_the_apps_sources_are_registered() -> None:
    """« the tic source preferred over the CSV upload, which stays as a fallback »."""
    assert rank_of(LIVE) == SourceRank.METER < rank_of("grdf") == SourceRank.PROVIDER
    assert rank_of("grdf") < rank_of(UPLOAD) == SourceRank.UPLOAD < rank_of("nobody-knows")


@pytest.fixture
def scratch_source() -> Iterator[str]:
    yield "scratch"
    unregister_source("scratch")


def test_a_source_keeps_one_rank(scratch_source: str) -> None:
    register_source(scratch_source, rank=20, label="x")
    register_source(scratch_source, rank=20, label="x")  # the same again is harmless
    with pytest.raises(SourceConflict):
        register_source(scratch_source, rank=21, label="x")


@pytest.mark.parametrize(
    ("day", "steps", "hours"),
    [
        (dt.date(2026, 3, 29), 276, 23),
        (dt.date(2026, 10, 25), 300, 25),
        (dt.date(2026, 6, 1), 288, 24),
    ],
)
def test_dst_days_have_their_local_number_of_buckets(
    tenant: Tenant, day: dt.date, steps: int, hours: int
) -> None:
    """« DST days: 276 and 300 steps »: 5-minute buckets follow the Paris day; one daily bucket
    holds the 23- or 25-hour day whole."""
    start, end = local_day_bounds(day)
    _curve(tenant, LIVE, start, end, 10.0)
    five = read_best(
        metering_point=tenant.point, quantity=ENERGY, start=start, end=end, step=Step.MIN5
    )
    assert len(five.readings) == steps and five.complete and five.sources == [LIVE]
    assert [r.start for r in five.readings][:2] == [start, start + FIVE]
    hourly = read_best(
        metering_point=tenant.point, quantity=ENERGY, start=start, end=end, step=Step.HOUR
    )
    assert len(hourly.readings) == hours
    assert {r.value for r in hourly.readings} == {120.0}
    ten = read_best(
        metering_point=tenant.point, quantity=ENERGY, start=start, end=end, step=Step.MIN10
    )
    assert len(ten.readings) == steps // 2 and {r.value for r in ten.readings} == {20.0}
    (daily,) = read_best(
        metering_point=tenant.point, quantity=ENERGY, start=start, end=end, step=Step.DAY
    ).readings
    assert (daily.start, daily.end, daily.value) == (start, end, 10.0 * steps)
    assert daily.start.astimezone(PARIS).hour == 0


def test_partial_coverage_falls_back_per_bucket_never_mixing_sources(tenant: Tenant) -> None:
    """The TIC port was down 10:00-11:00 (and came back at 11:05): those buckets come from the
    uploaded curve, the others from TIC; a 10-minute bucket TIC holds half of (11:00-11:10) is
    taken whole from the upload; the day, which TIC does not cover whole, from the upload."""
    day = dt.date(2026, 10, 25)
    start, end = local_day_bounds(day)
    gap = (
        dt.datetime(2026, 10, 25, 10, tzinfo=PARIS).astimezone(dt.UTC),
        dt.datetime(2026, 10, 25, 11, 5, tzinfo=PARIS).astimezone(dt.UTC),
    )
    _curve(tenant, LIVE, start, end, 10.0, skip=gap)
    _curve(tenant, UPLOAD, start, end, 7.0, unit="kWh")  # kWh: converted to Wh

    five = read_best(
        metering_point=tenant.point, quantity=ENERGY, start=start, end=end, step=Step.MIN5
    )
    assert five.complete and five.sources == [LIVE, UPLOAD]
    for reading in five.readings:
        inside = gap[0] <= reading.start < gap[1]
        assert (reading.source, reading.value) == ((UPLOAD, 7000.0) if inside else (LIVE, 10.0))

    ten = read_best(
        metering_point=tenant.point, quantity=ENERGY, start=start, end=end, step=Step.MIN10
    )
    by_start = {r.start.astimezone(PARIS).strftime("%H:%M"): r for r in ten.readings}
    assert (by_start["10:50"].source, by_start["10:50"].value) == (UPLOAD, 14_000.0)
    assert (by_start["11:00"].source, by_start["11:00"].value) == (UPLOAD, 14_000.0)
    assert (by_start["11:10"].source, by_start["11:10"].value) == (LIVE, 20.0)

    (daily,) = read_best(
        metering_point=tenant.point, quantity=ENERGY, start=start, end=end, step=Step.DAY
    ).readings
    assert (daily.source, daily.value) == (UPLOAD, 7000.0 * 300)


def test_a_bucket_no_source_covers_stays_empty(tenant: Tenant) -> None:
    start = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)
    _curve(tenant, LIVE, start, start + dt.timedelta(minutes=20), 5.0)
    read = read_best(
        metering_point=tenant.point, quantity=ENERGY, start=start,
        end=start + dt.timedelta(minutes=30), step=Step.MIN10,
    )  # fmt: skip
    assert [r.value for r in read.readings] == [10.0, 10.0, None]
    assert read.readings[-1].source == "" and not read.complete


def test_missing_quality_does_not_cover(tenant: Tenant) -> None:
    start = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)
    _curve(tenant, UPLOAD, start, start + FIVE, 3.0)
    live = ensure_series(
        metering_point=tenant.point, quantity=ENERGY.name, unit="Wh", source=LIVE,
        kind=SeriesKind.INTERVAL, step_seconds=300,
    )  # fmt: skip
    upsert_points(series=live, points=[PointIn(start, 99.0, Quality.MISSING)])
    (reading,) = read_best(
        metering_point=tenant.point, quantity=ENERGY, start=start, end=start + FIVE, step=Step.MIN5
    ).readings
    assert (reading.source, reading.value) == (UPLOAD, 3.0)


def test_a_power_is_read_from_its_energy_first_within_a_source(tenant: Tenant) -> None:
    """Mean power of a bucket = its energy over its length; the meter's own (lagging) power over
    Td only where no energy covers the bucket; apparent power is never taken for active."""
    start = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)
    energy = ensure_series(
        metering_point=tenant.point, quantity=quantities.ACTIVE_ENERGY_IMPORT.name, unit="Wh",
        source=LIVE, kind=SeriesKind.INTERVAL, step_seconds=300,
    )  # fmt: skip
    upsert_points(series=energy, points=[PointIn(start, 500.0)])  # 500 Wh in 5 min: 6 kW
    power = ensure_series(
        metering_point=tenant.point, quantity=quantities.ACTIVE_POWER_IMPORT.name, unit="kW",
        source=LIVE, kind=SeriesKind.INSTANT,
    )  # fmt: skip
    upsert_points(
        series=power,
        points=[PointIn(start + dt.timedelta(seconds=s), 9.0) for s in range(0, 600, 30)],
    )
    apparent = ensure_series(
        metering_point=tenant.point, quantity=quantities.ACTIVE_POWER_IMPORT.name, unit="kVA",
        source="apparent-by-mistake", kind=SeriesKind.INSTANT,
    )  # fmt: skip
    upsert_points(series=apparent, points=[PointIn(start + dt.timedelta(minutes=12), 1.0)])
    read = read_best(
        metering_point=tenant.point, quantity=quantities.ACTIVE_POWER_IMPORT, start=start,
        end=start + dt.timedelta(minutes=15), step=Step.MIN5,
    )  # fmt: skip
    assert [r.value for r in read.readings] == [6000.0, 9000.0, None]
    assert [r.series_id for r in read.readings] == [energy.pk, power.pk, None]


def test_bad_requests_name_their_field(tenant: Tenant) -> None:
    start = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    cases = [
        ({"start": start, "end": start, "step": Step.HOUR}, "end"),
        ({"start": start.replace(tzinfo=None), "end": start, "step": Step.HOUR}, "start"),
        ({"start": start, "end": start + FIVE, "step": Step.RAW}, "step"),
    ]
    for kwargs, name in cases:
        with pytest.raises(SourceReadError) as caught:
            read_best(metering_point=tenant.point, quantity=ENERGY, **kwargs)  # type: ignore[arg-type]
        assert caught.value.field == name
    with pytest.raises(SourceReadError) as caught:
        read_best(metering_point=tenant.point, quantity="nonsense", start=start,
                  end=start + FIVE, step=Step.MIN5)  # fmt: skip
    assert caught.value.field == "quantity"


def test_buckets_start_on_the_paris_clock() -> None:
    instant = dt.datetime(2026, 10, 25, 1, 7, 30, tzinfo=dt.UTC)  # 02:07:30 CET, second pass
    assert bucket_start(instant, Step.MIN5) == dt.datetime(2026, 10, 25, 1, 5, tzinfo=dt.UTC)
    assert bucket_start(instant, Step.DAY) == dt.datetime(2026, 10, 24, 22, tzinfo=dt.UTC)
    assert bucket_start(instant, Step.MONTH) == dt.datetime(2026, 9, 30, 22, tzinfo=dt.UTC)
