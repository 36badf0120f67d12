"""Every capture in tests/fixtures/tic decodes as its PROVENANCE.md entry says."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tic.protocol import Frame, MeterFamily, TicStreamDecoder, decode_bytes

PARIS = ZoneInfo("Europe/Paris")


def _decode(path: Path) -> tuple[list[Frame], TicStreamDecoder]:
    decoder = TicStreamDecoder()
    return decoder.feed(path.read_bytes()), decoder


@pytest.mark.parametrize(
    ("name", "meter", "frames", "valid", "interrupted", "groups"),
    [
        ("liberasys_pmepmi_stream.bin", MeterFamily.PMEPMI, 21, 20, 1, 44),
        ("esciara_captured_frames.bin", MeterFamily.LINKY_HISTORIQUE, 10, 10, 0, 16),
        ("hallard_histo_hc.txt", MeterFamily.CBE, 5, 5, 0, 11),
        ("hallard_histo_base_tri.txt", MeterFamily.CBE, 5, 5, 0, 15),
        ("hallard_stand_base_long.txt", MeterFamily.LINKY_STANDARD, 100, 100, 0, 38),
        ("hallard_stand_base_tri_short.txt", MeterFamily.LINKY_STANDARD, 1, 1, 0, 53),
    ],
)
def test_golden_captures(
    tic_fixtures: Path,
    name: str,
    meter: MeterFamily,
    frames: int,
    valid: int,
    interrupted: int,
    groups: int,
) -> None:
    decoded, decoder = _decode(tic_fixtures / name)
    counters = decoder.counters
    assert (counters.frames, counters.valid, counters.interrupted) == (frames, valid, interrupted)
    assert counters.invalid == 0
    assert counters.bad_groups == 0
    good = [frame for frame in decoded if frame.valid]
    assert {frame.meter for frame in good} == {meter}
    assert {len(frame.groups) for frame in good} == {groups}
    assert all(not group.error for frame in good for group in frame.groups.values())


def test_pmepmi_stream_values_and_real_meter_spellings(tic_fixtures: Path) -> None:
    decoded = decode_bytes((tic_fixtures / "liberasys_pmepmi_stream.bin").read_bytes())
    first = decoded[0]
    assert first.valid and first.mode == "historique" and first.checksum_mode == 1
    assert first.value("DATE") == datetime(2016, 8, 26, 10, 29, 4, tzinfo=PARIS)
    assert first.value("EA_s") == 422
    assert first.groups["EA_s"].unit == "Wh"
    assert first.value("ER-_s") == 189
    assert first.value("EAPP_s") == 495
    assert first.groups["EAPP_s"].unit == "VAh"
    assert first.value("PA1_s") == 6000
    assert first.groups["PA1_s"].unit == "W"
    assert first.value("EAP_s") == 9_649_000
    assert first.value("PS") == 42_000
    assert first.groups["PS"].unit == "VA"
    assert first.value("PMAX_s") == 15_000
    assert first.value("TGPHI_s") == Decimal("-0.39")
    assert first.value("MESURES1") == "BT 4 SUP36"
    assert first.value("DébP") == datetime(2016, 8, 14, 2, 50, tzinfo=PARIS)
    # The meter writes DebP / EAP-1_s / EAP_s2 where 02E Tableau 10 prints DébP / EaP-1_s /
    # EaP_s2 (the spec's spelling is the label); the checksum of "EAP_s2 9649kWh" is a space.
    assert first.groups["DébP"].raw_label == "DebP"
    assert first.groups["EaP_s2"].raw_label == "EAP_s2"
    assert first.value("EaP-1_s") == 9_256_000
    assert first.value("EaP_s2") == 9_649_000
    assert first.value("EaP-1_s2") == 9_256_000
    dates = [frame.value("DATE") for frame in decoded if frame.valid]
    moments = [moment for moment in dates if isinstance(moment, datetime)]
    assert len(moments) == 20
    assert moments[0] == datetime(2016, 8, 26, 10, 29, 4, tzinfo=PARIS)
    assert moments[-1] == datetime(2016, 8, 26, 10, 31, 45, tzinfo=PARIS)
    assert moments == sorted(moments)


def test_pmepmi_stream_eot_inside_a_group_drops_that_frame(tic_fixtures: Path) -> None:
    decoded, decoder = _decode(tic_fixtures / "liberasys_pmepmi_stream.bin")
    cut = [frame for frame in decoded if frame.interrupted]
    assert len(cut) == 1
    assert cut[0].errors == ["interrupted by EOT"]
    assert b"DATE 26/08/16 10:29:52" in cut[0].raw
    assert cut[0].raw.endswith(b"\nPT")
    # The capture starts mid-frame (733 bytes before the first STX) and, after the EOT, the
    # rest of the cut frame is noise until the next STX.
    assert decoder.counters.noise_bytes > 733
    # It also ends mid-frame: the 10:31:53 frame is pending, reported only on flush.
    assert decoder.pending_bytes > 0
    tail = decoder.flush()
    assert tail is not None and tail.interrupted
    assert b"DATE 26/08/16 10:31:53" in tail.raw
    assert decoder.counters.interrupted == 2


def test_linky_historique_tempo_values(tic_fixtures: Path) -> None:
    first = decode_bytes((tic_fixtures / "esciara_captured_frames.bin").read_bytes())[0]
    assert first.value("ADCO") == "021861348497"
    assert first.value("OPTARIF") == "BBR("
    assert first.value("ISOUSC") == 30
    assert first.value("BBRHCJB") == 18_328_856
    assert first.groups["BBRHCJB"].unit == "Wh"
    assert first.value("PTEC") == "HCJB"
    assert first.value("DEMAIN") == "ROUG"
    assert first.value("IMAX") == 90
    assert first.value("PAPP") == 2840
    assert first.groups["PAPP"].unit == "VA"


def test_blue_meter_checksum_equal_to_space(tic_fixtures: Path) -> None:
    frames = decode_bytes((tic_fixtures / "hallard_histo_hc.txt").read_bytes())
    assert b"\nPTEC HP..  \r" in frames[0].raw
    assert all(frame.value("PTEC") == "HP.." for frame in frames)
    assert frames[0].value("HCHP") == 2_035_628


def test_three_phase_historique_long_frame(tic_fixtures: Path) -> None:
    first = decode_bytes((tic_fixtures / "hallard_histo_base_tri.txt").read_bytes())[0]
    assert [first.value(f"IINST{n}") for n in (1, 2, 3)] == [2, 2, 2]
    assert [first.value(f"IMAX{n}") for n in (1, 2, 3)] == [15, 13, 12]
    assert first.value("PMAX") == 8450
    assert first.groups["PMAX"].unit == "W"
    assert first.value("PPOT") == "00"


def test_linky_standard_long_capture(tic_fixtures: Path) -> None:
    frames = decode_bytes((tic_fixtures / "hallard_stand_base_long.txt").read_bytes())
    first, last = frames[0], frames[-1]
    assert first.mode == "standard" and first.checksum_mode == 2 and first.separator == "\t"
    assert first.value("DATE") == datetime(2021, 4, 23, 5, 40, 22, tzinfo=PARIS)
    assert last.value("DATE") == datetime(2021, 4, 23, 5, 41, 53, tzinfo=PARIS)
    assert first.value("NGTF") == "BASE"
    assert first.groups["NGTF"].raw == "      BASE      "
    assert first.value("EAST") == 2_188_830
    assert first.value("PREF") == 6000
    assert first.groups["PREF"].unit == "VA"
    # SMAXSN-1 ... 01952 has a space for checksum.
    smax = first.groups["SMAXSN-1"]
    assert smax.value == 1952
    assert smax.timestamp == datetime(2021, 4, 22, 18, 34, 57, tzinfo=PARIS)
    assert first.value("MSG1") == "PAS DE          MESSAGE"
    slots = first.value("PJOURF+1")
    assert isinstance(slots, tuple) and len(slots) == 1
    assert first.value("RELAIS") == (False,) * 8


def test_linky_standard_three_phase_nine_character_labels(tic_fixtures: Path) -> None:
    (frame,) = decode_bytes((tic_fixtures / "hallard_stand_base_tri_short.txt").read_bytes())
    group = frame.groups["SMAXSN1-1"]
    assert group.value == 2196
    assert group.timestamp == datetime(2021, 4, 14, 5, 21, 43, tzinfo=PARIS)
    assert {"SMAXSN2-1", "SMAXSN3-1", "SINSTS3", "URMS3"} <= frame.groups.keys()
    status = frame.groups["STGE"]
    assert status.raw == "003A4001"
    assert getattr(status.value, "distributor_index", None) == 2


def test_corrupted_standard_capture_counts_bad_groups(tic_fixtures: Path) -> None:
    frames, decoder = _decode(tic_fixtures / "hallard_stand_base.txt")
    assert decoder.counters.frames == 2
    assert decoder.counters.valid == 0
    assert decoder.counters.invalid == 2
    # Per frame: extra CR after ADSC (or its checksum), DATE without its empty data field,
    # EASD01 with dropped bytes, UMOY1 and STGE without checksum, a mangled PJOURF+1 label;
    # NGTF, LTARF and MSG1 lost their padding spaces (12 spaces weigh 0 modulo 64: the
    # checksums still pass) and are 4 or 14 characters where 54E §6.2.2 gives 16 and 32.
    assert decoder.counters.bad_groups == 18
    assert all(frame.bad_groups == 9 for frame in frames)
    # The groups that survived are still decoded, and the family is still recognised.
    assert frames[0].meter is MeterFamily.LINKY_STANDARD
    assert frames[0].value("EAST") == 2_493_204


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 1000])
def test_chunking_does_not_change_anything(tic_fixtures: Path, size: int) -> None:
    for path in sorted(tic_fixtures.glob("*.*")):
        if path.suffix not in {".bin", ".txt"}:
            continue
        data = path.read_bytes()
        whole, reference = _decode(path)
        decoder = TicStreamDecoder()
        pieces = [decoder.feed(data[i : i + size]) for i in range(0, len(data), size)]
        chunked = [frame for piece in pieces for frame in piece]
        assert [frame.raw for frame in chunked] == [frame.raw for frame in whole], path.name
        assert [frame.valid for frame in chunked] == [frame.valid for frame in whole]
        assert decoder.counters == reference.counters
