"""Example values of the GRDF access API's OpenAPI operations (a school's boiler room PCE)."""

from __future__ import annotations

from hub import quantities
from hub.api import examples as hub_examples

PCE_ID = "21547896321458"  # GRDF PCE numbers are 14 digits
PCE = {
    "pce": PCE_ID,
    "alias": "Chaufferie",
    "site_label": "Campus Lyon",
    "client_name": "Lycée Ampère",
    "postcode": "69003",
    "holder": True,
    "frequency": "MM",
    "mes_date": "2014-10-06",
    "informative_polled_at": "2026-02-02T05:12:41Z",
    "published_polled_at": "2026-02-01T05:13:02Z",
}
RIGHT = {
    "id": 214,
    "pce": PCE_ID,
    "grdf_id": "Y7K2M9Q4",
    "role": "AUTORISE_CONTRAT_FOURNITURE",
    "state": "Active",
    "state_label": "Active",
    "state_reason": "",
    "holder_name": "Claire Martin",
    "holder_company": "Lycée Ampère",
    "holder_email": "intendance@lycee-ampere.example",
    "postcode": "69003",
    "consent_start": "2025-09-01",
    "consent_end": "2028-08-31",
    "data_start": "2022-09-01",
    "data_end": "2028-08-31",
    "types": ["publiees", "informatives_journalieres", "contractuelles", "techniques"],
    "proof_status": "Preuve Vérifiée OK",
    "proof_deadline": None,
    "journey": "",
    "external": False,
    "created_at": "2025-09-01T10:22:15Z",
    "last_synced_at": "2026-02-02T05:12:40Z",
}
PCE_DETAIL = {**PCE, "rights": [RIGHT]}
DECLARE_IN = {
    "pce": PCE_ID,
    "role": "autorise",
    "nom_titulaire": "Claire Martin",
    "raison_sociale": "Lycée Ampère",
    "courriel_titulaire": "intendance@lycee-ampere.example",
    "code_postal": "69003",
    "debut_consentement": "2025-09-01",
    "fin_consentement": "2028-08-31",
    "debut_donnees": "2022-09-01",
    "fin_donnees": "2028-08-31",
    "publiees": True,
    "informatives_journalieres": True,
    "contractuelles": True,
    "techniques": True,
    "libelle_site": "Campus Lyon",
    "alias": "Chaufferie",
}
DECLARED = {
    **RIGHT,
    "grdf_id": "",
    "state": "A valider",
    "state_label": "À valider",
    "proof_status": "Preuve en attente",
    "proof_deadline": "2025-09-16",
    "last_synced_at": None,
}
MODIFY_IN = {"fin_consentement": "2029-08-31", "courriel_titulaire": "energie@lycee-ampere.example"}
MODIFIED = {
    **RIGHT,
    "consent_end": "2029-08-31",
    "data_end": "2029-08-31",
    "holder_email": "energie@lycee-ampere.example",
}
TERMINATED = {**RIGHT, "state": "Resiliee", "state_label": "Résiliée"}
REVOKED = {**RIGHT, "state": "Revoquee", "state_label": "Révoquée"}
# Gas days run 06:00 to 06:00, Paris time: a January week of a school's boilers.
CONSUMPTION = {
    "pce": PCE_ID,
    "type": "informatives_journalieres",
    "step": "day",
    "unit": "kWh",
    "values": [
        {
            "label": "12/01/2026",
            "start": "2026-01-12T06:00:00+01:00",
            "energy_kwh": 1842.6,
            "volume_m3": 164.2,
            "estimated": False,
            "missing": False,
        },
        {
            "label": "13/01/2026",
            "start": "2026-01-13T06:00:00+01:00",
            "energy_kwh": 1910.3,
            "volume_m3": 170.1,
            "estimated": False,
            "missing": False,
        },
    ],
}
REVISIONS = {
    "pce": PCE_ID,
    "revisions": [
        {
            "type": "publiees",
            "quantity": quantities.GAS_ENERGY_PUBLISHED.name,
            "unit": "kWh",
            "start": "2025-12-01T06:00:00+01:00",
            "gas_day": "2025-12-01",
            "previous_value": 48210.0,
            "previous_quality": "estimée",
            "value": 47655.0,
            "quality": "mesurée",
            "replaced_at": "2026-01-06T05:14:22+00:00",
        }
    ],
}
SNAPSHOTS = {
    "pce": PCE_ID,
    "snapshots": [
        {
            "kind": "contractuelles",
            "fetched_at": "2026-02-01T05:13:02+00:00",
            "data": {
                "id_pce": PCE_ID,
                "tarif_acheminement": "T2",
                "date_mes": "2014-10-06",
                "car": 212400,
                "cja": 814.7,
                "profil": {"profil_type_actuel": "P012"},
                "statut_restitution": None,
            },
            "changes": {"car": [205100, 212400]},
        }
    ],
}
PROOFS = {
    "proof_status": "Preuve en cours de vérification",
    "files": [
        {
            "name": "mandat-lycee-ampere.pdf",
            "size": 184220,
            "sha256": "9f2c4b8a1e07d3c65b2f8e41a9d0c7b36e5f1a2d8c4b9e07f3a6d5c2b1e8f4a9",
        }
    ],
}
IMPORT_REPORT = {"rows": 12, "errors": [], "dry_run": True}
IMPORT_TEMPLATE = (
    "pce;role;nom_titulaire;raison_sociale;courriel_titulaire;mobile_titulaire;code_postal;"
    "debut_consentement;fin_consentement;debut_donnees;fin_donnees;publiees;"
    "informatives_journalieres;informatives_horaires;contractuelles;techniques;libelle_site;"
    "alias;denomination_client\r\n"
    "GI123456;autorise;;Exemple SA;energie@exemple.fr;0612345678;69003;02/02/2026;02/02/2027;"
    "01/02/2024;02/02/2027;oui;oui;non;oui;oui;Appel d'offres #1;Chaufferie;Exemple SA\r\n"
)
EXPORT_IN = {
    "pces": [PCE_ID, "12345678901234"],
    "types": ["publiees", "informatives_journalieres"],
    "start": "2026-01-01",
    "end": "2026-02-01",
    "format": "csv",
}
EXPORT_CSV = (
    "pce;type;grandeur;unite;journee_gaziere;debut;valeur;qualite;provisoire;decalage_utc\r\n"
    f"{PCE_ID};Informatives journalières;gas_energy_daily;kWh;2026-01-01;"
    "2026-01-01T06:00:00+01:00;1523.4;mesurée;non;UTC+01:00\r\n"
)
THRESHOLD_IN = {
    "pce": PCE_ID,
    "frequency": "monthly",
    "value_kwh": 55000.0,
    "notify_before": True,
    "before_percent": 80,
    "notify_after": True,
    "emails": ["intendance@lycee-ampere.example"],
    "enabled": True,
}
THRESHOLD = {"id": 9, **THRESHOLD_IN}
SUBSCRIPTION_IN = {"pce": PCE_ID, "kind": "TJDC", "start": "2026-03-01", "end": None}
SUBSCRIPTION = {
    "id": 4,
    "pce": PCE_ID,
    "kind": "TJDC",
    "state": "requested",
    "start": "2026-03-01",
    "end": None,
    "grdf_id": "",
}
SUBSCRIPTION_CANCELLED = {**SUBSCRIPTION, "state": "cancelled", "grdf_id": "ABO-2026-004512"}
LONG_ESTIMATED = {
    "pce": PCE_ID,
    "last_measured": "2025-07-18",
    "months_estimated": 6,
    "consecutive_estimated": 6,
}
SYNC_IN = {"pces": [PCE_ID]}
SYNC_JOB = {
    **hub_examples.JOB_QUEUED,
    "kind": "grdf.sync",
    "label": "Synchronisation GRDF",
}
EXPORT_JOB = {**hub_examples.JOB_QUEUED, "kind": "grdf.export"}
IMPORT_JOB = {
    **hub_examples.JOB_QUEUED,
    "kind": "grdf.import",
    "label": "Import de 640 demandes de droit d'accès GRDF",
}
