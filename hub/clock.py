"""Local time of the French market: Europe/Paris days and gas days, right on 23- and 25-hour days.

Periods are half-open ``[start, end)`` and returned as aware UTC datetimes. "Now" is never read
here: callers pass it in, so tests pin it.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
GAS_DAY_START = dt.time(6, 0)


# Days are few and asked for again and again (every answer of a poll checks its day's bounds,
# every time written for a person asks whether its day changes the clocks): computed once each.
@lru_cache(maxsize=4096)
def local_midnight(day: dt.date) -> dt.datetime:
    """Start of ``day`` in Paris, in UTC.

    Midnight always exists in Paris: the clocks change at 02:00 and 03:00.
    """
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=PARIS).astimezone(dt.UTC)


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return local_midnight(day), local_midnight(day + dt.timedelta(days=1))


def local_day_of(instant: dt.datetime) -> dt.date:
    _require_aware(instant)
    return instant.astimezone(PARIS).date()


def gas_day_bounds(gas_day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Gas day D runs from D 06:00 to D+1 06:00, Paris time."""
    start = dt.datetime.combine(gas_day, GAS_DAY_START, tzinfo=PARIS)
    end = dt.datetime.combine(gas_day + dt.timedelta(days=1), GAS_DAY_START, tzinfo=PARIS)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def gas_day_of(instant: dt.datetime) -> dt.date:
    _require_aware(instant)
    local = instant.astimezone(PARIS)
    return local.date() if local.time() >= GAS_DAY_START else local.date() - dt.timedelta(days=1)


def hours_in_local_day(day: dt.date) -> int:
    start, end = local_day_bounds(day)
    return int((end - start).total_seconds() // 3600)


@lru_cache(maxsize=4096)
def has_clock_change(day: dt.date) -> bool:
    """Whether Paris changes its clocks on ``day`` (a 23- or 25-hour day)."""
    return hours_in_local_day(day) != 24


def utc_offset_label(instant: dt.datetime) -> str:
    """The Paris UTC offset in force at ``instant``: ``UTC+1`` or ``UTC+2``."""
    _require_aware(instant)
    offset = instant.astimezone(PARIS).utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def format_local(
    instant: dt.datetime, fmt: str = "%d/%m/%Y %H:%M", *, offset: bool | None = None
) -> str:
    """Paris wall time of ``instant`` for a person to read, with its offset when it matters.

    On the 25-hour day two instants share each wall time from 02:00 to 03:00, so on a day the
    clocks change the offset is always written (``25/10/2026 02:30 (UTC+2)``); ``offset=True``
    writes it on every day, ``offset=False`` never.
    """
    _require_aware(instant)
    local = instant.astimezone(PARIS)
    text = local.strftime(fmt)
    if offset is None:
        offset = has_clock_change(local.date())
    return f"{text} ({utc_offset_label(instant)})" if offset else text


def local_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """The local days of ``[start, end)``."""
    return [start + dt.timedelta(days=i) for i in range((end - start).days)]


def _require_aware(instant: dt.datetime) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is required")
