"""Load the seeded catalogue (``data/*.csv``, see ``data/PROVENANCE.md``) into the database."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
FLUX_RELEASES = ["V24.1", "V24.2", "V25.2", "V26.1", "V26.2", "V26.3", "V27.1"]
WS_RELEASES = ["V24.1", "V24.2", "V26.1", "V26.3"]


def read(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    for line, row in enumerate(rows, start=2):
        if None in row or None in row.values():
            raise ValueError(f"{name} line {line}: wrong number of columns")
    return rows


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def load(*, models: dict[str, Any], now: dt.datetime) -> None:
    """Create the releases, their date history, the items, the grid and the versions.

    ``models`` maps model names to classes, so that a migration passes its historical ones.
    """
    release_model = models["Release"]
    releases = {}
    for row in read("releases.csv"):
        releases[row["code"]] = release_model.objects.create(
            code=row["code"],
            rank=int(row["rank"]),
            planned_date=_date(row["planned_date"]),
            date_precision=row["date_precision"],
            date_status=row["date_status"],
            note=row["note"],
        )
    previous: dict[str, tuple[dt.date | None, str]] = {}
    for row in read("release_history.csv"):
        before = previous.get(row["release"], (None, ""))
        models["ReleaseDateChange"].objects.create(
            release=releases[row["release"]],
            previous_date=before[0],
            previous_status=before[1],
            date=_date(row["date"]),
            date_precision=row["date_precision"],
            status=row["status"],
            announced_on=_date(row["announced_on"]),
            note=row["note"],
            changed_at=now,
            actor_label="seed 000 (GTG GRDF du 2 décembre 2025)",
        )
        previous[row["release"]] = (_date(row["date"]), row["status"])
    annotations = {row["code"]: row for row in read("items.csv")}
    item_model = models["CatalogueItem"]
    for kind, name, columns in (
        ("flux", "flux.csv", FLUX_RELEASES),
        ("ws", "webservices.csv", WS_RELEASES),
    ):
        for row in read(name):
            note = annotations[row["code"]]
            item = item_model.objects.create(
                kind=kind,
                code=row["code"],
                aliases=note["aliases"],
                name=row.get("name", ""),
                obsolete="bsolète" in row.get("name", "") or note["notes"] == "Obsolète.",
                replacement=note["replacement"],
                recommendation=note["recommendation"],
                double_run_start=releases.get(note["double_run_start"]),
                double_run_end=releases.get(note["double_run_end"]),
                no_double_run=note["no_double_run"] == "1",
                decommissioned_in=releases.get(note["decommissioned_in"]),
                notes=note["notes"],
                source=note["source"],
            )
            for code in columns:
                if row[code]:
                    models["ReleaseCell"].objects.create(
                        item=item, release=releases[code], value=row[code]
                    )
            models["ItemVersion"].objects.create(
                item=item,
                version=note["version"],
                superseded_in=releases.get(note["superseded_in"]),
                ends_in=releases.get(note["ends_in"]),
                end_is_proposal=note["end_is_proposal"] == "1",
            )
