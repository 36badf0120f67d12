"""Series writes (idempotent upserts, provisional then definitive) and resampled reads.

DST days on purpose: 2026-03-29 has 23 local hours, 2026-10-25 has 25.
"""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hub.clock import local_day_bounds
from hub.models import Aggregate, Point, Quality, SeriesKind
from hub.selectors.series import SeriesReadError, Step, read_points
from hub.services import series as series_service
from hub.services.series import PointIn, SeriesWriteError, ensure_series, upsert_points, upsert_rows
from tests.hub.test_series_storage import tic_series

pytestmark = pytest.mark.django_db


@pytest.fixture
def series(tenant):
    return ensure_series(
        metering_point=tenant.point,
        quantity="active_energy_import",
        unit="Wh",
        source="test",
        kind=SeriesKind.INTERVAL,
        step_seconds=900,
    )


def quarter_hours(day: dt.date, value: float = 1.0) -> list[PointIn]:
    start, end = local_day_bounds(day)
    count = int((end - start).total_seconds() // 900)
    return [PointIn(start + dt.timedelta(minutes=15 * i), value) for i in range(count)]


def test_upsert_is_idempotent(series):
    points = quarter_hours(dt.date(2026, 6, 1))
    assert upsert_points(series=series, points=points) == 96
    assert upsert_points(series=series, points=points) == 0
    assert Point.objects.filter(series=series).count() == 96


def test_upsert_replaces_a_changed_value(series):
    ts = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)
    upsert_points(series=series, points=[PointIn(ts, 1.0)])
    assert upsert_points(series=series, points=[PointIn(ts, 2.0, Quality.CORRECTED)]) == 1
    point = Point.objects.get(series=series, ts=ts)
    assert (point.value, point.quality) == (2.0, Quality.CORRECTED)


def test_definitive_overwrites_provisional_but_not_the_reverse(series):
    ts = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)
    upsert_points(series=series, points=[PointIn(ts, 10.0, Quality.ESTIMATED, provisional=True)])
    upsert_points(series=series, points=[PointIn(ts, 12.5, Quality.MEASURED)])
    late_provisional = PointIn(ts, 99.0, Quality.ESTIMATED, provisional=True)
    assert upsert_points(series=series, points=[late_provisional]) == 0
    point = Point.objects.get(series=series, ts=ts)
    assert (point.value, point.quality, point.provisional) == (12.5, Quality.MEASURED, False)


def test_duplicates_inside_one_batch_keep_the_last(series):
    ts = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)
    upsert_points(series=series, points=[PointIn(ts, 1.0), PointIn(ts, 3.0)])
    assert Point.objects.get(series=series, ts=ts).value == 3.0


@pytest.mark.parametrize(
    ("point", "reason"),
    [
        # The reasons in the default language, French.
        (PointIn(dt.datetime(2026, 6, 1, 10), 1.0), "sans fuseau"),
        (PointIn(dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC), float("nan")), "non finie"),
        (PointIn(dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC), None), "valeur est obligatoire"),
        (PointIn(dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC), 1.0, quality=9), "qualité"),
    ],
)
def test_bad_point_is_refused_and_nothing_of_the_batch_is_stored(series, point, reason):
    good = PointIn(dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC), 1.0)
    with pytest.raises(SeriesWriteError, match=reason) as info:
        upsert_points(series=series, points=[good, point])
    assert info.value.index == 1
    assert not Point.objects.filter(series=series).exists()


@pytest.mark.parametrize("path", ["append", "merge", "new months"])
def test_a_bad_point_deep_in_a_large_batch_is_named_by_its_input_position(
    series, monkeypatch, path
):
    # Whichever way the batch is written, the error names the point's position in the input
    # and nothing of the batch is stored, also when it lies far past the first rows.
    start = dt.datetime(2032 if path == "new months" else 2026, 6, 1, tzinfo=dt.UTC)
    if path == "new months":
        monkeypatch.setattr(series_service, "BULK_LOAD_ROWS", 1)
    if path == "merge":
        upsert_points(series=series, points=[PointIn(start, 1.0)])
    points = [PointIn(start + dt.timedelta(minutes=i), 2.0) for i in range(25_000)]
    points[23_456] = PointIn(points[23_456].ts, float("inf"))
    with pytest.raises(SeriesWriteError, match="non finie") as info:
        upsert_points(series=series, points=points)
    assert info.value.index == 23_456
    assert list(Point.objects.filter(series=series).values_list("value", flat=True)) == (
        [1.0] if path == "merge" else []
    )


def test_a_bad_point_of_a_batch_mixing_tiers_is_named_by_its_input_position(tenant, series):
    tic = tic_series(tenant)
    start = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    rows = [
        (series_id, start + dt.timedelta(seconds=i), 1.0, Quality.MEASURED, False)
        for i in range(12_000)
        for series_id in (series.pk, tic.pk)
    ]
    rows[22_001] = (tic.pk, rows[22_001][1], None, Quality.MEASURED, False)
    with pytest.raises(SeriesWriteError, match="valeur est obligatoire") as info:
        upsert_rows(rows=rows)
    assert info.value.index == 22_001
    assert not Point.objects.filter(series__in=[series, tic]).exists()


def test_missing_point_is_stored_without_value(series):
    ts = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)
    upsert_points(series=series, points=[PointIn(ts, None, Quality.MISSING)])
    assert Point.objects.get(series=series, ts=ts).value is None


def test_rows_of_several_series_in_one_call(tenant, series):
    other = ensure_series(metering_point=tenant.point, quantity="power", unit="W", source="test")
    ts = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)
    assert upsert_rows(rows=[(series.pk, ts, 1.0, 0, False), (other.pk, ts, 2.0, 0, False)]) == 2


@pytest.mark.parametrize(
    ("day", "hours"),
    [(dt.date(2026, 3, 29), 23), (dt.date(2026, 10, 25), 25), (dt.date(2026, 6, 1), 24)],
)
def test_hourly_resampling_of_a_local_day(series, day, hours):
    upsert_points(series=series, points=quarter_hours(day))
    start, end = local_day_bounds(day)
    buckets = read_points(series=series, start=start, end=end, step=Step.HOUR)
    assert len(buckets) == hours
    assert all(b.value == 4.0 and b.count == 4 for b in buckets)
    assert buckets[0].ts == start
    assert buckets[-1].ts == end - dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("day", "quarters"), [(dt.date(2026, 3, 29), 92), (dt.date(2026, 10, 25), 100)]
)
def test_daily_resampling_gives_one_bucket_per_local_day(series, day, quarters):
    previous, following = day - dt.timedelta(days=1), day + dt.timedelta(days=1)
    for d in (previous, day, following):
        upsert_points(series=series, points=quarter_hours(d))
    start, _ = local_day_bounds(previous)
    _, end = local_day_bounds(following)
    buckets = read_points(series=series, start=start, end=end, step=Step.DAY)
    assert [b.ts for b in buckets] == [local_day_bounds(d)[0] for d in (previous, day, following)]
    assert buckets[1].value == quarters


def test_gas_day_buckets_run_from_six_to_six_local(series):
    day = dt.date(2026, 10, 25)
    upsert_points(series=series, points=quarter_hours(day))
    start, end = local_day_bounds(day)
    buckets = read_points(series=series, start=start, end=end, step=Step.GAS_DAY)
    # 00:00-06:00 local on the 25th has 7 hours (02:00-03:00 twice): 28 quarter-hours.
    assert [(b.ts.isoformat(), b.value) for b in buckets] == [
        ("2026-10-24T04:00:00+00:00", 28.0),
        ("2026-10-25T05:00:00+00:00", 72.0),
    ]


def test_aggregates(series):
    base = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)
    upsert_points(
        series=series,
        points=[
            PointIn(base + dt.timedelta(minutes=15 * i), v)
            for i, v in enumerate([4.0, 1.0, 3.0, 2.0])
        ],
    )
    end = base + dt.timedelta(hours=1)
    values = {
        agg: read_points(series=series, start=base, end=end, step=Step.HOUR, aggregate=agg)[0].value
        for agg in Aggregate
    }
    assert values == {
        Aggregate.SUM: 10.0,
        Aggregate.MEAN: 2.5,
        Aggregate.MIN: 1.0,
        Aggregate.MAX: 4.0,
        Aggregate.LAST: 2.0,
        Aggregate.COUNT: 4.0,
    }


def test_index_series_resamples_to_last_value(tenant):
    index = ensure_series(
        metering_point=tenant.point, quantity="index", unit="Wh", source="t", kind=SeriesKind.INDEX
    )
    base = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)
    upsert_points(
        series=index,
        points=[PointIn(base + dt.timedelta(minutes=m), 100.0 + m) for m in (0, 20, 40)],
    )
    [bucket] = read_points(
        series=index, start=base, end=base + dt.timedelta(hours=1), step=Step.HOUR
    )
    assert bucket.value == 140.0


def test_raw_read_is_half_open(series):
    base = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)
    upsert_points(
        series=series, points=[PointIn(base, 1.0), PointIn(base + dt.timedelta(hours=1), 2.0)]
    )
    raw = read_points(series=series, start=base, end=base + dt.timedelta(hours=1))
    assert [b.value for b in raw] == [1.0]


def test_read_refuses_reversed_range(series):
    base = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)
    with pytest.raises(SeriesReadError) as info:
        read_points(series=series, start=base, end=base)
    assert info.value.field == "end"


_ZONES = [dt.UTC, dt.timezone(dt.timedelta(hours=2)), ZoneInfo("Europe/Paris"), None]
_VALUES = [1.5, 0.0, -3.0, None, float("nan"), float("inf"), -float("inf"), 1e308]
_QUALITY_CODES = [*Quality.values, 99, -1]
_REASONS = {"zone": "fuseau", "quality": "qualité", "value": "obligatoire", "finite": "finie"}


def _first_broken_rule(rows):
    # The write rules, one row after the other: a zone on every instant, a known quality, a
    # value unless the point is missing, and a finite one.
    for index, (_series_id, ts, value, quality, _provisional) in enumerate(rows):
        if ts.utcoffset() is None:
            return index, "zone"
        if quality not in Quality.values:
            return index, "quality"
        if value is None and quality != Quality.MISSING:
            return index, "value"
        if value is not None and not math.isfinite(value):
            return index, "finite"
    return None


@pytest.mark.django_db(databases=[])
@hypothesis_settings(max_examples=300, deadline=None)
@given(
    cells=st.lists(
        st.tuples(
            st.sampled_from(_ZONES),
            st.sampled_from(_VALUES),
            st.sampled_from(_QUALITY_CODES),
            st.booleans(),
        ),
        max_size=40,
    ),
    valid_prefix=st.integers(0, 30),
)
def test_validation_names_the_first_bad_row_whatever_the_batch(cells, valid_prefix):
    # Batches of valid UTC rows are checked in bulk; any other row (another zone, a missing
    # value, a bad one) must still be found, the first one first, with its reason.
    start = dt.datetime(2026, 10, 25, tzinfo=dt.UTC)

    def instant(hour, zone):
        utc = start + dt.timedelta(hours=hour)
        return utc.replace(tzinfo=None) if zone is None else utc.astimezone(zone)

    rows = [(1, instant(i, dt.UTC), float(i), Quality.MEASURED, False) for i in range(valid_prefix)]
    rows += [
        (1, instant(valid_prefix + i, zone), value, quality, provisional)
        for i, (zone, value, quality, provisional) in enumerate(cells)
    ]
    broken = _first_broken_rule(rows)
    if broken is None:
        assert series_service._validated(rows) == rows
    else:
        with pytest.raises(SeriesWriteError, match=_REASONS[broken[1]]) as info:
            series_service._validated(rows)
        assert info.value.index == broken[0]
