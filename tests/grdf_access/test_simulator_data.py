"""The simulator's generated data through the client: shapes, gas days and DST, published and
injection periods, contractual/technical shapes, injected faults and the sandbox scenarios."""

# Fixtures come from adict_fixtures by import: their parameters shadow the imported names.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
from collections import Counter
from itertools import pairwise

import pytest

from grdf_access import simulator
from grdf_access.client import (
    AccessDeniedError,
    AdictClient,
    BadRequestError,
    ConflictError,
    ConsumptionRecord,
    DataType,
    RetryableError,
    ScopeError,
    SubscriptionKind,
    TechnicalError,
)
from grdf_access.client.records import _consumption
from grdf_access.simulator import generator
from hub.clock import PARIS
from hub.http import ProviderError

from .adict_fixtures import (  # noqa: F401 - fixtures
    NOW,
    PCE,
    PRO_PCE,
    adict,
    no_waits,
    sim,
)

ALL = ("publiees", "informatives", "informatives_horaires", "contractuelles", "techniques")


def grant(pce: str = PCE, **kwargs: object) -> str:
    options: dict[str, object] = {
        "client_id": "hub-simulator",
        "pces": [pce],
        "data_start": dt.date(2024, 1, 1),
        "data_end": dt.date(2027, 12, 31),
        "consent_start": dt.date(2024, 1, 1),
        "consent_end": dt.date(2027, 12, 31),
        "types": ALL,
    }
    options.update(kwargs)
    [right_id] = simulator.seed_rights(**options)  # type: ignore[arg-type]
    return right_id


# -- informative daily ---------------------------------------------------------------------------


def test_daily_records_follow_the_gas_day(adict: AdictClient) -> None:
    grant()
    records = adict.informative_consumption(
        pce=PCE, start=dt.date(2026, 10, 1), end=dt.date(2026, 11, 1)
    )
    assert [r.gas_day for r in records] == [
        dt.date(2026, 10, 1) + dt.timedelta(days=i) for i in range(31)
    ]
    for record in records:
        assert record.start.tzinfo is dt.UTC and record.end.tzinfo is dt.UTC
        assert record.start.astimezone(PARIS).time() == dt.time(6)
        assert record.start.astimezone(PARIS).date() == record.gas_day
        assert record.kind is DataType.INFORMATIVE
        assert record.type_label == "Informative Journalier"
        assert record.flow == "Consommation"
        assert record.energy_kwh is not None and record.energy_kwh >= 0
        assert record.start_reading and record.end_reading
        start_index, volume = record.start_reading.raw_index, record.raw_volume_m3
        assert start_index is not None and volume is not None
        assert record.end_reading.raw_index == start_index + volume
    # Consecutive days chain: a day's end index is the next day's start index.
    for day, next_day in pairwise(records.items):
        assert day.end == next_day.start
        assert day.end_reading.raw_index == next_day.start_reading.raw_index  # type: ignore[union-attr]
    lengths = {r.gas_day: (r.end - r.start) for r in records}
    assert lengths[dt.date(2026, 10, 24)] == dt.timedelta(hours=25)  # 25 Oct 03:00 → 02:00
    assert lengths[dt.date(2026, 10, 25)] == dt.timedelta(hours=24)
    assert records.problems == ()


def test_daily_statuses_and_qualifications(adict: AdictClient) -> None:
    grant()
    records = adict.informative_consumption(
        pce=PCE, start=dt.date(2026, 9, 1), end=dt.date(2026, 11, 22)
    )
    statuses = {r.gas_day: r.status for r in records}
    assert statuses[dt.date(2026, 10, 31)] == "Définitive"  # October published a week into November
    assert statuses[dt.date(2026, 11, 20)] == "Provisoire"
    # The 21st's gas day ended on the 22nd at 06:00.
    assert max(d for d in statuses if d) == dt.date(2026, 11, 21)
    assert {r.qualification for r in records} <= {"Mesuré", "Estimé"}
    assert any(r.is_estimated for r in generator_days(PCE, 400))


def generator_days(pce: str, days: int) -> list[ConsumptionRecord]:
    rows = generator.informative_daily(
        pce, dt.date(2025, 1, 1), dt.date(2025, 1, 1) + dt.timedelta(days=days), NOW
    )
    return [_consumption(row) for row in rows]


def test_informative_energy_comes_from_the_finer_volume() -> None:
    rows = generator_days(PCE, 60)
    mismatched = [r for r in rows if r.energy_kwh != round((r.raw_volume_m3 or 0) * (r.pcs or 0))]
    assert mismatched  # ref §3.2: the identity does not hold for informative rows
    assert sum(r.energy_kwh or 0 for r in rows[:30]) > 0


def test_same_pce_same_data_and_pces_differ() -> None:
    first = generator.informative_daily(PCE, dt.date(2026, 1, 1), dt.date(2026, 1, 8), NOW)
    again = generator.informative_daily(PCE, dt.date(2026, 1, 1), dt.date(2026, 1, 8), NOW)
    other = generator.informative_daily(
        "01234567890124", dt.date(2026, 1, 1), dt.date(2026, 1, 8), NOW
    )
    assert first == again
    assert first != other


# -- hourly (RSF) and DST ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gas_day", "hours"),
    [
        (dt.date(2026, 3, 28), 23),
        (dt.date(2026, 3, 29), 24),
        (dt.date(2026, 10, 24), 25),
        (dt.date(2026, 10, 10), 24),
    ],
)
def test_hourly_records_per_gas_day(adict: AdictClient, gas_day: dt.date, hours: int) -> None:
    grant()
    records = adict.hourly_consumption(pce=PCE, start=gas_day, end=gas_day + dt.timedelta(days=1))
    assert len(records) == hours
    assert all(r.kind is DataType.INFORMATIVE_HOURLY and r.gas_day == gas_day for r in records)
    starts = [r.start for r in records]
    assert all(b - a == dt.timedelta(hours=1) for a, b in pairwise(starts))
    assert starts[0].astimezone(PARIS).time() == dt.time(6)
    assert records.items[-1].end.astimezone(PARIS).time() == dt.time(6)
    daily = generator.informative_daily(PCE, gas_day, gas_day + dt.timedelta(days=1), NOW)[0]
    fine_volume = sum(r.raw_volume_m3 for r in records)  # type: ignore[misc]
    assert abs(fine_volume - daily["consommation"]["volume_brut"]) < 1.01


@pytest.mark.parametrize(
    ("day", "hours"), [(dt.date(2026, 3, 29), 23), (dt.date(2026, 10, 25), 25)]
)
def test_local_days_with_a_clock_change_have_23_or_25_hours(
    adict: AdictClient, day: dt.date, hours: int
) -> None:
    grant()
    records = adict.hourly_consumption(
        pce=PCE, start=day - dt.timedelta(days=1), end=day + dt.timedelta(days=1)
    )
    per_local_day = Counter(r.start.astimezone(PARIS).date() for r in records)
    assert per_local_day[day] == hours
    assert len({r.start for r in records}) == len(records)  # no duplicated hour in October


# -- published and injection ----------------------------------------------------------------------


def test_monthly_published_periods(adict: AdictClient) -> None:
    grant()
    records = adict.published_consumption(
        pce=PCE, start=dt.date(2026, 1, 1), end=dt.date(2026, 11, 1)
    )
    assert generator.meter(PCE).frequency == "1M"
    assert [r.period_label for r in records] == [f"2026-{m:02d}" for m in range(1, 11)]
    for record in records:
        assert record.kind is DataType.PUBLISHED and record.is_definitive
        assert record.energy_kwh == round(record.raw_volume_m3 * record.conversion_coefficient)  # type: ignore[operator]
        assert record.publication_gas_days == (
            record.end - record.start
        ).days or record.publication_gas_days in (
            (record.end - record.start + dt.timedelta(hours=1)).days,
        )
        assert record.start.astimezone(PARIS).day == 1
    # November is not published yet on the 22nd; a period cut by the range is not returned.
    assert (
        len(
            adict.published_consumption(
                pce=PCE, start=dt.date(2026, 10, 15), end=dt.date(2026, 11, 22)
            )
        )
        == 0
    )


def test_periode_parameter(adict: AdictClient) -> None:
    grant()
    [october] = adict.published_consumption(pce=PCE, periode="2026-10")
    assert october.period_label == "2026-10"
    week = adict.informative_consumption(pce=PCE, periode="2026-W43")
    assert [r.gas_day.isoweekday() for r in week] == [1, 2, 3, 4, 5, 6, 7]  # type: ignore[union-attr]
    with pytest.raises(BadRequestError):
        adict.informative_consumption(pce=PCE, periode="2026-13")


def test_injection_from_the_sandbox_biomethane_pce(adict: AdictClient) -> None:
    records = adict.injection(pce="GI999150", start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 8))
    assert len(records) == 7
    assert {r.flow for r in records} == {"Production"}
    assert all(type(r).__name__ == "InjectionRecord" for r in records)
    assert records.items[0].qualification in ("Mesuré", "Estimé")


# -- contractual and technical --------------------------------------------------------------------


def test_contractual_shapes_alternate_between_spec_versions(adict: AdictClient) -> None:
    objects = [
        p
        for p in (PCE, "01234567890124", "01234567890125", "01234567890126")
        if generator._new_shape(p)
    ]
    scalars = [
        p
        for p in (PCE, "01234567890124", "01234567890125", "01234567890126")
        if not generator._new_shape(p)
    ]
    assert objects and scalars
    for pce in (objects[0], scalars[0]):
        grant(pce)
    new = adict.contractual_data(pce=objects[0])
    old = adict.contractual_data(pce=scalars[0])
    assert new.car and new.car.future is not None and new.cja and new.cja.monthly is not None
    assert old.car and old.car.future is None and old.cja and old.cja.daily is None
    assert isinstance(new.raw["car"], dict) and isinstance(old.raw["car"], int)
    assert new.tariff in ("T1", "T2") and new.commissioning_date is not None
    filtered = adict.contractual_data(pce=objects[0], filters=["car"])
    assert filtered.car == new.car and filtered.cja is None


def test_technical_data_carries_the_declared_postcode(adict: AdictClient) -> None:
    grant()
    data = adict.technical_data(pce=PCE)
    assert data.address is not None and data.address.postcode == "75011"
    assert data.frequency == "1M" and data.sensitive_client is False


# -- RSF subscriptions ----------------------------------------------------------------------


def test_tjdc_and_pph_subscriptions(adict: AdictClient) -> None:
    grant(types=("informatives",))
    tjdc = adict.subscribe(pce=PCE, kind=SubscriptionKind.TJDC, start=dt.date(2026, 12, 1))
    assert (tjdc.kind, tjdc.state, tjdc.end) == (SubscriptionKind.TJDC, "Actif", None)
    with pytest.raises(ConflictError):
        adict.subscribe(pce=PCE, kind=SubscriptionKind.TJDC, start=dt.date(2026, 12, 1))
    with pytest.raises(ConflictError) as caught:  # PPH needs hourly data in the right
        adict.subscribe(pce=PCE, kind=SubscriptionKind.PPH, start=dt.date(2026, 12, 1))
    assert caught.value.code == "1000009"
    with pytest.raises(ConflictError) as caught:  # no right on that PCE
        adict.subscribe(pce=PRO_PCE, kind=SubscriptionKind.TJDC, start=dt.date(2026, 12, 1))
    assert caught.value.code == "1000002"
    [listed] = adict.list_subscriptions(pces=[PCE])
    assert listed.subscription_id == tjdc.subscription_id
    adict.cancel_subscription(subscription_id=tjdc.subscription_id)
    assert adict.list_subscriptions().items[0].state == "Résilié"
    with pytest.raises(ConflictError):
        adict.cancel_subscription(subscription_id=tjdc.subscription_id)


# -- injected faults ------------------------------------------------------------------------


def test_retryable_error_is_retried_for_its_period(
    adict: AdictClient, no_waits: list[float]
) -> None:
    grant()
    simulator.set_fault(PCE, simulator.RETRYABLE, times=1)
    records = adict.informative_consumption(
        pce=PCE, start=dt.date(2026, 10, 1), end=dt.date(2026, 11, 1)
    )
    assert [r.gas_day for r in records] == [
        dt.date(2026, 10, 1) + dt.timedelta(days=i) for i in range(31)
    ]
    assert no_waits == [0.25]
    assert simulator.counters()["data_requests"] == 2


def test_retryable_error_that_persists(adict: AdictClient) -> None:
    grant()
    simulator.set_fault(PCE, simulator.RETRYABLE, times=10)
    with pytest.raises(RetryableError) as caught:
        adict.informative_consumption(pce=PCE, start=dt.date(2026, 10, 1), end=dt.date(2026, 11, 1))
    assert caught.value.period is not None


def test_pretty_printed_answers_parse(adict: AdictClient) -> None:
    grant()
    simulator.set_fault(PCE, simulator.PRETTY)
    records = adict.informative_consumption(
        pce=PCE, start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 8)
    )
    assert len(records) == 7 and records.problems == ()


def test_malformed_line_is_reported(adict: AdictClient) -> None:
    grant()
    simulator.set_fault(PCE, simulator.MALFORMED)
    records = adict.informative_consumption(
        pce=PCE, start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 8)
    )
    assert len(records) == 7
    [problem] = records.problems
    assert problem.reason == "malformed JSON" and problem.line == 2


def test_no_data_before_the_data_exists(adict: AdictClient) -> None:
    grant(data_start=dt.date(2024, 1, 1))
    simulator.set_now(dt.datetime(2026, 10, 1, 12, tzinfo=PARIS))
    records = adict.informative_consumption(
        pce=PCE, start=dt.date(2026, 9, 30), end=dt.date(2026, 10, 1)
    )
    assert len(records) == 1
    assert records.items == records.items  # the 30th's gas day ended at 06:00 on the 1st
    nothing = adict.published_consumption(
        pce=PCE, start=dt.date(2026, 9, 1), end=dt.date(2026, 10, 1)
    )
    assert nothing.items == () and "1000008" in nothing.problems[0].reason


# -- sandbox scenarios (ref §1.9) ------------------------------------------------------------------


def test_sandbox_access_refusals(adict: AdictClient) -> None:
    cases = {
        "09999999900112": "1000002",  # no right
        "09999999930215": "1000001",  # expired right
        "09999999932770": "1000014",  # revoked by the holder
        "09999999970626": "1000002",  # revoked by the third party
        "GI999092": "1000000",  # out of service (MHS)
    }
    for pce, code in cases.items():
        with pytest.raises(AccessDeniedError) as caught:
            adict.published_consumption(
                pce=pce, start=dt.date(2026, 9, 1), end=dt.date(2026, 10, 1)
            )
        assert caught.value.code == code, pce
    with pytest.raises(AccessDeniedError):  # injection right "A revérifier"
        adict.injection(pce="GI999602", start=dt.date(2026, 9, 1), end=dt.date(2026, 10, 1))


def test_sandbox_mes_bound_and_history_limit(adict: AdictClient) -> None:
    simulator.set_now(dt.datetime(2023, 6, 1, 12, tzinfo=PARIS))
    records = adict.published_consumption(
        pce="09999999900617", start=dt.date(2021, 7, 1), end=dt.date(2022, 1, 1)
    )
    assert records.items[0].start.astimezone(PARIS).date() == dt.date(2021, 8, 2)
    contractual = adict.contractual_data(pce="09999999900617")
    assert contractual.commissioning_date == dt.date(2021, 8, 2)
    with pytest.raises(BadRequestError):  # more than 5 years back
        adict.published_consumption(
            pce="09999999900617", start=dt.date(2018, 1, 1), end=dt.date(2018, 2, 1)
        )


def test_sandbox_6m_pce_with_a_broken_block(adict: AdictClient) -> None:
    simulator.set_now(dt.datetime(2026, 3, 1, 12, tzinfo=PARIS))
    records = adict.published_consumption(
        pce="09999999975102", start=dt.date(2022, 1, 1), end=dt.date(2026, 1, 1)
    )
    assert [(r.start.astimezone(PARIS).month, r.end.astimezone(PARIS).month) for r in records][
        :2
    ] == [(1, 7), (7, 1)]
    assert len(records) == 8 and len(records.problems) == 1
    with pytest.raises(ScopeError):  # before perim_donnees_conso_debut (15/11/2021)
        adict.published_consumption(
            pce="09999999975102", start=dt.date(2021, 7, 1), end=dt.date(2022, 1, 1)
        )
    with pytest.raises(ScopeError):  # informative data out of scope
        adict.informative_consumption(
            pce="09999999975102", start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 2)
        )
    assert adict.technical_data(pce="09999999975102").frequency == "6M"


def test_sandbox_frequency_change_and_expired_contract(adict: AdictClient) -> None:
    simulator.set_now(dt.datetime(2023, 6, 1, 12, tzinfo=PARIS))
    records = adict.published_consumption(
        pce="GI999055", start=dt.date(2023, 1, 1), end=dt.date(2023, 3, 1)
    )
    spans = [(r.end - r.start).days for r in records]
    assert spans[:2] == [31, 9]  # January, then 1-10 February until the change
    assert set(spans[2:]) == {1} and len(spans) == 2 + 19
    with pytest.raises(ScopeError):
        adict.technical_data(pce="GI999055")


def test_sandbox_supplier_change_and_meter_change(adict: AdictClient) -> None:
    simulator.set_now(dt.datetime(2024, 6, 1, 12, tzinfo=PARIS))
    with pytest.raises(ScopeError):
        adict.published_consumption(pce="GI999947", periode="2022-12")
    [january] = adict.published_consumption(pce="GI999947", periode="2023-01")
    assert january.period_label == "2023-01"
    [march] = adict.published_consumption(pce="09999999928289", periode="2023-03")
    assert march.zero_reset is True
    assert march.end_reading and march.start_reading
    assert march.end_reading.raw_index < march.start_reading.raw_index  # type: ignore[operator]
    daily = adict.informative_consumption(
        pce="09999999928289", start=dt.date(2023, 8, 10), end=dt.date(2023, 8, 20)
    )
    assert daily.items[0].gas_day == dt.date(2023, 8, 14)  # communicating from 14/08/2023


def test_sandbox_technical_failures(adict: AdictClient, no_waits: list[float]) -> None:
    with pytest.raises(ProviderError):  # GI999159: HTTP 500, retried, then given up
        adict.published_consumption(
            pce="GI999159", start=dt.date(2026, 9, 1), end=dt.date(2026, 10, 1)
        )
    assert len(no_waits) == 3
    with pytest.raises(TechnicalError):  # GI999054: the stream stops with a technical status
        adict.published_consumption(
            pce="GI999054", start=dt.date(2026, 9, 1), end=dt.date(2026, 10, 1)
        )
    with pytest.raises(BadRequestError, match="période"):
        adict.published_consumption(pce="09999999928283", periode="2023-W60")
