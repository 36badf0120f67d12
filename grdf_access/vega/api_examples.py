"""Example values of the VEGA API's OpenAPI operations (the seeded catalogue's TJDC and SDEM)."""

from __future__ import annotations

PCE_ID = "21547896321458"
RELEASE = {
    "code": "V26.3",
    "planned_date": "2026-11-01",
    "date_precision": "month",
    "date_status": "tentative",
    "note": "MEP 26.3 prévue en novembre 2026 (RSF).",
    "history": [
        {
            "previous_date": None,
            "previous_status": "unknown",
            "date": "2026-11-01",
            "date_precision": "month",
            "status": "tentative",
            "announced_on": "2025-12-02",
            "note": "MEP 26.3 prévue en novembre 2026.",
            "changed_at": "2025-12-03T08:00:00Z",
        }
    ],
}
CATALOGUE_ITEM = {
    "kind": "flux",
    "code": "TJDC",
    "aliases": "",
    "name": "Transmission Journalière des données de consommation",
    "obsolete": False,
    "releases": {"V24.1": "V2"},
    "versions": [
        {"version": "V2", "superseded_in": "V26.3", "ends_in": "V27.3", "end_is_proposal": False}
    ],
    "replacement": "",
    "double_run": "V26.3 → V27.3",
    "decommissioned_in": None,
    "recommendation": "",
    "notes": "Double RUN de la publication TJDC de V26.3 à V27.3 ; consultation des données "
    "TJDC par FTP pendant le double RUN.",
}
USAGE_IN = {"code": "TJDC", "version": "V2", "note": "Lu chaque matin par l'import de 7 h"}
USAGE = {"id": 3, **USAGE_IN, "updated_at": "2026-01-08T14:02:11Z"}
MIGRATION_ROW = {
    "code": "TJDC",
    "nature": "flux",
    "version": "V2",
    "nouvelle_version_en": "V26.3",
    "fin_en": "V27.3",
    "fin_proposee": False,
    "date_fin": None,
    "statut_date": "unknown",
    "jours_restants": None,
    "remplacement": "",
    "double_run": "V26.3 → V27.3",
    "preconisation": "",
    "statut": "planifie",
}
EXPECTED_IN = {
    "code": "TJDC",
    "cadence": "working_days",
    "expected_time": "07:30:00",
    "weekday": None,
    "day_of_month": None,
    "grace_minutes": 60,
}
EXPECTED = {
    "id": 2,
    "code": "TJDC",
    "cadence": "working_days",
    "weekday": None,
    "day_of_month": None,
    "expected_time": "07:30:00",
    "grace_minutes": 60,
    "active": True,
}
ARRIVAL = {
    "id": 1187,
    "flux_code": "TJDC",
    "version": "V2",
    "file_name": "TJDC_V2_20260114.csv",
    "size": 48213,
    "rows": 1203,
    "data_rows": 1202,
    "sha256": "4be1f3a0c9d27e58b6a1f09c3d7e2b45a8c6f1e03d9b72a54c8e1f6b0a3d92c7",
    "source": "api",
    "publication_day": "2026-01-14",
    "received_at": "2026-01-14T06:41:09Z",
    "retain_until": "2027-02-18",
    "file_purged_at": None,
    "parser": "",
    "gas_days": [],
    "empty_values": None,
    "issues": [],
}
MISSED = {
    "code": "TJDC",
    "day": "2026-01-13",
    "due_at": "2026-01-13T07:30:00+01:00",
    "detected_at": "2026-01-13T08:30:00+01:00",
    "arrived_at": "2026-01-13T10:05:41+01:00",
}
LONG_ESTIMATED = {
    "pces": [
        {
            "pce": PCE_ID,
            "libelle_site": "Campus Lyon",
            "statut": "eligible",
            "lectures_estimees_12_mois": 6,
            "derniere_estimation": "2025-12-31",
            "dans_liste_grdf": True,
            "estimation_longue_hub": True,
            "mois_estimes": 6,
            "demandes_cette_annee": 0,
            "demandes_gratuites_restantes": 2,
        }
    ],
    "differences": {
        "liste_grdf": {"mois": "2026-01-01", "fichier": "pce-estimes-2026-01.csv"},
        "dans_les_deux": [PCE_ID],
        "seulement_grdf": [],
        "seulement_hub": [],
        "inconnus_du_hub": ["19876543210987"],
    },
}
LIST_IMPORT_IN = {"file": "pce-estimes-2026-01.csv", "mois": "2026-01"}
LIST_IMPORTED = {"imported": 14, "list_id": 5, "errors": []}
READING_IN = {
    "pce": PCE_ID,
    "requested_on": "2026-01-20",
    "reference": "REL-2026-0042",
    "note": "Relevé spécial gratuit : estimé depuis juillet",
}
READING = {"id": 8, "pce": PCE_ID, "requested_on": "2026-01-20"}
