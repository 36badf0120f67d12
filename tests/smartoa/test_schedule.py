from __future__ import annotations

import datetime as dt

from smartoa.schedule import Episode, Period, diff_episodes, episodes_of, merge_touching, value_at

from .conftest import paris


def ep(h1: int, m1: int, h2: int, m2: int, day: int = 22) -> Episode:
    return Episode(
        paris(2025, 9, day, h1, m1).astimezone(dt.UTC),
        paris(2025, 9, day, h2, m2).astimezone(dt.UTC),
    )


def test_consecutive_stop_periods_are_one_episode() -> None:
    a, b, c, d = (paris(2025, 9, 22, h) for h in (10, 11, 12, 13))
    periods = [Period(a, b, 1.0), Period(b, c, 1.0), Period(c, d, 0.0)]
    assert episodes_of(periods) == [Episode(a, c)]


def test_merge_touching_keeps_gaps() -> None:
    assert merge_touching([ep(12, 0, 13, 0), ep(10, 0, 11, 0), ep(11, 0, 11, 30)]) == [
        ep(10, 0, 11, 30),
        ep(12, 0, 13, 0),
    ]


def test_diff_classifies_added_removed_moved_unchanged() -> None:
    before = [ep(8, 0, 9, 0), ep(11, 55, 18, 0), ep(21, 0, 22, 0)]
    after = [ep(8, 0, 9, 0), ep(11, 55, 16, 0), ep(19, 0, 20, 0)]
    diff = diff_episodes(before, after)
    assert diff.unchanged == (ep(8, 0, 9, 0),)
    assert diff.moved == ((ep(11, 55, 18, 0), ep(11, 55, 16, 0)),)
    assert diff.added == (ep(19, 0, 20, 0),)
    assert diff.removed == (ep(21, 0, 22, 0),)
    assert diff.changed
    assert diff.as_json()["moved"][0]["after"]["end"] == "2025-09-22T14:00:00Z"


def test_identical_schedules_have_no_change() -> None:
    assert not diff_episodes([ep(1, 0, 2, 0)], [ep(1, 0, 2, 0)]).changed


def test_value_at_is_half_open() -> None:
    a, b, c = paris(2025, 9, 22, 0), paris(2025, 9, 22, 12), paris(2025, 9, 23, 0)
    periods = [Period(a, b, 0.0), Period(b, c, 1.0)]
    assert value_at(periods, b) == 1.0
    assert value_at(periods, b - dt.timedelta(seconds=1)) == 0.0
    assert value_at(periods, c) is None
