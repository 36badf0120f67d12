"""Export of chosen data types for chosen PCEs over a range, as CSV or XLSX.

Every PCE and type is checked against the consent first; one refusal stops the whole export
with its reason (``OutsideConsent``), so no file ever holds data outside a consent. Times are
Paris local with their offset, so the 23- and 25-hour gas days read right.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence

from grdf_access import consent
from grdf_access.models import DataType, Pce, Snapshot
from grdf_access.selectors import OutsideConsent, raw_points
from grdf_access.sync import FEEDS, _flatten

HEADER = [
    "pce",
    "type",
    "grandeur",
    "unite",
    "journee_gaziere",
    "debut",
    "valeur",
    "qualite",
    "provisoire",
]
SNAPSHOT_HEADER = ["pce", "type", "releve_le", "champ", "valeur"]
MAX_PCES = 1000


class ExportError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _rows(
    pces: Sequence[Pce], types: Sequence[str], start: dt.date, end: dt.date, today: dt.date
) -> tuple[list[list[object]], list[list[object]]]:
    if not pces:
        raise ExportError("pces", "au moins un PCE")
    if len(pces) > MAX_PCES:
        raise ExportError("pces", f"{MAX_PCES} PCE au plus")
    if not types:
        raise ExportError("types", "au moins un type de données")
    if end <= start:
        raise ExportError("end", "la fin doit suivre le début")
    points: list[list[object]] = []
    snapshots: list[list[object]] = []
    for pce in pces:
        rights = list(pce.rights.all())
        for data_type in types:
            if data_type in FEEDS:
                continue  # checked by raw_points, with the range
            decision = consent.decide_any(rights=rights, data_type=data_type, today=today)
            if not decision.allowed:
                raise OutsideConsent(f"PCE {pce.identifier} : {decision.reason}")
        try:
            found = raw_points(
                pce=pce,
                data_types=[t for t in types if t in FEEDS],
                start=start,
                end=end,
                today=today,
            )
        except OutsideConsent as exc:
            raise OutsideConsent(f"PCE {pce.identifier} : {exc.reason}") from exc
        points.extend(
            [
                pce.identifier,
                str(DataType(p.data_type).label),
                p.quantity,
                p.unit,
                p.gas_day.isoformat(),
                p.start.isoformat(),
                p.value,
                p.quality,
                "oui" if p.provisional else "non",
            ]
            for p in found
        )
        for data_type in types:
            if data_type in FEEDS:
                continue
            latest = (
                Snapshot.objects.filter(pce=pce, kind=data_type).order_by("-fetched_at").first()
            )
            if latest is None:
                continue
            for name, value in sorted(_flatten(latest.data).items()):
                snapshots.append(
                    [
                        pce.identifier,
                        str(DataType(data_type).label),
                        latest.fetched_at.isoformat(),
                        name,
                        "" if value is None else str(value),
                    ]
                )
    return points, snapshots


def to_csv(
    *, pces: Sequence[Pce], types: Sequence[str], start: dt.date, end: dt.date, today: dt.date
) -> str:
    points, snapshots = _rows(pces, types, start, end, today)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(points)
    if snapshots:
        writer.writerow([])
        writer.writerow(SNAPSHOT_HEADER)
        writer.writerows(snapshots)
    return out.getvalue()


def to_xlsx(
    *, pces: Sequence[Pce], types: Sequence[str], start: dt.date, end: dt.date, today: dt.date
) -> bytes:
    from openpyxl import Workbook

    points, snapshots = _rows(pces, types, start, end, today)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Consommations")
    sheet.append(HEADER)
    for row in points:
        sheet.append(row)
    if snapshots:
        other = book.create_sheet("Contractuelles et techniques")
        other.append(SNAPSHOT_HEADER)
        for row in snapshots:
            other.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
