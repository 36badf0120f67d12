"""SAPHIR frames built from Enedis-NOI-CPT_02E Tableau 12, in both formats, short and long.

« Historique » format: SP separators, checksum mode 1; « Standard »: HT, mode 2 (02E §2.10.1).
Short frames (TCT) carry the running energies and grid data; long frames (TLG) add the
contract, tariff configuration and P-1 data (§2.10.1, « Contenu des trames »).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tic.protocol import DynamicTariffEvent, Frame, MeterFamily, TicStreamDecoder, encode_frame

PARIS = ZoneInfo("Europe/Paris")
FORMATS = [pytest.param(1, " ", id="historique"), pytest.param(2, "\t", id="standard")]

# Groups present in every frame of a consumer-profile meter (Tableau 12, TCT column).
SHORT = [
    ("LG_TRM", "TRM_COURTE"),
    ("ADS", "041436028024"),
    ("DATE", "26/08/16 10/29/04"),
    ("EAS", "422Wh"),
    ("ER+S", "0varh"),
    ("ER-S", "189varh"),
    ("PTCOURD", "HPE"),
    ("PREAVISD", "TD-2"),
    ("ETATDYND", "0"),
    *[(f"EAp{x}SD", f"{9649 + x}kWh") for x in range(1, 9)],
    *[(f"ER{s}p{x}SD", f"{229 * x}kvarh") for x in range(1, 9) for s in "+-"],
    ("TGPHIS", "-0,39"),
    ("U10MN", "402V"),
    ("PTCOURF", "HPE"),
    ("ETATDYNF", "0"),
    ("EAp1SF", "9649kWh"),
]

# Extra groups of a producer-profile long frame (Tableau 12, producer TLG column).
LONG_EXTRA = [
    ("MESSAGE", "COUPURE PREVUE LE 02/09 DE 8H A 12H"),
    ("TD", "10"),
    ("TC", "10"),
    ("EAI", "12Wh"),
    ("ER+I", "3varh"),
    ("ER-I", "0varh"),
    ("I1I", "12,345A"),
    ("I2I", "1,050A"),
    ("I3I", "0,000A"),
    ("GRILLE_D", "TURPE5HT"),
    ("PREAVIS", "DEP"),
    ("TDYND", "d-01/12/26 07/00/00-1"),
    ("MODE", "CONTROLE"),
    ("DATEPA1", "26/08/16 10/20/00"),
    ("PA1S", "6kW"),
    ("PR+1S", "2kvar"),
    ("PR-1S", "0kvar"),
    ("PA1I", "0kW"),
    ("PR+1I", "0kvar"),
    ("PR-1I", "1kvar"),
    ("UMOY1", "20512H.V"),
    ("DATEPA2", "26/08/16 10/10/00"),
    ("PA2S", "5C.kW"),
    ("UMOY2", "20498M.V"),
    ("EAp1ID", "17kWh"),
    ("ER+p1ID", "1kvarh"),
    ("FINP1", "01/08/16 00/00/00"),
    ("EAp1SD1", "9000kWh"),
    ("ER-p1SD1", "6666kvarh"),
    ("EAp1ID1", "15kWh"),
    ("KDC", "95%"),
    ("KDCD", "85%"),
    ("PSp1", "250kW"),
    ("LIB_p1D", "P  "),
    ("LIB_p8D", "JA "),
    ("PA1MN", "6kW"),
    ("PA10MN", "5kW"),
    ("PREA1MN", "-2kvar"),
    ("PREA10MN", "1kvar"),
    ("IPA1MN", "0kW"),
    ("IPATMN", "0kW"),
    ("IPREA1MN", "0kvar"),
    ("IPREATMN", "-1kvar"),
    ("TGPHII", "0,00"),
    ("GRILLE_F", "FOURNIS1"),
    ("TDYNF", "f-01/12/26 09/00/00-1"),
    ("PREAVISF", "TD-1"),
    ("EAp1SF1", "9500kWh"),
    ("LIB_p1F", "HPH"),
]
LONG = [("LG_TRM", "TRM_LONGUE"), *SHORT[1:], *LONG_EXTRA]


def _decode(groups: list[tuple[str, str]], mode: int, separator: str) -> Frame:
    decoder = TicStreamDecoder()
    (frame,) = decoder.feed(encode_frame(groups, mode, separator))
    assert decoder.counters.valid == 1, frame.errors
    return frame


@pytest.mark.parametrize(("mode", "separator"), FORMATS)
def test_short_frame(mode: int, separator: str) -> None:
    frame = _decode(SHORT, mode, separator)
    assert frame.meter is MeterFamily.SAPHIR
    assert frame.mode == ("historique" if mode == 1 else "standard")
    assert frame.checksum_mode == mode
    assert list(frame.groups) == [label for label, _ in SHORT]
    assert frame.value("LG_TRM") == "TRM_COURTE"
    assert frame.value("DATE") == datetime(2016, 8, 26, 10, 29, 4, tzinfo=PARIS)
    assert (frame.value("EAS"), frame.groups["EAS"].unit) == (422, "Wh")
    assert (frame.value("ER-S"), frame.groups["ER-S"].unit) == (189, "varh")
    assert frame.value("EAp1SD") == 9_650_000
    assert frame.value("EAp8SD") == 9_657_000
    assert (frame.value("ER-p8SD"), frame.groups["ER-p8SD"].unit) == (1_832_000, "varh")
    assert frame.value("TGPHIS") == Decimal("-0.39")
    assert (frame.value("U10MN"), frame.groups["U10MN"].unit) == (402, "V")
    assert frame.value("PREAVISD") == "TD-2"


@pytest.mark.parametrize(("mode", "separator"), FORMATS)
def test_long_producer_frame(mode: int, separator: str) -> None:
    frame = _decode(LONG, mode, separator)
    assert frame.meter is MeterFamily.SAPHIR
    assert frame.value("LG_TRM") == "TRM_LONGUE"
    assert len(frame.groups) == len(LONG)
    assert frame.value("MESSAGE") == "COUPURE PREVUE LE 02/09 DE 8H A 12H"
    assert (frame.value("TD"), frame.groups["TD"].unit) == (10, "min")
    assert (frame.value("I1I"), frame.groups["I1I"].unit) == (Decimal("12.345"), "A")
    assert frame.value("I3I") == Decimal("0")
    assert frame.value("TDYND") == DynamicTariffEvent(
        datetime(2026, 12, 1, 7, tzinfo=PARIS), "1", "start"
    )
    tdynf = frame.value("TDYNF")
    assert isinstance(tdynf, DynamicTariffEvent) and tdynf.kind == "end"
    assert frame.value("DATEPA1") == datetime(2016, 8, 26, 10, 20, tzinfo=PARIS)
    assert (frame.value("PA1S"), frame.groups["PA1S"].unit) == (6000, "W")
    assert (frame.value("PR+1S"), frame.groups["PR+1S"].unit) == (2000, "var")
    umoy = frame.groups["UMOY1"]
    assert (umoy.value, umoy.unit) == (20512, "V")
    assert "truncated_time_change" in umoy.flags
    assert "truncated_power_cut" in frame.groups["PA2S"].flags
    assert "control_mode" in frame.groups["UMOY2"].flags
    assert frame.value("FINP1") == datetime(2016, 8, 1, tzinfo=PARIS)
    assert frame.value("EAp1SD1") == 9_000_000
    assert (frame.value("KDC"), frame.groups["KDC"].unit) == (95, "%")
    assert (frame.value("PSp1"), frame.groups["PSp1"].unit) == (250_000, "W")
    assert frame.value("LIB_p1D") == "P"
    assert frame.groups["LIB_p1D"].raw == "P  "
    assert frame.value("PREA1MN") == -2000
    assert frame.value("IPREATMN") == -1000
    assert frame.value("TGPHII") == Decimal("0.00")
    assert frame.value("MODE") == "CONTROLE"


def test_reference_notes_synthetic_standard_frame() -> None:
    """The SAPHIR standard frame given byte for byte in the reference notes (§6.7)."""
    data = (
        b"\x02\nLG_TRM\tTRM_COURTE\t;\r\nADS\t041436028024\t,\r\nDATE\t26/08/16 10/29/04\tS\r"
        b'\nEAS\t422Wh\t"\r\nER+S\t0varh\t(\r\nER-S\t189varh\t\\\r\nPTCOURD\tHPE\t0\r'
        b"\nETATDYND\t0\t?\r\nEAp1SD\t9649kWh\t6\r\nTGPHIS\t-0,39\t6\r\nU10MN\t402V\t/\r"
        b"\nPTCOURF\tHPE\t2\r\nETATDYNF\t0\tA\r\nEAp1SF\t9649kWh\t8\r\x03"
    )
    (frame,) = TicStreamDecoder().feed(data)
    assert frame.valid and frame.meter is MeterFamily.SAPHIR and frame.mode == "standard"
    assert frame.value("EAp1SF") == 9_649_000


@pytest.mark.parametrize(
    ("label", "raw"),
    [
        ("EAS", "422kWh"),
        ("I1I", "12,3456A"),
        ("UMOY1", "20512T.V"),
        ("PA1S", "6TkW"),  # PME-PMI marker on a SAPHIR label
        ("TDYND", "x-01/12/26 07/00/00-1"),
        ("TDYND", "d-01/12/26 07:00:00-1"),
        ("PREAVISD", "TD-4"),
        ("LG_TRM", "TRM_MOYENNE"),
        ("DATE", "26/08/16 10:29:04"),
    ],
)
def test_format_errors(label: str, raw: str) -> None:
    groups = [("LG_TRM", "TRM_COURTE"), (label, raw)] if label != "LG_TRM" else [(label, raw)]
    (frame,) = TicStreamDecoder(MeterFamily.SAPHIR).feed(encode_frame(groups, 2, "\t"))
    assert not frame.valid
    assert frame.groups[label].error


def test_pme_and_saphir_share_labels_but_not_formats() -> None:
    """``DATE`` is ``HH:MM:SS`` on PME-PMI and ``HH/MM/SS`` on SAPHIR; family decides."""
    pme = encode_frame([("ADS", "041436028024"), ("MESURES1", "BT 4 SUP36"), SHORT[2]])
    (frame,) = TicStreamDecoder().feed(pme)
    assert frame.meter is MeterFamily.PMEPMI
    assert not frame.valid and frame.groups["DATE"].error
