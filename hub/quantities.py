"""The quantities hub series hold: one snake_case name per physical quantity, for every app."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import cache


class Kind(enum.StrEnum):
    # Same values as hub.models.SeriesKind, which decides how a series resamples.
    INDEX = "index"  # a meter register: the last value of a bucket
    INSTANT = "instant"  # power, price, level: averaged over a bucket
    INTERVAL_ENERGY = "interval"  # an amount per step: summed over a bucket


@dataclass(frozen=True, slots=True)
class Quantity:
    """A quantity as series store it.

    ``unit`` is the base unit; a series may hold it with an SI prefix (``kWh`` for ``Wh``) or,
    for a meter's power, in the unit the meter gives (``kVA`` for a PS in kVA). ``step`` is in
    seconds, ``None`` when it depends on the source (or the series is irregular).
    """

    name: str
    unit: str
    kind: Kind
    step: int | None
    label: str  # French, for the portal

    def __str__(self) -> str:
        return self.name


DAY = 86_400
HOUR = 3_600

# Electricity, from a meter or a load curve.
ACTIVE_POWER_IMPORT = Quantity(
    "active_power_import", "W", Kind.INSTANT, None, "Puissance active soutirée"
)
ACTIVE_POWER_EXPORT = Quantity(
    "active_power_export", "W", Kind.INSTANT, None, "Puissance active injectée"
)
APPARENT_POWER_IMPORT = Quantity(
    "apparent_power_import", "VA", Kind.INSTANT, None, "Puissance apparente soutirée"
)
ACTIVE_ENERGY_IMPORT = Quantity(
    "active_energy_import", "Wh", Kind.INTERVAL_ENERGY, None, "Énergie active soutirée"
)
ACTIVE_ENERGY_EXPORT = Quantity(
    "active_energy_export", "Wh", Kind.INTERVAL_ENERGY, None, "Énergie active injectée"
)
# TIC energy counters that restart at each Td top (02E §2.9.3): instants, not intervals.
TD_ACTIVE_ENERGY_IMPORT = Quantity(
    "td_active_energy_import", "Wh", Kind.INSTANT, None,
    "Énergie active soutirée depuis le début de la période Td",
)  # fmt: skip
TD_ACTIVE_ENERGY_EXPORT = Quantity(
    "td_active_energy_export", "Wh", Kind.INSTANT, None,
    "Énergie active injectée depuis le début de la période Td",
)  # fmt: skip
TD_APPARENT_ENERGY_IMPORT = Quantity(
    "td_apparent_energy_import", "VAh", Kind.INSTANT, None,
    "Énergie apparente soutirée depuis le début de la période Td",
)  # fmt: skip
SUBSCRIBED_POWER = Quantity("subscribed_power", "VA", Kind.INSTANT, None, "Puissance souscrite")
SUBSCRIBED_POWER_SHARE = Quantity(
    "subscribed_power_share", "%", Kind.INSTANT, None, "Part de la puissance souscrite"
)
CLOCK_DRIFT = Quantity("clock_drift", "s", Kind.INSTANT, None, "Dérive de l'horloge du compteur")

# Gas, from GRDF.
GAS_ENERGY_DAILY = Quantity(
    "gas_energy_daily", "kWh", Kind.INTERVAL_ENERGY, DAY, "Énergie gaz journalière"
)
GAS_VOLUME_DAILY = Quantity(
    "gas_volume_daily", "m3", Kind.INTERVAL_ENERGY, DAY, "Volume gaz journalier"
)
GAS_INDEX_DAILY = Quantity("gas_index_daily", "m3", Kind.INDEX, DAY, "Index gaz journalier")
GAS_ENERGY_PUBLISHED = Quantity(
    "gas_energy_published", "kWh", Kind.INTERVAL_ENERGY, None, "Énergie gaz publiée"
)
GAS_VOLUME_PUBLISHED = Quantity(
    "gas_volume_published", "m3", Kind.INTERVAL_ENERGY, None, "Volume gaz publié"
)
GAS_INDEX_PUBLISHED = Quantity("gas_index_published", "m3", Kind.INDEX, None, "Index gaz publié")
GAS_ENERGY_HOURLY = Quantity(
    "gas_energy_hourly", "kWh", Kind.INTERVAL_ENERGY, HOUR, "Énergie gaz horaire"
)

# Market signals.
ENERGY_PRICE = Quantity("energy_price", "EUR/kWh", Kind.INSTANT, None, "Prix de l'énergie")
CO2_INTENSITY = Quantity(
    "co2_intensity", "gCO2eq/kWh", Kind.INSTANT, None, "Intensité carbone de l'électricité"
)
SIGNAL_POWER = Quantity("signal_power", "kW", Kind.INSTANT, None, "Puissance du signal")

FIXED: tuple[Quantity, ...] = (
    ACTIVE_POWER_IMPORT, ACTIVE_POWER_EXPORT, APPARENT_POWER_IMPORT, ACTIVE_ENERGY_IMPORT,
    ACTIVE_ENERGY_EXPORT, TD_ACTIVE_ENERGY_IMPORT, TD_ACTIVE_ENERGY_EXPORT,
    TD_APPARENT_ENERGY_IMPORT, SUBSCRIBED_POWER, SUBSCRIBED_POWER_SHARE, CLOCK_DRIFT,
    GAS_ENERGY_DAILY, GAS_VOLUME_DAILY, GAS_INDEX_DAILY, GAS_ENERGY_PUBLISHED,
    GAS_VOLUME_PUBLISHED, GAS_INDEX_PUBLISHED, GAS_ENERGY_HOURLY, ENERGY_PRICE, CO2_INTENSITY,
    SIGNAL_POWER,
)  # fmt: skip
BY_NAME = {q.name: q for q in FIXED}

# Families built from a meter's own names: an index per register (tariff period), a tariff
# period per calendar.
INDEX_PREFIX = "energy_index_"
TARIFF_PERIOD_PREFIX = "tariff_period_"


def _snake(text: str) -> str:
    """``EASF01`` → ``easf01``, ``ER+P_s`` → ``er_plus_p_s``."""
    text = text.lower().replace("+", "_plus_")
    return re.sub(r"_{2,}", "_", re.sub(r"[^a-z0-9_]", "_", text)).strip("_")


@cache
def index_for(period: str) -> Quantity:
    """The active energy index of one register (tariff period) a meter names, e.g. ``EASF01``."""
    return Quantity(INDEX_PREFIX + _snake(period), "Wh", Kind.INDEX, None, f"Index {period}")


@cache
def tariff_period_for(calendar: str) -> Quantity:
    """The current tariff period (as a number) of one calendar (``distributeur``…)."""
    label = f"Période tarifaire en cours ({calendar})"
    return Quantity(TARIFF_PERIOD_PREFIX + _snake(calendar), "", Kind.INSTANT, None, label)


def is_index(name: str) -> bool:
    return name.startswith(INDEX_PREFIX)


def get(name: str) -> Quantity | None:
    """The quantity a stored series name stands for, or ``None`` if hub does not know it."""
    if name in BY_NAME:
        return BY_NAME[name]
    if name.startswith(INDEX_PREFIX):
        return Quantity(name, "Wh", Kind.INDEX, None, f"Index {name[len(INDEX_PREFIX) :].upper()}")
    if name.startswith(TARIFF_PERIOD_PREFIX):
        return tariff_period_for(name[len(TARIFF_PERIOD_PREFIX) :])
    return None


def power_for(unit: str) -> Quantity:
    """A meter's drawn power: active in W (or kW), apparent in VA (or kVA)."""
    return APPARENT_POWER_IMPORT if unit.endswith("VA") else ACTIVE_POWER_IMPORT


def label_of(name: str) -> str:
    """The French label of a stored series name (the name itself when hub does not know it)."""
    found = get(name)
    return found.label if found is not None else name
