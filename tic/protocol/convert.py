"""Typing of checked groups with a meter family's label table."""

from __future__ import annotations

from datetime import datetime

from .clock import parse_horodate
from .labels import LabelSpec
from .model import NO_FLAGS, UNKNOWN_LABEL, Group

RawGroup = tuple[str, str | None, str]  # raw label, horodate, data

_UNKNOWN = frozenset({UNKNOWN_LABEL})


def to_group(label: str, raw: RawGroup, spec: LabelSpec | None) -> Group:
    """Type one group; a data field that breaks its format gives ``value=None`` and ``error``."""
    if spec is None:
        return _unknown_group(label, raw)
    raw_label, horodate, data = raw
    flags = NO_FLAGS
    timestamp: datetime | None = None
    try:
        if spec.horodated:
            if horodate is None:
                raise ValueError("horodate missing")
            timestamp, flags = parse_horodate(horodate)
        elif horodate is not None:
            raise ValueError("unexpected horodate")
        value, unit, value_flags = spec.convert(data)
    except ValueError as exc:
        return Group(label, raw_label, data, None, error=str(exc))
    if value_flags:
        flags = flags | value_flags
    if spec.timestamp_is_value:
        value = timestamp
    return Group(label, raw_label, data, value, unit, timestamp, flags)


def _unknown_group(label: str, raw: RawGroup) -> Group:
    """Labels outside the family's table keep their text; they passed the checksum."""
    raw_label, horodate, data = raw
    if horodate is None:
        return Group(label, raw_label, data, data, flags=_UNKNOWN)
    try:
        timestamp, clock_flags = parse_horodate(horodate)
    except ValueError as exc:
        return Group(label, raw_label, data, None, flags=_UNKNOWN, error=str(exc))
    return Group(label, raw_label, data, data, None, timestamp, _UNKNOWN | clock_flags)
