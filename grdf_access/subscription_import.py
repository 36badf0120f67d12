"""Mass TJDC/PPH subscription from a CSV file: the same dry run and report as the PCE import.

Columns ``pce``, ``type`` (TJDC or PPH), ``debut``, ``fin`` (optional); dates as DD/MM/YYYY or
YYYY-MM-DD. Every row is checked as a single subscription would be (a PCE of the
organisation, inside its consent, none of the kind already open); nothing is sent while a row
is wrong.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from grdf_access import services
from grdf_access.csv_import import RowError, read_rows
from grdf_access.models import Pce, SubscriptionKind
from grdf_access.specs import parse_date
from hub.identifiers import InvalidIdentifier, normalise
from hub.models import MeteringPointKind, Organisation

COLUMNS = ["pce", "type", "debut", "fin"]
REQUIRED = {"pce", "type", "debut"}


@dataclass(frozen=True)
class SubscriptionSpec:
    pce: Pce
    kind: str
    start: dt.date
    end: dt.date | None


@dataclass
class ParsedSubscriptions:
    items: list[tuple[int, SubscriptionSpec]]
    errors: list[RowError]

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.items)


def template(*, today: dt.date) -> str:
    return (
        ";".join(COLUMNS)
        + "\r\n"
        + f"GI123456;TJDC;{today:%d/%m/%Y};{today.replace(year=today.year + 1):%d/%m/%Y}\r\n"
    )


def parse(content: bytes, *, organisation: Organisation, today: dt.date) -> ParsedSubscriptions:
    rows, errors = read_rows(content, columns=COLUMNS, required=REQUIRED)
    if not rows and errors:
        return ParsedSubscriptions([], errors)
    pces = {
        p.identifier: p
        for p in Pce.objects.filter(organisation=organisation)
        .select_related("metering_point")
        .prefetch_related("rights__pce")
    }
    items: list[tuple[int, SubscriptionSpec]] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in rows:
        row_errors: list[RowError] = []
        try:
            identifier = normalise(MeteringPointKind.GAS_PCE, row.get("pce", ""))
        except InvalidIdentifier as exc:
            row_errors.append(RowError(line, "pce", str(exc)))
            identifier = ""
        pce = pces.get(identifier)
        if identifier and pce is None:
            row_errors.append(RowError(line, "pce", f"PCE {identifier} inconnu de l'organisation"))
        kind = row.get("type", "").strip().upper()
        if kind not in SubscriptionKind.values:
            row_errors.append(RowError(line, "type", "TJDC ou PPH attendu"))
        dates: dict[str, dt.date | None] = {}
        for name in ("debut", "fin"):
            text = row.get(name, "").strip()
            if not text:
                dates[name] = None
                if name == "debut":
                    row_errors.append(RowError(line, name, "obligatoire"))
                continue
            try:
                dates[name] = parse_date(text)
            except ValueError:
                row_errors.append(RowError(line, name, f"date JJ/MM/AAAA attendue, pas « {text} »"))
        if not row_errors and pce is not None:
            start = dates["debut"]
            assert start is not None
            key = (pce.identifier, kind)
            if key in seen:
                row_errors.append(
                    RowError(line, "pce", f"{kind} pour {pce.identifier} déjà ligne {seen[key]}")
                )
            else:
                try:
                    services.check_subscription(
                        pce=pce, kind=kind, start=start, end=dates["fin"], today=today
                    )
                except services.RightError as exc:
                    field = {"kind": "type", "start": "debut", "end": "fin"}.get(
                        exc.field, exc.field
                    )
                    row_errors.append(RowError(line, field, exc.reason))
                else:
                    seen[key] = line
                    items.append((line, SubscriptionSpec(pce, kind, start, dates["fin"])))
        errors.extend(row_errors)
    if not items and not errors:
        errors.append(RowError(2, "fichier", "aucune ligne de données"))
    return ParsedSubscriptions(items, errors)
