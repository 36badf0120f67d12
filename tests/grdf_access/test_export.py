"""Exports: upstream text never runs as a formula; XLSX cells carry their types."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import translation
from openpyxl import load_workbook

from grdf_access import export
from grdf_access.models import Pce, Snapshot
from grdf_access.sync import series_ids
from hub.clock import gas_day_bounds
from hub.models import Quality
from hub.services.series import upsert_rows
from tests.conftest import Tenant
from tests.grdf_access.conftest import NOW, TODAY, active_right

pytestmark = pytest.mark.django_db

# OWASP "CSV Injection": cells beginning with = + - @ tab or carriage return are formulas to a
# spreadsheet; the advice is to prefix them with a single quote.
HOSTILE = {
    "commune": '=HYPERLINK("http://evil.example","x")',
    "plus": "+33 1 23 45 67 89",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}
TYPED = {"car": 12500.5, "cja": 42, "sensible": True, "date_mes": "2021-08-02", "profil": "P012"}


@pytest.mark.parametrize("text", HOSTILE.values())
def test_formula_starts_are_neutralised(text: str) -> None:
    """OWASP CSV Injection: "=", "+", "-", "@", tab (0x09) and carriage return (0x0D)."""
    assert export.neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["Paris", "P012", "", "1-2", "a=b"])
def test_other_text_is_unchanged(text: str) -> None:
    assert export.neutralise(text) == text


def exported(tenant: Tenant) -> tuple[list[Pce], list[str]]:
    right = active_right(tenant)
    pce = right.pce
    ids = series_ids([pce.pk], ["daily_energy"])
    days = [dt.date(2026, 10, 24), dt.date(2026, 10, 25)]
    upsert_rows(
        rows=[
            (ids[(pce.pk, "daily_energy")], gas_day_bounds(d)[0], 101.5, Quality.MEASURED, True)
            for d in days
        ]
    )
    Snapshot.objects.create(
        pce=pce,
        kind="techniques",
        fetched_at=NOW,
        data={**HOSTILE, **TYPED, "=cle": "valeur"},
        digest="d",
    )
    pces = list(Pce.objects.filter(pk=pce.pk).prefetch_related("rights__pce"))
    return pces, ["informatives_journalieres", "techniques"]


def arguments(tenant: Tenant) -> dict[str, object]:
    pces, types = exported(tenant)
    return {
        "pces": pces,
        "types": types,
        "start": dt.date(2026, 10, 24),
        "end": dt.date(2026, 10, 26),
        "today": TODAY,
    }


def test_csv_neutralises_every_upstream_text(tenant) -> None:
    """OWASP CSV Injection, for the CSV export: every hostile value, and a hostile key, is
    written with a leading single quote; nothing else starts with a formula character."""
    text = export.to_csv(**arguments(tenant))  # type: ignore[arg-type]
    cells = [cell for row in csv.reader(io.StringIO(text), delimiter=";") for cell in row]
    for value in HOSTILE.values():
        assert "'" + value in cells
    assert "'=cle" in cells
    assert not [c for c in cells if c.startswith(export.FORMULA_STARTS)]
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=";")]
    assert rows[1][4:10] == [
        "2026-10-24",
        "2026-10-24T06:00:00+02:00",
        "101.5",
        "mesurée",
        "oui",
        "UTC+02:00",
    ]


def test_xlsx_cells_are_typed_and_never_formulas(tenant) -> None:
    """OWASP CSV Injection applies to spreadsheets too: no cell of the workbook is a formula
    and hostile text keeps its leading quote; dates are dates, numbers numbers, booleans
    booleans."""
    book = load_workbook(io.BytesIO(export.to_xlsx(**arguments(tenant))))  # type: ignore[arg-type]
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.value
    consumption = list(book["Consommations"].iter_rows(min_row=2, values_only=True))
    first = consumption[0]
    assert first[4] == dt.datetime(2026, 10, 24)  # the gas day, a date cell
    assert first[5] == dt.datetime(2026, 10, 24, 6)  # Paris wall-clock start
    assert first[6] == 101.5 and first[8] is True and first[9] == "UTC+02:00"
    assert consumption[1][5] == dt.datetime(2026, 10, 25, 6) and consumption[1][9] == "UTC+01:00"
    snapshot = {
        row[3]: row[4]
        for row in book["Contractuelles et techniques"].iter_rows(min_row=2, values_only=True)
    }
    for key, value in HOSTILE.items():
        # XML stores a carriage return as a line feed; the quote is what matters.
        assert snapshot[key] == "'" + value.replace("\r", "\n")
    assert "'=cle" in snapshot
    assert snapshot["car"] == 12500.5 and snapshot["cja"] == 42
    assert snapshot["sensible"] is True
    assert snapshot["date_mes"] == dt.datetime(2021, 8, 2)
    assert snapshot["profil"] == "P012"


def test_xlsx_header_is_labels_in_the_language_and_codes_in_a_sheet(tenant) -> None:
    """Issue 19: "a header row of labels in the user's language and the codes in a second
    sheet"; the CSV keeps its codes (programs read them)."""
    args = arguments(tenant)
    with translation.override("en"):
        book = load_workbook(io.BytesIO(export.to_xlsx(**args)))  # type: ignore[arg-type]
    header = next(book["Consommations"].iter_rows(max_row=1, values_only=True))
    assert header[:2] == ("PCE", "Data type") and header[5] == "Start (Paris time)"
    codes = {row[0]: row[1] for row in book["Codes"].iter_rows(min_row=2, values_only=True)}
    assert codes["debut"] == "Start (Paris time)" and codes["provisoire"] == "Provisional"
    assert codes["informatives_journalieres"] == "Daily informative"
    assert export.to_csv(**args).startswith(";".join(export.HEADER))  # type: ignore[arg-type]
