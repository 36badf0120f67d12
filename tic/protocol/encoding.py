"""Checksum and encoder: build byte-exact groups and frames as a meter would send them.

Group layout (Enedis-NOI-CPT_02E §1.5.2 Figure 5; Enedis-NOI-CPT_54E §5.3.6 Tables 6-7):
``LF label SEP [horodate SEP] data SEP checksum CR``; frame: ``STX group… ETX``.
Checksum: ``(sum(zone) & 0x3F) + 0x20``; mode 1 zone = label … data, mode 2 zone also takes
the separator before the checksum.

The encoder does not validate labels or data: tests use it to build well-checksummed groups
that are wrong in other ways (labels too long, empty data…).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

STX = 0x02
ETX = 0x03
EOT = 0x04
LF = 0x0A
CR = 0x0D
SP = 0x20
HT = 0x09

SEPARATORS = {" ": SP, "\t": HT}


def checksum(zone: bytes) -> int:
    """Checksum byte of ``zone`` (02E §1.5.2 « Calcul de la checksum »)."""
    return (sum(zone) & 0x3F) + 0x20


def encode_group(
    label: str,
    data: str,
    *,
    mode: int = 1,
    separator: str = " ",
    horodate: str | None = None,
) -> bytes:
    """One group, checksum computed in ``mode`` (1 or 2) with ``separator`` (SP or HT)."""
    if mode not in (1, 2):
        raise ValueError(f"checksum mode must be 1 or 2, not {mode!r}")
    if separator not in SEPARATORS:
        raise ValueError(f"separator must be SP or HT, not {separator!r}")
    sep = separator.encode("ascii")
    fields = label.encode("ascii") + sep
    if horodate is not None:
        fields += horodate.encode("ascii") + sep
    fields += data.encode("ascii")
    zone = fields + sep if mode == 2 else fields
    return b"\n" + fields + sep + bytes((checksum(zone),)) + b"\r"


def encode_frame(
    groups: Iterable[Sequence[str]],
    mode: int = 1,
    separator: str = " ",
) -> bytes:
    """A whole STX…ETX frame from ``(label, data)`` or ``(label, horodate, data)`` tuples."""
    body = b"".join(_encode_spec(spec, mode, separator) for spec in groups)
    return bytes((STX,)) + body + bytes((ETX,))


_PARITY_BIT = bytes(b | 0x80 if b.bit_count() % 2 else b for b in range(128))


def with_parity(data: bytes) -> bytes:
    """``data`` (7-bit characters) as a 7E1 line read 8N1 shows it: the even-parity bit in bit 7
    (02E §1.5.1: « sept bits pour représenter le caractère codé en ASCII, un bit de parité,
    parité paire »)."""
    return data.translate(_PARITY_BIT + _PARITY_BIT)


def _encode_spec(spec: Sequence[str], mode: int, separator: str) -> bytes:
    if len(spec) == 3:
        label, horodate, data = spec
        return encode_group(label, data, mode=mode, separator=separator, horodate=horodate)
    if len(spec) != 2:
        raise ValueError(f"a group is (label, data) or (label, horodate, data), not {spec!r}")
    label, data = spec
    return encode_group(label, data, mode=mode, separator=separator)
