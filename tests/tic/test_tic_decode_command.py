"""``manage.py tic_decode``: JSON lines / table on stdout, summary on stderr."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("tic_decode", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _frames(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


def test_jsonl_output_for_a_pme_pmi_capture(tic_fixtures: Path) -> None:
    out, err = _run(str(tic_fixtures / "liberasys_pmepmi_stream.bin"))
    frames = _frames(out)
    assert len(frames) == 21
    assert sum(frame["valid"] for frame in frames) == 20
    assert sum(frame["interrupted"] for frame in frames) == 1
    first = frames[0]
    assert (first["meter"], first["mode"], first["errors"]) == ("pmepmi", "historique", [])
    assert first["labels"]["EA_s"] == {
        "raw": "422Wh",
        "value": 422,
        "unit": "Wh",
        "timestamp": None,
    }
    assert first["labels"]["DATE"]["value"] == "2016-08-26T10:29:04+02:00"
    assert first["labels"]["TGPHI_s"]["value"] == -0.39
    assert "frames: 21, valid: 20, invalid: 0, interrupted: 1, bad groups: 0" in err
    assert "unfinished frame at end" in err


def test_linky_standard_structured_values(tic_fixtures: Path) -> None:
    out, _ = _run(
        str(tic_fixtures / "hallard_stand_base_tri_short.txt"), "--meter", "linky-standard"
    )
    (frame,) = _frames(out)
    labels = frame["labels"]
    assert frame["meter"] == "linky-standard" and frame["mode"] == "standard"
    assert labels["SMAXSN1-1"]["timestamp"] == "2021-04-14T05:21:43+02:00"
    assert labels["STGE"]["value"]["distributor_index"] == 2
    assert labels["PJOURF+1"]["value"][0]["start"] == "00:00"
    assert labels["DATE"]["value"] == labels["DATE"]["timestamp"]


def test_corrupted_capture_reports_bad_groups(tic_fixtures: Path) -> None:
    out, err = _run(str(tic_fixtures / "hallard_stand_base.txt"))
    frames = _frames(out)
    assert [frame["valid"] for frame in frames] == [False, False]
    assert all(frame["errors"] for frame in frames)
    assert "bad groups: 18" in err


def test_table_format(tic_fixtures: Path) -> None:
    out, _ = _run(str(tic_fixtures / "hallard_histo_hc.txt"), "--format", "table")
    assert out.count("# frame ") == 5
    assert "# frame 1: cbe historique valid" in out
    assert "HCHP" in out


def test_reads_standard_input(tic_fixtures: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = (tic_fixtures / "esciara_captured_frames.bin").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    out, err = _run("-")
    assert len(_frames(out)) == 10
    assert "valid: 10" in err


def test_missing_file_is_a_command_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        _run(str(tmp_path / "absent.bin"))


def test_parity_flag_checks_an_8n1_capture(tic_fixtures: Path, tmp_path: Path) -> None:
    """02E §1.5.1: « un bit de parité, parité paire ». A capture taken 8N1 keeps that bit as
    bit 7; ``--parity`` checks it, and one wrong parity bit (invisible to the checksum, which
    ignores bit 7) makes its frame invalid."""
    from tic.protocol import with_parity

    clean = with_parity((tic_fixtures / "hallard_histo_hc.txt").read_bytes())
    damaged = bytearray(clean)
    damaged[clean.index(with_parity(b"HCHP")) + 6] ^= 0x80  # a digit of the first HCHP index
    capture = tmp_path / "8n1.bin"
    capture.write_bytes(bytes(damaged))
    out, err = _run(str(capture), "--parity")
    frames = _frames(out)
    assert [frame["valid"] for frame in frames] == [False, True, True, True, True]
    assert any("parity error" in error for error in frames[0]["errors"])
    assert "parity errors: 1" in err
    # Without the flag the same bytes are cut to 7 bits: the damage goes unseen.
    out, _ = _run(str(capture))
    assert all(frame["valid"] for frame in _frames(out))
