"""SAPHIR short/long frame contents read from 02E Tableau 12 (tic.protocol.saphir)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tic.protocol import saphir

from .test_protocol_saphir import LONG, SHORT

SPEC = Path(__file__).resolve().parents[3] / "shared" / "reference" / "enedis" / "NOI-CPT_02E.txt"


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


def _spec_rows() -> dict[str, str]:
    """Label → the presence cells as extracted, e.g. ``'  X  X'`` (see saphir's docstring)."""
    lines = SPEC.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if "Tableau 12 : Codage" in line)
    rows = {}
    for line in lines[start : start + 200]:
        match = re.search(r"((?: +X)+) \( [A-Z]", line)
        if match and not line.startswith(("kvar", "Valeur")):
            rows[line.split()[0]] = match.group(1)
    return rows


def test_table_matches_the_specification_text() -> None:
    """Every row of Tableau 12 with a readable label lands in the set its X pattern says."""
    if not SPEC.is_file():
        pytest.fail(f"specification text not found at {SPEC}")
    checked = 0
    for label, cells in _spec_rows().items():
        marks = cells.strip()
        # Four cells filled; one (producer TLG); two side by side (producer TCT and TLG); two
        # with an empty cell between them (TLG of both profiles).
        kind = {"X X X X": "every", "X": "producer_long", "X X": "producer", "X  X": "long"}[marks]
        concrete = label.replace("px", "p1").replace("X", "1")
        concrete = {"PAXS": "PA1S", "PAXI": "PA1I", "UMOYX": "UMOY1", "DATEPAX": "DATEPA1"}.get(
            label, concrete
        )
        sets = {
            "every": saphir.EVERY_FRAME,
            "long": saphir.LONG_ONLY,
            "producer": saphir.PRODUCER,
            "producer_long": saphir.PRODUCER_LONG_ONLY,
        }
        assert concrete in sets[kind], (label, cells, kind)
        checked += 1
    assert checked >= 55
