"""Linky standard-mode structured data: status register, day profiles and relays.

Rules from Enedis-NOI-CPT_54E §6.2.3.14 (STGE), §6.2.3.19 (RELAIS) and §6.2.3.22-23
(PJOURF+1, PPOINTE).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

from .model import NO_FLAGS
from .values import Converted

BREAKING_DEVICE_STATES = (
    "closed",
    "open_overpower",
    "open_overvoltage",
    "open_load_shedding",
    "open_cpl_euridis_order",
    "open_overheating_above_max_current",
    "open_overheating_below_max_current",
)
EURIDIS_STATES = {0: "disabled", 1: "enabled_unsecured", 3: "enabled_secured"}
CPL_STATES = {0: "new_unlock", 1: "new_lock", 2: "registered"}
TEMPO_COLOURS = ("none", "blue", "white", "red")


@dataclass(frozen=True, slots=True)
class StatusRegister:
    """``STGE`` decoded field by field (54E §6.2.3.14)."""

    raw: int
    dry_contact_open: bool
    breaking_device: str
    terminal_cover_open: bool
    overvoltage: bool
    above_reference_power: bool
    producer: bool
    negative_active_energy: bool
    supplier_index: int  # 1..10: the supplier register energy is being counted in
    distributor_index: int  # 1..4
    degraded_clock: bool
    standard_mode: bool
    euridis: str
    cpl_status: str
    cpl_synchronised: bool
    tempo_today: str
    tempo_tomorrow: str
    mobile_peak_notice: int  # 0 = none, n = notice for mobile peak n
    mobile_peak: int  # 0 = none, n = mobile peak n in progress


def _bits(word: int, low: int, width: int) -> int:
    return (word >> low) & ((1 << width) - 1)


_HEX8 = re.compile(r"[0-9A-F]{8}")


def status_register(data: str) -> Converted:
    """Decode the 8 hex digits of ``STGE``, most significant byte first."""
    if _HEX8.fullmatch(data) is None:
        raise ValueError(f"STGE is not 8 hex digits: {data!r}")
    word = int(data, 16)
    breaking = _bits(word, 1, 3)
    euridis = _bits(word, 19, 2)
    cpl = _bits(word, 21, 2)
    if breaking >= len(BREAKING_DEVICE_STATES) or euridis not in EURIDIS_STATES:
        raise ValueError(f"STGE holds an undefined state: {data!r}")
    if cpl not in CPL_STATES:
        raise ValueError(f"STGE holds an undefined CPL state: {data!r}")
    register = StatusRegister(
        raw=word,
        dry_contact_open=bool(_bits(word, 0, 1)),
        breaking_device=BREAKING_DEVICE_STATES[breaking],
        terminal_cover_open=bool(_bits(word, 4, 1)),
        overvoltage=bool(_bits(word, 6, 1)),
        above_reference_power=bool(_bits(word, 7, 1)),
        producer=bool(_bits(word, 8, 1)),
        negative_active_energy=bool(_bits(word, 9, 1)),
        supplier_index=_bits(word, 10, 4) + 1,
        distributor_index=_bits(word, 14, 2) + 1,
        degraded_clock=bool(_bits(word, 16, 1)),
        standard_mode=bool(_bits(word, 17, 1)),
        euridis=EURIDIS_STATES[euridis],
        cpl_status=CPL_STATES[cpl],
        cpl_synchronised=bool(_bits(word, 23, 1)),
        tempo_today=TEMPO_COLOURS[_bits(word, 24, 2)],
        tempo_tomorrow=TEMPO_COLOURS[_bits(word, 26, 2)],
        mobile_peak_notice=_bits(word, 28, 2),
        mobile_peak=_bits(word, 30, 2),
    )
    return register, None, NO_FLAGS


@dataclass(frozen=True, slots=True)
class ProfileSlot:
    """One ``HHMMSSSS`` block of a day profile: a start time and a 16-bit action word."""

    start: time
    action: int

    @property
    def tariff_index(self) -> int | None:
        """Supplier index 1..10 the slot switches to, ``None`` for "no change" (bits 0-3)."""
        index = self.action & 0x0F
        return index if 1 <= index <= 10 else None

    @property
    def virtual_contacts(self) -> tuple[bool, ...]:
        """States of virtual contacts 1..7 (bits 4-10)."""
        return tuple(bool(self.action >> bit & 1) for bit in range(4, 11))

    @property
    def dry_contact(self) -> str:
        """Dry-contact command (bits 14-15)."""
        return ("unchanged", "tempo_configuration", "open", "closed")[self.action >> 14 & 3]


_UNUSED_SLOT = "NONUTILE"
_SLOT = re.compile(r"([01]\d|2[0-3])([0-5]\d)([0-9A-F]{4})")
_PROFILE_SLOTS = 11


def day_profile(data: str) -> Converted:
    """``PJOURF+1`` / ``PPOINTE``: 11 space-separated blocks, unused ones ``NONUTILE``."""
    blocks = data.split(" ")
    if len(blocks) != _PROFILE_SLOTS:
        raise ValueError(f"day profile has {len(blocks)} blocks, expected {_PROFILE_SLOTS}")
    slots: list[ProfileSlot] = []
    for block in blocks:
        if block == _UNUSED_SLOT:
            continue
        match = _SLOT.fullmatch(block)
        if match is None:
            raise ValueError(f"bad day-profile block {block!r}")
        hour, minute, action = match.groups()
        slots.append(ProfileSlot(time(int(hour), int(minute)), int(action, 16)))
    return tuple(slots), None, NO_FLAGS


def relays(data: str) -> Converted:
    """``RELAIS``: decimal bit field, relay n on bit n-1, 1 = closed (54E §6.2.3.19)."""
    if len(data) != 3 or not data.isdigit() or int(data) > 0xFF:
        raise ValueError(f"RELAIS is not a 3-digit byte: {data!r}")
    word = int(data)
    return tuple(bool(word >> bit & 1) for bit in range(8)), None, NO_FLAGS
