"""Property tests: round trips, arbitrary chunking, and corruption that never lies.

The TIC checksum is ``sum mod 64`` (Enedis-NOI-CPT_02E §1.5.2). A flip of bit 0-5 in one byte
of a group changes that sum by ±2^k, which the checksum always sees; bit 7 is the parity bit
and is cut off on reception; bit 6 (±64) is invisible to the checksum, so only strict data
formats can catch it. Hence two corruption properties: real captures (any field, free text
included) with flips of bits 0-5 and 7, and frames of strictly formatted fields with flips of
any bit. A flip of bit 6 inside free text (``MSG1``, ``NGTF``…) cannot be detected by any
receiver; ``test_bit_six_in_free_text_is_beyond_the_checksum`` documents it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tic.frames import conforms
from tic.protocol import (
    UNKNOWN_LABEL,
    Frame,
    MeterFamily,
    TicStreamDecoder,
    decode_bytes,
    encode_frame,
    encode_group,
    with_parity,
)

PARIS = ZoneInfo("Europe/Paris")
FAST = settings(max_examples=200, deadline=None)
GOLDEN = [
    "liberasys_pmepmi_stream.bin",
    "esciara_captured_frames.bin",
    "hallard_histo_hc.txt",
    "hallard_histo_base_tri.txt",
    "hallard_stand_base_long.txt",
    "hallard_stand_base_tri_short.txt",
]

_golden_frames: list[bytes] = []


def golden_frames(directory: Path) -> list[bytes]:
    """Two valid frames (STX…ETX bytes) from each golden capture."""
    if not _golden_frames:
        for name in GOLDEN:
            valid = [
                frame for frame in decode_bytes((directory / name).read_bytes()) if frame.valid
            ]
            _golden_frames.extend(b"\x02" + frame.raw + b"\x03" for frame in valid[:2])
    return _golden_frames


def assert_no_wrong_value(decoded: list[Frame], original: Frame) -> None:
    """Every valid decoded frame says only what the original said."""
    for frame in decoded:
        if not frame.valid:
            continue
        for label, group in frame.groups.items():
            if UNKNOWN_LABEL in group.flags and label not in original.groups:
                continue  # a label garbled beyond recognition is flagged, never typed
            reference = original.groups[label]
            assert (group.value, group.unit, group.timestamp) == (
                reference.value,
                reference.unit,
                reference.timestamp,
            ), label


# --- strategies ----------------------------------------------------------------------------

LABEL_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-_"
PRINTABLE = "".join(map(chr, range(0x20, 0x7F)))


@st.composite
def horodates(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)))
    return draw(st.sampled_from("HEhe")) + moment.strftime("%y%m%d%H%M%S")


@st.composite
def free_frames(draw: st.DrawFn) -> tuple[list[tuple[str, ...]], int, str]:
    """Frames of arbitrary labels (outside every table: they start with Z) and data."""
    mode = draw(st.sampled_from([1, 2]))
    separator = draw(st.sampled_from([" ", "\t"]))
    # A checksum mode unusual for the separator is only adopted on a frame of 3+ groups.
    usual = (mode == 1) == (separator == " ")
    labels = draw(
        st.lists(
            st.text(LABEL_CHARS, max_size=8).map(lambda rest: "Z" + rest),
            min_size=1 if usual else 3,
            max_size=12,
            unique=True,
        )
    )
    groups: list[tuple[str, ...]] = []
    for label in labels:
        data = draw(st.text(PRINTABLE, min_size=1, max_size=40))
        if separator == "\t" and draw(st.booleans()):
            groups.append((label, draw(horodates()), data))
        else:
            groups.append((label, data))
    return groups, mode, separator


def _digits(width: int) -> st.SearchStrategy[str]:
    return st.integers(0, 10**width - 1).map(lambda n: f"{n:0{width}d}")


def _pme_dates() -> st.SearchStrategy[str]:
    moments = st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31, 23, 59, 59))
    existing = moments.filter(
        lambda m: (
            m.replace(tzinfo=PARIS).astimezone(ZoneInfo("UTC")).astimezone(PARIS).hour == m.hour
        )
    )
    return existing.map(lambda m: m.strftime("%d/%m/%y %H:%M:%S"))


# Labels whose data format is strict enough to catch a bit-6 flip, per family.
TYPED: dict[MeterFamily, list[tuple[str, st.SearchStrategy[str], bool]]] = {
    MeterFamily.LINKY_STANDARD: [
        ("ADSC", _digits(12), False),
        ("EAST", _digits(9), False),
        ("EASF01", _digits(9), False),
        ("IRMS1", _digits(3), False),
        ("URMS1", _digits(3), False),
        ("PREF", _digits(2), False),
        ("SINSTS", _digits(5), False),
        ("SMAXSN", _digits(5), True),
        ("CCASN-1", _digits(5), True),
        ("STGE", st.sampled_from(["003A0001", "003A4001", "01234567", "403A8000"]), False),
        ("RELAIS", st.integers(0, 255).map(lambda n: f"{n:03d}"), False),
        ("NTARF", _digits(2), False),
    ],
    MeterFamily.LINKY_HISTORIQUE: [
        ("ADCO", _digits(4).map(lambda n: "0218" + n + "3484"[:2] + "97"), False),
        ("ISOUSC", _digits(2), False),
        ("BASE", _digits(9), False),
        ("PTEC", st.sampled_from(["TH..", "HC..", "HP..", "HCJB", "HPJR"]), False),
        ("IINST", _digits(3), False),
        ("PAPP", _digits(5), False),
        ("HHPHC", st.sampled_from("ACDEY"), False),
        ("DEMAIN", st.sampled_from(["----", "BLEU", "BLAN", "ROUG"]), False),
    ],
    MeterFamily.PMEPMI: [
        ("CONFIG", st.sampled_from(["CONSO", "PROD"]), False),
        ("PTCOUR1", st.sampled_from(["HPE", "HCE", "P", "PM "]), False),
        ("DATE", _pme_dates(), False),
        ("EA_s", st.integers(0, 999_999).map(lambda n: f"{n}Wh"), False),
        ("ER+_s", st.integers(0, 999_999).map(lambda n: f"{n}varh"), False),
        ("EAP_s", st.integers(0, 9_999_999).map(lambda n: f"{n}kWh"), False),
        ("PA1_s", st.integers(0, 32767).map(lambda n: f"{n}kW"), False),
        ("PS", st.integers(0, 32767).map(lambda n: f"{n}kVA"), False),
        (
            "TGPHI_s",
            st.decimals(Decimal("-9999.99"), Decimal("99999.99"), places=2).map(
                lambda d: f"{d:.2f}".replace(".", ",")
            ),
            False,
        ),
    ],
}


# The other groups each family always sends (tic.protocol.complete), so frames are whole.
FILL: dict[MeterFamily, list[tuple[str, ...]]] = {
    MeterFamily.LINKY_STANDARD: [
        ("VTIC", "02"),
        ("DATE", "H260105120000", ""),
        ("NGTF", "      BASE      "),
        ("LTARF", "      BASE      "),
    ],
    MeterFamily.LINKY_HISTORIQUE: [("OPTARIF", "BASE")],
    MeterFamily.PMEPMI: [
        ("MESURES1", "BT 4 SUP36"),
        ("ER-_s", "0varh"),
        ("EAPP_s", "0VAh"),
        ("EA_i", "0Wh"),  # sent with CONFIG PROD
        ("EAPP_i", "0VAh"),
        ("MESURES2", "BT 4 SUP36"),
        ("PTCOUR2", "HPE"),
    ],
}


@st.composite
def typed_frames(draw: st.DrawFn) -> bytes:
    family = draw(st.sampled_from(sorted(TYPED)))
    groups: list[tuple[str, ...]] = list(FILL[family])
    for label, data, horodated in TYPED[family]:
        value = draw(data)
        groups.append((label, draw(horodates()), value) if horodated else (label, value))
    if family is MeterFamily.LINKY_STANDARD:
        return encode_frame(groups, 2, "\t")
    return encode_frame(groups)


def _flip(data: bytes, position: int, bit: int) -> bytes:
    position %= len(data)
    return data[:position] + bytes((data[position] ^ (1 << bit),)) + data[position + 1 :]


# --- properties ----------------------------------------------------------------------------


@FAST
@given(free_frames())
def test_encode_then_decode_gives_the_frame_back(
    spec: tuple[list[tuple[str, ...]], int, str],
) -> None:
    groups, mode, separator = spec
    decoder = TicStreamDecoder()
    (frame,) = decoder.feed(encode_frame(groups, mode, separator))
    # Labels of no family: every group conforms, but the frame is nobody's (02E §1.5.3.1 D).
    assert conforms(frame) and not frame.valid, frame.errors
    assert frame.checksum_mode == mode
    assert list(frame.groups) == [group[0] for group in groups]
    for group in groups:
        decoded = frame.groups[group[0]]
        assert decoded.raw_label == group[0]
        assert decoded.raw == group[-1]
        assert (decoded.timestamp is not None) == (len(group) == 3)


@FAST
@given(typed_frames())
def test_typed_frames_round_trip(data: bytes) -> None:
    (frame,) = decode_bytes(data)
    assert frame.valid, frame.errors
    for group in frame.groups.values():
        assert group.value is not None and group.error is None
        if group.label.startswith(("EAST", "EASF", "BASE", "SINSTS", "PAPP", "IINST")):
            assert group.value == int(group.raw)
        if group.label == "EAP_s":
            assert group.value == int(group.raw[:-3]) * 1000
        if group.label == "DATE" and frame.meter is MeterFamily.PMEPMI:
            assert isinstance(group.value, datetime)
            assert group.value.strftime("%d/%m/%y %H:%M:%S") == group.raw
            assert group.value.utcoffset() in {timedelta(hours=1), timedelta(hours=2)}


@FAST
@given(
    frames=st.lists(typed_frames(), min_size=1, max_size=4),
    noise=st.binary(max_size=30).map(lambda b: bytes(x for x in b if x & 0x7F != 0x02)),
    cuts=st.lists(st.integers(0, 5000), max_size=12),
)
def test_any_chunking_gives_the_same_frames(
    frames: list[bytes], noise: bytes, cuts: list[int]
) -> None:
    stream = noise + b"".join(frames) + noise
    whole = TicStreamDecoder()
    expected = whole.feed(stream)
    chunked = TicStreamDecoder()
    got: list[Frame] = []
    previous = 0
    for cut in [*sorted({cut % (len(stream) + 1) for cut in cuts}), len(stream)]:
        got.extend(chunked.feed(stream[previous:cut]))
        previous = cut
    assert [(f.raw, f.valid, f.interrupted) for f in got] == [
        (f.raw, f.valid, f.interrupted) for f in expected
    ]
    assert [f.groups for f in got] == [f.groups for f in expected]
    assert chunked.counters == whole.counters
    assert whole.counters.valid == len(frames)
    assert whole.counters.noise_bytes == 2 * len(noise)


@FAST
@given(
    choice=st.integers(0, 11),
    position=st.integers(0, 10_000),
    bit=st.sampled_from([0, 1, 2, 3, 4, 5, 7]),
)
def test_single_bit_flip_in_a_capture_never_yields_a_wrong_value(
    tic_fixtures: Path, choice: int, position: int, bit: int
) -> None:
    frames = golden_frames(tic_fixtures)
    raw = frames[choice % len(frames)]
    (original,) = decode_bytes(raw)
    stream = raw + raw  # the copy after the damage must come through intact
    decoded = decode_bytes(_flip(stream, position % len(raw), bit))
    assert_no_wrong_value(decoded, original)
    assert any(frame.valid for frame in decoded)


@FAST
@given(
    data=typed_frames(),
    position=st.integers(0, 10_000),
    bit=st.integers(0, 7),
    parity=st.booleans(),
)
def test_single_bit_flip_in_typed_fields_never_yields_a_wrong_value(
    data: bytes, position: int, bit: int, parity: bool
) -> None:
    """Without the parity bit a flip of bit 6 is caught by strict formats only, and the groups
    every frame must carry include free text (``NGTF``): there it is left out. With the parity
    bit (02E §1.5.1) every single flip is caught."""
    if parity:
        data = with_parity(data)
    elif bit == 6:
        bit = 5
    (original,) = decode_bytes(data, parity=parity)
    decoded = decode_bytes(_flip(data, position, bit) + data, parity=parity)
    assert_no_wrong_value(decoded, original)


@FAST
@given(
    data=st.one_of(typed_frames(), free_frames().map(lambda spec: encode_frame(*spec))),
    edits=st.lists(
        st.tuples(
            st.sampled_from(["set", "insert", "delete"]),
            st.integers(0, 5000),
            st.binary(min_size=1, max_size=3),
        ),
        min_size=1,
        max_size=10,
    ),
)
def test_random_damage_never_raises(data: bytes, edits: list[tuple[str, int, bytes]]) -> None:
    damaged = bytearray(data * 2)
    for action, where, payload in edits:
        where %= len(damaged) or 1
        if action == "set":
            damaged[where : where + len(payload)] = payload
        elif action == "insert":
            damaged[where:where] = payload
        else:
            del damaged[where : where + len(payload)]
    decoder = TicStreamDecoder()
    frames = decoder.feed(bytes(damaged))
    final = decoder.flush()
    counters = decoder.counters
    assert counters.frames == len(frames) + (final is not None)
    assert counters.frames == counters.valid + counters.invalid + counters.interrupted
    assert counters.bad_groups == sum(frame.bad_groups for frame in frames)


def test_bit_six_in_free_text_is_beyond_the_checksum() -> None:
    """Documented limit: ' ' (0x20) and '`' (0x60) weigh the same modulo 64."""
    clean = encode_group("MSG1", "PAS DE MESSAGE", mode=2, separator="\t")
    flipped = clean.replace(b"PAS DE", b"PAS`DE")
    assert clean[-2] == flipped[-2]
    (frame,) = decode_bytes(b"\x02" + flipped + b"\x03")
    assert conforms(frame) and frame.groups["MSG1"].raw == "PAS`DE MESSAGE"
