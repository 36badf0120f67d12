"""A production load curve uploaded as CSV: 5-minute mean energies, checked whole, then stored.

Format (one step a line, an optional header line):

    start;energy_kwh
    2025-09-22T11:55:00+02:00;0,42
    2025-09-22 12:00;0

* ``start``: the step's start (convention « commençante »), ISO 8601; with a UTC offset, or as
  Paris wall time. A wall time that does not exist (spring forward) or exists twice (fall back)
  is refused: it must then carry its offset. Steps start on a 5-minute boundary.
* ``energy_kwh``: the energy produced in the step, in kWh, ≥ 0; a decimal comma is accepted.
* ``,`` or ``;`` separates the columns (French spreadsheets write ``;``).

Every bad line is reported with its line number, and nothing is stored if any line is bad.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from hub.clock import PARIS
from hub.models import MeteringPoint, Series, SeriesKind
from hub.services.series import PointIn, ensure_series, upsert_points
from smartoa.billing import PRODUCTION_QUANTITY

UNIT = "kWh"
SOURCE = "smartoa-csv"
STEP = dt.timedelta(minutes=5)
MAX_BYTES = 2_000_000
MAX_ROWS = 40_000  # over four months of 5-minute steps
MAX_REPORTED = 50


@dataclass(frozen=True)
class LineError:
    line: int
    message: str

    def __str__(self) -> str:
        # Line 0: the file as a whole (size, encoding, no data).
        return f"ligne {self.line} : {self.message}" if self.line else f"fichier : {self.message}"


class LoadCurveError(ValueError):
    """The file is refused; ``errors`` lists the bad lines (at most MAX_REPORTED of them)."""

    def __init__(self, errors: list[LineError], total: int | None = None) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors
        self.total = total if total is not None else len(errors)


def _instant(text: str) -> dt.datetime:
    """The UTC instant a cell names; ValueError with a French reason."""
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"horodatage illisible « {text[:40]} »") from None
    if parsed.tzinfo is not None:
        return parsed.astimezone(dt.UTC)
    early = parsed.replace(tzinfo=PARIS, fold=0)
    instant = early.astimezone(dt.UTC)
    # A wall time skipped at spring forward does not come back from UTC unchanged.
    if instant.astimezone(PARIS).replace(tzinfo=None) != parsed:
        raise ValueError(f"heure inexistante (changement d'heure) « {text} »")
    if early.utcoffset() != parsed.replace(tzinfo=PARIS, fold=1).utcoffset():
        raise ValueError(
            f"heure ambiguë (changement d'heure) « {text} » : "
            "précisez le décalage (+01:00 ou +02:00)"
        )
    return instant


def _energy(text: str) -> float:
    try:
        value = float(text.replace(",", ".").replace(" ", "").replace("\u202f", ""))
    except ValueError:
        raise ValueError(f"énergie illisible « {text[:40]} »") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"énergie illisible « {text[:40]} »")
    if value < 0:
        raise ValueError(f"énergie négative « {text} »")
    return value


def _delimiter(first_line: str) -> str:
    return ";" if ";" in first_line else ","


def parse(data: bytes) -> list[PointIn]:
    """The steps of a CSV load curve, sorted; LoadCurveError naming every bad line."""
    if len(data) > MAX_BYTES:
        raise LoadCurveError([LineError(0, f"trop volumineux (plus de {MAX_BYTES} octets)")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LoadCurveError([LineError(0, "pas en UTF-8")]) from None
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise LoadCurveError([LineError(0, "vide")])
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(lines[0]))
    errors: list[LineError] = []
    seen: dict[dt.datetime, int] = {}
    points: list[PointIn] = []
    for row in reader:
        number = reader.line_num
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if number == 1 and cells and not cells[0][:1].isdigit():
            continue  # a header
        if len(cells) != 2:
            errors.append(LineError(number, f"2 colonnes attendues, {len(cells)} trouvées"))
            continue
        try:
            start = _instant(cells[0])
            if start.second or start.microsecond or start.minute % 5:
                raise ValueError(f"« {cells[0]} » ne commence pas un pas de 5 minutes")
            energy = _energy(cells[1])
        except ValueError as exc:
            errors.append(LineError(number, str(exc)))
            continue
        if start in seen:
            errors.append(LineError(number, f"pas déjà donné ligne {seen[start]}"))
            continue
        seen[start] = number
        points.append(PointIn(ts=start, value=energy))
        if len(points) > MAX_ROWS:
            errors.append(LineError(number, f"plus de {MAX_ROWS} lignes"))
            break
    if errors:
        raise LoadCurveError(errors[:MAX_REPORTED], total=len(errors))
    if not points:
        raise LoadCurveError([LineError(0, "aucune ligne de données")])
    return sorted(points, key=lambda p: p.ts)


def store(*, metering_point: MeteringPoint, points: list[PointIn]) -> tuple[Series, int]:
    """Write the steps as the production point's 5-minute energy series (idempotent upsert)."""
    series = ensure_series(
        metering_point=metering_point,
        quantity=PRODUCTION_QUANTITY,
        unit=UNIT,
        source=SOURCE,
        kind=SeriesKind.INTERVAL,
        step_seconds=int(STEP.total_seconds()),
    )
    return series, upsert_points(series=series, points=points)
