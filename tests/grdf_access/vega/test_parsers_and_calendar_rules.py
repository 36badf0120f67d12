"""Parser registry, the SYNTHETIC test layout (not GRDF's), file names, working days, DST watch."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grdf_access.vega import parsers, watch
from grdf_access.vega.models import Cadence, ExpectedPublication
from grdf_access.vega.parsers.synthetic import HEADER, SYNTHETIC_VERSION, SyntheticDailyCsv

PARSER = SyntheticDailyCsv(flux="REJJ")

rows = st.lists(
    st.tuples(
        st.from_regex(r"GI[0-9]{6}", fullmatch=True),
        st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31)),
        st.one_of(st.none(), st.floats(min_value=0, max_value=1e7, allow_nan=False)),
    ),
    max_size=40,
)


@given(rows)
def test_synthetic_parser_counts_rows_days_and_empty_values(data):
    text = (
        ";".join(HEADER)
        + "\n"
        + "".join(
            f"{pce};{day.isoformat()};{'' if value is None else value}\n"
            for pce, day, value in data
        )
    )
    parsed = PARSER.parse(text.encode())
    assert parsed.data_rows == len(data)
    assert parsed.gas_days == frozenset(day for _, day, _ in data)
    assert parsed.empty_values == sum(1 for *_, value in data if value is None)


@given(st.binary(max_size=300))
def test_synthetic_parser_never_fails_other_than_by_parse_error(data):
    try:
        PARSER.parse(data)
    except parsers.ParseError as exc:
        assert exc.line >= 1


def test_registry_per_flux_and_version():
    assert parsers.parser_for(flux="rejj", version=SYNTHETIC_VERSION.lower()) is not None
    assert parsers.parser_for(flux="REJJ", version="V1") is None  # GRDF's format: not public
    other = SyntheticDailyCsv(flux="REJJ")
    other.version = "V2"
    with parsers.registered_parser(other):
        assert parsers.parser_for(flux="REJJ", version="V2") is other
        with pytest.raises(parsers.AlreadyRegistered):
            parsers.register(_v2())
    assert parsers.parser_for(flux="REJJ", version="V2") is None


def _v2() -> SyntheticDailyCsv:
    made = SyntheticDailyCsv(flux="REJJ")
    made.version = "V2"
    return made


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("REJJ_V1_20261026.csv", ("REJJ", "V1", dt.date(2026, 10, 26))),
        ("AJ+1-V2-20261027.csv", ("AJ+1", "V2", dt.date(2026, 10, 27))),
        ("eetc_20261101.txt", ("ETEC", "", dt.date(2026, 11, 1))),  # the alias
        ("RE6M_V3.csv", ("RE6M", "V3", None)),
        ("inconnu_20261026.csv", ("", "", dt.date(2026, 10, 26))),
        ("REJJX_V1.csv", ("", "V1", None)),  # no flux is a prefix without a separator
    ],
)
def test_what_a_file_name_tells(name, expected):
    info = watch.read_name(name)
    assert (info.flux_code, info.version, info.day) == expected


def test_working_days_skip_french_public_holidays():
    assert not watch.is_working_day(dt.date(2026, 11, 11))  # Armistice, a Wednesday
    assert not watch.is_working_day(dt.date(2026, 5, 14))  # Ascension
    assert not watch.is_working_day(dt.date(2026, 10, 25))  # Sunday
    assert watch.is_working_day(dt.date(2026, 10, 26))


def test_monthly_publication_moves_to_the_next_working_day():
    expected = ExpectedPublication(
        cadence=Cadence.MONTHLY, day_of_month=1, expected_time=dt.time(8)
    )
    # 1 November 2026 is a Sunday and All Saints' Day: due Monday 2 November.
    assert not watch.is_expected_on(expected, dt.date(2026, 11, 1))
    assert watch.is_expected_on(expected, dt.date(2026, 11, 2))
    expected.day_of_month = 31
    assert watch.is_expected_on(expected, dt.date(2026, 9, 30))  # no 31 September


def test_tighter_watch_on_the_days_after_a_clock_change():
    assert [watch.tight_watch(dt.date(2026, 10, d)) for d in (24, 25, 26, 28, 29)] == [
        False,
        True,
        True,
        True,
        False,
    ]
    assert watch.tight_watch(dt.date(2026, 3, 30))


@pytest.mark.django_db
def test_far_dates_in_a_name_are_not_a_day():
    assert watch.read_name("REJJ_V1_00010101.csv").day is None
    assert watch.read_name("REJJ_V1_99991231.csv").day is None
