"""CSV and XLSX of the VEGA tables: typed XLSX cells, formula-looking text neutralised."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from grdf_access.export import neutralise
from hub.clock import PARIS

MIGRATION_HEADER = [
    "code",
    "nature",
    "version",
    "nouvelle_version_en",
    "fin_en",
    "fin_proposee",
    "date_fin",
    "statut_date",
    "jours_restants",
    "remplacement",
    "double_run",
    "preconisation",
    "statut",
]


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, dt.date | int | float):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    return neutralise(str(value))


def _xlsx_cell(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dt.datetime):
        return value.astimezone(PARIS).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, dt.date):
        return value
    return neutralise(str(value))


def to_csv(*, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_csv_cell(v) for v in row] for row in rows)
    return out.getvalue()


def to_xlsx(*, header: Sequence[str], rows: Sequence[Sequence[Any]], sheet: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    page = book.create_sheet(sheet)
    page.append(list(header))
    for row in rows:
        page.append([_xlsx_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def migration_table(rows: Sequence[Any]) -> list[list[Any]]:
    return [[r.as_dict()[k] for k in MIGRATION_HEADER] for r in rows]
