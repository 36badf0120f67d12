"""Quantities as ``{value, unit, multiplier}`` triplets (Flex Ready annexes), converted here only.

A triplet is normalised to its unit's base (``W``, ``Wh``, ``EUR/kWh`` …) so that series hold
one unit each; a price per MWh is a per-kWh price divided by 1000. Unknown units or
multipliers, and values that are not finite numbers within ``MAX_MAGNITUDE``, raise
``UnitError`` naming the bad part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, DecimalException
from typing import Any

from django.utils.translation import gettext as _

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
    "EUR/MWh": "EUR/kWh",
    "€/MWh": "EUR/kWh",
    "gCO2eq/kWh": "gCO2eq/kWh",
    "gCO2/kWh": "gCO2eq/kWh",
    "m3": "m3",
    "s": "s",
    "%": "%",
}

# Spellings whose value is not in the canonical unit: 1 EUR/MWh is 0.001 EUR/kWh.
UNIT_FACTORS: dict[str, Decimal] = {"EUR/MWh": Decimal("0.001"), "€/MWh": Decimal("0.001")}

# Per-energy units whose multiplier applies to the denominator would be ambiguous: a
# "k" before "EUR/kWh" is read as a factor on the value, like every other unit.

# Any value (after its multiplier) beyond this is a mistake; it also keeps the Decimal
# arithmetic away from its overflow (``1e999999`` times a multiplier) and fits a JSON float.
MAX_MAGNITUDE = Decimal(10) ** 15
# A number written with more characters than this is refused before it is parsed; a non-zero
# one smaller than this in magnitude is a mistake too (and ``1e-999999`` is no measurement).
MAX_NUMBER_CHARS = 64
MIN_MAGNITUDE = Decimal(10) ** -12


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
        """This quantity expressed in ``multiplier + unit`` (any spelling of the same unit)."""
        target = canonical_unit(unit)
        if target != self.unit:
            raise UnitError(
                "unit",
                _("cannot convert %(unit)s to %(target)s") % {"unit": self.unit, "target": target},
            )
        return self.value / unit_factor(unit) / multiplier_factor(multiplier)

    def as_triplet(self, multiplier: str = "", unit: str | None = None) -> dict[str, Any]:
        """The annexes' triplet, numeric value, in ``unit`` as spelled (default: canonical)."""
        spelled = self.unit if unit is None else unit
        return {
            "value": float(self.to(spelled, multiplier)),
            "unit": spelled,
            "multiplier": multiplier,
        }


def canonical_unit(unit: str) -> str:
    try:
        return UNITS[unit.strip()]
    except (KeyError, AttributeError):
        raise UnitError("unit", _("unknown unit %(unit)r") % {"unit": unit}) from None


def unit_factor(unit: str) -> Decimal:
    """What one ``unit`` is worth in its canonical unit (1 for most; 0.001 for EUR/MWh)."""
    canonical_unit(unit)
    return UNIT_FACTORS.get(unit.strip(), Decimal(1))


def multiplier_factor(multiplier: str | None) -> Decimal:
    try:
        return MULTIPLIERS[multiplier or ""]
    except (KeyError, TypeError):
        raise UnitError(
            "multiplier", _("unknown multiplier %(multiplier)r") % {"multiplier": multiplier}
        ) from None


def prefixed_unit(unit: str) -> tuple[str, Decimal]:
    """A unit written with its prefix, as series store it: ``"kWh"`` -> ``("Wh", 1000)``."""
    try:
        return canonical_unit(unit), unit_factor(unit)
    except UnitError:
        if len(unit) > 1:
            return canonical_unit(unit[1:]), multiplier_factor(unit[0]) * unit_factor(unit[1:])
        raise


def triplet(value: float, unit: str, multiplier: str = "") -> dict[str, Any]:
    """A ``{value, unit, multiplier}`` triplet as the annexes write it (no conversion)."""
    return {"value": value, "unit": unit, "multiplier": multiplier}


def parse_number(
    raw: Any,
    *,
    field: str = "value",
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
) -> Decimal:
    """A JSON number or numeric string as a Decimal, finite and within bounds, else UnitError.

    Without bounds, ``MAX_MAGNITUDE`` applies. Booleans are not numbers here.
    """
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        raise UnitError(field, _("not a number: %(raw)r") % {"raw": raw})
    try:
        text = str(raw).strip()
    except ValueError:  # an int too long for str()
        raise UnitError(field, _("not a number of a reasonable size")) from None
    if len(text) > MAX_NUMBER_CHARS:
        raise UnitError(
            field,
            _("not a number of at most %(MAX_NUMBER_CHARS)s characters")
            % {"MAX_NUMBER_CHARS": MAX_NUMBER_CHARS},
        )
    try:
        value = Decimal(text)
    except DecimalException:
        raise UnitError(field, _("not a number: %(raw)r") % {"raw": raw}) from None
    if not value.is_finite():
        raise UnitError(field, _("not a finite number: %(raw)r") % {"raw": raw})
    low = -MAX_MAGNITUDE if minimum is None else minimum
    high = MAX_MAGNITUDE if maximum is None else maximum
    # Compared before any arithmetic: 1e999999 is a valid Decimal that overflows when scaled.
    if value < low or value > high:
        raise UnitError(
            field,
            _("out of range [%(low)s, %(high)s]: %(text)s")
            % {"low": low, "high": high, "text": text},
        )
    if value and abs(value) < MIN_MAGNITUDE:
        raise UnitError(
            field,
            _("too small (a non-zero value is at least %(MIN_MAGNITUDE)s)")
            % {"MIN_MAGNITUDE": format(MIN_MAGNITUDE, ".0e")},
        )
    return value


def parse_triplet(data: Mapping[str, Any]) -> Quantity:
    """``{"value": 12, "unit": "W", "multiplier": "k"}`` -> Quantity(12000, "W").

    The value, once its multiplier and unit factor are applied, is at most ``MAX_MAGNITUDE``.
    """
    if not isinstance(data, Mapping):
        raise UnitError("value", _("expected an object with value, unit and multiplier"))
    if "unit" not in data:
        raise UnitError("unit", "missing")
    raw = data.get("value")
    if raw is None:
        raise UnitError("value", _("not a number: %(raw)r") % {"raw": raw})
    unit = canonical_unit(data["unit"])
    factor = multiplier_factor(data.get("multiplier", "")) * unit_factor(data["unit"])
    value = parse_number(raw, field="value")
    if abs(value) > MAX_MAGNITUDE / factor:
        raise UnitError(
            "value",
            _("out of range (at most %(MAX_MAGNITUDE)s %(unit)s)")
            % {"MAX_MAGNITUDE": format(MAX_MAGNITUDE, ".0e"), "unit": unit},
        )
    return Quantity(value * factor, unit)
