"""Mass declaration of access rights from a CSV file: parse, report every bad row, or accept all.

The file is UTF-8 (a BOM is fine), ``;`` or ``,`` separated, one header line with the columns
of ``COLUMNS`` (order free, extra columns refused so that a typo does not silently drop a
field). Line numbers in the report are the file's own (the header is line 1).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from grdf_access.models import FINAL_STATES, AccessRight
from grdf_access.specs import RightSpec, SpecInvalid, shift_years, validate
from hub.models import Organisation

COLUMNS = [
    "pce",
    "role",
    "nom_titulaire",
    "raison_sociale",
    "courriel_titulaire",
    "mobile_titulaire",
    "code_postal",
    "debut_consentement",
    "fin_consentement",
    "debut_donnees",
    "fin_donnees",
    "publiees",
    "informatives_journalieres",
    "informatives_horaires",
    "contractuelles",
    "techniques",
    "libelle_site",
    "alias",
    "denomination_client",
]
REQUIRED = {"pce", "role", "code_postal", "debut_consentement", "fin_consentement"}
MAX_ROWS = 10_000
MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    reason: str

    def as_json(self) -> dict[str, object]:
        return {"line": self.line, "field": self.field, "reason": self.reason}


@dataclass
class ParsedFile:
    specs: list[tuple[int, RightSpec]]
    errors: list[RowError]

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.specs)


def template(*, today: dt.date) -> str:
    """The downloadable template: the header and one example row."""
    example = {
        "pce": "GI123456",
        "role": "autorise",
        "nom_titulaire": "",
        "raison_sociale": "Exemple SA",
        "courriel_titulaire": "energie@exemple.fr",
        "mobile_titulaire": "0612345678",
        "code_postal": "69003",
        "debut_consentement": today.strftime("%d/%m/%Y"),
        "fin_consentement": shift_years(today, 1).strftime("%d/%m/%Y"),
        "debut_donnees": shift_years(today, -2).replace(day=1).strftime("%d/%m/%Y"),
        "fin_donnees": shift_years(today, 1).strftime("%d/%m/%Y"),
        "publiees": "oui",
        "informatives_journalieres": "oui",
        "informatives_horaires": "non",
        "contractuelles": "oui",
        "techniques": "oui",
        "libelle_site": "Appel d'offres #1",
        "alias": "Chaufferie",
        "denomination_client": "Exemple SA",
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    writer.writerow(example)
    return out.getvalue()


def decode(content: bytes) -> str | None:
    """UTF-8 (with or without BOM), else Windows-1252 as spreadsheets save; None if neither."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def read_rows(
    content: bytes, *, columns: list[str], required: set[str]
) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """The file's data rows with their line numbers, or what makes the file unreadable.

    Rows with more values than columns are reported; blank rows are skipped.
    """
    if len(content) > MAX_BYTES:
        return [], [RowError(0, "fichier", "fichier trop volumineux (5 Mo au plus)")]
    text = decode(content)
    if text is None or "\x00" in text:
        return [], [RowError(1, "fichier", "ce n'est pas un fichier CSV en texte")]
    if not text.strip():
        return [], [RowError(1, "fichier", "fichier vide")]
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        # (line in the file, row): a quoted field may span lines, so count as the reader does.
        numbered = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        return [], [RowError(reader.line_num, "fichier", f"CSV illisible : {exc}")]
    missing = sorted(required - set(header))
    unknown = sorted(set(header) - set(columns))
    errors: list[RowError] = []
    if missing:
        errors.append(RowError(1, "en-tête", f"colonnes manquantes : {', '.join(missing)}"))
    if unknown:
        errors.append(RowError(1, "en-tête", f"colonnes inconnues : {', '.join(unknown)}"))
    if errors:
        return [], errors
    rows: list[tuple[int, dict[str, str]]] = []
    for line, row in numbered:
        if len(rows) + len(errors) >= MAX_ROWS:
            errors.append(RowError(line, "fichier", f"plus de {MAX_ROWS} lignes"))
            break
        if None in row:
            errors.append(RowError(line, "ligne", "plus de valeurs que de colonnes"))
            continue
        if not any((v or "").strip() for v in row.values()):
            continue  # a blank line, e.g. at the end of a spreadsheet export
        rows.append((line, {k: v or "" for k, v in row.items()}))
    return rows, errors


def parse(content: bytes, *, organisation: Organisation, today: dt.date) -> ParsedFile:
    """Validate every row; the report lists every bad field of every bad row."""
    rows, errors = read_rows(content, columns=COLUMNS, required=REQUIRED)
    if not rows and errors:
        return ParsedFile([], errors)

    specs: list[tuple[int, RightSpec]] = []
    seen: dict[str, int] = {}
    open_pces = set(
        AccessRight.objects.filter(organisation=organisation)
        .exclude(state__in=FINAL_STATES)
        .values_list("pce__metering_point__identifier", flat=True)
    )
    for line, row in rows:
        try:
            spec = validate(row, today=today)
        except SpecInvalid as exc:
            errors.extend(RowError(line, e.field, e.reason) for e in exc.errors)
            continue
        if spec.pce in seen:
            errors.append(
                RowError(line, "pce", f"PCE {spec.pce} déjà présent ligne {seen[spec.pce]}")
            )
            continue
        if spec.pce in open_pces:
            errors.append(
                RowError(line, "pce", f"un droit d'accès en cours existe déjà pour {spec.pce}")
            )
            continue
        seen[spec.pce] = line
        specs.append((line, spec))
    if not specs and not errors:
        errors.append(RowError(2, "fichier", "aucune ligne de données"))
    return ParsedFile(specs, errors)
