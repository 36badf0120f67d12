"""Data types returned by the decoder: meter families, frames, groups and counters."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

# Group flags. Kept as plain strings in a frozenset so that a group carries only the flags that
# apply and callers test them with ``in``.
AMBIGUOUS = "ambiguous"  # local time on the repeated October hour; the first pass was chosen
DEGRADED_CLOCK = "degraded_clock"  # Linky season letter in lowercase (54E §6.2.1.1)
SEASON_MISMATCH = "season_mismatch"  # Linky H/E letter disagrees with the Paris offset
UNKNOWN_LABEL = "unknown_label"  # label absent from the meter family's table
TRUNCATED_POINT = "truncated_point"  # PME-PMI ``T`` marker (02E §2.9.3 (C))
TRUNCATED_TIME_CHANGE = "truncated_time_change"  # SAPHIR ``H.`` marker (02E §2.10.3 (F))
TRUNCATED_POWER_CUT = "truncated_power_cut"  # SAPHIR ``C.`` marker
CONTROL_MODE = "control_mode"  # SAPHIR ``M.`` marker: value recorded in control mode

NO_FLAGS: frozenset[str] = frozenset()


class MeterFamily(enum.StrEnum):
    """Meter families told apart by the labels of their frames."""

    PMEPMI = "pmepmi"
    SAPHIR = "saphir"
    LINKY_HISTORIQUE = "linky-historique"
    LINKY_STANDARD = "linky-standard"
    CBE = "cbe"  # blue electronic meters CBEMM / CBEMM ICC / CBETM (02E §2.3-2.5)
    UNKNOWN = "unknown"


HISTORIQUE = "historique"
STANDARD = "standard"


@dataclass(slots=True)
class Group:
    """One information group (« groupe d'information ») of a frame.

    ``label`` is the canonical label, ``raw_label`` the one received (they differ for real-meter
    spellings such as ``DibP``/``EaP_s2``). ``raw`` is the data field as received, ``value`` its
    typed form in base units (``unit``), ``timestamp`` the Linky standard horodate if the group
    has one. ``error`` is set, and ``value`` is ``None``, when the data does not match the
    format the spec gives for that label.
    """

    label: str
    raw_label: str
    raw: str
    value: object
    unit: str | None = None
    timestamp: datetime | None = None
    flags: frozenset[str] = NO_FLAGS
    error: str | None = None

    @property
    def ambiguous(self) -> bool:
        return AMBIGUOUS in self.flags

    @property
    def degraded_clock(self) -> bool:
        return DEGRADED_CLOCK in self.flags


@dataclass(slots=True)
class Frame:
    """One STX…ETX frame (or a frame cut short by EOT / a new STX).

    ``valid`` is true only when every byte passed the parity check (when the line gives it),
    every group the checksum and format checks, and the frame holds every group its family
    always sends (Enedis-NOI-CPT_02E §1.5.3.1 steps A-D).
    ``groups`` holds the groups that passed the checksum, keyed by canonical label; the ones
    that did not are described in ``errors``.
    """

    meter: MeterFamily
    mode: str
    valid: bool
    interrupted: bool
    groups: dict[str, Group]
    errors: list[str]
    bad_groups: int = 0
    separator: str | None = None
    checksum_mode: int | None = None
    raw: bytes = b""
    # Groups the family always sends that this frame lacks (``tic.protocol.complete``).
    missing: tuple[str, ...] = ()

    def value(self, label: str) -> object:
        """Typed value of ``label``, or ``None`` when the frame lacks it."""
        group = self.groups.get(label)
        return None if group is None else group.value


@dataclass(slots=True)
class Counters:
    """Running totals kept by a stream decoder; the stored counters use the same definitions.

    ``frames`` = ``valid`` + ``invalid`` + ``interrupted``: every STX…ETX frame is either valid
    or invalid, a frame cut by EOT, a new STX, the 8 KiB bound or the end of input is
    interrupted (and only that). ``bad_groups``: groups failing parity, structure, checksum or
    format, in complete frames. ``noise_bytes``: bytes outside any frame. ``parity_errors``:
    bytes whose even parity was wrong (lines read with the parity bit only).
    """

    frames: int = 0
    valid: int = 0
    invalid: int = 0
    interrupted: int = 0
    bad_groups: int = 0
    noise_bytes: int = 0
    parity_errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "frames": self.frames,
            "valid": self.valid,
            "invalid": self.invalid,
            "interrupted": self.interrupted,
            "bad_groups": self.bad_groups,
            "noise_bytes": self.noise_bytes,
            "parity_errors": self.parity_errors,
        }


@dataclass(frozen=True, slots=True)
class DynamicTariffEvent:
    """A dynamic-tariff boundary: PME-PMI ``TDYN1CD``… or SAPHIR ``TDYND``/``TDYNF``."""

    at: datetime
    period: str
    kind: str | None = None  # SAPHIR only: "start" (``d-``) or "end" (``f-``)
    flags: frozenset[str] = field(default=NO_FLAGS)
