"""Meter clock readings to aware datetimes in Europe/Paris.

PME-PMI (``JJ/MM/AA HH:MM:SS``, Enedis-NOI-CPT_02E §2.9.3 (B)) and SAPHIR
(``JJ/MM/AA HH/MM/SS``, §2.10.3 (D)) give legal local time without a season flag, so the
repeated October hour cannot be resolved: such values are flagged ``ambiguous`` and take the
first pass (summer time). A time inside the March gap cannot come from a correct clock and is
rejected.

Linky standard horodates (``SAAMMJJhhmmss``, Enedis-NOI-CPT_54E §6.2.1.1) carry the season:
``H`` winter (UTC+1), ``E`` summer (UTC+2), lowercase when the clock runs in degraded mode,
space when not applicable (mobile-peak groups), in which case the local-time rules above apply.

Results carry the Paris offset in force as a fixed ``UTC+01:00`` / ``UTC+02:00`` tzinfo rather
than ``ZoneInfo``: Python compares and subtracts datetimes that share a ``ZoneInfo`` by wall
clock, ignoring ``fold``, so the two 02:30 of October would compare equal.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from .model import AMBIGUOUS, DEGRADED_CLOCK, NO_FLAGS, SEASON_MISMATCH

PARIS = ZoneInfo("Europe/Paris")
_WINTER = timezone(timedelta(hours=1))
_SUMMER = timezone(timedelta(hours=2))
_SEASON_OFFSET = {"H": _WINTER, "E": _SUMMER}
_FIXED: dict[timedelta | None, timezone] = {
    _WINTER.utcoffset(None): _WINTER,
    _SUMMER.utcoffset(None): _SUMMER,
}

_PME_DATE = re.compile(r"(\d\d)/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)")
_SAPHIR_DATE = re.compile(r"(\d\d)/(\d\d)/(\d\d) (\d\d)/(\d\d)/(\d\d)")
_HORODATE = re.compile(r"([HEhe ])(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)")

_AMBIGUOUS_FLAGS = frozenset({AMBIGUOUS})


def _naive(year: str, month: str, day: str, hour: str, minute: str, second: str) -> datetime:
    # Two-digit years: every meter in these specs was built after 2000.
    return datetime(  # noqa: DTZ001 - made aware by the caller
        2000 + int(year), int(month), int(day), int(hour), int(minute), int(second)
    )


def _fixed(moment: datetime) -> datetime:
    """Same instant and wall time, with the offset frozen (see the module docstring)."""
    offset = moment.utcoffset()
    fixed = _FIXED.get(offset)
    if fixed is None and offset is not None:  # should tzdata ever give Paris another offset
        fixed = timezone(offset)
    return moment.replace(tzinfo=fixed, fold=0)


def paris_local(naive: datetime) -> tuple[datetime, frozenset[str]]:
    """Attach Europe/Paris to a wall-clock time, flagging the repeated hour, refusing the gap."""
    first = naive.replace(tzinfo=PARIS, fold=0)
    second = naive.replace(tzinfo=PARIS, fold=1)
    if first.utcoffset() == second.utcoffset():
        return _fixed(first), NO_FLAGS
    # Offsets differ both in the October overlap and in the March gap; only a time in the
    # overlap survives a round trip through UTC unchanged.
    if first.astimezone(UTC).astimezone(PARIS).replace(tzinfo=None) != naive:
        raise ValueError(f"{naive:%d/%m/%y %H:%M:%S} does not exist in Europe/Paris (DST gap)")
    return _fixed(first), _AMBIGUOUS_FLAGS


def _parse_local(
    pattern: re.Pattern[str], text: str, style: str
) -> tuple[datetime, frozenset[str]]:
    match = pattern.fullmatch(text)
    if match is None:
        raise ValueError(f"not a {style} date: {text!r}")
    day, month, year, hour, minute, second = match.groups()
    try:
        naive = _naive(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise ValueError(f"impossible date {text!r}: {exc}") from None
    return paris_local(naive)


@lru_cache(maxsize=4096)
def parse_pme_date(text: str) -> tuple[datetime, frozenset[str]]:
    """``JJ/MM/AA HH:MM:SS`` (02E §2.9.3 (B)) as an aware Europe/Paris datetime and flags."""
    return _parse_local(_PME_DATE, text, "PME-PMI")


@lru_cache(maxsize=4096)
def parse_saphir_date(text: str) -> tuple[datetime, frozenset[str]]:
    """``JJ/MM/AA HH/MM/SS`` (02E §2.10.3 (D)) as an aware Europe/Paris datetime and flags."""
    return _parse_local(_SAPHIR_DATE, text, "SAPHIR")


@lru_cache(maxsize=4096)
def parse_horodate(text: str) -> tuple[datetime, frozenset[str]]:
    """Linky ``SAAMMJJhhmmss`` horodate (54E §6.2.1.1) as an aware datetime and flags."""
    match = _HORODATE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a horodate: {text!r}")
    season, year, month, day, hour, minute, second = match.groups()
    try:
        naive = _naive(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise ValueError(f"impossible horodate {text!r}: {exc}") from None
    if season == " ":
        return paris_local(naive)
    flags: set[str] = set()
    if season.islower():
        flags.add(DEGRADED_CLOCK)
    offset = _SEASON_OFFSET[season.upper()]
    # The letter fixes the UTC offset, which settles the repeated October hour.
    stated = naive.replace(tzinfo=offset)
    paris = stated.astimezone(PARIS)
    if paris.utcoffset() != offset.utcoffset(None):
        flags.add(SEASON_MISMATCH)
    return _fixed(paris), frozenset(flags) if flags else NO_FLAGS
