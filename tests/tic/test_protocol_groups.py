"""Group checks: checksum modes, separators, parsing from both ends, bad groups."""

from __future__ import annotations

import pytest

from tests.tic.frames import conforms
from tic.protocol import (
    UNKNOWN_LABEL,
    MeterFamily,
    TicStreamDecoder,
    checksum,
    decode_bytes,
    encode_frame,
    encode_group,
)


def _frame(*groups: bytes) -> bytes:
    return b"\x02" + b"".join(groups) + b"\x03"


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        # Worked examples from the reference notes (02E §1.5.2, 54E §5.3.6).
        (b"ADCO 021528603314", ":"),
        (b"VTIC\t02\t", "J"),
        (b"DATE\tE240101120000\t\t", ")"),
        (b"DATE\tH240101120000\t\t", ","),
    ],
)
def test_checksum_examples(zone: bytes, expected: str) -> None:
    assert chr(checksum(zone)) == expected


def test_encoder_modes_and_separators() -> None:
    assert encode_group("ADCO", "021528603314") == b"\nADCO 021528603314 :\r"
    assert encode_group("VTIC", "02", mode=2, separator="\t") == b"\nVTIC\t02\tJ\r"
    assert (
        encode_group("DATE", "", mode=2, separator="\t", horodate="E240101120000")
        == b"\nDATE\tE240101120000\t\t)\r"
    )
    with pytest.raises(ValueError, match="mode"):
        encode_group("A", "B", mode=3)
    with pytest.raises(ValueError, match="separator"):
        encode_group("A", "B", separator=";")


@pytest.mark.parametrize(("mode", "separator"), [(1, " "), (2, " "), (1, "\t"), (2, "\t")])
def test_any_mode_with_any_separator_decodes(mode: int, separator: str) -> None:
    data = encode_frame(
        [("ZLABEL", "value one"), ("ZOTHER", "2"), ("ZTHIRD", "x y z")], mode, separator
    )
    decoder = TicStreamDecoder()
    (frame,) = decoder.feed(data)
    assert conforms(frame), frame.errors
    assert frame.checksum_mode == mode
    assert frame.separator == separator
    assert frame.groups["ZLABEL"].raw == "value one"
    assert frame.groups["ZTHIRD"].raw == "x y z"


def test_checksum_mode_switch_needs_a_whole_frame_to_agree() -> None:
    decoder = TicStreamDecoder()
    (lone,) = decoder.feed(_frame(encode_group("ZA", "1", mode=2)))
    assert not conforms(lone)  # one group is too little evidence to change modes
    three = encode_frame([("ZA", "1"), ("ZB", "2"), ("ZC", "3")], mode=2)
    (switched,) = decoder.feed(three)
    assert conforms(switched) and switched.checksum_mode == 2
    # From then on SP-separated groups are checked in mode 2: a lone mode-2 group passes, a
    # lone mode-1 group does not.
    assert conforms(decoder.feed(_frame(encode_group("ZA", "1", mode=2)))[0])
    assert not conforms(decoder.feed(_frame(encode_group("ZA", "1", mode=1)))[0])


def test_forced_meter_never_switches_modes() -> None:
    decoder = TicStreamDecoder(MeterFamily.CBE)
    (frame,) = decoder.feed(encode_frame([("IINST", "001"), ("PAPP", "00190"), ("IMAX", "090")], 2))
    assert not conforms(frame)
    assert frame.bad_groups == 3


def test_checksum_may_be_a_space_and_data_may_hold_the_separator() -> None:
    group = encode_group("PTEC", "HP..")
    assert group == b"\nPTEC HP..  \r"
    (blue,) = decode_bytes(_frame(encode_group("ADCO", "021528603314"), group))
    assert conforms(blue), blue.errors
    assert blue.groups["PTEC"].raw == "HP.."
    date = encode_group("DATE", "26/08/16 10:29:04")
    (frame,) = decode_bytes(_frame(date, encode_group("MESURES1", "TJ MU     ")))
    assert conforms(frame), frame.errors
    assert frame.groups["DATE"].raw == "26/08/16 10:29:04"
    assert frame.groups["MESURES1"].raw == "TJ MU     "
    assert frame.value("MESURES1") == "TJ MU"


def test_nine_character_label_is_accepted_ten_is_not() -> None:
    horodate = "E210414052143"
    nine = encode_group("SMAXSN1-1", "02196", mode=2, separator="\t", horodate=horodate)
    ten = encode_group("SMAXSN1-10", "02196", mode=2, separator="\t", horodate=horodate)
    adsc = encode_group("ADSC", "031776013513", mode=2, separator="\t")
    (good,) = decode_bytes(_frame(adsc, nine))
    assert conforms(good) and good.value("SMAXSN1-1") == 2196
    (bad,) = decode_bytes(_frame(adsc, ten))
    assert not conforms(bad)
    assert "label longer than 9 characters" in bad.errors[0]


@pytest.mark.parametrize(
    ("group", "reason"),
    [
        (encode_group("", "1"), "empty label"),
        (encode_group("ZA", ""), "empty data"),
        (b"\nZA\r", "truncated group"),
        (b"\nZA1X\r", "no separator before the checksum"),
        (b"\nZA 12 3", "truncated group"),
        (b"\nZA 12;3\r", "no separator before the checksum"),
        (b"\nZA 1\r2 Q\r", "stray CR"),
        (encode_group("ZA", "1\x01"), "control character"),
        (encode_group("ZA", "1").replace(b"1", b"2"), "checksum mismatch"),
        (b"\nZA " + bytes([checksum(b"ZA")]) + b"\r", "no data field"),
    ],
)
def test_bad_groups_are_rejected_and_counted(group: bytes, reason: str) -> None:
    good = encode_group("ZB", "ok")
    decoder = TicStreamDecoder()
    (frame,) = decoder.feed(_frame(good, group, encode_group("ZC", "ok")))
    assert not conforms(frame)
    assert frame.bad_groups >= 1
    assert any(reason in error for error in frame.errors), frame.errors
    assert decoder.counters.bad_groups == frame.bad_groups
    assert "ZB" in frame.groups


def test_bytes_before_the_first_lf_make_the_frame_invalid() -> None:
    (frame,) = decode_bytes(b"\x02X" + encode_group("ZA", "1") + b"\x03")
    assert not conforms(frame)
    assert "bytes before the first LF" in frame.errors[0]


def test_tab_in_an_sp_frame_is_not_a_separator() -> None:
    (frame,) = decode_bytes(_frame(encode_group("ZA", "1"), b"\nZB\t2 Q\r"))
    assert not conforms(frame)


def test_empty_data_is_fine_only_behind_a_horodate() -> None:
    date = encode_group("DATE", "", mode=2, separator="\t", horodate="H081225223518")
    (frame,) = decode_bytes(_frame(encode_group("VTIC", "02", mode=2, separator="\t"), date))
    assert conforms(frame)
    assert frame.meter is MeterFamily.LINKY_STANDARD


def test_duplicate_label_makes_the_frame_invalid() -> None:
    group = encode_group("ZA", "1")
    (frame,) = decode_bytes(_frame(group, group))
    assert not conforms(frame)
    assert frame.errors == ["label 'ZA' appears twice"]


def test_unknown_labels_are_kept_and_flagged_and_invalidate_the_frame() -> None:
    """02E §2.3.3: « Le Tableau 2 fournit la liste complète des groupes d'information émis par
    l'appareil ». A label outside the list is what two flipped bits of one character make of
    a known one (parity and checksum both pass): kept for display, the frame is not used."""
    (frame,) = decode_bytes(encode_frame([("ADCO", "021861348497"), ("NEWTHING", "42")]))
    assert frame.meter is MeterFamily.LINKY_HISTORIQUE
    group = frame.groups["NEWTHING"]
    assert group.value == "42" and UNKNOWN_LABEL in group.flags
    assert not frame.valid and frame.bad_groups == 1
    assert frame.errors == ["label 'NEWTHING' is not in the linky-historique table"]


def test_separator_foreign_to_the_family_is_an_error() -> None:
    data = encode_frame([("ADCO", "021861348497"), ("PAPP", "00190")], 2, "\t")
    (frame,) = decode_bytes(data)
    assert not conforms(frame)
    assert any("not used by" in error for error in frame.errors)
    forced = TicStreamDecoder(MeterFamily.LINKY_STANDARD)
    (frame,) = forced.feed(encode_frame([("ADSC", "031776013513")]))
    assert not conforms(frame)
    assert frame.meter is MeterFamily.LINKY_STANDARD


def test_bad_group_does_not_hide_the_good_ones() -> None:
    good = [("ADCO", "021861348497"), ("PAPP", "00190")]
    corrupt = encode_frame(good).replace(b"00190", b"00191")
    (frame,) = decode_bytes(corrupt)
    assert not conforms(frame)
    assert frame.bad_groups == 1
    assert frame.value("ADCO") == "021861348497"
    assert "PAPP" not in frame.groups
