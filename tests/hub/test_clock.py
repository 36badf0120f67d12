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


def test_local_times_on_the_25_hour_night_carry_their_offset():
    """Paris falls back from 03:00 CEST to 02:00 CET on 25/10/2026: every wall time from 02:00
    to 03:00 happens twice, so a time shown to a person that day names its offset."""
    from hub.clock import format_local

    first = dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    second = dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert format_local(first) == "25/10/2026 02:30 (UTC+2)"
    assert format_local(second) == "25/10/2026 02:30 (UTC+1)"
    assert format_local(dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == "29/03/2026 03:00 (UTC+2)"


def test_local_times_on_ordinary_days_have_no_offset_unless_asked():
    from hub.clock import format_local, has_clock_change

    instant = dt.datetime(2025, 9, 22, 9, 55, tzinfo=UTC)
    assert format_local(instant) == "22/09/2025 11:55"
    assert format_local(instant, "%H:%M", offset=True) == "11:55 (UTC+2)"
    assert not has_clock_change(dt.date(2025, 9, 22))
    assert has_clock_change(dt.date(2026, 3, 29)) and has_clock_change(dt.date(2026, 10, 25))
