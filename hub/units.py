"""Quantities as ``{value, unit, multiplier}`` triplets (Flex Ready annexes), converted here only.

A triplet is normalised to its unit's base (``W``, ``Wh``, ``EUR/kWh`` …) so that series hold
one unit each. Unknown units or multipliers raise ``UnitError`` naming the bad part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

MULTIPLIERS: dict[str, Decimal] = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(1000),
    "M": Decimal(1_000_000),
    "G": Decimal(1_000_000_000),
}

# Spelling seen in documents -> canonical unit. Price and CO2 units are per kWh of energy.
UNITS: dict[str, str] = {
    "W": "W",
    "Wh": "Wh",
    "VA": "VA",
    "VAh": "VAh",
    "var": "var",
    "VAr": "var",
    "varh": "varh",
    "VArh": "varh",
    "A": "A",
    "V": "V",
    "EUR/kWh": "EUR/kWh",
    "€/kWh": "EUR/kWh",
    "EUR/MWh": "EUR/MWh",
    "€/MWh": "EUR/MWh",
    "gCO2eq/kWh": "gCO2eq/kWh",
    "gCO2/kWh": "gCO2eq/kWh",
    "m3": "m3",
    "s": "s",
    "%": "%",
}

# Per-energy units whose multiplier applies to the denominator would be ambiguous: a
# "k" before "EUR/kWh" is read as a factor on the value, like every other unit.


class UnitError(ValueError):
    """A triplet with an unknown unit, an unknown multiplier or a non-numeric value."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Quantity:
    value: Decimal
    unit: str  # canonical, base unit (no multiplier)

    def to(self, unit: str, multiplier: str = "") -> Decimal:
        """This quantity expressed in ``multiplier + unit``; the units must match."""
        target = canonical_unit(unit)
        if target != self.unit:
            raise UnitError("unit", f"cannot convert {self.unit} to {target}")
        return self.value / multiplier_factor(multiplier)

    def as_triplet(self, multiplier: str = "") -> dict[str, Any]:
        return {
            "value": float(self.to(self.unit, multiplier)),
            "unit": self.unit,
            "multiplier": multiplier,
        }


def canonical_unit(unit: str) -> str:
    try:
        return UNITS[unit.strip()]
    except (KeyError, AttributeError):
        raise UnitError("unit", f"unknown unit {unit!r}") from None


def multiplier_factor(multiplier: str | None) -> Decimal:
    try:
        return MULTIPLIERS[multiplier or ""]
    except (KeyError, TypeError):
        raise UnitError("multiplier", f"unknown multiplier {multiplier!r}") from None


def prefixed_unit(unit: str) -> tuple[str, Decimal]:
    """A unit written with its prefix, as series store it: ``"kWh"`` -> ``("Wh", 1000)``."""
    try:
        return canonical_unit(unit), Decimal(1)
    except UnitError:
        if len(unit) > 1:
            return canonical_unit(unit[1:]), multiplier_factor(unit[0])
        raise


def triplet(value: float, unit: str, multiplier: str = "") -> dict[str, Any]:
    """A ``{value, unit, multiplier}`` triplet as the annexes write it (no conversion)."""
    return {"value": value, "unit": unit, "multiplier": multiplier}


def parse_triplet(data: Mapping[str, Any]) -> Quantity:
    """``{"value": 12, "unit": "W", "multiplier": "k"}`` -> Quantity(12000, "W")."""
    if not isinstance(data, Mapping):
        raise UnitError("value", "expected an object with value, unit and multiplier")
    if "unit" not in data:
        raise UnitError("unit", "missing")
    raw = data.get("value")
    if isinstance(raw, bool) or raw is None:
        raise UnitError("value", f"not a number: {raw!r}")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise UnitError("value", f"not a number: {raw!r}") from None
    if not value.is_finite():
        raise UnitError("value", f"not a finite number: {raw!r}")
    return Quantity(
        value * multiplier_factor(data.get("multiplier", "")), canonical_unit(data["unit"])
    )
