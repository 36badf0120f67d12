"""The dates of every ADICT data call, from ADICT's rule (reference grdf-adict.md §1.3, §1.4)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grdf_access.consent import request_bounds, years_back
from grdf_access.models import DataType

TODAY = dt.date(2026, 11, 2)
YESTERDAY = TODAY - dt.timedelta(days=1)
DATED = (DataType.PUBLISHED, DataType.INFORMATIVE_DAILY)


def bounds(data_type: str, start: dt.date, end: dt.date, **kwargs: dt.date):
    return request_bounds(
        data_type=data_type, data_start=start, data_end=end, today=TODAY, **kwargs
    )


@pytest.mark.parametrize("data_type", DATED)
def test_a_range_ending_before_today_ends_the_call_on_its_last_day(data_type: str) -> None:
    """§1.4: the right's data window is perim_donnees_conso_debut/_fin; GRDF validates
    date_fin ≤ perim_donnees_conso_fin. date_fin is the range's end, never one day beyond."""
    assert bounds(data_type, dt.date(2026, 6, 1), dt.date(2026, 10, 15)) == (
        dt.date(2026, 6, 1),
        dt.date(2026, 10, 15),
    )


@pytest.mark.parametrize("data_type", DATED)
def test_a_range_ending_yesterday(data_type: str) -> None:
    """§1.4: date_fin ≤ perim_donnees_conso_fin, here yesterday."""
    assert bounds(data_type, dt.date(2026, 6, 1), YESTERDAY) == (dt.date(2026, 6, 1), YESTERDAY)


@pytest.mark.parametrize("data_type", DATED)
@pytest.mark.parametrize("end", [TODAY, TODAY + dt.timedelta(days=1), dt.date(2027, 6, 30)])
def test_a_range_ending_today_or_later_ends_the_call_today(data_type: str, end: dt.date) -> None:
    """§1.3 (v2 Swagger parameter rules): "date_fin ≤ today"."""
    assert bounds(data_type, dt.date(2026, 6, 1), end) == (dt.date(2026, 6, 1), TODAY)


@pytest.mark.parametrize("data_type", DATED)
@pytest.mark.parametrize("start", [TODAY, TODAY + dt.timedelta(days=1), dt.date(2027, 1, 1)])
def test_a_range_starting_today_or_in_the_future_asks_nothing(
    data_type: str, start: dt.date
) -> None:
    """§1.3: "date_debut < date_fin; date_fin ≤ today": a range starting today or later has no
    valid call."""
    assert bounds(data_type, start, dt.date(2027, 6, 30)) is None


@pytest.mark.parametrize("data_type", DATED)
def test_a_range_starting_yesterday_asks_one_gas_day(data_type: str) -> None:
    """§1.3: "date_debut < date_fin": the smallest call is one day wide."""
    assert bounds(data_type, YESTERDAY, dt.date(2027, 6, 30)) == (YESTERDAY, TODAY)


def test_published_history_is_five_years_and_informative_three() -> None:
    """§1.3: "date_debut ≥ today - 5 y (publiées, injections) or - 3 y (informatives)"."""
    start, end = dt.date(2019, 1, 1), dt.date(2027, 6, 30)
    assert bounds(DataType.PUBLISHED, start, end) == (dt.date(2021, 11, 2), TODAY)
    assert bounds(DataType.INFORMATIVE_DAILY, start, end) == (dt.date(2023, 11, 2), TODAY)


def test_a_range_ended_before_the_history_asks_nothing_of_that_type() -> None:
    """§1.3: informative data go back 3 years, published 5: a range of 2021-2022 still has
    published data but no informative data."""
    start, end = dt.date(2021, 1, 1), dt.date(2022, 12, 31)
    assert bounds(DataType.INFORMATIVE_DAILY, start, end) is None
    assert bounds(DataType.PUBLISHED, start, end) == (dt.date(2021, 11, 2), end)


def test_the_look_back_only_narrows() -> None:
    """A look-back never widens the call beyond the range (§1.4)."""
    start, end = dt.date(2026, 10, 1), dt.date(2027, 6, 30)
    since_before = dt.date(2026, 1, 1)
    assert bounds(DataType.INFORMATIVE_DAILY, start, end, since=since_before) == (start, TODAY)
    since_after = dt.date(2026, 10, 20)
    assert bounds(DataType.INFORMATIVE_DAILY, start, end, since=since_after) == (
        since_after,
        TODAY,
    )


def test_history_limit_on_a_leap_day() -> None:
    """Five years before 29 February 2028 is the 28th (no 29 February in 2023)."""
    assert years_back(dt.date(2028, 2, 29), 5) == dt.date(2023, 2, 28)
    assert years_back(dt.date(2028, 2, 29), 3) == dt.date(2025, 2, 28)


days = st.dates(min_value=dt.date(2018, 1, 1), max_value=dt.date(2030, 12, 31))


@given(
    data_type=st.sampled_from(DATED),
    start=days,
    length=st.integers(min_value=0, max_value=3000),
    today=days,
    since=st.none() | days,
)
def test_every_call_obeys_adict_rules(
    data_type: str, start: dt.date, length: int, today: dt.date, since: dt.date | None
) -> None:
    """§1.3 and §1.4 together, for any range and any day: date_debut < date_fin ≤ today,
    date_fin ≤ perim_fin, date_debut ≥ perim_debut and ≥ today - 5 y / 3 y; and a call is made
    whenever such dates exist."""
    end = start + dt.timedelta(days=length)
    answer = request_bounds(
        data_type=data_type, data_start=start, data_end=end, today=today, since=since
    )
    years = 5 if data_type == DataType.PUBLISHED else 3
    earliest = max(start, years_back(today, years), since or start)
    latest = min(end, today)
    if answer is None:
        assert earliest >= latest
        return
    first, last = answer
    assert first < last <= today
    assert last <= end and first >= start
    assert first >= years_back(today, years)
    assert since is None or first >= since
    assert (first, last) == (earliest, latest)
