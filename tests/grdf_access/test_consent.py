"""The consent gate: Active ∩ consent dates ∩ type granted ∩ data range, and default rights."""

from __future__ import annotations

import datetime as dt

import pytest

from grdf_access import consent
from grdf_access.models import AccessRight, DataType, Pce, RightState

D = dt.date


def right(**overrides: object) -> AccessRight:
    values: dict[str, object] = {
        "state": RightState.ACTIVE,
        "consent_start": D(2026, 1, 1),
        "consent_end": D(2026, 12, 31),
        "data_start": D(2024, 1, 1),
        "data_end": D(2026, 12, 31),
        "published": True,
        "informative_daily": True,
        "technical": True,
    }
    values.update(overrides)
    made = AccessRight(**values)
    made.pce = Pce(mes_date=None)
    return made


def test_default_rights_table_of_the_seed() -> None:
    # Holder supplier: published, contractual, technical by default; informative needs consent.
    assert not consent.needs_consent(holder=True, data_type=DataType.PUBLISHED)
    assert not consent.needs_consent(holder=True, data_type=DataType.CONTRACTUAL)
    assert not consent.needs_consent(holder=True, data_type=DataType.TECHNICAL)
    assert consent.needs_consent(holder=True, data_type=DataType.INFORMATIVE_DAILY)
    assert consent.needs_consent(holder=True, data_type=DataType.INFORMATIVE_HOURLY)
    # Non-holder: only technical by default.
    assert not consent.needs_consent(holder=False, data_type=DataType.TECHNICAL)
    for data_type in (DataType.PUBLISHED, DataType.CONTRACTUAL, DataType.INFORMATIVE_DAILY):
        assert consent.needs_consent(holder=False, data_type=data_type)


def test_active_right_allows_its_data_range_up_to_today() -> None:
    decision = consent.decide(right=right(), data_type=DataType.PUBLISHED, today=D(2026, 6, 1))
    assert decision.allowed
    assert decision.window == consent.Window(D(2024, 1, 1), D(2026, 6, 2))


@pytest.mark.parametrize(
    ("overrides", "data_type", "today", "reason"),
    [
        ({"state": RightState.TO_VALIDATE}, DataType.PUBLISHED, D(2026, 6, 1), "pas actif"),
        ({"state": RightState.REVOKED}, DataType.PUBLISHED, D(2026, 6, 1), "pas actif"),
        ({}, DataType.PUBLISHED, D(2025, 12, 31), "ne commence"),
        ({}, DataType.PUBLISHED, D(2027, 1, 1), "a pris fin"),
        ({}, DataType.CONTRACTUAL, D(2026, 6, 1), "Contractuelles"),
        ({}, DataType.INFORMATIVE_HOURLY, D(2026, 6, 1), "horaires"),
    ],
)
def test_refusals_say_why(
    overrides: dict[str, object], data_type: str, today: dt.date, reason: str
) -> None:
    decision = consent.decide(right=right(**overrides), data_type=data_type, today=today)
    assert not decision.allowed
    assert reason in decision.reason


def test_range_outside_the_data_range_is_refused_with_the_window() -> None:
    r = right(data_start=D(2026, 3, 1))
    inside = consent.check_range(
        rights=[r],
        data_type=DataType.PUBLISHED,
        start=D(2026, 3, 1),
        end=D(2026, 4, 1),
        today=D(2026, 6, 1),
    )
    assert inside.allowed
    before = consent.check_range(
        rights=[r],
        data_type=DataType.PUBLISHED,
        start=D(2026, 2, 28),
        end=D(2026, 4, 1),
        today=D(2026, 6, 1),
    )
    assert not before.allowed and "01/03/2026" in before.reason
    future = consent.check_range(
        rights=[r],
        data_type=DataType.PUBLISHED,
        start=D(2026, 5, 1),
        end=D(2026, 6, 3),
        today=D(2026, 6, 1),
    )
    assert not future.allowed


def test_commissioning_date_bounds_the_range() -> None:
    r = right()
    r.pce = Pce(mes_date=D(2025, 5, 1))
    decision = consent.decide(right=r, data_type=DataType.PUBLISHED, today=D(2026, 6, 1))
    assert decision.window is not None and decision.window.start == D(2025, 5, 1)


def test_the_widest_of_several_rights_wins_and_no_right_is_refused() -> None:
    narrow = right(data_start=D(2026, 5, 1))
    wide = right(data_start=D(2025, 1, 1))
    revoked = right(state=RightState.REVOKED, data_start=D(2020, 1, 1))
    decision = consent.decide_any(
        rights=[narrow, revoked, wide], data_type=DataType.PUBLISHED, today=D(2026, 6, 1)
    )
    assert decision.window is not None and decision.window.start == D(2025, 1, 1)
    none = consent.decide_any(rights=[], data_type=DataType.PUBLISHED, today=D(2026, 6, 1))
    assert not none.allowed and "aucun droit" in none.reason
