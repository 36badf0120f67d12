"""Checks on every batch of consumption, after GRDF published files with consumption missing.

Seed 000 ("REX incident publication ALLOC et REJJ"): files of 27 to 29 October were published
without consumption, after the change to winter time. So each batch is checked for missing
gas days, records without consumption, and gas days (or hours) that do not span the hours the
day really has in Paris (23 on the spring change, 25 on the autumn one).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from grdf_access.client import ConsumptionRecord
from hub.clock import gas_day_bounds, gas_day_of

# Informative daily data come D+1 to D+3 (reference §1.8): younger gas days are not yet late.
DAILY_LAG_DAYS = 3


def gas_day_hours(day: dt.date) -> int:
    start, end = gas_day_bounds(day)
    return int((end - start).total_seconds() // 3600)


def _day(reading: ConsumptionRecord) -> dt.date:
    return reading.gas_day or gas_day_of(reading.start)


def check_daily(
    readings: list[ConsumptionRecord], *, start: dt.date, end: dt.date, today: dt.date
) -> list[str]:
    """Warnings for a batch of daily records asked for gas days ``[start, end)``."""
    warnings: list[str] = []
    got = {_day(r) for r in readings}
    last_due = min(end, today - dt.timedelta(days=DAILY_LAG_DAYS - 1))
    expected = [start + dt.timedelta(days=i) for i in range(max(0, (last_due - start).days))]
    missing = [d for d in expected if d not in got]
    if missing:
        warnings.append(f"{len(missing)} journée(s) gazière(s) manquante(s) : {_days(missing)}")
    empty = sorted(_day(r) for r in readings if r.energy_kwh is None)
    if empty:
        warnings.append(f"consommation vide pour {len(empty)} journée(s) : {_days(empty)}")
    wrong = sorted(
        _day(r)
        for r in readings
        if round((r.end - r.start).total_seconds() / 3600) != gas_day_hours(_day(r))
    )
    if wrong:
        warnings.append(
            f"durée de journée gazière incorrecte (changement d'heure ?) : {_days(wrong)}"
        )
    return warnings


def check_hourly(readings: list[ConsumptionRecord]) -> list[str]:
    """Warnings for hourly records: each gas day must have its 23, 24 or 25 hours."""
    warnings: list[str] = []
    per_day = Counter(gas_day_of(r.start) for r in readings)
    wrong = sorted(d for d, n in per_day.items() if n != gas_day_hours(d))
    if wrong:
        details = ", ".join(
            f"{d:%d/%m/%Y} ({per_day[d]} h au lieu de {gas_day_hours(d)})" for d in wrong[:10]
        )
        warnings.append(f"nombre d'heures incorrect : {details}")
    empty = sorted({gas_day_of(r.start) for r in readings if r.energy_kwh is None})
    if empty:
        warnings.append(f"consommation horaire vide pour : {_days(empty)}")
    return warnings


def _days(days: list[dt.date]) -> str:
    shown = ", ".join(f"{d:%d/%m/%Y}" for d in days[:10])
    return shown + (f" (+{len(days) - 10})" if len(days) > 10 else "")
