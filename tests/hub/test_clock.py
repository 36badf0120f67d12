import datetime as dt

import pytest

from hub.clock import (
    gas_day_bounds,
    gas_day_of,
    hours_in_local_day,
    local_day_bounds,
    local_day_of,
)

UTC = dt.UTC


@pytest.mark.parametrize(
    ("day", "hours"),
    [(dt.date(2026, 3, 29), 23), (dt.date(2026, 10, 25), 25), (dt.date(2026, 7, 1), 24)],
)
def test_local_day_length(day, hours):
    assert hours_in_local_day(day) == hours


def test_local_day_bounds_on_dst_days():
    assert local_day_bounds(dt.date(2026, 3, 29)) == (
        dt.datetime(2026, 3, 28, 23, tzinfo=UTC),
        dt.datetime(2026, 3, 29, 22, tzinfo=UTC),
    )
    assert local_day_bounds(dt.date(2026, 10, 25)) == (
        dt.datetime(2026, 10, 24, 22, tzinfo=UTC),
        dt.datetime(2026, 10, 25, 23, tzinfo=UTC),
    )


def test_gas_day_runs_six_to_six_local_across_dst():
    start, end = gas_day_bounds(dt.date(2026, 3, 28))
    assert (start, end) == (
        dt.datetime(2026, 3, 28, 5, tzinfo=UTC),
        dt.datetime(2026, 3, 29, 4, tzinfo=UTC),
    )
    assert end - start == dt.timedelta(hours=23)
    start, end = gas_day_bounds(dt.date(2026, 10, 24))
    assert end - start == dt.timedelta(hours=25)


@pytest.mark.parametrize(
    ("instant", "gas_day"),
    [
        (dt.datetime(2026, 3, 29, 3, 59, tzinfo=UTC), dt.date(2026, 3, 28)),  # 05:59 CEST
        (dt.datetime(2026, 3, 29, 4, 0, tzinfo=UTC), dt.date(2026, 3, 29)),  # 06:00 CEST
        (dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC), dt.date(2026, 10, 24)),  # first 02:30
        (dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC), dt.date(2026, 10, 24)),  # second 02:30
        (dt.datetime(2026, 10, 25, 5, 0, tzinfo=UTC), dt.date(2026, 10, 25)),  # 06:00 CET
    ],
)
def test_gas_day_of(instant, gas_day):
    assert gas_day_of(instant) == gas_day


def test_local_day_of_an_instant_near_midnight():
    assert local_day_of(dt.datetime(2026, 10, 24, 22, 30, tzinfo=UTC)) == dt.date(2026, 10, 25)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        gas_day_of(dt.datetime(2026, 1, 1, 12))
