"""A large batch into time no partition holds yet: partitions built for it, keys after the rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from hub.models import Point, Quality
from hub.services import partitions
from hub.services import series as series_service
from hub.services.series import upsert_rows
from tests.conftest import require
from tests.hub.test_series_storage import (
    BATCHES,
    _rows,
    assert_rollups_match_points,
    tic_series,
)

pytestmark = pytest.mark.django_db
# Months far from every other test's data: no partition holds them unless a test makes it.
JAN = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
FEB = dt.datetime(2031, 2, 1, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def postgresql():
    require(connection.vendor == "postgresql", "partitions live in PostgreSQL")


@pytest.fixture
def loads(monkeypatch):
    """Every batch is large enough to be loaded; records what the load path decided."""
    monkeypatch.setattr(series_service, "BULK_LOAD_ROWS", 1)
    decided: list[bool] = []
    load = partitions.load_into_new_partitions

    def recorded(**kwargs):
        try:
            decided.append(load(**kwargs))
        except IntegrityError:
            decided.append(False)  # refused by the key's build: rolled back by the caller
            raise
        return decided[-1]

    monkeypatch.setattr(partitions, "load_into_new_partitions", recorded)
    return decided


def hourly(series_id, start, hours, value=1.0, provisional=False):
    return [
        (series_id, start + dt.timedelta(hours=h), value, Quality.MEASURED, provisional)
        for h in range(hours)
    ]


def leaves():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, (SELECT count(*) FROM pg_index x WHERE x.indrelid = c.oid "
            "AND x.indisprimary), (SELECT count(*) FROM pg_constraint k "
            "WHERE k.conrelid = c.oid AND k.conname LIKE '%%_bounds') "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'hub_point_kept'::regclass AND c.relname LIKE %s",
            ["hub_point_kept_p2031%"],
        )
        return {name: (keys, bounds) for name, keys, bounds in cursor.fetchall()}


def no_loader_left():
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('hub_point_kept_load')")
        return cursor.fetchone()[0] is None


def test_new_months_are_built_with_their_key_attached_and_the_batch_in_them(tenant, loads):
    # README "Series storage": a large batch whose time span no partition holds yet gets its
    # partitions built for it, keys after the rows; they end up as any partition would.
    series = tic_series(tenant, source="grdf")
    rows = hourly(series.pk, JAN, 24 * 40)  # January and nine days of February
    assert upsert_rows(rows=rows) == len(rows)
    assert loads == [True]
    assert leaves() == {"hub_point_kept_p203101": (1, 0), "hub_point_kept_p203102": (1, 0)}
    assert no_loader_left()
    assert Point.objects.filter(series=series).count() == len(rows)
    # The key holds: a second copy of a stored instant is refused by the partition itself.
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO hub_point_kept (series_id, ts, value, quality, provisional) "
            "VALUES (%s, %s, 2.0, 0, false)",
            [series.pk, JAN],
        )


def test_a_replayed_batch_changes_nothing_and_a_corrected_one_merges(tenant, loads):
    # Idempotent upserts on (series, ts); a provisional value never replaces a definitive one.
    series = tic_series(tenant, source="grdf")
    rows = hourly(series.pk, JAN, 48)
    upsert_rows(rows=rows)
    assert upsert_rows(rows=rows) == 0
    assert upsert_rows(rows=hourly(series.pk, JAN, 48, value=5.0, provisional=True)) == 0
    assert upsert_rows(rows=hourly(series.pk, JAN, 2, value=7.0)) == 2
    assert loads == [True, False, False, False]  # the months exist after the first batch
    values = list(Point.objects.filter(series=series).order_by("ts").values_list("value"))
    assert values[:3] == [(7.0,), (7.0,), (1.0,)]


def test_a_batch_reaching_into_an_existing_partition_is_merged_with_what_it_holds(tenant, loads):
    # Only time no partition holds can be loaded without looking at stored points: a month
    # that exists may hold this very instant, and the merge rules must decide.
    series = tic_series(tenant, source="grdf")
    partitions.ensure_partitions(tier=partitions.KEPT, first=JAN, last=JAN)
    series_service.upsert_rows(rows=[(series.pk, FEB - dt.timedelta(hours=1), 3.0, 0, False)])
    loads.clear()
    rows = hourly(series.pk, FEB - dt.timedelta(hours=2), 4, value=9.0, provisional=True)
    assert upsert_rows(rows=rows) == 3  # the definitive 3.0 stays
    assert loads == [False]
    stored = dict(Point.objects.filter(series=series).values_list("ts", "value"))
    assert stored[FEB - dt.timedelta(hours=1)] == 3.0
    assert stored[FEB - dt.timedelta(hours=2)] == stored[FEB] == 9.0
    assert set(leaves()) == {"hub_point_kept_p203101", "hub_point_kept_p203102"}
    assert no_loader_left()


def test_a_key_repeated_in_the_batch_falls_back_to_the_merge_last_value_wins(tenant, loads):
    # "Last write wins inside one batch": the key's build refuses the repeat, nothing of the
    # load stays, and the merge stores one row with the last value.
    series = tic_series(tenant, source="grdf")
    rows = [*hourly(series.pk, JAN, 3), (series.pk, JAN, 8.0, Quality.MEASURED, False)]
    assert upsert_rows(rows=rows) == 3
    assert loads == [False]
    stored = dict(Point.objects.filter(series=series).values_list("ts", "value"))
    assert stored == {JAN: 8.0, JAN + dt.timedelta(hours=1): 1.0, JAN + dt.timedelta(hours=2): 1.0}
    assert leaves() == {"hub_point_kept_p203101": (1, 0)}
    assert no_loader_left()


def test_a_small_batch_takes_the_usual_path(tenant, monkeypatch):
    # Below BULK_LOAD_ROWS the statements of a load would cost more than they save.
    monkeypatch.setattr(series_service, "BULK_LOAD_ROWS", 10)
    called = []
    monkeypatch.setattr(partitions, "load_into_new_partitions", lambda **kw: called.append(kw))
    series = tic_series(tenant, source="grdf")
    assert upsert_rows(rows=hourly(series.pk, JAN, 9)) == 9
    assert called == []
    assert leaves() == {"hub_point_kept_p203101": (1, 0)}


@hypothesis_settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(batches=BATCHES)
def test_rollups_of_a_loaded_batch_equal_a_recompute(tenant, loads, batches):
    """TIC days no partition holds: the first batch is loaded into partitions built for it,
    the next ones appended or merged; every rollup equals the recompute from raw points."""
    tic = tic_series(tenant)
    series_service.delete_points(series_ids=[tic.pk])
    with connection.cursor() as cursor:
        for day in ("20261024", "20261025"):  # the six hours of BATCHES, from 22:00Z
            cursor.execute(f"DROP TABLE IF EXISTS hub_point_short_p{day}")
    loads.clear()
    for batch in batches:
        upsert_rows(rows=_rows(tic.pk, batch))
    repeated = len({(s, m) for s, m, _, _ in batches[0]}) < len(batches[0])
    assert loads[0] is not repeated
    assert_rollups_match_points(tic)
