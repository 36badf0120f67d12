"""The CSV load curve: formats accepted, DST nights, and files refused as a whole."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.clock import local_day_bounds
from smartoa.loadcurve import LoadCurveError, parse


def test_comma_separated_without_header_with_a_bom() -> None:
    body = "\ufeff2025-09-22T12:05:00+02:00,1.5\n2025-09-22T12:00:00Z,2\n".encode()
    points = parse(body)
    assert [(p.ts, p.value) for p in points] == [
        (dt.datetime(2025, 9, 22, 10, 5, tzinfo=dt.UTC), 1.5),
        (dt.datetime(2025, 9, 22, 12, 0, tzinfo=dt.UTC), 2.0),
    ]


def test_a_whole_fall_back_day_with_offsets_has_300_steps() -> None:
    start, end = local_day_bounds(dt.date(2026, 10, 25))
    lines = ["start;energy_kwh"]
    instant = start
    while instant < end:
        lines.append(f"{instant.astimezone(dt.timezone(dt.timedelta(0))).isoformat()};0,1")
        instant += dt.timedelta(minutes=5)
    points = parse("\n".join(lines).encode())
    assert len(points) == 300
    assert points[0].ts == start and points[-1].ts == end - dt.timedelta(minutes=5)


def test_the_repeated_hour_with_its_offsets_is_two_distinct_steps() -> None:
    body = b"2026-10-25T02:30:00+02:00;1\n2026-10-25T02:30:00+01:00;2\n"
    assert [p.ts.hour for p in parse(body)] == [0, 1]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "fichier : vide"),
        (b"start;energy\n", "fichier : aucune ligne"),
        ("2025-09-22 12:00;1\n".encode("utf-16"), "fichier : pas en UTF-8"),
    ],
)
def test_files_refused_as_a_whole(body: bytes, message: str) -> None:
    with pytest.raises(LoadCurveError) as refused:
        parse(body)
    assert str(refused.value.errors[0]).startswith(message)


def test_only_the_first_errors_are_listed_but_all_are_counted() -> None:
    body = "\n".join(f"9{i};1" for i in range(80)).encode()
    with pytest.raises(LoadCurveError) as refused:
        parse(body)
    assert len(refused.value.errors) == 50 and refused.value.total == 80
