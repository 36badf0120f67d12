"""SAPHIR short/long frame contents read from 02E Tableau 12 (tic.protocol.saphir)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tic.protocol import saphir

from .test_protocol_saphir import LONG, SHORT

# Our transcription of 02E Tableau 12, with its citation in the file's header.
TABLE = Path(__file__).resolve().parent / "data" / "saphir_tableau12.csv"


def test_short_consumer_frame_has_only_short_frame_labels() -> None:
    layout = saphir.layout([label for label, _ in SHORT], "TRM_COURTE")
    assert layout == saphir.Layout(long=False, producer=False, unexpected=())


def test_long_producer_frame_is_allowed_whole() -> None:
    layout = saphir.layout([label for label, _ in LONG], "TRM_LONGUE")
    assert layout.long and layout.producer and layout.unexpected == ()


@pytest.mark.parametrize("label", ["PSp1", "KDC", "LIB_p3D", "TD", "EAp2SD1", "DATEPA1", "PA1S"])
def test_contract_and_p_minus_1_labels_are_long_frame_only(label: str) -> None:
    assert saphir.layout(["LG_TRM", "EAS", label], "TRM_COURTE").unexpected == (label,)
    assert saphir.layout(["LG_TRM", "EAS", label], "TRM_LONGUE").unexpected == ()


@pytest.mark.parametrize("label", ["PA1MN", "EAp1ID", "I1I", "TGPHII"])
def test_injection_labels_need_the_producer_profile(label: str) -> None:
    assert saphir.layout(["EAS", label], "TRM_COURTE").unexpected == (label,)
    assert saphir.layout(["EAS", "EAI", label], "TRM_COURTE").unexpected == ()


def test_producer_long_only_labels() -> None:
    assert saphir.layout(["EAI", "PA1I"], "TRM_COURTE").unexpected == ("PA1I",)
    assert saphir.layout(["EAI", "PA1I"], "TRM_LONGUE").unexpected == ()
    assert saphir.layout(["PA1I"], "TRM_LONGUE").unexpected == ("PA1I",)


def _table_rows() -> dict[str, str]:
    """Label → which of the four columns (consumer TCT/TLG, producer TCT/TLG) are marked."""
    rows = {}
    with TABLE.open(encoding="utf-8") as handle:
        lines = (line for line in handle if not line.startswith("#"))
        for row in csv.DictReader(lines):
            rows[row["label"]] = "".join(
                "X" if row[column] == "X" else "."
                for column in ("consumer_tct", "consumer_tlg", "producer_tct", "producer_tlg")
            )
    return rows


def test_table_matches_the_specification() -> None:
    """Every row of 02E Tableau 12 (our transcription) lands in the set its columns say."""
    kinds = {"XXXX": "every", "...X": "producer_long", "..XX": "producer", ".X.X": "long"}
    sets = {
        "every": saphir.EVERY_FRAME,
        "long": saphir.LONG_ONLY,
        "producer": saphir.PRODUCER,
        "producer_long": saphir.PRODUCER_LONG_ONLY,
    }
    checked = 0
    for label, cells in _table_rows().items():
        kind = kinds[cells]
        concrete = label.replace("px", "p1").replace("X", "1")
        concrete = {"PAXS": "PA1S", "PAXI": "PA1I", "UMOYX": "UMOY1", "DATEPAX": "DATEPA1"}.get(
            label, concrete
        )
        assert concrete in sets[kind], (label, cells, kind)
        checked += 1
    assert checked == 58
