from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from hub.clock import PARIS, local_day_bounds
from hub.models import MeteringPoint, SeriesKind
from hub.services.series import PointIn, ensure_series, upsert_points
from smartoa.billing import StepState, bill, bill_contract_day, classify, day_steps
from smartoa.client import parse_schedule
from smartoa.models import Contract
from smartoa.schedule import Episode
from smartoa.services import record_schedule

from .conftest import CONTRACT_ID, paris

SEED_DAY = dt.date(2025, 9, 22)
MIN5 = dt.timedelta(minutes=5)


def episode(start: dt.datetime, end: dt.datetime) -> Episode:
    return Episode(start.astimezone(dt.UTC), end.astimezone(dt.UTC))


def states_by_local_time(day: dt.date, episodes: list[Episode]) -> dict[str, StepState]:
    steps = day_steps(day)
    return {
        s.astimezone(PARIS).strftime("%H:%M%z"): state
        for s, state in zip(steps, classify(steps=steps, episodes=episodes), strict=True)
    }


@pytest.mark.parametrize(
    ("day", "count"),
    [(SEED_DAY, 288), (dt.date(2026, 3, 29), 276), (dt.date(2026, 10, 25), 300)],
)
def test_day_steps(day: dt.date, count: int) -> None:
    steps = day_steps(day)
    assert len(steps) == count
    assert (steps[0], steps[-1] + MIN5) == local_day_bounds(day)


def test_seed_day_neutralises_first_and_last_five_minutes() -> None:
    stop = episode(paris(2025, 9, 22, 11, 55), paris(2025, 9, 22, 18, 0))
    states = states_by_local_time(SEED_DAY, [stop])
    assert states["11:50+0200"] is StepState.NORMAL
    assert states["11:55+0200"] is StepState.NEUTRALISED
    assert states["12:00+0200"] is StepState.STOP
    assert states["17:50+0200"] is StepState.STOP
    assert states["17:55+0200"] is StepState.NEUTRALISED
    assert states["18:00+0200"] is StepState.NORMAL
    result = bill(day=SEED_DAY, episodes=[stop], energies={})
    assert (result.neutralised_steps, result.stop_steps) == (2, 71)  # 12:00-17:55 is 71 steps
    assert result.stop_duration == dt.timedelta(hours=6, minutes=5)


def test_unaligned_edges_neutralise_every_step_they_touch() -> None:
    stop = episode(paris(2025, 9, 22, 12, 2), paris(2025, 9, 22, 13, 58))
    states = states_by_local_time(SEED_DAY, [stop])
    neutralised = [k for k, v in states.items() if v is StepState.NEUTRALISED]
    assert neutralised == ["12:00+0200", "12:05+0200", "13:50+0200", "13:55+0200"]
    stops = [k for k, v in states.items() if v is StepState.STOP]
    assert (stops[0], stops[-1], len(stops)) == ("12:10+0200", "13:45+0200", 20)
    assert states["14:00+0200"] is StepState.NORMAL


def test_episode_shorter_than_ten_minutes_is_all_neutralised() -> None:
    stop = episode(paris(2025, 9, 22, 12, 0), paris(2025, 9, 22, 12, 7))
    result = bill(day=SEED_DAY, episodes=[stop], energies={})
    assert (result.neutralised_steps, result.stop_steps) == (2, 0)


def test_episodes_separated_by_one_step() -> None:
    first = episode(paris(2025, 9, 22, 12, 0), paris(2025, 9, 22, 13, 0))
    second = episode(paris(2025, 9, 22, 13, 5), paris(2025, 9, 22, 14, 0))
    states = states_by_local_time(SEED_DAY, [first, second])
    assert states["12:55+0200"] is StepState.NEUTRALISED
    assert states["13:00+0200"] is StepState.NORMAL
    assert states["13:05+0200"] is StepState.NEUTRALISED


@pytest.mark.parametrize(
    ("day", "start_utc", "end_utc", "steps", "stop_steps"),
    [
        # Spring forward: 01:00-04:00 local is only two hours.
        (
            dt.date(2026, 3, 29),
            dt.datetime(2026, 3, 29, 0, 0),
            dt.datetime(2026, 3, 29, 2, 0),
            276,
            22,
        ),
        # Fall back: 02:00+02:00 to 03:00+01:00 is two hours too, across the repeated hour.
        (
            dt.date(2026, 10, 25),
            dt.datetime(2026, 10, 25, 0, 0),
            dt.datetime(2026, 10, 25, 2, 0),
            300,
            22,
        ),
    ],
)
def test_dst_days(
    day: dt.date, start_utc: dt.datetime, end_utc: dt.datetime, steps: int, stop_steps: int
) -> None:
    stop = Episode(start_utc.replace(tzinfo=dt.UTC), end_utc.replace(tzinfo=dt.UTC))
    energies = {s: 1.0 for s in day_steps(day)}
    result = bill(day=day, episodes=[stop], energies=energies, unit="Wh")
    assert len(result.steps) == steps
    assert (result.stop_steps, result.neutralised_steps) == (stop_steps, 2)
    assert result.stop_duration == dt.timedelta(hours=2)
    assert result.non_compliant_energy == stop_steps
    assert result.neutralised_energy == 2
    assert not result.compliant


def test_energies_split_by_state() -> None:
    stop = episode(paris(2025, 9, 22, 11, 55), paris(2025, 9, 22, 18, 0))
    energies: dict[dt.datetime, float | None] = {s: 100.0 for s in day_steps(SEED_DAY)}
    for s in day_steps(SEED_DAY):
        if stop.start <= s < stop.end:
            energies[s] = 0.0
    energies[paris(2025, 9, 22, 11, 55).astimezone(dt.UTC)] = 40.0  # ramping down
    energies[paris(2025, 9, 22, 17, 55).astimezone(dt.UTC)] = 30.0  # ramping up
    energies[paris(2025, 9, 22, 14, 0).astimezone(dt.UTC)] = 12.5  # produced while stopped
    del energies[paris(2025, 9, 22, 3, 0).astimezone(dt.UTC)]
    result = bill(day=SEED_DAY, episodes=[stop], energies=energies)
    assert result.non_compliant_energy == 12.5
    assert result.neutralised_energy == 70.0
    assert result.missing_steps == 1
    assert not result.compliant


def _body(day: dt.date, stops: list[tuple[dt.datetime, dt.datetime]], update: dt.datetime) -> str:
    start, end = (b.astimezone(PARIS) for b in local_day_bounds(day))
    cursor, data = start, []
    for s, e in stops:
        if s > cursor:
            data.append({"start_date": cursor.isoformat(), "end_date": s.isoformat(), "value": 0.0})
        data.append({"start_date": s.isoformat(), "end_date": e.isoformat(), "value": 1.0})
        cursor = e
    if cursor < end:
        data.append({"start_date": cursor.isoformat(), "end_date": end.isoformat(), "value": 0.0})
    return json.dumps(
        {
            "id": CONTRACT_ID,
            "update_date": update.isoformat(),
            "application_date": day.isoformat(),
            "data": data,
        }
    )


def _store(contract: Contract, day: dt.date, stops: list[tuple[dt.datetime, dt.datetime]]) -> None:
    update = paris(day.year, day.month, day.day, 0, 0) - dt.timedelta(hours=11)
    schedule = parse_schedule(_body(day, stops, update))
    record_schedule(contract=contract, schedule=schedule, fetched_at=update)


def test_stop_across_midnight_is_neutralised_only_at_its_true_edges(contract: Contract) -> None:
    _store(contract, dt.date(2025, 9, 21), [(paris(2025, 9, 21, 22, 0), paris(2025, 9, 22, 0, 0))])
    _store(contract, SEED_DAY, [(paris(2025, 9, 22, 0, 0), paris(2025, 9, 22, 2, 0))])
    before = bill_contract_day(contract=contract, day=dt.date(2025, 9, 21))
    after = bill_contract_day(contract=contract, day=SEED_DAY)
    assert before.steps[-1].state is StepState.STOP  # 23:55, not the end of the stop
    assert after.steps[0].state is StepState.STOP  # 00:00, not its start
    assert after.steps[23].state is StepState.NEUTRALISED  # 01:55
    assert before.neutralised_steps == after.neutralised_steps == 1
    assert before.stop_duration == after.stop_duration == dt.timedelta(hours=2)


def test_back_to_back_periods_are_one_stop(contract: Contract) -> None:
    noon, one, two = (paris(2025, 9, 22, h) for h in (12, 13, 14))
    _store(contract, SEED_DAY, [(noon, one), (one, two)])
    result = bill_contract_day(contract=contract, day=SEED_DAY)
    assert (result.neutralised_steps, result.stop_steps) == (2, 22)


def test_the_latest_version_of_the_day_is_billed(contract: Contract) -> None:
    _store(contract, SEED_DAY, [(paris(2025, 9, 22, 11, 55), paris(2025, 9, 22, 18, 0))])
    late = parse_schedule(
        _body(
            SEED_DAY,
            [(paris(2025, 9, 22, 11, 55), paris(2025, 9, 22, 16, 0))],
            paris(2025, 9, 22, 9, 30),
        )
    )
    record_schedule(contract=contract, schedule=late, fetched_at=paris(2025, 9, 22, 9, 31))
    result = bill_contract_day(contract=contract, day=SEED_DAY)
    assert result.stop_duration == dt.timedelta(hours=4, minutes=5)


def _production(point: MeteringPoint, day: dt.date, stopped: Episode) -> None:
    series = ensure_series(
        metering_point=point,
        quantity="active_energy_export",
        unit="Wh",
        source="meter",
        kind=SeriesKind.INTERVAL,
        step_seconds=300,
    )
    points = []
    for s in day_steps(day):
        value = 0.0 if stopped.contains(s) else 500.0
        if s == stopped.start:
            value = 200.0  # ramping down in the neutralised step
        if s == paris(2025, 9, 22, 15, 0).astimezone(dt.UTC):
            value = 25.0  # a restart in the middle of the stop
        points.append(PointIn(s, value))
    upsert_points(series=series, points=points)


def test_billing_from_the_stored_series(
    contract: Contract, production_point: MeteringPoint
) -> None:
    stop = episode(paris(2025, 9, 22, 11, 55), paris(2025, 9, 22, 18, 0))
    _store(contract, SEED_DAY, [(stop.start, stop.end)])
    _production(production_point, SEED_DAY, stop)
    result = bill_contract_day(contract=contract, day=SEED_DAY)
    assert result.unit == "Wh"
    assert result.missing_steps == 0
    assert result.non_compliant_energy == 25.0
    assert result.neutralised_energy == 200.0
    assert result.steps[0].energy == 500.0


def test_billing_command_writes_csv(
    contract: Contract,
    production_point: MeteringPoint,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stop = episode(paris(2025, 9, 22, 11, 55), paris(2025, 9, 22, 18, 0))
    _store(contract, SEED_DAY, [(stop.start, stop.end)])
    _production(production_point, SEED_DAY, stop)
    target = tmp_path / "billing.csv"
    call_command(
        "smartoa_billing", "--contract", CONTRACT_ID, "--day", "2025-09-22", "--csv", str(target)
    )
    assert "non-compliant energy 25 Wh" in capsys.readouterr().out
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert len(rows) == 288
    assert rows[143] == {
        "start_local": "2025-09-22T11:55:00+02:00",
        "start_utc": "2025-09-22T09:55:00+00:00",
        "state": "neutralised",
        "energy": "200.0",
    }


def test_billing_command_refuses_a_bad_day(contract: Contract) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--day"):
        call_command("smartoa_billing", "--contract", CONTRACT_ID, "--day", "22/09/2025")


# --- Back at full power after the stop ----------------------------------------------------------

SEED_STOP = (paris(2025, 9, 22, 11, 55), paris(2025, 9, 22, 18, 0))


def _seed_curve(after_stop: list[float]) -> dict[dt.datetime, float | None]:
    """The seed's day: 100 per step outside the stop, 0 inside, ``after_stop`` from 18:00."""
    stop = episode(*SEED_STOP)
    energies: dict[dt.datetime, float | None] = {}
    for s in day_steps(SEED_DAY):
        energies[s] = 0.0 if stop.start <= s < stop.end else 100.0
    first = paris(2025, 9, 22, 18, 0).astimezone(dt.UTC)
    for i, value in enumerate(after_stop):
        energies[first + i * MIN5] = value
    return energies


def test_back_at_full_power_at_the_end_of_the_stop() -> None:
    """Seed: « Les 5 dernières minutes de l'épisode d'arrêt sont neutralisées de sorte à
    permettre le retour à un régime de production normal. Le producteur doit être à « pleine
    puissance » à partir de 18h. »"""
    result = bill(
        day=SEED_DAY, episodes=[episode(*SEED_STOP)], energies=_seed_curve([95, 100, 98, 97])
    )
    [check] = result.returns
    assert check.step == paris(2025, 9, 22, 18, 0)
    assert (check.energy, check.reference, check.status) == (95, 100, "ok")
    assert result.back_at_full_power and result.compliant


def test_still_ramping_up_at_the_end_of_the_stop_is_reported() -> None:
    """The 17:55 step is neutralised for the ramp-up; from 18:00 the plant must be at full
    power. Producing 40 % at 18:00 and full power from 18:05 is a late return."""
    result = bill(
        day=SEED_DAY, episodes=[episode(*SEED_STOP)], energies=_seed_curve([40, 100, 100, 100])
    )
    [check] = result.returns
    assert check.status == "late" and "40 %" in check.reason
    assert result.non_compliant_energy == 0  # nothing produced while stopped…
    assert not result.back_at_full_power and not result.compliant  # …but back too late


def test_a_plant_still_off_after_the_stop_is_late() -> None:
    result = bill(
        day=SEED_DAY, episodes=[episode(*SEED_STOP)], energies=_seed_curve([0, 0, 60, 100])
    )
    assert [r.status for r in result.returns] == ["late"]


def test_nothing_to_compare_or_missing_steps_is_unknown_not_late() -> None:
    night = bill(day=SEED_DAY, episodes=[episode(*SEED_STOP)], energies=_seed_curve([0, 0, 0, 0]))
    assert [r.status for r in night.returns] == ["unknown"]
    assert night.back_at_full_power
    missing = _seed_curve([])
    missing[paris(2025, 9, 22, 18, 0).astimezone(dt.UTC)] = None
    result = bill(day=SEED_DAY, episodes=[episode(*SEED_STOP)], energies=missing)
    assert [r.status for r in result.returns] == ["unknown"]


def test_unaligned_end_checks_the_first_step_after_it() -> None:
    """A stop ending 13:58: 13:55 is neutralised, 14:00 must be at full power."""
    stop = episode(paris(2025, 9, 22, 12, 2), paris(2025, 9, 22, 13, 58))
    energies: dict[dt.datetime, float | None] = {s: 100.0 for s in day_steps(SEED_DAY)}
    energies[paris(2025, 9, 22, 14, 0).astimezone(dt.UTC)] = 50.0
    [check] = bill(day=SEED_DAY, episodes=[stop], energies=energies).returns
    assert check.step == paris(2025, 9, 22, 14, 0) and check.status == "late"


def test_return_on_the_25_hour_day() -> None:
    """25/10/2026: a stop ending 02:30 CET (01:30Z) is checked at the step 01:30Z, the second
    02:30 of the night, not the first."""
    day = dt.date(2026, 10, 25)
    stop = Episode(
        dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC),
    )
    energies: dict[dt.datetime, float | None] = {s: 10.0 for s in day_steps(day)}
    energies[dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)] = 2.0
    [check] = bill(day=day, episodes=[stop], energies=energies).returns
    assert check.step == dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)
    assert check.status == "late"


def test_a_stop_ending_at_midnight_is_checked_with_the_next_day() -> None:
    stop = episode(paris(2025, 9, 22, 22, 0), paris(2025, 9, 23, 0, 0))
    assert bill(day=SEED_DAY, episodes=[stop], energies={}).returns == ()
    next_day = dt.date(2025, 9, 23)
    [check] = bill(day=next_day, episodes=[stop], energies={}).returns
    assert check.step == paris(2025, 9, 23, 0, 0)
