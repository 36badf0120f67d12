"""Typed conversion of group data, one small converter factory per data format.

A converter takes the data field (a ``str``) and returns ``(value, unit, flags)`` or raises
``ValueError`` when the data does not have the format the spec gives. Strict formats matter:
the TIC checksum is a sum modulo 64, so flipping bit 6 of a byte (±64) leaves it unchanged
(Enedis-NOI-CPT_02E §1.5.2); only format checks catch such a flip in a digit, unit or date.
Quantities are returned in base units (Wh, varh, VAh, W, var, VA, V, A); prefixed units are
scaled (``9649kWh`` → 9 649 000 Wh).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from .clock import parse_pme_date, parse_saphir_date
from .model import (
    CONTROL_MODE,
    NO_FLAGS,
    TRUNCATED_POINT,
    TRUNCATED_POWER_CUT,
    TRUNCATED_TIME_CHANGE,
    DynamicTariffEvent,
)

Converted = tuple[object, str | None, frozenset[str]]
Converter = Callable[[str], Converted]

# Glued unit -> (base unit, multiplier). Spellings from 02E Tableaux 10 and 12.
UNIT_SCALES: dict[str, tuple[str, int]] = {
    "Wh": ("Wh", 1),
    "kWh": ("Wh", 1000),
    "varh": ("varh", 1),
    "kvarh": ("varh", 1000),
    "VAh": ("VAh", 1),
    "W": ("W", 1),
    "kW": ("W", 1000),
    "var": ("var", 1),
    "kvar": ("var", 1000),
    "VA": ("VA", 1),
    "kVA": ("VA", 1000),
    "V": ("V", 1),
    "A": ("A", 1),
    "%": ("%", 1),
    "": ("", 1),
}

# Truncated-measure markers placed between the number and the unit.
_MARKERS: dict[str, frozenset[str]] = {
    "T": frozenset({TRUNCATED_POINT}),  # 02E §2.9.3 (C), PME-PMI
    "H.": frozenset({TRUNCATED_TIME_CHANGE}),  # 02E §2.10.3 (F), SAPHIR
    "C.": frozenset({TRUNCATED_POWER_CUT}),
    "M.": frozenset({CONTROL_MODE}),
}
PME_MARKERS = frozenset({"T"})
SAPHIR_MARKERS = frozenset({"H.", "C.", "M."})

_QUANTITY = re.compile(r"(-?)(\d{1,9})(?:[.,](\d{1,3}))?(T|[HCM]\.)?([a-zA-Z%]*)")


def text(pattern: str | None = None) -> Converter:
    """Free or patterned text; the value is stripped of the spec's space padding."""
    compiled = re.compile(pattern) if pattern is not None else None

    def convert(data: str) -> Converted:
        if compiled is not None and compiled.fullmatch(data) is None:
            raise ValueError(f"unexpected value {data!r}")
        return data.strip(), None, NO_FLAGS

    return convert


def identifier(length: int) -> Converter:
    """Meter address / PRM: ``length`` uppercase alphanumerics (02E §2.9.3 (F), 54E §2.2)."""
    compiled = re.compile(f"[0-9A-Z]{{{length}}}")

    def convert(data: str) -> Converted:
        if compiled.fullmatch(data) is None:
            raise ValueError(f"not a {length}-character identifier: {data!r}")
        return data, None, NO_FLAGS

    return convert


def integer(unit: str | None = None, scale: int = 1) -> Converter:
    """Unsigned zero-padded decimal with an implicit unit (historique and Linky standard)."""

    def convert(data: str) -> Converted:
        if not data.isdigit():
            raise ValueError(f"not a decimal number: {data!r}")
        return int(data) * scale, unit, NO_FLAGS

    return convert


def quantity(
    *units: str,
    signed: bool = False,
    fraction: bool = False,
    markers: frozenset[str] = frozenset(),
) -> Converter:
    """Number with its unit glued on (``422Wh``, ``-0,39``, ``12,345A``, ``0TkW``).

    Only the listed units, an optional sign / decimal part and truncation markers are accepted.
    """
    allowed = {name: UNIT_SCALES[name] for name in units}

    def convert(data: str) -> Converted:
        match = _QUANTITY.fullmatch(data)
        if match is None:
            raise ValueError(f"not a quantity: {data!r}")
        sign, whole, decimals, marker, unit = match.groups()
        if unit not in allowed:
            raise ValueError(f"unexpected unit in {data!r}")
        if (sign and not signed) or (decimals is not None and not fraction):
            raise ValueError(f"unexpected number format in {data!r}")
        if marker is not None and marker not in markers:
            raise ValueError(f"unexpected marker in {data!r}")
        base, scale = allowed[unit]
        number: int | Decimal
        number = int(whole) * scale if decimals is None else Decimal(f"{whole}.{decimals}") * scale
        if sign:
            number = -number
        return number, base or None, _MARKERS[marker] if marker else NO_FLAGS

    return convert


def local_date(style: str) -> Converter:
    """PME-PMI or SAPHIR date as an aware Europe/Paris datetime."""
    parse = parse_pme_date if style == "pme" else parse_saphir_date

    def convert(data: str) -> Converted:
        moment, flags = parse(data)
        return moment, None, flags

    return convert


def empty() -> Converter:
    """Data field that must be empty (Linky ``DATE``, 54E §6.2.3.3)."""

    def convert(data: str) -> Converted:
        if data:
            raise ValueError(f"data should be empty, got {data!r}")
        return None, None, NO_FLAGS

    return convert


_PME_DYNAMIC = re.compile(r"(\d\d/\d\d/\d\d \d\d:\d\d:\d\d)-([0-9A-Z]{1,3} {0,2})")
_SAPHIR_DYNAMIC = re.compile(r"([df])-(\d\d/\d\d/\d\d \d\d/\d\d/\d\d)-([1-3])")


def pme_dynamic_event(data: str) -> Converted:
    """``JJ/MM/AA HH:MM:SS-aaa`` (02E §2.9.3 (U): TDYN1CD, TDYN1CF, TDYN1FD, …)."""
    match = _PME_DYNAMIC.fullmatch(data)
    if match is None:
        raise ValueError(f"not a dynamic-tariff boundary: {data!r}")
    moment, flags = parse_pme_date(match.group(1))
    return DynamicTariffEvent(moment, match.group(2).strip(), None, flags), None, flags


def saphir_dynamic_event(data: str) -> Converted:
    """``d-JJ/MM/AA HH/MM/SS-n`` / ``f-…`` (02E §2.10.3 (L): TDYND, TDYNF)."""
    match = _SAPHIR_DYNAMIC.fullmatch(data)
    if match is None:
        raise ValueError(f"not a dynamic-tariff boundary: {data!r}")
    moment, flags = parse_saphir_date(match.group(2))
    kind = "start" if match.group(1) == "d" else "end"
    return DynamicTariffEvent(moment, match.group(3), kind, flags), None, flags
