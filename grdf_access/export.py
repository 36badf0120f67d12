"""Export of chosen data types for chosen PCEs over a range, as CSV or XLSX.

Every PCE and type is checked against the consent first; one refusal stops the whole export
with its reason (``OutsideConsent``), so no file ever holds data outside a consent. Times are
Paris local with their offset, so the 23- and 25-hour gas days read right.

Cells are typed: in XLSX dates are dates, numbers numbers, booleans booleans (times as Paris
wall-clock datetimes, with their UTC offset in a column of their own). The XLSX header row holds
labels in the active language and a "Codes" sheet pairs each column's code (the CSV header, kept
stable for programs) and each data type's code with its label. In CSV the same values
are written as text (ISO dates, "oui"/"non"). Text that a spreadsheet would run as a formula
(starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return: OWASP "CSV Injection") is
prefixed with a single quote in both formats, whatever its origin.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grdf_access import consent
from grdf_access.models import DataType, Pce, Snapshot
from grdf_access.selectors import OutsideConsent, raw_points
from grdf_access.sync import FEEDS, _flatten
from hub.clock import PARIS

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
    "decalage_utc",
]
SNAPSHOT_HEADER = ["pce", "type", "releve_le", "champ", "valeur"]
# What a person reads above each column of the workbook (the codes stay in the "Codes" sheet).
COLUMN_LABELS = {
    "pce": gettext_lazy("PCE"),
    "type": gettext_lazy("Type de données"),
    "grandeur": gettext_lazy("Grandeur"),
    "unite": gettext_lazy("Unité"),
    "journee_gaziere": gettext_lazy("Journée gazière"),
    "debut": gettext_lazy("Début (heure de Paris)"),
    "valeur": gettext_lazy("Valeur"),
    "qualite": gettext_lazy("Qualité"),
    "provisoire": gettext_lazy("Provisoire"),
    "decalage_utc": gettext_lazy("Décalage UTC"),
    "releve_le": gettext_lazy("Relevé le (heure de Paris)"),
    "champ": gettext_lazy("Champ"),
}
MAX_PCES = 1000


# OWASP "CSV Injection": characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def neutralise(text: str) -> str:
    """Text a spreadsheet will show, never evaluate: a leading single quote when needed."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _typed(value: Any) -> Any:
    """An upstream JSON scalar as the cell value it stands for (ISO dates become dates)."""
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, dt.date):  # dates and aware datetimes, with their offset
        return value.isoformat()
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return neutralise(str(value))


def _xlsx_cell(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dt.datetime):
        # Excel has no time zones: Paris wall-clock time (the offset has a column).
        return value.astimezone(PARIS).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, dt.date):
        return value
    return neutralise(str(value))


class ExportError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _rows(
    pces: Sequence[Pce], types: Sequence[str], start: dt.date, end: dt.date, today: dt.date
) -> tuple[list[list[object]], list[list[object]]]:
    if not pces:
        raise ExportError("pces", _("au moins un PCE"))
    if len(pces) > MAX_PCES:
        raise ExportError("pces", _("%(MAX_PCES)s PCE au plus") % {"MAX_PCES": MAX_PCES})
    if not types:
        raise ExportError("types", _("au moins un type de données"))
    if end <= start:
        raise ExportError("end", _("la fin doit suivre le début"))
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
                p.gas_day,
                p.start,
                p.value,
                p.quality,
                p.provisional,
                f"UTC{p.start.isoformat()[-6:]}",  # UTC+01:00 or UTC+02:00
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
                        latest.fetched_at.astimezone(PARIS),
                        name,
                        _typed(value),
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
    writer.writerows([_csv_cell(v) for v in row] for row in points)
    if snapshots:
        writer.writerow([])
        writer.writerow(SNAPSHOT_HEADER)
        writer.writerows([_csv_cell(v) for v in row] for row in snapshots)
    return out.getvalue()


def to_xlsx(
    *, pces: Sequence[Pce], types: Sequence[str], start: dt.date, end: dt.date, today: dt.date
) -> bytes:
    from openpyxl import Workbook

    points, snapshots = _rows(pces, types, start, end, today)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Consommations")
    sheet.append([str(COLUMN_LABELS[c]) for c in HEADER])
    for row in points:
        sheet.append([_xlsx_cell(v) for v in row])
    if snapshots:
        other = book.create_sheet("Contractuelles et techniques")
        other.append([str(COLUMN_LABELS[c]) for c in SNAPSHOT_HEADER])
        for row in snapshots:
            other.append([_xlsx_cell(v) for v in row])
    codes = book.create_sheet("Codes")
    codes.append([_("Code"), _("Libellé"), _("Sens")])
    for code in dict.fromkeys(HEADER + SNAPSHOT_HEADER):
        codes.append([code, str(COLUMN_LABELS[code]), _("colonne")])
    for data_type in DataType:
        codes.append([data_type.value, str(data_type.label), _("type de données")])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
