"""Parity checked per byte, only complete frames valid: the spec's receiver steps A and D."""

from __future__ import annotations

import datetime as dt

import pytest

from tic.protocol import (
    UNKNOWN_LABEL,
    MeterFamily,
    TicStreamDecoder,
    decode_bytes,
    encode_frame,
    with_parity,
)
from tic.simulator import SimulatedPmePmi

AT = dt.datetime(2026, 3, 10, 9, 0, 3, tzinfo=dt.UTC)
ADCO = "021528603314"


def _preavis_frame() -> bytes:
    meter = SimulatedPmePmi(ads="041436028024", ps_kva=42)
    meter.frame(at=AT, power_va=0)
    data = meter.frame(at=AT + dt.timedelta(seconds=10), power_va=40_000)
    assert b"PREAVIS DEP" in data
    return data


def _flip(data: bytes, position: int, bit: int) -> bytes:
    return data[:position] + bytes((data[position] ^ (1 << bit),)) + data[position + 1 :]


def test_parity_bit_is_checked_per_byte_and_a_flip_invalidates_the_frame() -> None:
    """02E §1.5.1: « sept bits pour représenter le caractère codé en ASCII, un bit de parité,
    parité paire »; §1.5.3.1 « Etape A : effectuer le stockage de chaque caractère de la trame
    avec vérification de sa conformité protocolaire (un bit de start - sept bits de caractère -
    un bit de parité paire - un bit de stop) ».

    A flip of bit 6 weighs 64, nothing modulo 64: the checksum cannot see it. In ``PREAVIS`` the
    ``I`` (0x49) becomes HT (0x09); read without parity the overpower warning vanishes from a
    frame that still passes as valid-looking groups. With the parity bit the byte fails.
    """
    clean = with_parity(_preavis_frame())
    (frame,) = decode_bytes(clean, MeterFamily.PMEPMI, parity=True)
    assert frame.valid, frame.errors
    assert frame.value("PREAVIS") == "DEP"

    position = _preavis_frame().index(b"PREAV") + 5  # the "I"
    damaged = _flip(clean, position, 6)
    blind = decode_bytes(damaged, MeterFamily.PMEPMI)[0]
    assert "PREAVIS" not in blind.groups  # what a 7-bit reader makes of it
    decoder = TicStreamDecoder(MeterFamily.PMEPMI, parity=True)
    (checked,) = decoder.feed(damaged)
    assert not checked.valid
    assert any("parity error" in error for error in checked.errors), checked.errors
    assert decoder.counters.parity_errors == 1
    assert decoder.counters.invalid == 1 and decoder.counters.bad_groups == 1


@pytest.mark.parametrize("bit", range(8))
def test_any_single_bit_flip_of_any_byte_is_caught_with_parity(bit: int) -> None:
    """Even parity sees every odd number of flipped bits in a character (02E §1.5.1)."""
    clean = with_parity(_preavis_frame())
    (original,) = decode_bytes(clean, MeterFamily.PMEPMI, parity=True)
    for position in range(0, len(clean), 7):
        decoded = decode_bytes(_flip(clean, position, bit) + clean, MeterFamily.PMEPMI, parity=True)
        valid = [frame for frame in decoded if frame.valid]
        assert [frame.raw for frame in valid] == [original.raw], (position, bit)


def test_stx_or_etx_with_a_bad_parity_bit_is_no_boundary() -> None:
    """A boundary byte must pass step A like any other: 0x02 with its bit 7 set is no STX."""
    clean = with_parity(_preavis_frame())
    assert clean[0] == 0x82  # STX has one bit set: its parity bit is 1
    decoder = TicStreamDecoder(MeterFamily.PMEPMI, parity=True)
    # The first frame's STX arrives without its parity bit: the frame is never opened.
    frames = decoder.feed(b"\x02" + clean[1:] + clean)
    assert [frame.valid for frame in frames] == [True]
    assert decoder.counters.noise_bytes == len(clean)


def test_seven_bit_input_without_the_flag_decodes_as_before() -> None:
    """A line read without its parity bit (a bridge that drops it): bytes are cut to 7 bits."""
    data = _preavis_frame()
    assert decode_bytes(data, MeterFamily.PMEPMI)[0].valid
    assert decode_bytes(with_parity(data), MeterFamily.PMEPMI)[0].valid
    # Read as if it carried parity, 7-bit input fails on every odd-weight character (STX too).
    decoder = TicStreamDecoder(MeterFamily.PMEPMI, parity=True)
    assert not any(frame.valid for frame in decoder.feed(data + data))
    assert decoder.counters.parity_errors > 0


def test_spurious_stx_between_groups_leaves_no_valid_tail() -> None:
    """02E §1.5.3.1 « Etape D : […] Si un groupe attendu est absent de la trame, passer à la
    réception et l'analyse de la trame suivante. » The tail after a spurious STX passes every
    checksum; it lacks the groups a PME-PMI always sends (MESURES1, DATE…, Tableau 10)."""
    data = _preavis_frame()
    cut = data.index(b"\nPTCOUR1")
    damaged = data[:cut] + b"\x02" + data[cut:]
    head, tail = TicStreamDecoder(MeterFamily.PMEPMI).feed(damaged)
    assert head.interrupted
    assert not tail.valid and {"MESURES1", "DATE", "EA_s"} <= set(tail.missing)
    assert "incomplete frame" in tail.errors[0]


def test_frame_missing_an_index_of_its_tariff_option_is_invalid() -> None:
    """02E Tableau 2: option « HC.. » sends both HCHC and HCHP; a frame that lost one would
    book the other's value as consumption if it were used."""
    groups = [
        ("ADCO", ADCO), ("OPTARIF", "HC.."), ("ISOUSC", "45"), ("HCHC", "001234567"),
        ("HCHP", "007654321"), ("PTEC", "HP.."), ("IINST", "002"), ("IMAX", "090"),
    ]  # fmt: skip
    (whole,) = decode_bytes(encode_frame(groups))
    assert whole.valid and whole.meter is MeterFamily.CBE
    (partial,) = decode_bytes(encode_frame([g for g in groups if g[0] != "HCHP"]))
    assert not partial.valid and partial.missing == ("HCHP",)


def test_standby_frame_of_a_blue_meter_is_complete() -> None:
    """02E §2.3.2: « En option veille, le compteur émet en permanence une trame de
    télé-information réduite, ne comportant que le groupe d'étiquette « ADCO » »."""
    (frame,) = decode_bytes(encode_frame([("ADCO", ADCO)]))
    assert frame.valid and frame.missing == ()


def test_frame_of_no_known_family_is_not_valid() -> None:
    """Nothing is expected of a frame whose labels name no family: it cannot be used."""
    (frame,) = decode_bytes(encode_frame([("HCHP", "007654321"), ("PTEC", "HP..")]))
    assert frame.meter is MeterFamily.UNKNOWN and not frame.valid
    assert all(UNKNOWN_LABEL in group.flags for group in frame.groups.values())
