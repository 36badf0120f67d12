"""SYNTHETIC layout, not GRDF's: a test parser for the watch until GRDF publishes its formats.

The layout is ours: UTF-8, ``;``-separated, a header ``pce;journee_gaziere;energie_kwh`` then
one row per PCE and gas day (ISO date), the energy possibly empty. Files carry the version
``VSYNTH`` in their name (``REJJ_VSYNTH_20261026.csv``), which no GRDF file does.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from grdf_access.vega.parsers import Parsed, ParseError

SYNTHETIC_VERSION = "VSYNTH"
SYNTHETIC_FLUX = ("REJJ", "TJDC", "AJ+1", "TEMP")
HEADER = ["pce", "journee_gaziere", "energie_kwh"]


class SyntheticDailyCsv:
    """Parser of the synthetic daily layout above (clearly not a GRDF format)."""

    version = SYNTHETIC_VERSION

    def __init__(self, *, flux: str) -> None:
        self.flux = flux
        self.name = f"synthetique:{flux}:{SYNTHETIC_VERSION}"

    def parse(self, data: bytes) -> Parsed:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ParseError(1, "le fichier n'est pas en UTF-8") from exc
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
        try:
            return self._rows(reader)
        except csv.Error as exc:
            raise ParseError(reader.line_num or 1, f"CSV illisible ({exc})") from None

    def _rows(self, reader: Any) -> Parsed:
        header = next(reader, None)
        if header is None:
            return Parsed(data_rows=0)
        if [h.strip().lower() for h in header] != HEADER:
            raise ParseError(1, f"entête attendue : {';'.join(HEADER)}")
        rows = 0
        empty = 0
        # Each distinct day is parsed once (a file holds few days and many rows).
        day_texts: dict[str, int] = {}
        for row in reader:
            if len(row) != len(HEADER):
                if not "".join(row).strip():
                    continue
                raise ParseError(
                    reader.line_num, f"{len(HEADER)} colonnes attendues, {len(row)} lues"
                )
            day_texts.setdefault(row[1].strip(), reader.line_num)
            value = row[2].strip()
            if not value:
                empty += 1
            else:
                try:
                    float(value.replace(",", "."))
                except ValueError:
                    raise ParseError(reader.line_num, "energie_kwh n'est pas un nombre") from None
            rows += 1
        days = set()
        for text, line in day_texts.items():
            try:
                days.add(dt.date.fromisoformat(text))
            except ValueError:
                raise ParseError(line, "journee_gaziere n'est pas une date AAAA-MM-JJ") from None
        return Parsed(data_rows=rows, gas_days=frozenset(days), empty_values=empty)
