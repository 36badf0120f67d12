"""Series storage on PostgreSQL: partitions made ahead and dropped past retention, rollups kept
as points arrive and read instead of raw points, and the migration that partitions the table.

Issue 18: "TIC raw points kept a configurable number of days (default 35), rollups (1 min,
15 min, 1 h: min/max/mean/last and energy sums as the quantity's kind requires) maintained
incrementally as data arrives and kept for years; reads pick the coarsest rollup that serves
the requested step; dropping old data drops partitions, not rows."
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

import pytest
from django.db import connection
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hub import quantities
from hub.clock import local_day_bounds
from hub.models import Aggregate, Point, Quality, Rollup, SeriesKind
from hub.selectors.series import Step, read_points, rollup_width
from hub.services import partitions
from hub.services.series import delete_points, ensure_series, upsert_rows
from tests.conftest import require

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 6, 13, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def postgresql():
    require(connection.vendor == "postgresql", "partitions and rollups live in PostgreSQL")


def tic_series(tenant, name=quantities.ACTIVE_POWER_IMPORT, source="tic"):
    return ensure_series(
        metering_point=tenant.point,
        quantity=name.name,
        unit=name.unit,
        source=source,
        kind=SeriesKind(name.kind.value),
    )


def tables(prefix: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE %s", [prefix + "%"])
        return {row[0] for row in cursor.fetchall()}


def test_partitions_are_created_ahead_and_idempotently():
    created = partitions.create_ahead(now=NOW)
    assert {"hub_point_kept_p202612", "hub_point_kept_p202701", "hub_point_kept_p202702"} <= (
        tables("hub_point_kept_p")
    )
    days = {f"hub_point_short_p{NOW + dt.timedelta(days=d):%Y%m%d}" for d in range(8)}
    assert days <= tables("hub_point_short_p")
    assert partitions.create_ahead(now=NOW) == [] or created  # nothing new the second time
    assert partitions.create_ahead(now=NOW) == []


def test_tic_points_go_to_the_short_tier_others_to_the_kept_tier(tenant):
    tic = tic_series(tenant)
    other = tic_series(tenant, source="grdf")
    at = NOW - dt.timedelta(hours=1)
    upsert_rows(rows=[(tic.pk, at, 1.0, 0, False), (other.pk, at, 2.0, 0, False)])
    with connection.cursor() as cursor:
        cursor.execute("SELECT series_id, tier, tableoid::regclass::text FROM hub_point")
        placed = {row[0]: row[1:] for row in cursor.fetchall()}
    assert placed[tic.pk] == (1, "hub_point_short_p20261206")
    assert placed[other.pk] == (0, "hub_point_kept_p202612")


def test_retention_drops_whole_days_of_raw_points_and_keeps_rollups(tenant, settings):
    """Raw TIC points older than the retention go with their day's partition; the kept tier
    (GRDF, inside its consent) and every rollup stay."""
    settings.SERIES_RAW_RETENTION_DAYS = {"tic": 35}
    tic = tic_series(tenant)
    grdf = tic_series(tenant, quantities.GAS_ENERGY_DAILY, source="grdf")
    old = NOW - dt.timedelta(days=40)
    recent = NOW - dt.timedelta(days=34)
    upsert_rows(rows=[(tic.pk, old, 5.0, 0, False), (tic.pk, recent, 7.0, 0, False)])
    upsert_rows(rows=[(grdf.pk, old, 3.0, 0, False)])

    dropped = partitions.drop_expired(now=NOW)

    assert f"hub_point_short_p{old:%Y%m%d}" in dropped
    assert f"hub_point_short_p{recent:%Y%m%d}" not in dropped
    assert list(Point.objects.filter(series=tic).values_list("value", flat=True)) == [7.0]
    assert Point.objects.filter(series=grdf).count() == 1
    assert Rollup.objects.filter(series=tic, bucket__lt=old + dt.timedelta(hours=1)).count() == 3
    # A read of the old day still answers, from the hourly rollup.
    start, end = local_day_bounds((old + dt.timedelta(hours=1)).date())
    buckets = read_points(series=tic, start=start, end=end, step=Step.DAY)
    assert [(b.value, b.count) for b in buckets] == [(5.0, 1)]


def test_a_partition_is_dropped_only_once_all_of_it_is_past_retention(settings):
    settings.SERIES_RAW_RETENTION_DAYS = {"tic": 35}
    cutoff = NOW - dt.timedelta(days=35)  # 2026-11-01T13:00Z
    partitions.ensure_partitions(
        tier=partitions.SHORT, first=cutoff - dt.timedelta(days=1), last=cutoff
    )
    dropped = partitions.drop_expired(now=NOW)
    assert "hub_point_short_p20261031" in dropped
    assert "hub_point_short_p20261101" not in dropped  # holds instants newer than the cutoff


@pytest.mark.parametrize(
    ("step", "start", "end", "width"),
    [
        (Step.HOUR, "2026-10-25T00:00Z", "2026-10-26T00:00Z", 3600),
        (Step.DAY, "2026-10-24T22:00Z", "2026-10-25T23:00Z", 3600),
        (Step.MIN15, "2026-10-25T00:00Z", "2026-10-25T01:00Z", 900),
        (Step.MIN30, "2026-10-25T00:00Z", "2026-10-25T01:00Z", 900),
        (Step.MIN5, "2026-10-25T00:00Z", "2026-10-25T01:00Z", 60),
        (Step.HOUR, "2026-10-25T00:15Z", "2026-10-25T03:00Z", 900),  # start off the hour
        (Step.HOUR, "2026-10-25T00:00:30Z", "2026-10-25T03:00Z", None),  # off the minute
        (Step.RAW, "2026-10-25T00:00Z", "2026-10-25T03:00Z", None),
    ],
)
def test_reads_pick_the_coarsest_rollup_that_serves_the_step(tenant, step, start, end, width):
    series = tic_series(tenant)
    bounds = [dt.datetime.fromisoformat(t) for t in (start, end)]
    assert rollup_width(series=series, start=bounds[0], end=bounds[1], step=step) == width


def test_series_of_a_kept_source_are_read_from_raw_points(tenant):
    series = tic_series(tenant, source="smartoa")
    start, end = local_day_bounds(dt.date(2026, 10, 25))
    assert rollup_width(series=series, start=start, end=end, step=Step.HOUR) is None


def test_consent_purge_deletes_points_and_rollups_by_series(tenant):
    series = tic_series(tenant)
    upsert_rows(rows=[(series.pk, NOW, 1.0, 0, False)])
    assert Rollup.objects.filter(series=series).count() == 3
    assert delete_points(series_ids=[series.pk]) == 1
    assert not Rollup.objects.filter(series=series).exists()


# DST end in Paris: 2026-10-25 01:00Z, the local hour 02:00-03:00 happens twice.
DST_START = dt.datetime(2026, 10, 24, 22, 0, tzinfo=dt.UTC)
DST_HOURS = 6
VALUES = st.one_of(
    st.none(), st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda v: round(v, 3))
)
POINT = st.tuples(
    st.integers(min_value=0, max_value=DST_HOURS * 3600 - 1),  # second of the window
    st.sampled_from([0, 0, 0, 250_000]),  # microseconds, now and then
    VALUES,
    st.sampled_from([Quality.MEASURED, Quality.ESTIMATED, Quality.CORRECTED]),
)
BATCHES = st.lists(st.lists(POINT, min_size=1, max_size=40), min_size=1, max_size=4)


def _rows(series_id, batch):
    return [
        (
            series_id,
            DST_START + dt.timedelta(seconds=second, microseconds=micro),
            value,
            Quality.MISSING if value is None else quality,
            False,
        )
        for second, micro, value, quality in batch
    ]


def _recompute(points, width):
    # The documented meaning of a rollup, from the raw points left in the table.
    buckets = defaultdict(list)
    for ts, value, quality in points:
        epoch = int(ts.timestamp())
        buckets[epoch - epoch % width].append((ts, value, quality))
    result = {}
    for start, members in buckets.items():
        values = [v for _, v, _ in members if v is not None]
        last = max(members, key=lambda m: m[0])
        result[start] = (
            len(values),
            sum(values) if values else None,
            min(values) if values else None,
            max(values) if values else None,
            last[0],
            last[1],
            max(q for _, _, q in members),
        )
    return result


def _close(a, b):
    if a is None or b is None or isinstance(a, dt.datetime):
        return a == b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def assert_rollups_match_points(series):  # type: ignore[no-untyped-def]
    """Every rollup row of ``series`` equals the aggregate recomputed from its raw points."""
    raw = list(Point.objects.filter(series=series).values_list("ts", "value", "quality"))
    for width in (60, 900, 3600):
        expected = _recompute(raw, width)
        stored = {
            int(r.bucket.timestamp()): (
                r.count, r.sum, r.min, r.max, r.last_ts, r.last_value, r.quality
            )
            for r in Rollup.objects.filter(series=series, width=width)
        }  # fmt: skip
        assert stored.keys() == expected.keys()
        for key, row in stored.items():
            assert all(map(_close, row, expected[key])), (width, key, row, expected[key])


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(batches=BATCHES)
def test_rollups_equal_a_recompute_from_raw_points(tenant, batches):
    """Random batches (late points, rewritten values, missing values) around the DST change:
    every rollup row equals the aggregate recomputed from the raw points, and every resampled
    read served by rollups equals the same read of the raw points."""
    tic = tic_series(tenant)
    twin = tic_series(tenant, source="smartoa")  # same points, read from raw points only
    delete_points(series_ids=[tic.pk, twin.pk])
    for batch in batches:
        upsert_rows(rows=_rows(tic.pk, batch))
        upsert_rows(rows=_rows(twin.pk, batch))
    assert_rollups_match_points(tic)
    end = DST_START + dt.timedelta(hours=DST_HOURS)
    for step in (Step.MIN5, Step.MIN15, Step.HOUR, Step.DAY):
        assert rollup_width(series=tic, start=DST_START, end=end, step=step) is not None
        for aggregate in Aggregate:
            served = read_points(
                series=tic, start=DST_START, end=end, step=step, aggregate=aggregate
            )
            direct = read_points(
                series=twin, start=DST_START, end=end, step=step, aggregate=aggregate
            )
            assert [(b.ts, b.count, b.quality) for b in served] == [
                (b.ts, b.count, b.quality) for b in direct
            ]
            assert all(_close(s.value, d.value) for s, d in zip(served, direct, strict=True))


@hypothesis_settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    batches=BATCHES,
    cut=st.tuples(
        st.integers(min_value=0, max_value=DST_HOURS * 3600),
        st.integers(min_value=1, max_value=DST_HOURS * 3600),
    ),
)
def test_deleting_a_range_keeps_the_rollups_equal_to_the_points_left(tenant, batches, cut):
    """Points deleted over a range (a meter's data withdrawn) must leave no trace in the
    rollups that serve reads: every rollup equals the recompute from the points left, and a
    bucket whose points were all deleted is gone."""
    tic = tic_series(tenant)
    delete_points(series_ids=[tic.pk])
    for batch in batches:
        upsert_rows(rows=_rows(tic.pk, batch))
    start = DST_START + dt.timedelta(seconds=cut[0])
    end = start + dt.timedelta(seconds=cut[1])
    before = Point.objects.filter(series=tic).count()
    deleted = delete_points(series_ids=[tic.pk], start=start, end=end)
    raw = list(Point.objects.filter(series=tic).values_list("ts", "value", "quality"))
    assert len(raw) == before - deleted
    assert all(not start <= ts < end for ts, _, _ in raw)
    for width in (60, 900, 3600):
        expected = _recompute(raw, width)
        stored = {
            int(r.bucket.timestamp()): (
                r.count, r.sum, r.min, r.max, r.last_ts, r.last_value, r.quality
            )
            for r in Rollup.objects.filter(series=tic, width=width)
        }  # fmt: skip
        assert stored.keys() == expected.keys()
        for key, row in stored.items():
            assert all(map(_close, row, expected[key])), (width, key, row, expected[key])


def test_hourly_energy_of_a_tic_series_sums_its_points(tenant):
    """Interval energy sums over a bucket (hub.quantities: "an amount per step: summed")."""
    series = tic_series(tenant, quantities.ACTIVE_ENERGY_IMPORT)
    start = dt.datetime(2026, 10, 25, 0, 0, tzinfo=dt.UTC)
    upsert_rows(
        rows=[
            (series.pk, start + dt.timedelta(seconds=s), 2.0, 0, False) for s in range(0, 7200, 5)
        ]
    )
    hours = read_points(
        series=series, start=start, end=start + dt.timedelta(hours=2), step=Step.HOUR
    )
    assert [(b.value, b.count) for b in hours] == [(1440.0, 720), (1440.0, 720)]
    assert series.default_aggregate is Aggregate.SUM


@pytest.mark.django_db(transaction=True)
def test_migration_moves_existing_points_into_partitions_and_rolls_up_tic(tenant):
    from django.db.migrations.executor import MigrationExecutor

    tic = tic_series(tenant)
    other = tic_series(tenant, source="grdf")
    executor = MigrationExecutor(connection)
    executor.migrate([("hub", "0008_rollups")])
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO hub_point (series_id, ts, value, quality, provisional) "
                "SELECT %s, t, 1.0, 0, false FROM generate_series("
                "'2026-10-24T22:00Z'::timestamptz, '2026-10-25T22:59:50Z', '10 seconds') t",
                [tic.pk],
            )
            cursor.execute(
                "INSERT INTO hub_point (series_id, ts, value, quality, provisional) "
                "SELECT %s, t, 2.0, 0, false FROM generate_series("
                "'2025-01-01T00:00Z'::timestamptz, '2026-10-01T00:00Z', '1 day') t",
                [other.pk],
            )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert Point.objects.filter(series=tic).count() == 25 * 360
    assert Point.objects.filter(series=other).count() == 639
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT tableoid) FROM hub_point WHERE series_id = %s", [other.pk]
        )
        assert cursor.fetchone()[0] == 22  # one partition per month, 2025-01 to 2026-10
    start, end = local_day_bounds(dt.date(2026, 10, 25))
    assert rollup_width(series=tic, start=start, end=end, step=Step.DAY) == 3600
    [day] = read_points(series=tic, start=start, end=end, step=Step.DAY, aggregate=Aggregate.SUM)
    assert (day.value, day.count) == (9000.0, 9000)
